package zones

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"

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
}

// Snapshot is an immutable, fully computed view of every zone served.
// It is safe for concurrent use; nothing in it changes after Build.
type Snapshot struct {
	zones        map[string]*zoneView // by origin
	aliasTargets []string
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

// rrset is the records of one type at one name, with what goes in the
// additional section beside them (addresses of in-zone NS and MX targets).
type rrset struct {
	rrs   []dns.RR
	extra []dns.RR
}

// node is one owner name of a zone. Nodes prepared from a zone file are
// shared by every snapshot built from it; a Build copies a node before it
// changes it.
type node struct {
	name     string
	sets     map[uint16]rrset
	cname    []dns.RR // the CNAME RRset when the name is an alias
	target   string   // the CNAME target, lowercase
	cut      *node    // the delegation at or above this name; nil when authoritative
	wildcard string   // "*." + name: where synthesis below this name comes from
	any      []dns.RR // the RFC 8482 answer to ANY
	noAddrs  bool     // an apex alias with no addresses: A, AAAA and ANY fail
}

// empty reports an empty non-terminal: a name that exists only because
// names below it do.
func (n *node) empty() bool { return len(n.sets) == 0 }

func (n *node) clone() *node {
	c := *n
	c.sets = maps.Clone(n.sets)
	if c.sets == nil {
		c.sets = make(map[uint16]rrset)
	}
	return &c
}

// zoneView is one zone as one snapshot serves it.
type zoneView struct {
	origin string
	serial uint32
	nodes  map[string]*node
	negSOA []dns.RR // the SOA for negative answers, TTL min(TTL, MINIMUM)
	// chased holds, per CNAME owner whose target lies in the snapshot,
	// the whole answer for the common qtypes, so that Lookup need not
	// follow the chain.
	chased map[string]map[uint16]Answer
	static *staticZone
	// slotNames are the names this snapshot's slots own in the zone, the
	// only ones whose records differ from the file's.
	slotNames map[string]bool
	recordsState
}

// staticZone is what a Zone's records give, prepared once per *Zone.
type staticZone struct {
	origin string
	soa    *dns.SOA
	nodes  map[string]*node
	cnames []*node // every node with a CNAME
	// referrers maps an in-zone NS or MX target to the names whose NS or
	// MX sets point at it, whose additional section it feeds.
	referrers map[string][]string
	places    map[string]map[uint16]place // first place of each owner and type
	// chased holds the answers of CNAME chains that only pass names of
	// the file which no slot can own; chaseEnds maps the last name of
	// each such chain to the owners whose answers used it. NoData answers
	// lack the negative SOA, which carries each snapshot's serial.
	chased    map[string]map[uint16]Answer
	chaseEnds map[string][]string
	staticSorted
}

var staticMu sync.Mutex

// prepared returns the static part of z, computing it on first use.
func prepared(z *Zone) (*staticZone, error) {
	staticMu.Lock()
	defer staticMu.Unlock()
	if z.static != nil {
		return z.static, nil
	}
	st, err := prepare(z)
	if err != nil {
		return nil, err
	}
	z.static = st
	return st, nil
}

func prepare(z *Zone) (*staticZone, error) {
	origin := strings.ToLower(dns.Fqdn(z.Origin))
	st := &staticZone{
		origin:    origin,
		nodes:     make(map[string]*node),
		referrers: make(map[string][]string),
		places:    make(map[string]map[uint16]place),
	}
	get := func(name string) *node {
		n := st.nodes[name]
		if n == nil {
			n = &node{name: name, sets: make(map[uint16]rrset), wildcard: "*." + name}
			st.nodes[name] = n
		}
		return n
	}
	get(origin)
	for i, rr := range z.Records {
		hdr := rr.Header()
		name := strings.ToLower(hdr.Name)
		if hdr.Class != dns.ClassINET || !dns.IsSubDomain(origin, name) {
			continue // ParseFile refuses these; a hand-made Zone may not
		}
		n := get(name)
		set := n.sets[hdr.Rrtype]
		if slices.ContainsFunc(set.rrs, func(have dns.RR) bool { return dns.IsDuplicate(have, rr) }) {
			continue
		}
		if rr.Header().Name != name {
			rr = dns.Copy(rr)
			rr.Header().Name = name
		}
		set.rrs = append(set.rrs, rr)
		n.sets[hdr.Rrtype] = set
		if st.places[name] == nil {
			st.places[name] = make(map[uint16]place)
		}
		if _, ok := st.places[name][hdr.Rrtype]; !ok {
			pl := place{file: z.File, line: z.Lines[name]}
			if i < len(z.places) {
				pl = z.places[i]
			}
			st.places[name][hdr.Rrtype] = pl
		}
		if hdr.Rrtype == dns.TypeSOA && name == origin && st.soa == nil {
			st.soa = rr.(*dns.SOA)
		}
	}
	if z.SOA != nil {
		st.soa = z.SOA
	}
	if st.soa == nil {
		return nil, fmt.Errorf("zone %s (%s): no SOA record at the apex", origin, z.File)
	}

	// Empty non-terminals: every name between an owner and the apex.
	for name := range maps.Clone(st.nodes) {
		for p := parent(name); p != "" && p != origin && dns.IsSubDomain(origin, p); p = parent(p) {
			get(p)
		}
	}

	for _, n := range st.nodes {
		if set, ok := n.sets[dns.TypeCNAME]; ok {
			n.cname = set.rrs[:1]
			n.target = strings.ToLower(set.rrs[0].(*dns.CNAME).Target)
			st.cnames = append(st.cnames, n)
		}
		// The delegation a name lies in is its topmost non-apex
		// ancestor-or-self with NS records: below it all is the child's.
		for p := n.name; p != origin && p != ""; p = parent(p) {
			if a := st.nodes[p]; a != nil {
				if _, ok := a.sets[dns.TypeNS]; ok {
					n.cut = a
				}
			}
		}
	}
	for _, n := range st.nodes {
		for _, t := range []uint16{dns.TypeNS, dns.TypeMX} {
			set, ok := n.sets[t]
			if !ok {
				continue
			}
			for _, target := range referredNames(set.rrs) {
				if dns.IsSubDomain(origin, target) {
					st.referrers[target] = append(st.referrers[target], n.name)
				}
			}
			set.extra = additional(st.nodes, origin, set.rrs)
			n.sets[t] = set
		}
		n.any = anyAnswer(n)
	}
	st.precomputeChase()
	return st, nil
}

// precomputeChase fills st.chased for the CNAME chains that every
// snapshot of the zone answers alike.
func (st *staticZone) precomputeChase() {
	st.chased = make(map[string]map[uint16]Answer)
	st.chaseEnds = make(map[string][]string)
	zv := &zoneView{origin: st.origin, nodes: st.nodes, chased: map[string]map[uint16]Answer{}}
	alone := &Snapshot{zones: map[string]*zoneView{st.origin: zv}}
	for _, n := range st.cnames {
		end, ok := st.fixedChain(n)
		if !ok {
			continue
		}
		qtypes := []uint16{dns.TypeA, dns.TypeAAAA}
		for t := range end.sets {
			if !slices.Contains(qtypes, t) {
				qtypes = append(qtypes, t)
			}
		}
		answers := make(map[uint16]Answer, len(qtypes))
		for _, t := range qtypes {
			answers[t] = alone.chase(zv, n, n.cname, t, 0)
		}
		st.chased[n.name] = answers
		st.chaseEnds[end.name] = append(st.chaseEnds[end.name], n.name)
	}
}

// fixedChain follows the CNAMEs from n while they stay on names of this
// zone that hold records, are not the apex and are not delegated: names no
// slot can take. It gives the last node and whether the chain was fixed.
func (st *staticZone) fixedChain(n *node) (*node, bool) {
	if n.cut != nil {
		return nil, false
	}
	cur := n
	for range maxChase {
		if cur.cname == nil {
			return cur, true
		}
		next := st.nodes[cur.target]
		if next == nil || next.empty() || next.cut != nil || next.name == st.origin {
			return nil, false
		}
		cur = next
	}
	return nil, false // a loop, or too long: every snapshot chases it
}

// parent gives the name one label up, "" above the root.
func parent(name string) string {
	if name == "." || name == "" {
		return ""
	}
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}

// referredNames gives the lowercase targets of NS and MX records.
func referredNames(rrs []dns.RR) []string {
	var names []string
	for _, rr := range rrs {
		var t string
		switch rr := rr.(type) {
		case *dns.NS:
			t = rr.Ns
		case *dns.MX:
			t = rr.Mx
		default:
			continue
		}
		t = strings.ToLower(t)
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	return names
}

// additional gives the in-zone addresses of the NS or MX targets in rrs,
// glue below a delegation included.
func additional(nodes map[string]*node, origin string, rrs []dns.RR) []dns.RR {
	var extra []dns.RR
	for _, t := range referredNames(rrs) {
		if !dns.IsSubDomain(origin, t) {
			continue
		}
		if n := nodes[t]; n != nil {
			extra = append(extra, n.sets[dns.TypeA].rrs...)
			extra = append(extra, n.sets[dns.TypeAAAA].rrs...)
		}
	}
	return extra
}

// anyAnswer is the answer to ANY at n (RFC 8482 4.2): one synthesized
// HINFO "RFC8482" "" with the lowest TTL of the name's records, rather than
// every RRset. A CNAME owner answers ANY with its CNAME instead.
func anyAnswer(n *node) []dns.RR {
	if n.empty() {
		return nil
	}
	ttl := uint32(0)
	first := true
	for _, set := range n.sets {
		for _, rr := range set.rrs {
			if t := rr.Header().Ttl; first || t < ttl {
				ttl, first = t, false
			}
		}
	}
	return []dns.RR{&dns.HINFO{
		Hdr: dns.RR_Header{Name: n.name, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: ttl},
		Cpu: "RFC8482",
	}}
}

// builder carries one Build.
type builder struct {
	in      Input
	snap    *Snapshot
	owned   map[*node]bool             // nodes this Build copied and may change
	slotted map[string]map[string]bool // zone -> slot names, for additional sections
	aliases []*apexAlias
	wanted  map[string]bool // external alias targets looked up
	order   []*zoneView     // the zones in the order of Input.Zones
}

// apexAlias is a hostname target at a zone apex, served as addresses.
type apexAlias struct {
	zone    *zoneView
	slot    Slot
	started bool // resolving or resolved: a loop of aliases stops here
}

// Build computes a snapshot. It fails when a slot name also owns records in
// the zone file (a *ConflictError naming the file and line), or when a slot
// name lies outside its zone (or in a child zone of the snapshot), in a
// delegation, or in two slots, and when a slot has no target; every such
// error is reported, joined with errors.Join.
//
// Build runs on every swap: the static part of each *Zone is prepared by
// its first Build and reused, so later ones only lay the slots over it.
func Build(in Input) (*Snapshot, error) {
	b := &builder{
		in:      in,
		snap:    &Snapshot{zones: make(map[string]*zoneView, len(in.Zones))},
		owned:   make(map[*node]bool),
		slotted: make(map[string]map[string]bool),
		wanted:  make(map[string]bool),
	}
	for _, zi := range in.Zones {
		if err := b.addZone(zi); err != nil {
			return nil, err
		}
	}
	var errs []error
	for i, zi := range in.Zones {
		for _, sl := range zi.Slots {
			errs = append(errs, b.overlay(b.order[i], sl)...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, a := range b.aliases {
		b.resolveAlias(a, 0)
	}
	refreshed := make([]map[string]bool, len(b.order))
	for i, zv := range b.order {
		refreshed[i] = b.refreshAdditional(zv)
	}
	for i, zv := range b.order {
		b.precomputeChase(zv, refreshed[i])
	}
	for t := range b.wanted {
		b.snap.aliasTargets = append(b.snap.aliasTargets, t)
	}
	slices.Sort(b.snap.aliasTargets)
	return b.snap, nil
}

func (b *builder) addZone(zi ZoneInput) error {
	if zi.Zone == nil {
		return errors.New("build snapshot: zone input without a zone")
	}
	st, err := prepared(zi.Zone)
	if err != nil {
		return fmt.Errorf("build snapshot: %w", err)
	}
	if _, dup := b.snap.zones[st.origin]; dup {
		return fmt.Errorf("build snapshot: zone %s given twice", st.origin)
	}
	zv := &zoneView{
		origin: st.origin,
		serial: zi.Serial,
		nodes:  maps.Clone(st.nodes),
		chased: make(map[string]map[uint16]Answer),
		static: st,
	}
	soa := dns.Copy(st.soa).(*dns.SOA)
	soa.Hdr.Name = st.origin
	soa.Serial = zi.Serial
	neg := dns.Copy(soa).(*dns.SOA)
	neg.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	zv.negSOA = []dns.RR{neg}

	apex := b.own(zv, st.origin)
	apex.sets[dns.TypeSOA] = rrset{rrs: []dns.RR{soa}}
	b.snap.zones[st.origin] = zv
	b.order = append(b.order, zv)
	return nil
}

// own returns the node at name as this Build's own copy, creating it (and
// the empty non-terminals above it) when the name does not exist.
func (b *builder) own(zv *zoneView, name string) *node {
	n := zv.nodes[name]
	switch {
	case n == nil:
		n = &node{name: name, sets: make(map[uint16]rrset), wildcard: "*." + name}
		if name != zv.origin {
			p := parent(name)
			up := zv.nodes[p]
			if up == nil {
				up = b.own(zv, p) // an empty non-terminal
			}
			n.cut = up.cut
		}
	case b.owned[n]:
		return n
	default:
		n = n.clone()
	}
	b.owned[n] = true
	zv.nodes[name] = n
	return n
}

// overlay adds one slot's names to its zone.
func (b *builder) overlay(zv *zoneView, sl Slot) []error {
	if !sl.Target.IsHost() && len(sl.Target.Addrs) == 0 {
		return []error{fmt.Errorf("app %q slot %q: no target; give a hostname or IP addresses", sl.App, sl.Slot)}
	}
	var errs []error
	st := zv.static
	for _, raw := range sl.Names {
		name := strings.ToLower(dns.Fqdn(raw))
		if !dns.IsSubDomain(zv.origin, name) {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s is outside zone %s", sl.App, sl.Slot, name, zv.origin))
			continue
		}
		if other := b.snap.zoneFor(name); other != zv {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s lies in zone %s, not in zone %s; give it to that zone", sl.App, sl.Slot, name, other.origin, zv.origin))
			continue
		}
		if b.slotted[zv.origin] == nil {
			b.slotted[zv.origin] = make(map[string]bool)
			zv.slotNames = b.slotted[zv.origin]
		}
		if b.slotted[zv.origin][name] {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s is already a slot name", sl.App, sl.Slot, name))
			continue
		}
		b.slotted[zv.origin][name] = true

		if err := b.conflict(st, name, sl); err != nil {
			errs = append(errs, err)
			continue
		}
		if sn := st.nodes[name]; sn != nil && sn.cut != nil {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s lies in the delegation %s, which zone %s does not serve", sl.App, sl.Slot, name, sn.cut.name, zv.origin))
			continue
		}
		if cut := b.closest(zv, name).cut; cut != nil {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s lies in the delegation %s, which zone %s does not serve", sl.App, sl.Slot, name, cut.name, zv.origin))
			continue
		}

		n := b.own(zv, name)
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: sl.TTL}
		switch {
		case sl.Target.IsHost() && name == zv.origin:
			b.aliases = append(b.aliases, &apexAlias{zone: zv, slot: sl})
		case sl.Target.IsHost():
			hdr.Rrtype = dns.TypeCNAME
			n.cname = []dns.RR{&dns.CNAME{Hdr: hdr, Target: sl.Target.Host}}
			n.target = sl.Target.Host
			n.sets[dns.TypeCNAME] = rrset{rrs: n.cname}
		default:
			setAddrs(n, sl.Target.Addrs, sl.TTL)
		}
		n.any = anyAnswer(n)
	}
	return errs
}

// closest gives the node of name or of its nearest existing ancestor.
func (b *builder) closest(zv *zoneView, name string) *node {
	for p := name; p != ""; p = parent(p) {
		if n := zv.nodes[p]; n != nil {
			return n
		}
	}
	return zv.nodes[zv.origin]
}

// conflict reports a slot name that owns zone-file records; at the apex
// only addresses and CNAME conflict, since SOA, NS, MX... stay the file's.
func (b *builder) conflict(st *staticZone, name string, sl Slot) error {
	n := st.nodes[name]
	if n == nil || n.empty() {
		return nil
	}
	clash := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}
	var at *place
	for t, pl := range st.places[name] {
		if name == st.origin && !slices.Contains(clash, t) {
			continue
		}
		if at == nil || pl.file == at.file && pl.line < at.line {
			at = &pl
		}
	}
	if at == nil {
		return nil
	}
	return &ConflictError{File: at.file, Line: at.line, Name: name, App: sl.App, Slot: sl.Slot}
}

// setAddrs gives n the A and AAAA records of addrs.
func setAddrs(n *node, addrs []netip.Addr, ttl uint32) {
	var a, aaaa []dns.RR
	for _, ip := range addrs {
		if ip.Is4() {
			a = append(a, &dns.A{Hdr: dns.RR_Header{Name: n.name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: ip.AsSlice()})
		} else {
			aaaa = append(aaaa, &dns.AAAA{Hdr: dns.RR_Header{Name: n.name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip.AsSlice()})
		}
	}
	delete(n.sets, dns.TypeA)
	delete(n.sets, dns.TypeAAAA)
	if len(a) > 0 {
		n.sets[dns.TypeA] = rrset{rrs: a}
	}
	if len(aaaa) > 0 {
		n.sets[dns.TypeAAAA] = rrset{rrs: aaaa}
	}
}

// resolveAlias gives an apex alias the addresses of its target: from the
// snapshot when the target lies in one of its zones (another apex alias
// there resolved first), else from Input.Aliases.
func (b *builder) resolveAlias(a *apexAlias, depth int) {
	if a.started {
		return
	}
	a.started = true

	target := a.slot.Target.Host
	n := b.own(a.zone, a.zone.origin)
	n.noAddrs = true
	if depth > maxChase {
		return
	}

	var addrs []netip.Addr
	ttl := a.slot.TTL
	if b.snap.zoneFor(target) == nil {
		addrs, ttl = b.external(target, ttl)
	} else {
		// The chain may end at another apex alias: resolve that first.
		end := b.snap.chainEnd(target)
		for _, other := range b.aliases {
			if other != a && other.zone.origin == end {
				b.resolveAlias(other, depth+1)
			}
		}
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			ans := b.snap.Lookup(target, qtype)
			if ans.Result == Delegation || ans.Result == NotAuth {
				continue
			}
			for _, rr := range ans.Answer {
				ttl = min(ttl, rr.Header().Ttl)
				switch rr := rr.(type) {
				case *dns.A:
					if ip, ok := netip.AddrFromSlice(rr.A); ok {
						addrs = append(addrs, ip.Unmap())
					}
				case *dns.AAAA:
					if ip, ok := netip.AddrFromSlice(rr.AAAA); ok {
						addrs = append(addrs, ip)
					}
				}
			}
		}
		if len(addrs) == 0 && b.snap.zoneFor(end) == nil {
			// An in-zone CNAME chain that leaves our zones.
			addrs, ttl = b.external(end, ttl)
		}
	}
	if len(addrs) == 0 {
		return
	}
	n.noAddrs = false
	setAddrs(n, addrs, ttl)
	n.any = anyAnswer(n)
}

// external looks target up in Input.Aliases.
func (b *builder) external(target string, ttl uint32) ([]netip.Addr, uint32) {
	b.wanted[target] = true
	al, ok := b.in.Aliases[target]
	if !ok || len(al.Addrs) == 0 {
		return nil, ttl
	}
	return al.Addrs, min(ttl, al.TTL)
}

// refreshAdditional recomputes the additional section of NS and MX sets
// whose targets are slot names of the zone, and gives their owners.
func (b *builder) refreshAdditional(zv *zoneView) map[string]bool {
	owners := make(map[string]bool)
	for name := range b.slotted[zv.origin] {
		for _, o := range zv.static.referrers[name] {
			owners[o] = true
		}
	}
	for o := range owners {
		n := b.own(zv, o)
		for _, t := range []uint16{dns.TypeNS, dns.TypeMX} {
			if set, ok := n.sets[t]; ok {
				set.extra = additional(zv.nodes, zv.origin, set.rrs)
				n.sets[t] = set
			}
		}
	}
	return owners
}

// precomputeChase computes the whole answer of every CNAME owner whose
// target lies in the snapshot, for A, AAAA and the types found at the end
// of the chain. Chains fixed by the file come ready from the zone's static
// part unless this snapshot changed what they lead to.
func (b *builder) precomputeChase(zv *zoneView, refreshed map[string]bool) {
	st := zv.static
	reuse := true
	for origin := range b.snap.zones {
		if origin != zv.origin && dns.IsSubDomain(zv.origin, origin) {
			reuse = false // a child zone here may hold names the file has
		}
	}
	stale := make(map[string]bool)
	if reuse {
		for end := range refreshed {
			for _, owner := range st.chaseEnds[end] {
				stale[owner] = true
			}
		}
		zv.chased = maps.Clone(st.chased)
		for owner := range stale {
			delete(zv.chased, owner)
		}
	}

	var cnames []*node
	for _, n := range st.cnames {
		if _, done := zv.chased[n.name]; done {
			continue
		}
		if cur := zv.nodes[n.name]; cur != nil && cur.cname != nil {
			cnames = append(cnames, cur)
		}
	}
	for name := range b.slotted[zv.origin] {
		if n := zv.nodes[name]; n != nil && n.cname != nil {
			cnames = append(cnames, n)
		}
	}
	for _, n := range cnames {
		if n.cut != nil || b.snap.zoneFor(n.target) == nil {
			continue
		}
		qtypes := []uint16{dns.TypeA, dns.TypeAAAA}
		end := b.snap.chainEnd(n.target)
		if ez := b.snap.zoneFor(end); ez != nil {
			if en := ez.nodes[end]; en != nil {
				for t := range en.sets {
					if !slices.Contains(qtypes, t) {
						qtypes = append(qtypes, t)
					}
				}
			}
		}
		answers := make(map[uint16]Answer, len(qtypes))
		for _, t := range qtypes {
			answers[t] = b.snap.chase(zv, n, n.cname, t, 0)
		}
		zv.chased[n.name] = answers
	}
}
