package pipeline

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Sink receives what the pipeline committed, in commit order.
type Sink interface {
	// Publish makes snap the snapshot every following query reads.
	Publish(snap *zones.Snapshot)
	// Changed tells of the zones that got a new serial, after Publish, so
	// that their secondaries are notified.
	Changed(zones []string)
}

// Discard is the Sink of a pipeline that serves nothing: a change made on
// the database while no server runs. The server publishes and notifies
// what it finds when it starts.
var Discard Sink = discard{}

type discard struct{}

func (discard) Publish(*zones.Snapshot) {}
func (discard) Changed([]string)        {}

// Options tune Open.
type Options struct {
	Clock  clock.Clock  // nil: the system clock
	Logger *slog.Logger // nil: discard
	Sink   Sink         // nil: Discard
	// ReadOnly computes what a start would serve and commits nothing:
	// for reading the state while no server runs. Changes are refused;
	// orphans are listed by Orphans rather than refused.
	ReadOnly bool
}

// commitMargin is added to the instant a change retires the answers
// served before it: they are served until the snapshot after the commit
// is published, a few milliseconds later. A commit slower than this is
// logged, since the drain instant it recorded may then be early.
const commitMargin = 250 * time.Millisecond

// Pipeline runs every change of slotdns's state the same way, one at a
// time: it reads what the change needs in one read transaction, applies
// the change's rule, builds the next snapshot once (only the zones the
// change touches), derives the IXFR deltas and the drain state from the
// snapshots before and after, commits all of it in one transaction
// conditional on the revisions it read, then publishes the snapshot and
// tells the Sink which zones have new serials.
type Pipeline struct {
	store    store.Store
	cfg      *config.Config
	clock    clock.Clock
	log      *slog.Logger
	sink     Sink
	readOnly bool

	// mu is the write lock: one change at a time, published in commit
	// order. It guards everything below.
	mu      sync.Mutex
	current atomic.Pointer[zones.Snapshot] // read without mu
	files   map[string]*zones.Zone         // the zone files served, by origin
	// The committed state, as of the last commit: what current serves.
	apps    map[string]store.App
	zones   map[string]store.Zone
	drains  map[string]store.DrainState
	aliases map[string]store.AliasRecord
	orphans []Orphan
}

// Snapshot returns the snapshot served now.
func (p *Pipeline) Snapshot() *zones.Snapshot { return p.current.Load() }

// Config returns the config the pipeline runs on.
func (p *Pipeline) Config() *config.Config { return p.cfg }

// Orphans lists what the database holds that the config does not
// declare; only a read-only pipeline opens with any.
func (p *Pipeline) Orphans() []Orphan { return p.orphans }

// App returns the app's state as last committed (or, read-only, as a
// start would seed it); ok is false for an app the config does not
// declare.
func (p *Pipeline) App(name string) (store.App, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.apps[name]
	a.Slots = maps.Clone(a.Slots)
	return a, ok
}

// DrainState returns the app's drain state as last committed.
func (p *Pipeline) DrainState(app string) store.DrainState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.drains[app]
}

// Alias returns the last good resolution of an alias target outside our
// zones, as last committed.
func (p *Pipeline) Alias(target string) (store.AliasRecord, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, ok := p.aliases[target]
	return rec, ok
}

// now is the time stamped on a change: UTC, without the monotonic
// reading, so that it compares equal after a JSON round trip.
func (p *Pipeline) now() time.Time { return p.clock.Now().UTC().Round(0) }

// step is one change on its way through the pipeline: what its rule
// decided, and then what the pipeline derived from it.
type step struct {
	at    time.Time
	conds []store.Cond
	// apps and zones are the records the change writes, in their state
	// after it; a zone's Serial there is the serial it serves next.
	apps  map[string]store.App
	zones map[string]store.Zone
	// files are zone files replaced (a reload); wholeDiff names the zones
	// whose delta spans every record, not only the slots'.
	files     map[string]*zones.Zone
	wholeDiff map[string]bool
	// aliases, when not nil, are every alias record after the change;
	// writeAliases those it stores.
	aliases      map[string]store.AliasRecord
	writeAliases []store.AliasRecord
	entries      []store.Entry
	rollovers    []store.Rollover    // key rollover stages, written with the zones re-signed for them
	dynamic      []store.DynamicZone // dynamic records, written with the zones that serve them
}

func newStep(at time.Time) *step {
	return &step{at: at, apps: map[string]store.App{}, zones: map[string]store.Zone{},
		files: map[string]*zones.Zone{}, wholeDiff: map[string]bool{}}
}

// outcome is what a committed step changed.
type outcome struct {
	snap    *zones.Snapshot
	serials map[string]uint32 // the zones with a new serial
	deltas  map[string][2]int // per zone: records removed and added, the SOA aside
	entries []store.Entry     // as committed, drain instants included
}

// commit builds, derives and commits s, then publishes. The caller holds
// p.mu and has put into s the records its rule read, with their
// revisions in s.conds.
func (p *Pipeline) commit(s *step) (*outcome, error) {
	if p.readOnly {
		return nil, fmt.Errorf("%w: the database was opened read-only", ErrInvalid)
	}
	cur := p.current.Load()
	next, err := p.build(cur, s)
	if err != nil {
		return nil, err
	}
	// Zones rebuilt because they read a changed zone or alias serve new
	// records when their apex alias or slot CNAME now leads elsewhere:
	// they get a new serial too, and one more build gives them it.
	var bumped bool
	for _, origin := range next.Built() {
		if _, direct := s.zones[origin]; direct || sameSlotRecords(cur, next, origin) {
			continue
		}
		zs := p.zones[origin]
		s.conds = append(s.conds, store.Cond{Key: store.ZoneKey(origin), Rev: zs.Rev})
		zs.Serial = NextSerial(zs.Serial)
		s.zones[origin] = zs
		bumped = true
	}
	if bumped {
		if next, err = p.build(cur, s); err != nil {
			return nil, err
		}
	}
	out := &outcome{snap: next, serials: map[string]uint32{}, deltas: map[string][2]int{}}
	b := &store.Batch{If: s.conds, Aliases: s.writeAliases, Rollovers: s.rollovers, Dynamic: s.dynamic}
	for _, origin := range slices.Sorted(maps.Keys(s.zones)) {
		zs := s.zones[origin]
		zs.Served = servedDigest(next, origin)
		s.zones[origin] = zs
		b.Zones = append(b.Zones, zs)
		was := p.zones[origin]
		if zs.Serial == was.Serial {
			continue
		}
		out.serials[origin] = zs.Serial
		delta, removed, added := p.delta(cur, next, origin, s.wholeDiff[origin])
		out.deltas[origin] = [2]int{removed, added}
		if was.JournalCut {
			b.DropJournals = append(b.DropJournals, origin)
			continue
		}
		delta.From, delta.To = was.Serial, zs.Serial
		b.Journal = append(b.Journal, delta)
	}
	retireAt := s.at.Add(commitMargin)
	drains := p.retire(next, retireAt)
	for app, d := range drains {
		b.If = append(b.If, store.Cond{Key: store.DrainKey(app), Rev: p.drains[app].Rev})
		b.Drains = append(b.Drains, d)
	}
	for _, e := range s.entries {
		e.Serial = s.zones[e.Zone].Serial
		d, ok := drains[e.App]
		if !ok {
			d = p.drains[e.App]
		}
		e.DrainedAt = latest(s.at, d.DrainedAt)
		out.entries = append(out.entries, e)
	}
	b.History = out.entries
	for _, name := range slices.Sorted(maps.Keys(s.apps)) {
		b.Apps = append(b.Apps, s.apps[name])
	}
	if b.Empty() {
		return &outcome{snap: cur, serials: map[string]uint32{}, deltas: map[string][2]int{}}, nil
	}
	rev, err := p.store.Apply(b)
	if err != nil {
		return nil, err
	}

	for name, a := range s.apps {
		a.Rev = rev
		p.apps[name] = a
	}
	for origin, zs := range s.zones {
		zs.Rev = rev
		zs.JournalCut = false
		p.zones[origin] = zs
	}
	for app, d := range drains {
		d.Rev = rev
		p.drains[app] = d
	}
	if s.aliases != nil {
		p.aliases = s.aliases
		for _, rec := range s.writeAliases {
			rec.Rev = rev
			p.aliases[rec.Target] = rec
		}
	}
	maps.Copy(p.files, s.files)
	if len(next.Built()) == 0 {
		return out, nil // the records stored serve nothing new
	}
	p.publish(next, slices.Sorted(maps.Keys(out.serials)))
	if late := p.clock.Now().Sub(retireAt); late > 0 && len(drains) > 0 {
		p.log.Warn("The commit took longer than its margin: the drain instants it recorded may be early", "late", late)
	}
	return out, nil
}

// build gives the snapshot after s: the zones s writes, with their apps'
// slots, laid anew over cur.
func (p *Pipeline) build(cur *zones.Snapshot, s *step) (*zones.Snapshot, error) {
	// The apps s writes, over the others: a swap among 10,000 apps
	// copies none of them.
	apps := func(name string) (store.App, bool) {
		if a, ok := s.apps[name]; ok {
			return a, true
		}
		a, ok := p.apps[name]
		return a, ok
	}
	in := zones.Input{Now: s.at}
	for _, origin := range slices.Sorted(maps.Keys(s.zones)) {
		file := s.files[origin]
		if file == nil {
			file = p.files[origin]
		}
		zi, err := zoneInput(p.cfg, file, s.zones[origin].Serial, apps)
		if err != nil {
			return nil, err
		}
		in.Zones = append(in.Zones, zi)
	}
	if s.aliases != nil {
		recs := maps.Clone(s.aliases)
		for _, rec := range s.writeAliases {
			recs[rec.Target] = rec
		}
		in.Aliases = servedAliases(recs, s.at, p.cfg.AliasMaxStale)
	}
	next, err := cur.With(in)
	if err != nil {
		return nil, fmt.Errorf("build the zones: %w", err)
	}
	return next, nil
}

// publish hands a committed snapshot to the sink. The caller holds p.mu.
func (p *Pipeline) publish(snap *zones.Snapshot, changed []string) {
	p.current.Store(snap)
	p.sink.Publish(snap)
	if len(changed) > 0 {
		p.sink.Changed(changed)
	}
}

// retire gives the drain state of every app of a rebuilt zone whose
// served answers (or their TTL) moved in next.
func (p *Pipeline) retire(next *zones.Snapshot, at time.Time) map[string]store.DrainState {
	out := map[string]store.DrainState{}
	for _, origin := range next.Built() {
		for _, app := range p.cfg.AppsIn(origin) {
			digest, ttl := ServedAt(next, appNames(app))
			was := p.drains[app.Name]
			if d := Retire(was, digest, ttl, at); !drainSame(d, was) {
				d.App = app.Name
				out[app.Name] = d
			}
		}
	}
	return out
}

// sameSlotRecords reports whether origin's slots serve the same records in
// both snapshots, the SOA aside.
func sameSlotRecords(a, b *zones.Snapshot, origin string) bool {
	ra, _ := a.SlotRecords(origin)
	rb, _ := b.SlotRecords(origin)
	if len(ra) != len(rb) {
		return false
	}
	removed, added := zones.Diff(copyRecords(ra[1:]), copyRecords(rb[1:]))
	return len(removed) == 0 && len(added) == 0
}

// readApp reads an app and its zone for a change, and checks that the
// store still holds what this pipeline last committed.
func (p *Pipeline) readApp(v store.View, name string) (store.App, store.Zone, error) {
	app, err := v.App(name)
	if err != nil {
		return store.App{}, store.Zone{}, err
	}
	zone, err := v.Zone(app.Zone)
	if err != nil {
		return store.App{}, store.Zone{}, err
	}
	if known := p.apps[name]; known.Rev != app.Rev {
		return store.App{}, store.Zone{}, fmt.Errorf("%w: app %q was changed outside this process (revision %d, last written here at %d); restart slotdns to serve the stored state", store.ErrConflict, name, app.Rev, known.Rev)
	}
	if known := p.zones[zone.Origin]; known.Rev != zone.Rev {
		return store.App{}, store.Zone{}, fmt.Errorf("%w: zone %s was changed outside this process (revision %d, last written here at %d); restart slotdns to serve the stored state", store.ErrConflict, zone.Origin, zone.Rev, known.Rev)
	}
	return app, zone, nil
}
