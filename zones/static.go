package zones

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// rrset is the records of one type at one name, with what goes in the
// additional section beside them (addresses of in-zone NS and MX targets).
type rrset struct {
	rrs   []dns.RR
	extra []dns.RR
}

// node is one owner name of a zone. Nodes prepared from a zone file are
// shared by every snapshot built from it; a build copies a node before it
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
	slot     int      // a slot name: 1 + its slot's index in ZoneInput.Slots; else 0
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

// staticZone is what a Zone's records give, prepared once per *Zone and
// shared by every snapshot that serves it.
type staticZone struct {
	origin string
	soa    *dns.SOA
	nodes  map[string]*node
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
	// via maps an in-zone name that the file does not fix (missing, an
	// empty non-terminal, the apex, a delegation) to the CNAME owners
	// whose chain reaches it first: a snapshot whose slots own that name
	// computes their answers anew.
	via map[string][]string
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

	var cnames []*node
	for _, n := range st.nodes {
		if set, ok := n.sets[dns.TypeCNAME]; ok {
			n.cname = set.rrs[:1]
			n.target = strings.ToLower(set.rrs[0].(*dns.CNAME).Target)
			cnames = append(cnames, n)
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
			set.extra = additional(st.node, origin, set.rrs)
			n.sets[t] = set
		}
		n.any = anyAnswer(n)
	}
	st.precomputeChase(cnames)
	return st, nil
}

// node gives the file's node at name, nil when there is none.
func (st *staticZone) node(name string) *node { return st.nodes[name] }

// precomputeChase fills st.chased for the CNAME chains that every
// snapshot of the zone answers alike, and st.via for the others that stay
// in the zone.
func (st *staticZone) precomputeChase(cnames []*node) {
	st.chased = make(map[string]map[uint16]Answer)
	st.chaseEnds = make(map[string][]string)
	st.via = make(map[string][]string)
	zv := &zoneView{origin: st.origin, static: st, own: map[string]*node{}}
	alone := &Snapshot{zones: map[string]*zoneView{st.origin: zv}}
	for _, n := range cnames {
		end, frontier, fixed := st.fixedChain(n)
		if frontier != "" {
			st.via[frontier] = append(st.via[frontier], n.name)
		}
		if !fixed {
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
// slot can take. It gives the last node when the whole chain is such
// (fixed), else the first in-zone name that is not (the frontier, "" when
// the chain leaves the zone, loops or is too long).
func (st *staticZone) fixedChain(n *node) (end *node, frontier string, fixed bool) {
	if n.cut != nil {
		return nil, "", false
	}
	cur := n
	for range maxChase {
		if cur.cname == nil {
			return cur, "", true
		}
		if !dns.IsSubDomain(st.origin, cur.target) {
			return nil, "", false
		}
		next := st.nodes[cur.target]
		if next == nil || next.empty() || next.cut != nil || next.name == st.origin {
			return nil, cur.target, false
		}
		cur = next
	}
	return nil, "", false // a loop, or too long: chased per query
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
// glue below a delegation included; node finds a name's node.
func additional(node func(string) *node, origin string, rrs []dns.RR) []dns.RR {
	var extra []dns.RR
	for _, t := range referredNames(rrs) {
		if !dns.IsSubDomain(origin, t) {
			continue
		}
		if n := node(t); n != nil {
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

// ContentDigest identifies what z serves: the SOA with its serial left
// out (the store owns the serial), every other record, then extra lines
// (the caller's: the slots laid over the zone, say). Two files that serve
// the same records have the same digest, whatever their order, comments,
// layout or serial. The records are summed, not sorted: each one's
// SHA-256 (of its wire form, TTL included) is added into four 64-bit
// lanes, so that a zone of a million records takes a fraction of a
// second, not the sort of a transfer.
func (z *Zone) ContentDigest(extra ...string) (string, error) {
	st, err := prepared(z)
	if err != nil {
		return "", err
	}
	soa := dns.Copy(st.soa).(*dns.SOA)
	soa.Hdr.Name = st.origin
	soa.Serial = 0
	var sum [4]uint64
	buf := make([]byte, 0x10000+1024)
	for _, n := range st.nodes {
		for typ, set := range n.sets {
			if typ == dns.TypeSOA {
				continue
			}
			for _, rr := range set.rrs {
				end, err := dns.PackRR(rr, buf, 0, nil, false)
				if err != nil {
					return "", fmt.Errorf("%s %s: %w", rr.Header().Name, dns.TypeToString[typ], err)
				}
				h := sha256.Sum256(buf[:end])
				for i := range sum {
					sum[i] += binary.BigEndian.Uint64(h[8*i:])
				}
			}
		}
	}
	h := sha256.New()
	io.WriteString(h, soa.String()+"\n")
	for _, lane := range sum {
		h.Write(binary.BigEndian.AppendUint64(nil, lane))
	}
	for _, line := range extra {
		io.WriteString(h, line+"\n")
	}
	return "sum256:" + hex.EncodeToString(h.Sum(nil)), nil
}
