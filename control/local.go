package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Mode says what a command does to the state when it works on the
// database file.
type Mode int

const (
	// ReadOnly reads: the database is neither created nor changed, and
	// what a first start would record is shown as it would be served.
	ReadOnly Mode = iota
	// Change changes: the config is recorded in the database as a start
	// does, then the change goes through the same pipeline as in a
	// server.
	Change
	// ReadRecords reads what the database records (history, a backup)
	// and nothing served: the zone files are not read, so that a broken
	// one hides no history. Apps, App and the changes are refused.
	ReadRecords
)

// Connect returns the API of the server answering on the control socket
// of the config at path, or, when none answers, the API on the database
// file (direct is then true), with the config it read. To find the socket
// it reads only the top of the config (config.LoadTop): cfg has no zones
// or apps then. Only on the database file does it read the whole config
// and the zone files.
func Connect(path string, mode Mode, logger *slog.Logger) (c api.Controller, cfg *config.Config, direct bool, err error) {
	top, err := config.LoadTop(path)
	if err != nil {
		return nil, nil, false, invalidConfig(err)
	}
	client, err := api.Dial(top.Control)
	if err == nil {
		return client, top, false, nil
	}
	if !errors.Is(err, api.ErrNoServer) {
		return nil, nil, false, err
	}
	if cfg, err = config.Load(path); err != nil {
		return nil, nil, false, invalidConfig(err)
	}
	local, err := OpenLocal(cfg, mode, logger)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, nil, false, fmt.Errorf("no server answers on %s, yet %s is locked by another process; if a server is starting, retry: %w", cfg.Control, cfg.DB, err)
		}
		return nil, nil, false, apiError(err)
	}
	return local, cfg, true, nil
}

// invalidConfig gives a config that does not load as the API's error of
// KindInvalid, its message unchanged.
func invalidConfig(err error) error {
	return &api.Error{Kind: api.KindInvalid, Message: err.Error()}
}

// Local is the control API on the database file, for when no server
// runs. A server started later serves what it finds.
type Local struct {
	*service
	close func() error
}

// OpenLocal opens the database file in mode and, unless mode is
// ReadRecords, loads the zone files and opens the change pipeline on
// them as a start would.
func OpenLocal(cfg *config.Config, mode Mode, logger *slog.Logger) (*Local, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	readOnly := mode != Change
	var db store.Store
	closeDB := func() error { return nil }
	d, err := store.Open(cfg.DB, store.Options{ReadOnly: readOnly, JournalLimit: cfg.JournalLimit})
	switch {
	case readOnly && errors.Is(err, fs.ErrNotExist):
		db = store.Empty(cfg.DB)
	case err != nil:
		return nil, err
	default:
		db, closeDB = d, d.Close
	}
	var files map[string]*zones.Zone
	var keys map[string][]*dnssec.Key
	upd := &updater{cfg: cfg, db: db, log: logger, clock: clock.Real, mu: &sync.Mutex{}}
	if mode != ReadRecords {
		if files, keys, err = localZones(cfg, db, logger, upd); err != nil {
			closeDB()
			return nil, err
		}
	}
	svc := &service{db: db, cfg: cfg, clock: clock.Real, log: logger, gates: newGateBook(), rt: offline{control: cfg.Control, keys: keys}}
	if mode != ReadRecords {
		if svc.p, err = pipeline.Open(db, cfg, files, pipeline.Options{Logger: logger, ReadOnly: readOnly}); err != nil {
			closeDB()
			return nil, err
		}
		upd.p, upd.signKeys, svc.upd = svc.p, keys, upd
		if d, ok := db.(*store.DB); ok && !readOnly {
			for _, zc := range cfg.Zones {
				saveSignatures(d, files[zc.Origin], logger)
			}
		}
	}
	return &Local{service: svc, close: closeDB}, nil
}

// localZones loads the zone files, lays their dynamic records over them
// (handing both to upd) and signs the signed ones with their keys, as
// the stored key rollovers use them, as a start would; it gives the
// keys too.
func localZones(cfg *config.Config, db store.Store, logger *slog.Logger, upd *updater) (map[string]*zones.Zone, map[string][]*dnssec.Key, error) {
	files, err := cfg.LoadZones()
	if err != nil {
		return nil, nil, invalidConfig(err)
	}
	rollovers, err := storedRollovers(db)
	if err != nil {
		return nil, nil, err
	}
	keys, err := loadSigningKeys(cfg, false, time.Now(), logger, rollovers)
	if err != nil {
		return nil, nil, invalidConfig(err)
	}
	parsed, _, err := layerDynamic(db, files)
	if err != nil {
		return nil, nil, err
	}
	upd.setFiles(parsed, maps.Clone(files))
	if err := joinFailed(cfg, signZones(cfg, keys, files, savedSignatures(db, logger), time.Now())); err != nil {
		return nil, nil, invalidConfig(err)
	}
	return files, keys, nil
}

// The calls that read what is served need the pipeline, which a Local
// opened to ReadRecords has not.

func (l *Local) Apps(ctx context.Context) ([]api.AppStatus, error) {
	if err := l.needServed("status"); err != nil {
		return nil, err
	}
	return l.service.Apps(ctx)
}

func (l *Local) App(ctx context.Context, name string) (api.AppStatus, error) {
	if err := l.needServed("status"); err != nil {
		return api.AppStatus{}, err
	}
	return l.service.App(ctx, name)
}

func (l *Local) Swap(ctx context.Context, app string, req api.SwapRequest) (api.Change, error) {
	if err := l.needServed("swap"); err != nil {
		return api.Change{}, err
	}
	return l.service.Swap(ctx, app, req)
}

func (l *Local) Set(ctx context.Context, app, slot string, req api.SetRequest) (api.Change, error) {
	if err := l.needServed("set"); err != nil {
		return api.Change{}, err
	}
	return l.service.Set(ctx, app, slot, req)
}

func (l *Local) Rollback(ctx context.Context, app string, req api.RollbackRequest) (api.Change, error) {
	if err := l.needServed("rollback"); err != nil {
		return api.Change{}, err
	}
	return l.service.Rollback(ctx, app, req)
}

func (l *Local) Plan(ctx context.Context, app, slot, with string) (api.SwapPlan, error) {
	if err := l.needServed("plan"); err != nil {
		return api.SwapPlan{}, err
	}
	return l.service.Plan(ctx, app, slot, with)
}

func (l *Local) needServed(call string) error {
	if l.p == nil {
		return &api.Error{Kind: api.KindInternal, Message: call + ": the database was opened for its records alone (control.ReadRecords)"}
	}
	return nil
}

// Warnings says what a reader of the state should know: the database
// does not exist yet, or holds state the config does not declare.
func (l *Local) Warnings() []string {
	var out []string
	if _, ok := l.db.(*store.DB); !ok {
		out = append(out, fmt.Sprintf("%s does not exist yet: shown is what a first start serves", l.cfg.DB))
	}
	if l.p == nil {
		return out
	}
	for _, o := range l.p.Orphans() {
		out = append(out, fmt.Sprintf("%s is in %s but not in %s, and is not served; %s", o, l.cfg.DB, l.cfg.Path, o.Fix()))
	}
	return out
}

// Close closes the database.
func (l *Local) Close() error { return l.close() }

// Rename keeps the state of an app, or of a slot ("app/slot"), under the
// name the config now gives it; see pipeline.Rename. It refuses while a
// server runs.
func Rename(cfg *config.Config, from, to string) error {
	return offlineStore(cfg, "rename", func(db *store.DB) error { return pipeline.Rename(db, cfg, from, to) })
}

// Forget drops the state of an app, a slot ("app/slot") or, with zone, a
// zone that the config no longer declares; see pipeline.Forget. It
// refuses while a server runs.
func Forget(cfg *config.Config, name string, zone bool) error {
	return offlineStore(cfg, "forget", func(db *store.DB) error { return pipeline.Forget(db, cfg, name, zone) })
}

func offlineStore(cfg *config.Config, verb string, fn func(*store.DB) error) error {
	if c, err := api.Dial(cfg.Control); err == nil {
		c.Close()
		return fmt.Errorf("%s: a server answers on %s; stop it first: it serves the state this changes", verb, cfg.Control)
	}
	db, err := store.Open(cfg.DB, store.Options{JournalLimit: cfg.JournalLimit})
	if err != nil {
		return err
	}
	defer db.Close()
	return apiError(fn(db))
}
