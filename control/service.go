package control

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/metrics"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
)

// service answers the control API on a pipeline: the running server's, or
// the one of a command that works on the database file while no server
// runs. Every change goes through the pipeline; what differs between the
// two is the runtime.
type service struct {
	p     *pipeline.Pipeline
	db    store.Store
	cfg   *config.Config
	clock clock.Clock
	log   *slog.Logger
	gates *gateBook
	rt    runtime
	// events tells the event streams of changes and checks; nil without
	// a server.
	events *eventBus
	// metrics counts changes and checks; nil without a server, or when
	// nothing exports them.
	metrics *metrics.Metrics
	// tlsRoots replaces the system's roots for HTTPS checks (tests).
	tlsRoots *x509.CertPool
	// upd changes the zones' dynamic records; nil when the zone files
	// were not read (ReadRecords).
	upd *updater
}

// runtime is what a running server adds to the service.
type runtime interface {
	// lastNotify is the last NOTIFY sent to a secondary, nil when none.
	lastNotify(zone, addr string) *api.NotifyStatus
	// serving reports whether the process outlives a request, so that a
	// swap's "after" checks may go on once it has replied.
	serving() bool
	// reload re-reads the zone files and the config.
	reload(ctx context.Context) (api.ReloadResult, error)
	// rollover steps a zone's key rollover.
	rollover(ctx context.Context, zone string, req api.RolloverRequest) (api.Rollover, error)
	// withSigning calls fn with the keys of a signed zone, as they sign
	// what is served, while no reload, re-sign or rollover step changes
	// them; live says that the served signatures are the server's, not
	// made afresh to be shown.
	withSigning(zone string, fn func(keys []*dnssec.Key, live bool) error) error
}

// offline is the runtime of a command working on the database file; keys
// are those it signed the zones with.
type offline struct {
	control string
	keys    map[string][]*dnssec.Key
}

func (o offline) withSigning(zone string, fn func([]*dnssec.Key, bool) error) error {
	return fn(o.keys[zone], false)
}

func (offline) lastNotify(string, string) *api.NotifyStatus { return nil }
func (offline) serving() bool                               { return false }
func (o offline) reload(context.Context) (api.ReloadResult, error) {
	return api.ReloadResult{}, &api.Error{Kind: api.KindNoServer, Message: fmt.Sprintf("reload: no server answers on %s; a server reads the zone files when it starts", o.control)}
}

func (o offline) rollover(context.Context, string, api.RolloverRequest) (api.Rollover, error) {
	return api.Rollover{}, &api.Error{Kind: api.KindNoServer, Message: fmt.Sprintf("dnssec rollover: no server answers on %s; a rollover re-signs the zone the server serves, so start slotdns serve first", o.control)}
}

var _ api.Controller = (*service)(nil)

// History lists an app's changes, or with app "zone:ORIGIN" (see
// store.UpdateHistory) the changes of the zone's dynamic records.
func (s *service) History(_ context.Context, app string, limit int) ([]api.Entry, error) {
	if zone, ok := strings.CutPrefix(app, "zone:"); ok {
		zc, err := s.recordsZone("history", zone)
		if err != nil {
			return nil, err
		}
		app = store.UpdateHistory(zc.Origin)
	} else if _, ok := s.cfg.App(app); !ok {
		return nil, apiError(fmt.Errorf("history %q: app %w; the config declares %s", app, store.ErrNotFound, appNames(s.cfg)))
	}
	if limit < 0 {
		return nil, apiError(invalidf("history %q: limit %d: want 0 (all) or more", app, limit))
	}
	var entries []store.Entry
	err := s.db.Read(func(v store.View) error {
		var err error
		entries, err = v.History(app, limit)
		return err
	})
	if err != nil {
		return nil, apiError(fmt.Errorf("history %q: %w", app, err))
	}
	return apiEntries(entries), nil
}

func (s *service) Reload(ctx context.Context) (api.ReloadResult, error) {
	res, err := s.rt.reload(ctx)
	return res, apiError(err)
}

func (s *service) Rollover(ctx context.Context, zone string, req api.RolloverRequest) (api.Rollover, error) {
	res, err := s.rt.rollover(ctx, zone, req)
	return res, apiError(err)
}

func (s *service) Backup(_ context.Context, w io.Writer) error {
	db, ok := s.db.(interface{ Backup(io.Writer) error })
	if !ok {
		return apiError(fmt.Errorf("backup: %w: the database %s does not exist yet", store.ErrNotFound, s.cfg.DB))
	}
	return apiError(db.Backup(w))
}

// Close is the server's to do: it closes the store when it stops.
func (s *service) Close() error { return nil }

func appNames(cfg *config.Config) string {
	if len(cfg.Apps) == 0 {
		return "no apps"
	}
	out := ""
	for i, a := range cfg.Apps {
		switch {
		case i == 0:
		case i == len(cfg.Apps)-1:
			out += " and "
		default:
			out += ", "
		}
		out += fmt.Sprintf("%q", a.Name)
	}
	return out
}
