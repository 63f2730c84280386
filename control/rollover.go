package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/probe"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// A key rollover (see package dnssec for its stages) is stepped by the
// operator, `slotdns dnssec rollover ZONE`, each step once the last has
// drained from caches. Each step re-signs the zone with the keys of the
// new stage and writes the stage in the same transaction. The new key is
// written to key_dir/pending first and moved into key_dir once the start
// has committed, and the old one is moved to key_dir/retired once the
// rollover is done, so that a crash at any point leaves key files that
// the stored stage accounts for (finishKeyFiles completes the move).

// defaultDSTTL is taken for the parent's DS TTL when the operator gives
// none: the TTL most top-level domains give DS records.
const defaultDSTTL = 86400

const (
	pendingKeys = "pending" // under key_dir: a new key not yet committed
	retiredKeys = "retired" // under key_dir: keys a rollover replaced
)

// Rollover steps the key rollover of a zone: Start begins one; otherwise
// the next stage begins if the wait of the current one is over, every
// secondary serves the zone's serial and, before leaving the ds stage,
// the operator said that the parent serves the new DS.
func (s *Server) Rollover(ctx context.Context, zone string, req api.RolloverRequest) (api.Rollover, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	zc, ok := s.cfg.Zone(zone)
	if !ok {
		return api.Rollover{}, api.Errorf(api.KindNotFound, "zone %s is not in the config", zone)
	}
	if zc.DNSSEC == nil {
		return api.Rollover{}, api.Errorf(api.KindInvalid, "zone %s is not signed: it has no [zone.dnssec] table", zone)
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	ro, exists, err := storedRollover(s.db, zone)
	if err != nil {
		return api.Rollover{}, err
	}
	now := s.clock.Now()
	switch {
	case req.Start:
		if exists && ro.Stage != dnssec.StageDone {
			return api.Rollover{}, api.Errorf(api.KindConflict, "zone %s: the rollover of key %d to key %d is at stage %s; finish it first (slotdns dnssec rollover %s)",
				zone, ro.Old, ro.New, ro.Stage, zone)
		}
		return s.startRollover(zc, ro.Rev, req.Key, now)
	case !exists:
		return api.Rollover{}, api.Errorf(api.KindInvalid, "zone %s has no key rollover; begin one with slotdns dnssec rollover %s --start", zone, zone)
	case req.DSPublished && ro.Stage != dnssec.StageDS:
		return api.Rollover{}, api.Errorf(api.KindInvalid, "zone %s: the rollover is at stage %s, not ds: confirm the parent's DS (--ds-published) only once slotdns has printed the new one at stage ds", zone, ro.Stage)
	case ro.Stage == dnssec.StageDone:
		return s.rolloverStatus(ro, false), nil
	}
	return s.advanceRollover(ctx, zc, ro, req, now)
}

// startRollover makes the new key and pre-publishes it.
func (s *Server) startRollover(zc *config.Zone, rev store.Rev, kind string, now time.Time) (api.Rollover, error) {
	zone, dc := zc.Origin, zc.DNSSEC
	keys := s.signKeys[zone]
	old, kind, err := rolledKey(zone, keys, kind)
	if err != nil {
		return api.Rollover{}, err
	}
	if alg := old.DNSKEY.Algorithm; alg != dc.Algorithm {
		return api.Rollover{}, api.Errorf(api.KindInvalid, "zone %s: key %d is of algorithm %s, the config says %s: a rollover keeps the algorithm, and an algorithm rollover is not supported; set algorithm back to %s",
			zone, old.Tag(), dns.AlgorithmToString[alg], dns.AlgorithmToString[dc.Algorithm], dns.AlgorithmToString[alg])
	}
	flags := uint16(dnssec.FlagsKSK)
	if kind == dnssec.RollZSK {
		flags = dnssec.FlagsZSK
	}
	var fresh *dnssec.Key
	for fresh == nil || tagTaken(keys, fresh.Tag()) {
		if fresh, err = dnssec.Generate(zone, old.DNSKEY.Algorithm, flags, now); err != nil {
			return api.Rollover{}, err
		}
	}
	pending := filepath.Join(dc.KeyDir, pendingKeys)
	if err := os.MkdirAll(pending, 0o700); err != nil {
		return api.Rollover{}, fmt.Errorf("zone %s: new key: %w", zone, err)
	}
	if err := fresh.Write(pending); err != nil {
		return api.Rollover{}, fmt.Errorf("zone %s: new key: %w", zone, err)
	}
	ro := store.Rollover{Zone: zone, Rev: rev, Kind: kind, Old: old.Tag(), OldFile: old.File, New: fresh.Tag(),
		NewFile: filepath.Join(dc.KeyDir, filepath.Base(fresh.File)), Started: now}
	next, err := s.stepRollover(zc, ro, dnssec.StagePublished, append(keys[:len(keys):len(keys)], fresh), now)
	if err != nil {
		removeKeyFiles(fresh.File)
		return api.Rollover{}, err
	}
	if err := finishKeyFiles(dc.KeyDir, next); err != nil {
		s.log.Error("New key not moved into the key folder; the next start moves it", "zone", zone, "err", err)
	} else {
		for _, k := range s.signKeys[zone] {
			if isKey(k, next.New, next.NewFile) {
				k.File = next.NewFile // a copy of keysAtStage's, not shared
			}
		}
	}
	return s.rolloverStatus(next, true), nil
}

// rolledKey finds the key a rollover of kind replaces ("" for the
// default), and gives the kind.
func rolledKey(zone string, keys []*dnssec.Key, kind string) (*dnssec.Key, string, error) {
	var sep, zsk []*dnssec.Key
	for _, k := range keys {
		if k.SEP() {
			sep = append(sep, k)
		} else {
			zsk = append(zsk, k)
		}
	}
	split := len(zsk) > 0
	if kind == "" {
		kind = dnssec.RollCSK
		if split {
			kind = dnssec.RollZSK
		}
	}
	var candidates []*dnssec.Key
	switch {
	case kind == dnssec.RollCSK && !split, kind == dnssec.RollKSK && split:
		candidates = sep
	case kind == dnssec.RollZSK && split:
		candidates = zsk
	case kind == dnssec.RollCSK:
		return nil, "", api.Errorf(api.KindInvalid, "zone %s has a KSK and a ZSK, not a CSK: roll over the ksk or the zsk", zone)
	case kind == dnssec.RollKSK, kind == dnssec.RollZSK:
		return nil, "", api.Errorf(api.KindInvalid, "zone %s has a CSK, not a KSK and a ZSK: roll over the csk", zone)
	default:
		return nil, "", api.Errorf(api.KindInvalid, "key %q: want csk, ksk or zsk", kind)
	}
	if len(candidates) != 1 {
		var tags []string
		for _, k := range candidates {
			tags = append(tags, fmt.Sprint(k.Tag()))
		}
		return nil, "", api.Errorf(api.KindInvalid, "zone %s has %d keys that a %s rollover could replace (%s); a rollover replaces one, so remove the others from the key folder first",
			zone, len(candidates), kind, strings.Join(tags, ", "))
	}
	return candidates[0], kind, nil
}

func tagTaken(keys []*dnssec.Key, tag uint16) bool {
	for _, k := range keys {
		if k.Tag() == tag {
			return true
		}
	}
	return false
}

// advanceRollover begins the next stage if the current one has drained.
func (s *Server) advanceRollover(ctx context.Context, zc *config.Zone, ro store.Rollover, req api.RolloverRequest, now time.Time) (api.Rollover, error) {
	if ro.Stage == dnssec.StageDS && ro.DSConfirmed.IsZero() {
		if !req.DSPublished {
			return s.rolloverStatus(ro, false), nil
		}
		ro.DSConfirmed, ro.WaitTTL = now, req.DSTTL
		if ro.WaitTTL == 0 {
			ro.WaitTTL = defaultDSTTL
		}
		ro.SafeAt = pipeline.CacheExpiry(now, ro.WaitTTL)
		rev, err := s.db.Apply(&store.Batch{If: []store.Cond{{Key: store.RolloverKey(ro.Zone), Rev: ro.Rev}}, Rollovers: []store.Rollover{ro}})
		if err != nil {
			return api.Rollover{}, err
		}
		ro.Rev = rev
	}
	if now.Before(ro.SafeAt) {
		return s.rolloverStatus(ro, false), nil
	}
	if behind := s.secondariesBehind(ctx, zc); behind != "" {
		st := s.rolloverStatus(ro, false)
		st.Waiting = behind
		return st, nil
	}
	next, err := s.stepRollover(zc, ro, dnssec.NextStage(ro.Kind, ro.Stage), s.signKeys[zc.Origin], now)
	if err != nil {
		return api.Rollover{}, err
	}
	if err := finishKeyFiles(zc.DNSSEC.KeyDir, next); err != nil {
		s.log.Error("Retired key not moved out of the key folder; the next start moves it", "zone", zc.Origin, "err", err)
	}
	return s.rolloverStatus(next, true), nil
}

// stepRollover serves the zone signed with keys as stage uses them, and
// records the stage with it, its wait taken from the TTLs served until
// now.
func (s *Server) stepRollover(zc *config.Zone, ro store.Rollover, stage string, keys []*dnssec.Key, now time.Time) (store.Rollover, error) {
	zone := zc.Origin
	served := servedZone(s.p)(zone)
	if served == nil || !served.Signed() {
		return ro, fmt.Errorf("zone %s is not served signed", zone)
	}
	ro.Stage, ro.Since, ro.SafeAt, ro.WaitTTL = stage, now, time.Time{}, 0
	switch dnssec.StageWait(ro.Kind, stage) {
	case dnssec.WaitDNSKEY:
		ro.WaitTTL = s.servedTTL(zone, true)
	case dnssec.WaitSignatures:
		ro.WaitTTL = s.servedTTL(zone, false)
	}
	if ro.WaitTTL > 0 {
		ro.SafeAt = pipeline.CacheExpiry(now, ro.WaitTTL)
	}
	staged, err := keysAtStage(keys, ro)
	if err != nil {
		return ro, err
	}
	signed, err := served.Sign(signingOf(zc.DNSSEC, staged), slotNames(s.cfg, zone), served, now)
	if err != nil {
		return ro, err
	}
	zr, err := s.p.ResignRollover(signed, ro)
	if err != nil {
		return ro, err
	}
	saveSignatures(s.db, signed, s.log)
	ro.Rev = 0 // read again when needed: the commit stamped a new one
	if stored, ok, err := storedRollover(s.db, zone); err == nil && ok {
		ro.Rev = stored.Rev
	}
	s.signKeys[zone] = staged
	s.log.Info("Key rollover step served", "zone", zone, "kind", ro.Kind, "old", ro.Old, "new", ro.New, "stage", stage, "serial", zr.Serial,
		"safe_at", ro.SafeAt.UTC().Format(time.RFC3339))
	return ro, nil
}

// servedTTL is the TTL of the zone's DNSKEY RRset (dnskey), or the
// longest TTL of any record it serves, as a transfer gives them: how
// long a cache may keep what the stage replaces.
func (s *Server) servedTTL(zone string, dnskey bool) uint32 {
	snap := s.p.Snapshot()
	if dnskey {
		var ttl uint32
		for _, rr := range snap.Lookup(zone, dns.TypeDNSKEY).Answer {
			ttl = max(ttl, rr.Header().Ttl)
		}
		return ttl
	}
	t, ok := snap.Transfer(zone)
	if !ok {
		return 0
	}
	ttl := t.SOA.Hdr.Ttl
	for rr := range t.Records {
		ttl = max(ttl, rr.Header().Ttl)
	}
	return ttl
}

// secondariesBehind names a secondary that does not serve the zone's
// serial yet (or does not answer), or gives "".
func (s *Server) secondariesBehind(ctx context.Context, zc *config.Zone) string {
	soa, ok := s.servedSOA(zc.Origin)
	if !ok {
		return ""
	}
	for _, sec := range zc.Secondaries {
		serial, err := probe.Serial(ctx, sec.Address, zc.Origin, time.Second)
		if err != nil {
			return fmt.Sprintf("secondary %s to answer (%v)", sec.Address, err)
		}
		if int32(serial-soa.Serial) < 0 {
			return fmt.Sprintf("secondary %s to serve serial %d (it serves %d)", sec.Address, soa.Serial, serial)
		}
	}
	return ""
}

// keysAtStage gives a zone's keys with the uses of its rollover's stage;
// once done, without the old key.
func keysAtStage(keys []*dnssec.Key, ro store.Rollover) ([]*dnssec.Key, error) {
	oldUse, newUse := dnssec.StageUses(ro.Kind, ro.Stage)
	var out []*dnssec.Key
	var foundOld, foundNew bool
	for _, k := range keys {
		switch {
		case isKey(k, ro.Old, ro.OldFile):
			foundOld = true
			if ro.Stage == dnssec.StageDone {
				continue
			}
			c := *k
			c.Use = oldUse
			k = &c
		case isKey(k, ro.New, ro.NewFile):
			foundNew = true
			c := *k
			c.Use = newUse
			k = &c
		}
		out = append(out, k)
	}
	switch {
	case !foundNew:
		return nil, fmt.Errorf("zone %s: the key rollover at stage %s has key %d (%s) replace key %d, but %s holds no such key; put its files back",
			ro.Zone, ro.Stage, ro.New, filepath.Base(ro.NewFile), ro.Old, filepath.Dir(ro.NewFile))
	case !foundOld && ro.Stage != dnssec.StageDone:
		return nil, fmt.Errorf("zone %s: the key rollover at stage %s has key %d replace key %d (%s), but %s holds no such key; put its files back",
			ro.Zone, ro.Stage, ro.New, ro.Old, filepath.Base(ro.OldFile), filepath.Dir(ro.OldFile))
	}
	return out, nil
}

// isKey reports whether k is the key of tag and file (two keys may share
// a tag; their files differ).
func isKey(k *dnssec.Key, tag uint16, file string) bool {
	return k.Tag() == tag && filepath.Base(k.File) == filepath.Base(file)
}

// finishKeyFiles completes the file moves of a rollover step: the new key
// from pending into the key folder, and once done the old key into
// retired. It does nothing when they are in place already.
func finishKeyFiles(keyDir string, ro store.Rollover) error {
	newBase := filepath.Base(strings.TrimSuffix(ro.NewFile, ".private"))
	if err := moveKeyFiles(filepath.Join(keyDir, pendingKeys), keyDir, newBase); err != nil {
		return err
	}
	if ro.Stage != dnssec.StageDone {
		return nil
	}
	oldBase := filepath.Base(strings.TrimSuffix(ro.OldFile, ".private"))
	return moveKeyFiles(keyDir, filepath.Join(keyDir, retiredKeys), oldBase)
}

// moveKeyFiles moves base's .key and .private from one folder to
// another, if they are in the first.
func moveKeyFiles(from, to, base string) error {
	for _, ext := range []string{".key", ".private"} {
		src := filepath.Join(from, base+ext)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.MkdirAll(to, 0o700); err != nil {
			return err
		}
		if err := os.Rename(src, filepath.Join(to, base+ext)); err != nil {
			return err
		}
	}
	return nil
}

// removeKeyFiles removes a key that never served (a start that failed).
func removeKeyFiles(private string) {
	os.Remove(private)
	os.Remove(strings.TrimSuffix(private, ".private") + ".key")
}

// rolloverStatus says where a rollover stands.
func (s *Server) rolloverStatus(ro store.Rollover, advanced bool) api.Rollover {
	var serial uint32
	if soa, ok := s.servedSOA(ro.Zone); ok {
		serial = soa.Serial
	}
	return rolloverOf(ro, advanced, serial, s.signKeys[ro.Zone])
}

// rolloverOf says where a rollover stands, in a zone served at serial
// with keys.
func rolloverOf(ro store.Rollover, advanced bool, serial uint32, keys []*dnssec.Key) api.Rollover {
	st := api.Rollover{Zone: ro.Zone, Kind: ro.Kind, Old: ro.Old, New: ro.New, Stage: ro.Stage, Next: dnssec.NextStage(ro.Kind, ro.Stage),
		Advanced: advanced, Started: ro.Started, Since: ro.Since, SafeAt: ro.SafeAt, Serial: serial}
	st.Waiting = rolloverWaiting(ro)
	if ro.Stage == dnssec.StageDS && ro.DSConfirmed.IsZero() {
		st.NeedDS = true
		for _, k := range keys {
			if isKey(k, ro.New, ro.NewFile) {
				st.DS = append(st.DS, k.DS().String())
			}
		}
	}
	return st
}

// rolloverWaiting says in words what the next step waits for.
func rolloverWaiting(ro store.Rollover) string {
	switch {
	case ro.Stage == dnssec.StageDone:
		return ""
	case ro.Stage == dnssec.StageDS && ro.DSConfirmed.IsZero():
		return fmt.Sprintf("the parent to serve the DS of key %d in place of key %d's: have the registrar change it, check it with dig DS %s @<a server of the parent>, then confirm with --ds-published", ro.New, ro.Old, ro.Zone)
	case ro.Stage == dnssec.StageDS:
		return fmt.Sprintf("the parent's old DS to leave caches (DS TTL %ds)", ro.WaitTTL)
	case ro.Stage == dnssec.StagePublished && ro.Kind == dnssec.RollCSK:
		return fmt.Sprintf("RRsets and DNSKEY RRsets without signatures of key %d to leave caches (the zone's longest TTL, %ds)", ro.New, ro.WaitTTL)
	case ro.Stage == dnssec.StagePublished:
		return fmt.Sprintf("DNSKEY RRsets without key %d to leave caches (DNSKEY TTL %ds)", ro.New, ro.WaitTTL)
	case ro.Stage == dnssec.StageActive:
		return fmt.Sprintf("signatures of key %d to leave caches (the zone's longest TTL, %ds)", ro.Old, ro.WaitTTL)
	}
	return ""
}
