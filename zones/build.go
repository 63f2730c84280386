package zones

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// builder builds the views of one snapshot that a change rebuilds; the
// snapshot's other views are complete and are read as they are.
type builder struct {
	snap    *Snapshot
	views   []*zoneView // the views being built, in input order
	aliases []*apexAlias
	now     time.Time // the inception of the signatures the views make
}

// apexAlias is a hostname target at a zone apex, served as addresses.
type apexAlias struct {
	zone *zoneView
	slot Slot
	// What the last pass gave the apex.
	addrs []netip.Addr
	ttl   uint32
}

func newBuilder(snap *Snapshot, now time.Time) *builder { return &builder{snap: snap, now: now} }

// build makes a new view of each zone of inputs, in order, and puts them
// in the snapshot: first every view with its SOA (so that each knows the
// others' origins), then the slot overlays, the apex aliases, and last
// the slot CNAME chains.
func (b *builder) build(inputs map[string]ZoneInput, order []string) error {
	for _, origin := range order {
		b.addZone(inputs[origin])
	}
	var errs []error
	for _, zv := range b.views {
		for i, sl := range zv.input.Slots {
			errs = append(errs, b.overlay(zv, i, sl)...)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	b.resolveAliases()
	for _, zv := range b.views {
		errs = append(errs, b.signView(zv))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, zv := range b.views {
		b.precomputeChase(zv)
	}
	return nil
}

// addZone starts the view of zi: the file's nodes with the apex's SOA at
// the served serial.
func (b *builder) addZone(zi ZoneInput) {
	z := zi.Zone
	zv := &zoneView{
		origin:    z.Origin,
		serial:    zi.Serial,
		file:      z,
		input:     zi,
		own:       make(map[string]*node),
		chased:    make(map[string]map[uint16]Answer),
		slotNames: make(map[string]bool),
		deps:      make(map[string]bool),
	}
	soa := dns.Copy(z.SOA).(*dns.SOA)
	soa.Serial = zi.Serial
	neg := dns.Copy(soa).(*dns.SOA)
	neg.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	zv.negSOA = []dns.RR{neg}

	apex := b.own(zv, z.Origin)
	apex.own[dns.TypeSOA] = []dns.RR{soa}
	b.snap.zones.put(zv)
	b.views = append(b.views, zv)
}

// own returns the node at name as zv's own copy, creating it (and the
// empty non-terminals above it) when the name does not exist.
func (b *builder) own(zv *zoneView, name string) *node {
	if n, ok := zv.own[name]; ok {
		return n
	}
	n := zv.file.node(name)
	if n == nil {
		n = &node{name: name, own: make(map[uint16][]dns.RR)}
		if name != zv.origin {
			up := zv.node(parent(name))
			if up == nil {
				up = b.own(zv, parent(name)) // an empty non-terminal
			}
			n.cut = up.cut
		}
	} else {
		n = n.clone()
	}
	zv.own[name] = n
	return n
}

// overlay adds one slot's names to its zone; index is the slot's place
// in the zone's input, which each name's node keeps (see Answer.Slot).
func (b *builder) overlay(zv *zoneView, index int, sl Slot) []error {
	if !sl.Target.IsHost() && len(sl.Target.Addrs) == 0 {
		return []error{fmt.Errorf("app %q slot %q: no target; give a hostname or IP addresses", sl.App, sl.Slot)}
	}
	var errs []error
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
		if zv.slotNames[name] {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s is already a slot name", sl.App, sl.Slot, name))
			continue
		}
		zv.slotNames[name] = true

		if err := conflict(zv.file, name, sl); err != nil {
			errs = append(errs, err)
			continue
		}
		if cut := b.closest(zv, name).cut; cut != nil {
			errs = append(errs, fmt.Errorf("app %q slot %q: name %s lies in the delegation %s, which zone %s does not serve", sl.App, sl.Slot, name, cut.name, zv.origin))
			continue
		}

		n := b.own(zv, name)
		n.slot = index + 1
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: sl.TTL}
		switch {
		case sl.Target.IsHost() && name == zv.origin:
			b.aliases = append(b.aliases, &apexAlias{zone: zv, slot: sl})
		case sl.Target.IsHost():
			hdr.Rrtype = dns.TypeCNAME
			n.cname = []dns.RR{&dns.CNAME{Hdr: hdr, Target: sl.Target.Host}}
			n.target = sl.Target.Host
			n.own[dns.TypeCNAME] = n.cname
		default:
			setAddrs(n, sl.Target.Addrs, sl.TTL)
		}
	}
	return errs
}

// closest gives the node of name or of its nearest existing ancestor.
func (b *builder) closest(zv *zoneView, name string) *node {
	for p := name; p != ""; p = parent(p) {
		if n := zv.node(p); n != nil {
			return n
		}
	}
	return zv.node(zv.origin)
}

// conflict reports a slot name that owns zone-file records; at the apex
// only addresses and CNAME conflict, since SOA, NS, MX... stay the file's.
func conflict(z *Zone, name string, sl Slot) error {
	n := z.node(name)
	if n == nil {
		return nil
	}
	clash := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME}
	first, found := uint32(0), false // the tag of the first such RRset
	n.file.Sets(func(s compact.Set) bool {
		if name == z.Origin && !slices.Contains(clash, s.Type()) {
			return true
		}
		if !found || s.Tag() < first {
			first, found = s.Tag(), true
		}
		return true
	})
	if !found {
		return nil
	}
	at := z.places.place(first)
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
	delete(n.own, dns.TypeA)
	delete(n.own, dns.TypeAAAA)
	if len(a) > 0 {
		n.own[dns.TypeA] = a
	}
	if len(aaaa) > 0 {
		n.own[dns.TypeAAAA] = aaaa
	}
}

// resolveAliases gives every apex alias being built the addresses of its
// target. An alias may lead to another (through CNAMEs, wildcards
// included), so they are resolved together to a fixpoint: each starts
// with no addresses, and each pass looks every target up in the
// snapshot as the previous passes left it, until no alias changes. On
// a chain of k aliases that takes k passes; aliases that lead to each
// other in a loop keep no addresses. The result does not depend on the
// order of the aliases.
func (b *builder) resolveAliases() {
	for _, a := range b.aliases {
		a.addrs, a.ttl = nil, 0
		n := b.own(a.zone, a.zone.origin)
		n.noAddrs = true
		delete(n.own, dns.TypeA)
		delete(n.own, dns.TypeAAAA)
	}
	for range len(b.aliases) + 1 {
		changed := false
		for _, a := range b.aliases {
			if b.resolveAlias(a) {
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// resolveAlias looks an apex alias's target up once and gives the apex
// its addresses, reporting whether they changed: from the snapshot when
// the target lies in one of its zones, else from the snapshot's Aliases.
func (b *builder) resolveAlias(a *apexAlias) bool {
	target := a.slot.Target.Host
	var addrs []netip.Addr
	ttl := a.slot.TTL
	if b.snap.zoneFor(target) == nil {
		addrs, ttl = b.external(a.zone, target, ttl)
	} else {
		end := target // where an in-zone CNAME chain leads
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			ans := b.snap.Lookup(target, qtype)
			b.noteDeps(a.zone, target, ans)
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
				case *dns.CNAME:
					end = strings.ToLower(rr.Target)
				}
			}
		}
		if len(addrs) == 0 && b.snap.zoneFor(end) == nil {
			// An in-zone CNAME chain that leaves our zones.
			addrs, ttl = b.external(a.zone, end, ttl)
		}
	}
	n := b.own(a.zone, a.zone.origin)
	if len(addrs) == 0 {
		ttl = 0
	}
	if slices.Equal(a.addrs, addrs) && a.ttl == ttl {
		return false
	}
	a.addrs, a.ttl = addrs, ttl
	n.noAddrs = len(addrs) == 0
	setAddrs(n, addrs, ttl)
	return true
}

// external looks target up in the snapshot's Aliases for zv's apex.
func (b *builder) external(zv *zoneView, target string, ttl uint32) ([]netip.Addr, uint32) {
	if !slices.Contains(zv.external, target) {
		zv.external = append(zv.external, target)
	}
	al, ok := b.snap.aliases[target]
	if !ok || len(al.Addrs) == 0 {
		return nil, ttl
	}
	return al.Addrs, min(ttl, al.TTL)
}

// noteDeps records in zv the other zones that ans, the answer to a
// lookup of name made for zv's precomputed data, was read from: the
// owners and targets of its records, the zone of its negative SOA, and
// the zone of name itself.
func (b *builder) noteDeps(zv *zoneView, name string, ans Answer) {
	add := func(n string) {
		if z := b.snap.zoneFor(strings.ToLower(n)); z != nil && z != zv {
			zv.deps[z.origin] = true
		}
	}
	add(name)
	for _, rr := range ans.Answer {
		add(rr.Header().Name)
		if c, ok := rr.(*dns.CNAME); ok {
			add(c.Target)
		}
	}
	for _, rr := range ans.Ns {
		add(rr.Header().Name)
	}
}

// precomputeChase computes the whole answer of the view's slot CNAMEs
// that lead into one of our zones, for A, AAAA and the types found at the
// end of the chain, and notes the zones each answer read: a change there
// rebuilds this view (see With), which the drain clock of a swap needs.
// Every other chain is followed per query.
func (b *builder) precomputeChase(zv *zoneView) {
	for owner := range zv.slotNames {
		n := zv.node(owner)
		if n == nil || n.cname == nil || n.cut != nil || b.snap.zoneFor(n.target) == nil {
			continue
		}
		qtypes := []uint16{dns.TypeA, dns.TypeAAAA}
		end := b.snap.chainEnd(n.target)
		if ez := b.snap.zoneFor(end); ez != nil {
			if en := ez.node(end); en != nil {
				for _, t := range en.types() {
					if !slices.Contains(qtypes, t) {
						qtypes = append(qtypes, t)
					}
				}
			}
		}
		answers := make(map[uint16]Answer, len(qtypes))
		for _, t := range qtypes {
			ans := b.snap.chase(zv, n, n.cname, t, 0)
			b.noteDeps(zv, n.target, ans)
			answers[t] = ans
		}
		zv.chased[owner] = answers
	}
}
