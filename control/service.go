package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Controller is what the CLI asks of slotdns. Client serves it through a
// running server's control socket; Local works on the database file when no
// server runs. Errors wrap store.ErrNotFound, store.ErrConflict,
// store.ErrSameTarget or ErrInvalid where callers branch.
type Controller interface {
	Apps(ctx context.Context) ([]AppStatus, error)
	App(ctx context.Context, app string) (AppStatus, error)
	Swap(ctx context.Context, app string, req SwapRequest) (Change, error)
	Set(ctx context.Context, app, slot string, req SetRequest) (Change, error)
	Rollback(ctx context.Context, app string, req RollbackRequest) (Change, error)
	History(ctx context.Context, app string, limit int) ([]store.Entry, error)
	// Reload re-reads the zone files of a running server; see
	// ReloadResult.
	Reload(ctx context.Context) (ReloadResult, error)
	Close() error
}

// ErrInvalid marks a request that can never succeed as written: a bad
// target, a missing field.
var ErrInvalid = errors.New("invalid request")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// SwapRequest is the body of POST /v1/apps/{app}/swap.
type SwapRequest struct {
	Slot   string `json:"slot,omitempty"` // default "staging"
	With   string `json:"with,omitempty"` // default "production"
	Reason string `json:"reason,omitempty"`
	Expect string `json:"expect,omitempty"` // Slot's current target must be this
	Actor  string `json:"actor,omitempty"`
	// Force swaps although a "before" check failed; the history entry
	// records it and the results.
	Force bool `json:"force,omitempty"`
	// NoWaitChecks returns once the swap is committed; the "after" checks
	// then run in the server on their own.
	NoWaitChecks bool `json:"no_wait_checks,omitempty"`
}

// SetRequest is the body of POST /v1/apps/{app}/slots/{slot}.
type SetRequest struct {
	Target string `json:"target"`
	Reason string `json:"reason,omitempty"`
	Expect string `json:"expect,omitempty"`
	Actor  string `json:"actor,omitempty"`
}

// RollbackRequest is the body of POST /v1/apps/{app}/rollback.
type RollbackRequest struct {
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor,omitempty"`
	// To restores the slots of history entry To (its After) instead of
	// undoing the last change; see rollbackTo. Force passes its gate.
	To    uint64 `json:"to,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// Change is the reply to a mutation: the history entry it wrote, and when
// every cache has expired the answer served before it.
type Change struct {
	App string `json:"app"`
	store.Entry
	TTL       uint32    `json:"ttl"`        // the TTL served for the changed names before the change
	DrainedAt time.Time `json:"drained_at"` // when the answers served before it have left caches; see drainClock
	// Secondaries is filled by the CLI (WaitSecondaries), not the server.
	Secondaries []SecondaryResult `json:"secondaries"`
	// AfterChecks are the last results of the "after" checks of a swap
	// that waited for them; RolledBack is the automatic rollback they
	// caused, if any.
	AfterChecks []store.CheckResult `json:"after_checks,omitempty"`
	RolledBack  *store.Entry        `json:"rolled_back,omitempty"`
}

// AppStatus is one app as served.
type AppStatus struct {
	Name       string       `json:"name"`
	Zone       string       `json:"zone"`
	Serial     uint32       `json:"serial"`
	Version    uint64       `json:"version"`
	TTL        uint32       `json:"ttl"`
	Updated    time.Time    `json:"updated"`
	Slots      []SlotStatus `json:"slots"`
	LastChange *store.Entry `json:"last_change,omitempty"`
	// DrainedAt is when every answer served before the current ones has
	// expired from caches that honour TTLs; Draining is true until then.
	DrainedAt time.Time `json:"drained_at,omitzero"`
	Draining  bool      `json:"draining"`
	// Secondaries of the app's zone, each asked for its serial over DNS.
	Secondaries []SecondaryStatus `json:"secondaries"`
	// Checks are the app's last check results; LastAutoRollback is the
	// last rollback slotdns made by itself after a failed check.
	Checks           []store.CheckResult `json:"checks,omitempty"`
	LastAutoRollback *store.Entry        `json:"last_auto_rollback,omitempty"`
}

// SlotStatus is one slot of an app.
type SlotStatus struct {
	Slot         string       `json:"slot"`
	Names        []string     `json:"names"`
	Target       string       `json:"target"`
	TTL          uint32       `json:"ttl"`
	ConfigTarget string       `json:"config_target"`
	Differs      bool         `json:"differs_from_config"`
	Alias        *AliasStatus `json:"alias,omitempty"`
}

// AliasStatus is the apex alias of a slot whose target is a hostname at
// the zone apex: the addresses served for it.
type AliasStatus struct {
	Name     string    `json:"name"`   // the apex
	Target   string    `json:"target"` // the hostname
	InZone   bool      `json:"in_zone"`
	Addrs    []string  `json:"addrs"`
	TTL      uint32    `json:"ttl"`
	Resolved time.Time `json:"resolved,omitzero"` // zero for targets in our zones
	Stale    bool      `json:"stale"`             // resolution is past its TTL
}

// service implements Controller on an open store. In the server it
// publishes a new snapshot after every mutation; on its own (Local) it only
// changes the file.
type service struct {
	cfg *Config
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	// mu serialises every store write and the publish that follows it, so
	// snapshots are published in commit order.
	mu      sync.Mutex
	current atomic.Pointer[zones.Snapshot]
	publish func(*zones.Snapshot) // nil when local
	aliases *aliasResolver        // nil when local

	// lastInput is what the current snapshot was built from; the journal
	// builds the state of a change from it. Guarded by mu.
	lastInput zones.Input
	notifier  *notifier // nil when local
	// fileSets holds each zone file's records by identity, for the
	// journal. Guarded by mu.
	fileSets map[string]fileRecordSet
	// gates knows the swaps running their checks; see gate.go.
	gates gateBook
	// drain tracks when answers no longer served have left caches.
	drain *drainClock
}

// newService returns a service on db with its own copy of cfg's zones,
// which a reload replaces, and installs the IXFR journal.
func newService(cfg *Config, db *store.DB, logger *slog.Logger) *service {
	own := *cfg
	own.Zones = slices.Clone(cfg.Zones)
	s := &service{cfg: &own, db: db, log: logger, now: time.Now}
	s.drain = newDrainClock(db, logger, func() time.Time { return s.now() })
	db.SetJournal(s.journal, cfg.JournalLimit)
	return s
}

// seed records the config's zones and apps in the store, logging every slot
// whose stored target differs from the config. A zone whose content changed
// since it was last served (zone file edited, slots added or reshaped in
// the config) gets a new serial from the store, so that secondaries fetch
// it; see store.SeedZone and store.SeedApp.
func (s *service) seed() error {
	lastServed := map[string]uint32{} // the serials of the zones stored already
	for _, zc := range s.cfg.Zones {
		if serial, err := s.db.ZoneSerial(zc.Origin); err == nil {
			lastServed[zc.Origin] = serial
		}
		var fileSerial uint32
		if zc.Zone != nil && zc.Zone.SOA != nil {
			fileSerial = zc.Zone.SOA.Serial
		}
		digest, err := contentDigest(zc.Zone, s.cfg.Apps)
		if err != nil {
			return fmt.Errorf("seed zone %s: %w", zc.Origin, err)
		}
		if _, err := s.db.SeedZone(zc.Origin, fileSerial, digest); err != nil {
			return fmt.Errorf("seed zone %s: %w", zc.Origin, err)
		}
	}
	for _, app := range s.cfg.Apps {
		targets := map[string]string{}
		for _, slot := range app.Slots {
			targets[slot.Name] = slot.Target.String()
		}
		added, err := s.db.SeedApp(app.Name, app.Zone, targets)
		if err != nil {
			return fmt.Errorf("seed app %s: %w", app.Name, err)
		}
		for _, slot := range added {
			s.log.Info("Slot seeded from config", "app", app.Name, "slot", slot, "target", targets[slot])
		}
		stored, err := s.db.App(app.Name)
		if err != nil {
			return fmt.Errorf("read app %s: %w", app.Name, err)
		}
		if stored.Zone != app.Zone {
			return fmt.Errorf("app %s: stored in zone %s but configured in zone %s; move it back or start from a new database", app.Name, stored.Zone, app.Zone)
		}
		for _, slot := range app.Slots {
			if live := stored.Slots[slot.Name]; live != targets[slot.Name] {
				s.log.Info("Slot target differs from config; serving the stored one", "app", app.Name, "slot", slot.Name, "target", live, "config_target", targets[slot.Name])
			}
		}
	}
	for _, zc := range s.cfg.Zones {
		was, ok := lastServed[zc.Origin]
		serial, err := s.db.ZoneSerial(zc.Origin)
		if ok && err == nil && serial != was {
			s.log.Info("Zone changed since it was last served (zone file, its serial or the config); serving a new serial", "zone", zc.Origin, "serial", serial, "previous_serial", was)
		}
	}
	return nil
}

// input reads the committed state and assembles a snapshot input.
func (s *service) input() (zones.Input, error) {
	serials := map[string]uint32{}
	for _, zc := range s.cfg.Zones {
		serial, err := s.db.ZoneSerial(zc.Origin)
		if err != nil {
			return zones.Input{}, fmt.Errorf("serial of %s: %w", zc.Origin, err)
		}
		serials[zc.Origin] = serial
	}
	targets, err := s.liveTargets()
	if err != nil {
		return zones.Input{}, err
	}
	var aliases map[string]zones.Alias
	if s.aliases != nil {
		aliases = s.aliases.served(s.now())
	} else {
		recs, err := s.db.Aliases()
		if err != nil {
			return zones.Input{}, fmt.Errorf("read aliases: %w", err)
		}
		aliases = servedAliases(recs, s.now(), s.cfg.AliasMaxStale)
	}
	return s.cfg.snapshotInput(serials, targets, aliases), nil
}

// liveTargets returns the stored targets of every configured app.
func (s *service) liveTargets() (map[string]map[string]zones.Target, error) {
	targets := map[string]map[string]zones.Target{}
	for _, app := range s.cfg.Apps {
		stored, err := s.db.App(app.Name)
		if err != nil {
			return nil, fmt.Errorf("read app %s: %w", app.Name, err)
		}
		targets[app.Name] = map[string]zones.Target{}
		for slot, text := range stored.Slots {
			t, err := zones.ParseTarget(text)
			if err != nil {
				return nil, fmt.Errorf("app %s slot %s: stored target %q: %w", app.Name, slot, text, err)
			}
			targets[app.Name][slot] = t
		}
	}
	return targets, nil
}

// rebuild builds a snapshot from the committed state and publishes it.
// The caller holds s.mu.
func (s *service) rebuild() error {
	in, err := s.input()
	if err != nil {
		return err
	}
	snap, err := zones.Build(in)
	if err != nil {
		return fmt.Errorf("build snapshot: %w", err)
	}
	// Each zone's records are listed before anyone else reads the
	// snapshot: listing them packs records (which writes their headers),
	// and queries read those same records once it is published.
	for _, zc := range s.cfg.Zones {
		snap.Records(zc.Origin)
	}
	prev := s.current.Load()
	s.current.Store(snap)
	s.lastInput = in
	if s.publish != nil {
		s.publish(snap)
		s.drain.published(snap, s.cfg.Apps)
	}
	if s.notifier != nil && prev != nil {
		for _, zc := range s.cfg.Zones {
			was, _ := prev.Serial(zc.Origin)
			now, _ := snap.Serial(zc.Origin)
			if was != now {
				s.notifier.changed(zc.Origin)
			}
		}
	}
	if s.aliases != nil {
		s.aliases.watch(s.aliasTargets(in))
	}
	return nil
}

// aliasTargets lists the hostnames outside our zones that an apex may
// serve: every hostname target of an app with an apex slot, since a swap
// can move any of them to the apex.
func (s *service) aliasTargets(in zones.Input) []string {
	seen := map[string]bool{}
	for _, app := range s.cfg.Apps {
		if _, ok := app.ApexSlot(); !ok {
			continue
		}
		for _, zi := range in.Zones {
			for _, slot := range zi.Slots {
				if slot.App == app.Name && slot.Target.IsHost() && !s.cfg.InOurZones(slot.Target.Host) {
					seen[slot.Target.Host] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// apexZones lists the zones whose apex currently serves target.
func (s *service) apexZones(target string) ([]string, error) {
	var out []string
	for _, app := range s.cfg.Apps {
		apex, ok := app.ApexSlot()
		if !ok {
			continue
		}
		stored, err := s.db.App(app.Name)
		if err != nil {
			return nil, fmt.Errorf("read app %s: %w", app.Name, err)
		}
		if t, err := zones.ParseTarget(stored.Slots[apex.Name]); err == nil && t.Host == target {
			out = append(out, app.Zone)
		}
	}
	return out, nil
}

func (s *service) appConfig(name string) (*AppConfig, error) {
	app, ok := s.cfg.App(name)
	if !ok {
		return nil, fmt.Errorf("app %q: %w; the config declares %s", name, store.ErrNotFound, s.appList())
	}
	return app, nil
}

func (s *service) appList() string {
	if len(s.cfg.Apps) == 0 {
		return "no apps"
	}
	var names []string
	for _, a := range s.cfg.Apps {
		names = append(names, fmt.Sprintf("%q", a.Name))
	}
	return joinWords(names)
}

func joinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	out := ""
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			out += " and "
		default:
			out += ", "
		}
		out += w
	}
	return out
}

func (s *service) Apps(ctx context.Context) ([]AppStatus, error) {
	out := make([]AppStatus, 0, len(s.cfg.Apps))
	secondaries := map[string][]SecondaryStatus{} // asked once per zone
	for _, app := range s.cfg.Apps {
		st, err := s.appStatus(ctx, app.Name)
		if err != nil {
			return nil, err
		}
		if _, ok := secondaries[st.Zone]; !ok {
			secondaries[st.Zone] = s.secondaryStatus(ctx, st.Zone, st.Serial)
		}
		st.Secondaries = secondaries[st.Zone]
		out = append(out, st)
	}
	return out, nil
}

func (s *service) App(ctx context.Context, name string) (AppStatus, error) {
	st, err := s.appStatus(ctx, name)
	if err != nil {
		return AppStatus{}, err
	}
	st.Secondaries = s.secondaryStatus(ctx, st.Zone, st.Serial)
	return st, nil
}

// appStatus is App without asking the secondaries.
func (s *service) appStatus(_ context.Context, name string) (AppStatus, error) {
	app, err := s.appConfig(name)
	if err != nil {
		return AppStatus{}, err
	}
	stored, err := s.db.App(name)
	if err != nil {
		return AppStatus{}, fmt.Errorf("app %q: %w", name, err)
	}
	snap := s.current.Load()
	st := AppStatus{Name: name, Zone: app.Zone, Version: stored.Version, TTL: app.TTL, Updated: stored.Updated}
	if serial, ok := snap.Serial(app.Zone); ok {
		st.Serial = serial
	}
	slotNames := make([]string, 0, len(stored.Slots))
	for slot := range stored.Slots {
		slotNames = append(slotNames, slot)
	}
	sort.Strings(slotNames)
	for _, slot := range slotNames {
		ss := SlotStatus{Slot: slot, Names: []string{}, Target: stored.Slots[slot], TTL: app.TTL}
		if sc, ok := app.Slot(slot); ok {
			ss.Names = sc.Names
			ss.ConfigTarget = sc.Target.String()
			ss.Differs = ss.ConfigTarget != ss.Target
		}
		if t, err := zones.ParseTarget(ss.Target); err == nil && t.IsHost() && containsName(ss.Names, app.Zone) {
			ss.Alias = s.aliasStatus(snap, app.Zone, t.Host)
		}
		st.Slots = append(st.Slots, ss)
	}
	hist, err := s.db.History(name, 1)
	if err != nil {
		return AppStatus{}, fmt.Errorf("history of %q: %w", name, err)
	}
	if len(hist) > 0 {
		st.LastChange = &hist[len(hist)-1]
	}
	st.DrainedAt = s.drain.drainedAt(name, time.Time{})
	st.Draining = st.DrainedAt.After(s.now())
	s.checkStatus(&st)
	return st, nil
}

// aliasStatus reports what the snapshot serves at apex for target.
func (s *service) aliasStatus(snap *zones.Snapshot, apex, target string) *AliasStatus {
	as := &AliasStatus{Name: apex, Target: target, InZone: s.cfg.InOurZones(target), Addrs: []string{}}
	first := true
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		ans := snap.Lookup(apex, qtype)
		for _, rr := range ans.Answer {
			var addr string
			switch rr := rr.(type) {
			case *dns.A:
				addr = rr.A.String()
			case *dns.AAAA:
				addr = rr.AAAA.String()
			default:
				continue
			}
			as.Addrs = append(as.Addrs, addr)
			if first || rr.Header().Ttl < as.TTL {
				as.TTL = rr.Header().Ttl
				first = false
			}
		}
	}
	if as.InZone {
		return as
	}
	var rec store.AliasRecord
	var ok bool
	if s.aliases != nil {
		rec, ok = s.aliases.record(target)
	} else if recs, err := s.db.Aliases(); err == nil {
		rec, ok = recs[target]
	}
	if ok {
		as.Resolved = rec.Resolved
		as.Stale = s.now().After(rec.Resolved.Add(time.Duration(rec.TTL) * time.Second))
	} else {
		as.Stale = true
	}
	return as
}

func containsName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// drainTTL is the longest TTL the current snapshot serves for the names of
// slots, negative answers included; see servedAnswers.
func (s *service) drainTTL(_ context.Context, app string, slots ...string) uint32 {
	ac, err := s.appConfig(app)
	if err != nil {
		return 0
	}
	var names []string
	for _, sc := range ac.Slots {
		if containsName(slots, sc.Name) {
			names = append(names, sc.Names...)
		}
	}
	_, ttl := servedAt(s.current.Load(), names)
	return ttl
}

func (s *service) Swap(ctx context.Context, app string, req SwapRequest) (Change, error) {
	if _, err := s.appConfig(app); err != nil {
		return Change{}, err
	}
	if req.Slot == "" {
		req.Slot = "staging"
	}
	if req.With == "" {
		req.With = "production"
	}
	if req.Slot == req.With {
		return Change{}, invalidf("swap %q: slot %q with itself; name two different slots", app, req.Slot)
	}
	expect, err := canonicalExpect(req.Expect)
	if err != nil {
		return Change{}, err
	}
	ac, _ := s.appConfig(app)
	release := func() {}
	if len(checksOf(ac, "before")) > 0 {
		if release, err = s.gates.enter(app, "swap", req.Actor, req.Reason, s.now()); err != nil {
			return Change{}, err
		}
	}
	gated, results, err := s.gate(ctx, ac, req)
	release()
	if err != nil {
		return Change{}, err
	}
	if gated != "" {
		if expect != "" && expect != gated {
			return Change{}, fmt.Errorf("swap %q: slot %q points at %s, not %s: %w", app, req.Slot, gated, expect, store.ErrConflict)
		}
		expect = gated
	}
	change, err := s.commitSwap(ctx, app, req, expect, results)
	if err != nil || len(checksOf(ac, "after")) == 0 {
		return change, err
	}
	// The window runs to its end even when the caller stops waiting, and
	// stops without rolling back when the server does.
	ctx, done, ok := s.gates.startWindow()
	if !ok {
		s.log.Warn("Server stopping: the after-swap checks do not run", "app", app, "seq", change.Seq)
		return change, nil
	}
	if req.NoWaitChecks && s.publish != nil {
		go func() {
			defer done()
			s.afterWindow(ctx, ac, change, req.With)
		}()
		return change, nil
	}
	defer done()
	change.AfterChecks, change.RolledBack = s.afterWindow(ctx, ac, change, req.With)
	return change, nil
}

// commitSwap commits a swap whose slot still points at expect (when not
// ""), the target its gate checked.
func (s *service) commitSwap(ctx context.Context, app string, req SwapRequest, expect string, results []store.CheckResult) (Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkSwapApex(ctx, app, req.Slot, req.With); err != nil {
		return Change{}, fmt.Errorf("swap %q: %w", app, err)
	}
	ttl := s.drainTTL(ctx, app, req.Slot, req.With)
	forced := false
	for _, r := range results {
		forced = forced || !r.Pass
	}
	meta := store.Meta{Actor: req.Actor, Reason: req.Reason, Checks: results, Forced: forced}
	e, err := s.db.Swap(store.SwapRequest{App: app, Slot: req.Slot, With: req.With, Expect: expect, Meta: meta})
	if err != nil {
		return Change{}, err
	}
	return s.committed(app, e, ttl)
}

func (s *service) Set(ctx context.Context, app, slot string, req SetRequest) (Change, error) {
	ac, err := s.appConfig(app)
	if err != nil {
		return Change{}, err
	}
	t, err := zones.ParseTarget(req.Target)
	if err != nil {
		return Change{}, invalidf("set %q slot %q: %v", app, slot, err)
	}
	if _, ok := ac.Slot(slot); !ok {
		return Change{}, fmt.Errorf("set %q: slot %q: %w; the config declares %s", app, slot, store.ErrNotFound, slotList(ac))
	}
	if err := s.checkApex(ac, slot, t); err != nil {
		return Change{}, fmt.Errorf("set %q slot %q: %w", app, slot, err)
	}
	expect, err := canonicalExpect(req.Expect)
	if err != nil {
		return Change{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if apex, ok := ac.ApexSlot(); ok && apex.Name == slot {
		if err := s.ensureAlias(ctx, t); err != nil {
			return Change{}, fmt.Errorf("set %q slot %q: %w", app, slot, err)
		}
	}
	ttl := s.drainTTL(ctx, app, slot)
	e, err := s.db.Set(store.SetRequest{App: app, Slot: slot, Target: t.String(), Expect: expect, Meta: store.Meta{Actor: req.Actor, Reason: req.Reason}})
	if err != nil {
		return Change{}, err
	}
	return s.committed(app, e, ttl)
}

// checkApex refuses to put a hostname outside our zones at the zone apex
// when no resolver is configured to find its addresses.
func (s *service) checkApex(ac *AppConfig, slot string, t zones.Target) error {
	apex, ok := ac.ApexSlot()
	if !ok || apex.Name != slot || !t.IsHost() || s.cfg.Resolver != "" || s.cfg.InOurZones(t.Host) {
		return nil
	}
	return invalidf("target %s lies outside our zones and slot %q serves the zone apex %s, which needs its addresses; set resolver in %s, or use a target in our zones or addresses", t.Host, slot, ac.Zone, s.cfg.Path)
}

// checkSwapApex applies checkApex and ensureAlias to the target a swap
// moves to the apex.
// The caller holds s.mu.
func (s *service) checkSwapApex(ctx context.Context, app, slot, with string) error {
	ac, err := s.appConfig(app)
	if err != nil {
		return err
	}
	stored, err := s.db.App(app)
	if err != nil {
		return err
	}
	for _, pair := range [][2]string{{slot, with}, {with, slot}} {
		t, err := zones.ParseTarget(stored.Slots[pair[1]])
		if err != nil {
			continue
		}
		if err := s.checkApex(ac, pair[0], t); err != nil {
			return err
		}
		if apex, ok := ac.ApexSlot(); ok && apex.Name == pair[0] {
			if err := s.ensureAlias(ctx, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureAlias makes sure that a hostname about to be served at a zone apex
// has addresses to serve: when none are known it resolves them now, so the
// apex does not answer SERVFAIL until the background refresh gets to it.
// The caller holds s.mu.
func (s *service) ensureAlias(ctx context.Context, t zones.Target) error {
	if !t.IsHost() || s.cfg.InOurZones(t.Host) || s.cfg.Resolver == "" {
		return nil
	}
	in, err := s.input()
	if err != nil {
		return err
	}
	if _, ok := in.Aliases[t.Host]; ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	udp := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	tcp := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	rec, err := resolveAlias(ctx, udp, tcp, s.cfg.Resolver, t.Host)
	if err != nil {
		return invalidf("the zone apex would serve %s, whose addresses are unknown: %v; check the name and the resolver", t.Host, err)
	}
	if _, _, err := s.db.SaveAlias(rec, nil); err != nil {
		return fmt.Errorf("save addresses of %s: %w", t.Host, err)
	}
	if s.aliases != nil {
		s.aliases.remember(rec)
	}
	s.log.Info("Apex alias resolved before serving it", "target", t.Host, "addrs", rec.Addrs, "ttl", rec.TTL)
	return nil
}

func slotList(ac *AppConfig) string {
	var names []string
	for _, s := range ac.Slots {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	return joinWords(names)
}

func (s *service) Rollback(ctx context.Context, app string, req RollbackRequest) (Change, error) {
	if _, err := s.appConfig(app); err != nil {
		return Change{}, err
	}
	if req.To > 0 {
		return s.rollbackTo(ctx, app, req)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var slots []string
	if st, err := s.appStatus(ctx, app); err == nil {
		for _, ss := range st.Slots {
			slots = append(slots, ss.Slot)
		}
	}
	ttl := s.drainTTL(ctx, app, slots...)
	e, err := s.db.Rollback(app, store.Meta{Actor: req.Actor, Reason: req.Reason})
	if err != nil {
		return Change{}, err
	}
	return s.committed(app, e, ttl)
}

// committed publishes the state after a mutation and logs it. The caller
// holds s.mu.
func (s *service) committed(app string, e store.Entry, ttl uint32) (Change, error) {
	s.log.Info("App changed", "app", app, "kind", e.Kind, "seq", e.Seq, "actor", e.Actor, "reason", e.Reason,
		"before", e.Before, "after", e.After, "zone", e.Zone, "serial", e.Serial)
	if err := s.rebuild(); err != nil {
		s.log.Error("Publishing the change failed; the store has it and a restart serves it", "app", app, "err", err)
		return Change{}, fmt.Errorf("%s %q committed as #%d but not published: %w", e.Kind, app, e.Seq, err)
	}
	e.DrainedAt = s.drain.drainedAt(app, e.Time)
	if err := s.db.SetDrainedAt(app, e.Seq, e.DrainedAt); err != nil {
		s.log.Error("Drain instant not recorded in history", "app", app, "seq", e.Seq, "err", err)
	}
	return Change{App: app, Entry: e, TTL: ttl, DrainedAt: e.DrainedAt}, nil
}

func (s *service) History(_ context.Context, app string, limit int) ([]store.Entry, error) {
	if _, err := s.appConfig(app); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, invalidf("history %q: limit %d: want 0 (all) or more", app, limit)
	}
	entries, err := s.db.History(app, limit)
	if err != nil {
		return nil, fmt.Errorf("history %q: %w", app, err)
	}
	if entries == nil {
		entries = []store.Entry{}
	}
	return entries, nil
}

// Close is a no-op for the server's service: the server closes the store.
func (s *service) Close() error { return nil }

func canonicalExpect(expect string) (string, error) {
	if expect == "" {
		return "", nil
	}
	t, err := zones.ParseTarget(expect)
	if err != nil {
		return "", invalidf("expect: %v", err)
	}
	return t.String(), nil
}

// servedAliases turns stored alias records into what a snapshot serves,
// leaving out those past maxStale.
func servedAliases(recs map[string]store.AliasRecord, now time.Time, maxStale time.Duration) map[string]zones.Alias {
	out := map[string]zones.Alias{}
	for target, rec := range recs {
		if now.Sub(rec.Resolved) > maxStale {
			continue
		}
		a := zones.Alias{TTL: rec.TTL}
		for _, text := range rec.Addrs {
			if addr, err := netip.ParseAddr(text); err == nil {
				a.Addrs = append(a.Addrs, addr)
			}
		}
		if len(a.Addrs) > 0 {
			out[target] = a
		}
	}
	return out
}
