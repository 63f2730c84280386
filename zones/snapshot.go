package zones

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Slot is one slot's current state as the snapshot serves it.
type Slot struct {
	App    string
	Slot   string
	Names  []string // owner FQDNs, lowercase
	Target Target
	TTL    uint32 // TTL of every answer for this slot
}

// Alias is the resolved address set of an apex alias target that lies
// outside every zone of the snapshot (resolved by the control plane).
type Alias struct {
	Addrs []netip.Addr
	TTL   uint32 // the smallest TTL the resolver gave
}

func (a Alias) equal(b Alias) bool { return a.TTL == b.TTL && slices.Equal(a.Addrs, b.Addrs) }

// ZoneInput is one zone's part of a snapshot.
type ZoneInput struct {
	Zone   *Zone
	Serial uint32 // the SOA serial to serve
	Slots  []Slot
}

// Input is everything a snapshot is built from, as plain values.
type Input struct {
	Zones []ZoneInput
	// Aliases holds resolved addresses keyed by lowercase target FQDN, for
	// apex aliases whose target is in none of the zones.
	Aliases map[string]Alias
	// Now is when the snapshot is made, the inception of the signatures
	// its views make for signed zones; zero gives the time of the call.
	Now time.Time
}

// Snapshot is an immutable, fully computed view of every zone served.
// It is safe for concurrent use; nothing in it changes after it is made.
type Snapshot struct {
	zones        *zoneSet // by origin
	aliases      map[string]Alias
	aliasTargets []string
	built        []string // the zones this snapshot built anew, sorted
	// readers are the zones whose views read other zones (deps), and
	// aliasUsers those whose views read Aliases (external): the only ones
	// a change elsewhere can reach.
	readers, aliasUsers []string
}

// zoneView is one zone as one snapshot serves it: the zone file's
// records, shared by every view of the file, under the nodes this view
// adds or changes (the apex with its SOA, the slot names and the empty
// non-terminals above them). A view that no change touches is shared by
// the snapshots that follow.
type zoneView struct {
	origin string
	serial uint32
	file   *Zone
	input  ZoneInput
	own    map[string]*node
	negSOA []dns.RR // the SOA for negative answers, TTL min(TTL, MINIMUM)
	// chased holds, per slot CNAME owner, the whole answer of its chain
	// for the common qtypes, computed when the view is built so that
	// the zones it reads are known (deps).
	chased map[string]map[uint16]Answer
	// slotNames are the names this view's slots own, the only ones whose
	// records differ from the file's.
	slotNames map[string]bool
	// deps are the other zones whose data the precomputed answers of this
	// view hold (a slot CNAME chased there, an apex alias resolved from
	// there); external are the alias targets it looked up in the
	// snapshot's Aliases. A change of either rebuilds the view.
	deps     map[string]bool
	external []string
}

// node gives the node at name as this view serves it, nil when none.
func (z *zoneView) node(name string) *node {
	if n, ok := z.own[name]; ok {
		if n.denial {
			return nil
		}
		return n
	}
	return z.file.node(name)
}

// ConflictError reports a slot name that also owns records in the zone
// file. A name is either the zone file's or a slot's, never both.
type ConflictError struct {
	File string // the zone file (or included file) holding the records
	Line int    // the line of the first conflicting record
	Name string // the owner name, lowercase FQDN
	App  string
	Slot string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s:%d: %s has records in the zone file and is also a name of app %q slot %q; remove the records or the slot name",
		e.File, e.Line, e.Name, e.App, e.Slot)
}

// Build computes a snapshot of in's zones. It fails when a slot name also
// owns records in the zone file (a *ConflictError naming the file and
// line), or when a slot name lies outside its zone (or in a child zone of
// the snapshot), in a delegation, or in two slots, and when a slot has no
// target; every such error is reported, joined with errors.Join.
//
// Every snapshot of a *Zone shares its records and only lays the slots
// over them; see With for a snapshot that changes some zones of another.
func Build(in Input) (*Snapshot, error) {
	if in.Aliases == nil {
		in.Aliases = map[string]Alias{}
	}
	return (&Snapshot{}).With(in)
}

// With returns a snapshot that serves in.Zones as given (replacing those
// of s with the same origin, adding the others) and every other zone as s
// does, with in.Aliases as the resolved alias addresses when it is not nil
// (else those of s). A change costs what it changes: only the zones given
// are built anew, plus the zones of s whose precomputed answers read a
// rebuilt zone or an alias whose addresses changed; every other zone is
// shared with s, lookup tree and transfer records included. Errors are
// Build's. s is left as it was.
func (s *Snapshot) With(in Input) (*Snapshot, error) {
	next := &Snapshot{zones: s.zones.clone(), aliases: s.aliases}
	if in.Aliases != nil {
		next.aliases = in.Aliases
	}
	inputs := make(map[string]ZoneInput, len(in.Zones))
	order := make([]string, 0, len(in.Zones))
	newOrigin := false
	for _, zi := range in.Zones {
		if zi.Zone == nil {
			return nil, errors.New("build snapshot: zone input without a zone")
		}
		origin := zi.Zone.Origin
		if _, dup := inputs[origin]; dup {
			return nil, fmt.Errorf("build snapshot: zone %s given twice", origin)
		}
		inputs[origin] = zi
		order = append(order, origin)
		if s.zones.get(origin) == nil {
			newOrigin = true
		}
	}
	rebuild := s.reach(inputs, next.aliases, newOrigin)
	for _, origin := range slices.Sorted(maps.Keys(rebuild)) {
		if _, given := inputs[origin]; !given {
			inputs[origin] = s.zones.get(origin).input
			order = append(order, origin)
		}
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := newBuilder(next, now).build(inputs, order); err != nil {
		return nil, err
	}
	next.index(s, rebuild)
	return next, nil
}

// reach gives the zones a change rebuilds: the zones given, those whose
// alias addresses changed, and every zone that reads a rebuilt one; every
// zone when the change adds one, since that changes which zone each name
// belongs to.
func (s *Snapshot) reach(given map[string]ZoneInput, aliases map[string]Alias, newOrigin bool) map[string]bool {
	rebuild := make(map[string]bool, len(given))
	for origin := range given {
		rebuild[origin] = true
	}
	if newOrigin {
		for origin := range s.zones.all() {
			rebuild[origin] = true
		}
	}
	for _, origin := range s.aliasUsers {
		if s.aliasesChanged(s.zones.get(origin), aliases) {
			rebuild[origin] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for _, origin := range s.readers {
			if rebuild[origin] {
				continue
			}
			for dep := range s.zones.get(origin).deps {
				if rebuild[dep] {
					rebuild[origin], grew = true, true
					break
				}
			}
		}
	}
	return rebuild
}

// index records what the views of s, rebuilt by the change that made it
// from prev, read: Built, the readers, the alias users and their targets.
func (s *Snapshot) index(prev *Snapshot, rebuild map[string]bool) {
	s.built = slices.Sorted(maps.Keys(rebuild))
	rebuilt := func(origin string) bool { return rebuild[origin] }
	s.readers = slices.DeleteFunc(slices.Clone(prev.readers), rebuilt)
	s.aliasUsers = slices.DeleteFunc(slices.Clone(prev.aliasUsers), rebuilt)
	for _, origin := range s.built {
		zv := s.zones.get(origin)
		if len(zv.deps) > 0 {
			s.readers = append(s.readers, origin)
		}
		if len(zv.external) > 0 {
			s.aliasUsers = append(s.aliasUsers, origin)
		}
	}
	seen := map[string]bool{}
	for _, origin := range s.aliasUsers {
		for _, t := range s.zones.get(origin).external {
			if !seen[t] {
				seen[t] = true
				s.aliasTargets = append(s.aliasTargets, t)
			}
		}
	}
	slices.Sort(s.aliasTargets)
}

// aliasesChanged reports whether an alias target zv looked up has other
// addresses in aliases than in s.
func (s *Snapshot) aliasesChanged(zv *zoneView, aliases map[string]Alias) bool {
	for _, t := range zv.external {
		was, had := s.aliases[t]
		now, has := aliases[t]
		if had != has || !was.equal(now) {
			return true
		}
	}
	return false
}

// Built lists the zones this snapshot built anew (all of them for Build;
// for With, the zones given and those that read them), sorted. Every
// other zone serves exactly what it served in the snapshot before.
func (s *Snapshot) Built() []string { return s.built }

// ZoneInput returns what the zone with origin was built from. Its slices
// are the snapshot's: copy before changing them.
func (s *Snapshot) ZoneInput(origin string) (ZoneInput, bool) {
	zv := s.zones.get(origin)
	if zv == nil {
		return ZoneInput{}, false
	}
	return zv.input, true
}

// Aliases returns the resolved alias addresses the snapshot was built
// with; the map must not be modified.
func (s *Snapshot) Aliases() map[string]Alias { return s.aliases }

// AliasUsers lists the zones whose apex serves the addresses of target, an
// alias target outside the snapshot's zones, sorted.
func (s *Snapshot) AliasUsers(target string) []string {
	var out []string
	for _, origin := range s.aliasUsers {
		if slices.Contains(s.zones.get(origin).external, target) {
			out = append(out, origin)
		}
	}
	slices.Sort(out)
	return out
}

// Origins lists the zones of the snapshot, sorted.
func (s *Snapshot) Origins() []string {
	out := make([]string, 0, s.zones.len())
	for origin := range s.zones.all() {
		out = append(out, origin)
	}
	slices.Sort(out)
	return out
}

// NumZones is how many zones the snapshot has, without listing them.
func (s *Snapshot) NumZones() int { return s.zones.len() }
