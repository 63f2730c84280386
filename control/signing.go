package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// loadSigningKeys reads the keys of every zone with a [zone.dnssec]
// table. A zone with none gets new ones when the table says
// generate_keys, and is refused otherwise: keys that vanished must not
// be replaced unseen, since the parent's DS points at them.
//
// generate false never makes keys: for the commands that run without a
// server, which sign what they build but leave keys to the server.
//
// A zone with a key rollover under way (rollovers, from the store) gets
// its keys as the rollover's stage uses them.
func loadSigningKeys(cfg *config.Config, generate bool, now time.Time, log *slog.Logger, rollovers map[string]store.Rollover) (map[string][]*dnssec.Key, error) {
	out := map[string][]*dnssec.Key{}
	var errs []error
	for _, zc := range cfg.Zones {
		dc := zc.DNSSEC
		if dc == nil {
			continue
		}
		ro, rolling := rollovers[zc.Origin]
		if rolling {
			if err := finishKeyFiles(dc.KeyDir, ro); err != nil {
				errs = append(errs, fmt.Errorf("zone %s: DNSSEC keys of the key rollover: %w", zc.Origin, err))
				continue
			}
		}
		keys, err := dnssec.Load(dc.KeyDir, zc.Origin)
		if err == nil && rolling && len(keys) > 0 {
			keys, err = keysAtStage(keys, ro)
		}
		if errors.Is(err, fs.ErrNotExist) {
			keys, err = nil, nil // no folder yet: no keys
		}
		if err == nil && len(keys) == 0 && dc.GenerateKeys && generate {
			keys, err = generateKeys(zc.Origin, dc, now)
			for _, k := range keys {
				log.Warn("DNSSEC key made for the zone; give the registrar its DS once it is served (slotdns dnssec ds)", "zone", zc.Origin, "key", k.BaseName(), "file", k.File)
			}
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("zone %s: DNSSEC keys: %w", zc.Origin, err))
		case len(keys) == 0:
			errs = append(errs, fmt.Errorf("%s:%d: zone %s is signed ([zone.dnssec]) but %s holds no key of it; make them with `slotdns dnssec keygen %s`, or set generate_keys = true",
				cfg.Path, dc.Line, zc.Origin, dc.KeyDir, zc.Origin))
		default:
			out[zc.Origin] = keys
		}
	}
	return out, errors.Join(errs...)
}

// expireNote warns of a signed zone whose SOA expire outlasts the
// signatures: a secondary cut off from slotdns just before a re-sign
// holds signatures with signature_refresh left, and serves them until
// the expire has passed, expired signatures and all (RFC 6781 4.4.1).
func expireNote(zc *config.Zone, soa *dns.SOA) string {
	if zc.DNSSEC == nil || soa == nil {
		return ""
	}
	expire := time.Duration(soa.Expire) * time.Second
	if expire <= zc.DNSSEC.Refresh {
		return ""
	}
	return fmt.Sprintf("zone %s: the SOA expire (%s) is longer than signature_refresh (%s): a secondary cut off from slotdns would serve expired signatures for up to %s before it stops answering; lower the expire in %s or raise signature_refresh",
		zc.Origin, config.FormatDays(expire), config.FormatDays(zc.DNSSEC.Refresh), config.FormatDays(expire-zc.DNSSEC.Refresh), zc.File)
}

// storedRollovers reads the key rollover of every zone that has one.
func storedRollovers(db store.Store) (map[string]store.Rollover, error) {
	var out map[string]store.Rollover
	err := db.Read(func(v store.View) error {
		var err error
		out, err = v.Rollovers()
		return err
	})
	return out, err
}

// storedRollover reads the key rollover of zone; ok is false when it
// never had one.
func storedRollover(db store.Store, zone string) (ro store.Rollover, ok bool, err error) {
	all, err := storedRollovers(db)
	ro, ok = all[zone]
	return ro, ok, err
}

// generateKeys makes and writes a zone's first keys: one CSK, or a KSK
// and a ZSK.
func generateKeys(origin string, dc *config.DNSSEC, now time.Time) ([]*dnssec.Key, error) {
	if err := os.MkdirAll(dc.KeyDir, 0o700); err != nil {
		return nil, err
	}
	flags := []uint16{dnssec.FlagsKSK}
	if dc.Split {
		flags = append(flags, dnssec.FlagsZSK)
	}
	var keys []*dnssec.Key
	for _, f := range flags {
		k, err := dnssec.Generate(origin, dc.Algorithm, f, now)
		if err != nil {
			return nil, err
		}
		if err := k.Write(dc.KeyDir); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// signZones signs, in files, every zone of the config that is signed,
// for its slot names, reusing the signatures reuse gives: the zone
// served before, or those saved in the database (nil: none). A zone
// that cannot be signed leaves files, with its error in failed.
func signZones(cfg *config.Config, keys map[string][]*dnssec.Key, files map[string]*zones.Zone, reuse func(origin string) zones.Reuse, now time.Time) (failed map[string]error) {
	failed = map[string]error{}
	for _, zc := range cfg.Zones {
		file := files[zc.Origin]
		if zc.DNSSEC == nil || file == nil {
			continue
		}
		var prev zones.Reuse
		if reuse != nil {
			prev = reuse(zc.Origin)
		}
		signed, err := file.Sign(signingOf(zc.DNSSEC, keys[zc.Origin]), slotNames(cfg, zc.Origin), prev, now)
		if err != nil {
			failed[zc.Origin] = err
			delete(files, zc.Origin)
			continue
		}
		files[zc.Origin] = signed
	}
	return failed
}

// joinFailed joins the errors of signZones, in config order.
func joinFailed(cfg *config.Config, failed map[string]error) error {
	var errs []error
	for _, zc := range cfg.Zones {
		if err, ok := failed[zc.Origin]; ok {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func signingOf(dc *config.DNSSEC, keys []*dnssec.Key) zones.Signing {
	return zones.Signing{Keys: keys, NSEC3: dc.NSEC3, Validity: dc.Validity, Refresh: dc.Refresh, Jitter: dc.Jitter}
}

// slotNames lists the names the slots of the zone's apps give records.
func slotNames(cfg *config.Config, origin string) []string {
	var names []string
	for _, app := range cfg.AppsIn(origin) {
		for _, s := range app.Slots {
			names = append(names, s.Names...)
		}
	}
	return names
}

// savedSignatures gives the signatures db keeps for a zone, for Sign to
// reuse; nil when it keeps none or is no database file yet. Saved
// signatures that cannot be read are a warning, never a failed start:
// the zone is then signed afresh.
func savedSignatures(db store.Store, log *slog.Logger) func(origin string) zones.Reuse {
	return func(origin string) zones.Reuse {
		d, ok := db.(*store.DB)
		if !ok {
			return nil
		}
		entries, err := d.Signatures(origin)
		if err == nil {
			err = zones.SavedSignatures(entries).Check(origin)
		}
		if err != nil {
			log.Warn("Saved signatures unreadable; signing the zone afresh", "zone", origin, "db", d.Path(), "err", err)
			return nil
		}
		if len(entries) == 0 {
			return nil
		}
		return zones.SavedSignatures(entries)
	}
}

// saveSignatures keeps the signatures of z, served signed, in db, for
// the next start to reuse. A failure is logged: the next start then
// signs what it cannot reuse.
func saveSignatures(db *store.DB, z *zones.Zone, log *slog.Logger) {
	if z == nil || !z.Signed() || z.SignedAsSaved() {
		return
	}
	c, err := db.SaveSignatures(z.Origin, z.SavedSignatures())
	if err != nil {
		log.Warn("Signatures not saved; the next start signs the zone again", "zone", z.Origin, "err", err)
		return
	}
	log.Debug("Signatures saved", "zone", z.Origin, "written", c.Written, "kept", c.Kept, "deleted", c.Deleted)
}

// servedReuse gives the zone origin's snapshot serves, to reuse its
// signatures; nil when none.
func servedReuse(p *pipeline.Pipeline) func(string) zones.Reuse {
	return func(origin string) zones.Reuse {
		if z := servedZone(p)(origin); z != nil {
			return z
		}
		return nil
	}
}

// servedZone gives the zone origin's snapshot serves, signed or not.
func servedZone(p *pipeline.Pipeline) func(string) *zones.Zone {
	return func(origin string) *zones.Zone {
		zi, ok := p.Snapshot().ZoneInput(origin)
		if !ok {
			return nil
		}
		return zi.Zone
	}
}

// resigner signs each signed zone again before its signatures are due
// (see zones.Zone.SignaturesExpire), as a change of the pipeline: a new
// serial, journaled and NOTIFYed, so that secondaries take the new
// signatures by IXFR.
type resigner struct {
	p     *pipeline.Pipeline
	cfg   *config.Config
	keys  map[string][]*dnssec.Key
	db    *store.DB // where the signatures are saved
	log   *slog.Logger
	clock clock.Clock
	// reloadMu is the server's: a reload and a re-sign never sign the
	// same zone at once.
	reloadMu *sync.Mutex
	wake     chan struct{}
	done     chan struct{}
}

// maxResignWait bounds a wait, so that a clock that jumps is noticed.
const maxResignWait = time.Hour

// run re-signs until ctx ends.
func (r *resigner) run(ctx context.Context) {
	defer close(r.done)
	for {
		wait := r.resignDue()
		t := r.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		case <-r.wake:
			t.Stop()
		}
	}
}

// resignDue signs again the zones whose signatures are due and gives
// how long to wait for the next.
func (r *resigner) resignDue() time.Duration {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	wait := maxResignWait
	now := r.clock.Now()
	for _, zc := range r.cfg.Zones {
		if zc.DNSSEC == nil {
			continue
		}
		served := servedZone(r.p)(zc.Origin)
		if served == nil || !served.Signed() {
			continue
		}
		_, due := served.SignaturesExpire()
		if due.After(now) {
			wait = min(wait, due.Sub(now))
			continue
		}
		signed, err := served.Sign(signingOf(zc.DNSSEC, r.keys[zc.Origin]), slotNames(r.cfg, zc.Origin), served, now)
		if err == nil {
			var zr pipeline.ZoneReload
			zr, err = r.p.Resign(signed)
			if err == nil {
				saveSignatures(r.db, signed, r.log)
				expires, due := signed.SignaturesExpire()
				r.log.Info("Zone signed again before its signatures expire", "zone", zc.Origin, "serial", zr.Serial,
					"signatures_made", signed.SignaturesMade(), "oldest_expires", expires.UTC().Format(time.RFC3339), "next_due", due.UTC().Format(time.RFC3339))
				wait = min(wait, max(due.Sub(now), time.Second))
				continue
			}
		}
		r.log.Error("Zone not signed again; retrying in a minute", "zone", zc.Origin, "err", err)
		wait = min(wait, time.Minute)
	}
	return wait
}

// logSigned says, for each signed zone of files, how many of its RRsets
// were signed anew and how many kept the signatures they had.
func logSigned(cfg *config.Config, files map[string]*zones.Zone, log *slog.Logger) {
	for _, zc := range cfg.Zones {
		if z := files[zc.Origin]; z != nil && z.Signed() {
			expires, due := z.SignaturesExpire()
			log.Info("Zone signed", "zone", zc.Origin, "signatures_made", z.SignaturesMade(), "signatures_reused", z.SignaturesReused(),
				"oldest_expires", expires.UTC().Format(time.RFC3339), "next_due", due.UTC().Format(time.RFC3339))
		}
	}
}
