package zones

import (
	"bytes"
	"cmp"
	"iter"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// Records returns every record of zone origin as the snapshot serves it:
// the SOA first (with the served serial), then the records of Transfer
// in their order. ok is false when the snapshot has no such zone. It
// makes a dns.RR of every record: a server streams Transfer instead.
func (s *Snapshot) Records(origin string) (records []dns.RR, ok bool) {
	t, ok := s.Transfer(origin)
	if !ok {
		return nil, false
	}
	records = make([]dns.RR, 0, 1+t.Len)
	records = append(records, t.SOA)
	for rr := range t.Records {
		records = append(records, rr)
	}
	return records, true
}

// Transfer is a zone as AXFR sends it (RFC 5936), read from the snapshot
// as it is sent: no copy of the zone is made for it.
type Transfer struct {
	SOA *dns.SOA // with the served serial; the snapshot's, do not modify
	Len int      // the number of Records
	// Records gives every record but the SOA in a stable canonical
	// order (owner in RFC 4034 order, then type, then rdata), slot
	// records and apex alias addresses included as ordinary CNAME, A
	// and AAAA records. Each is made for the caller.
	Records iter.Seq[dns.RR]
}

// Transfer gives zone origin for a transfer; ok is false when the
// snapshot has no such zone.
func (s *Snapshot) Transfer(origin string) (Transfer, bool) {
	zv := s.zones.get(strings.ToLower(dns.Fqdn(origin)))
	if zv == nil {
		return Transfer{}, false
	}
	n := zv.file.recs.Records() - 1 // the file's SOA is the view's
	for _, on := range zv.own {
		for t, rrs := range on.own {
			if t == dns.TypeSOA {
				continue
			}
			n += len(rrs)
			if on.inFile {
				n -= on.file.Set(t).Len() // replaced by the view's
			}
		}
	}
	all := func(yield func(dns.RR) bool) {
		var msg []byte
		for r := range zv.wireRecords() {
			msg = appendRecord(msg[:0], r.owner, r.typ, r.ttl, r.rdata)
			rr, _, err := dns.UnpackRR(msg, 0)
			if err != nil {
				continue // packed from a parsed record: never so
			}
			if !yield(rr) {
				return
			}
		}
	}
	return Transfer{SOA: zv.soa().(*dns.SOA), Len: n, Records: all}, true
}

// slotTypes are the types a slot gives its names.
var slotTypes = []uint16{dns.TypeCNAME, dns.TypeA, dns.TypeAAAA}

// wireRR is one record in wire form: owner lowercase, uncompressed.
type wireRR struct {
	owner []byte
	typ   uint16
	ttl   uint32
	rdata []byte
}

// compareWire orders records as Transfer does; the TTL aside.
func compareWire(a, b wireRR) int {
	if c := compact.Compare(a.owner, b.owner); c != 0 {
		return c
	}
	if c := cmp.Compare(a.typ, b.typ); c != 0 {
		return c
	}
	return bytes.Compare(a.rdata, b.rdata)
}

// wireRecords gives the view's records but the SOA in Transfer's order:
// the file's names in canonical order, with the names the view owns
// merged in. A record's slices are valid until the next one.
func (zv *zoneView) wireRecords() iter.Seq[wireRR] {
	type ownName struct {
		wire []byte
		n    *node
	}
	var owns []ownName
	for name, n := range zv.own {
		wire := make([]byte, 256)
		l, err := dns.PackDomainName(name, wire, 0, nil, false)
		if err == nil {
			owns = append(owns, ownName{wire[:l], n})
		}
	}
	slices.SortFunc(owns, func(a, b ownName) int { return compact.Compare(a.wire, b.wire) })
	return func(yield func(wireRR) bool) {
		e := &emitter{yield: yield, p: newPacker()}
		i := 0
		var fileOnly node
		for fn := range zv.file.recs.Canonical() {
			for i < len(owns) && compact.Compare(owns[i].wire, fn.Name()) < 0 {
				if !e.node(owns[i].wire, owns[i].n) {
					return
				}
				i++
			}
			if i < len(owns) && bytes.Equal(owns[i].wire, fn.Name()) {
				i++
				if !e.node(fn.Name(), owns[i-1].n) {
					return
				}
				continue
			}
			if fn.Empty() {
				continue
			}
			fileOnly = node{file: fn, inFile: true}
			if !e.node(fn.Name(), &fileOnly) {
				return
			}
		}
		for ; i < len(owns); i++ {
			if !e.node(owns[i].wire, owns[i].n) {
				return
			}
		}
	}
}

// emitter yields the records of one name after another, reusing its
// buffers.
type emitter struct {
	yield func(wireRR) bool
	p     *packer
	types []uint16
	recs  []wireRR
	own   []byte // the view's records of one type at the name, packed
	spans []span // where each one's RDATA lies in own
}

type span struct {
	from, to int
	ttl      uint32
}

// node yields the records of n at owner (wire), the SOA aside, in
// canonical order.
func (e *emitter) node(owner []byte, n *node) bool {
	e.types = slices.DeleteFunc(n.appendTypes(e.types[:0]), func(t uint16) bool { return t == dns.TypeSOA })
	slices.Sort(e.types)
	for _, t := range e.types {
		e.recs, e.own = e.recs[:0], e.own[:0]
		if rrs, ok := n.own[t]; ok {
			e.spans = e.spans[:0]
			for _, rr := range rrs {
				wire, err := e.p.pack(rr)
				if err != nil {
					continue
				}
				at := len(e.own)
				e.own = append(e.own, wire...)
				e.spans = append(e.spans, span{from: at + nameEnd(wire) + 10, to: len(e.own), ttl: rr.Header().Ttl})
			}
			for _, sp := range e.spans { // e.own is whole now: slice it
				e.recs = append(e.recs, wireRR{owner: owner, typ: t, ttl: sp.ttl, rdata: e.own[sp.from:sp.to]})
			}
		} else {
			n.file.Set(t).Each(func(ttl uint32, rdata []byte) bool {
				e.recs = append(e.recs, wireRR{owner: owner, typ: t, ttl: ttl, rdata: rdata})
				return true
			})
		}
		slices.SortFunc(e.recs, compareWire)
		for _, r := range e.recs {
			if !e.yield(r) {
				return false
			}
		}
	}
	return true
}

// nameEnd gives where the uncompressed name that starts wire ends.
func nameEnd(wire []byte) int {
	off := 0
	for off < len(wire) && wire[off] != 0 {
		off += 1 + int(wire[off])
	}
	return off + 1
}

// sortedRR is a record with its canonical sort key.
type sortedRR struct {
	rr  dns.RR
	key []byte
}

// packer packs one record at a time, uncompressed, into a buffer it
// reuses. It packs through a dns.Msg because dns.PackRR writes the
// record's Rdlength, and the records of a published snapshot are read by
// queries at the same time.
type packer struct {
	msg dns.Msg
	buf []byte
}

func newPacker() *packer {
	p := &packer{buf: make([]byte, 4096)}
	p.msg.Answer = make([]dns.RR, 1)
	return p
}

// pack gives rr in wire form, valid until the next call.
func (p *packer) pack(rr dns.RR) ([]byte, error) {
	p.msg.Answer[0] = rr
	wire, err := p.msg.PackBuffer(p.buf)
	p.msg.Answer[0] = nil
	if err != nil {
		return nil, err
	}
	if cap(wire) > cap(p.buf) {
		p.buf = wire[:cap(wire)] // a big record: keep the larger buffer
	}
	return wire[dnsHeaderLen:], nil
}

// dnsHeaderLen is the length of a message header, before the record.
const dnsHeaderLen = 12

// canonicalKey appends rr's sort key to dst. The key's byte order is RFC
// 4034 6.1 order of owners, then type, then rdata (6.3: octet strings, a
// missing octet first). The owner's labels come rightmost first,
// lowercase, each ended by 00 00 with an octet 00 inside a label written
// 00 FF; the name ends with one more 00 00. That encoding keeps label
// order (a label that is a prefix of another ends first) and is prefix
// free, so the type and the rdata can follow it.
func canonicalKey(dst []byte, rr dns.RR, p *packer) []byte {
	wire, err := p.pack(rr)
	end := len(wire)
	if err != nil {
		// Not packable (never so for parsed records): after all others,
		// in the order of its text.
		return append(append(dst, 0xFF, 0xFF), strings.ToLower(rr.String())...)
	}
	var labels [128]uint8 // where each label starts; a name has at most 127
	n, off := 0, 0
	for wire[off] != 0 {
		labels[n] = uint8(off)
		n++
		off += int(wire[off]) + 1
	}
	nameLen := off + 1
	for i := n - 1; i >= 0; i-- {
		at := int(labels[i])
		for _, c := range wire[at+1 : at+1+int(wire[at])] {
			switch {
			case c == 0:
				dst = append(dst, 0, 0xFF)
			case 'A' <= c && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, 0, 0)
	}
	dst = append(dst, 0, 0)
	dst = append(dst, wire[nameLen:nameLen+2]...) // the type
	return append(dst, wire[nameLen+10:end]...)   // the rdata, after class, TTL and length
}

// withKeys gives rrs with their sort keys, the keys laid out in one
// buffer.
func withKeys(rrs []dns.RR) []sortedRR {
	p := newPacker()
	var arena []byte
	ends := make([]int, len(rrs))
	for i, rr := range rrs {
		arena = canonicalKey(arena, rr, p)
		ends[i] = len(arena)
	}
	out := make([]sortedRR, len(rrs))
	start := 0
	for i, rr := range rrs {
		out[i] = sortedRR{rr: rr, key: arena[start:ends[i]:ends[i]]}
		start = ends[i]
	}
	return out
}

// compareCanonical orders records by owner (RFC 4034 6.1), type, then
// rdata.
func compareCanonical(a, b sortedRR) int { return bytes.Compare(a.key, b.key) }

// slotted gives the records the view's slot names own: CNAME, A and
// AAAA, apex alias addresses included.
func (zv *zoneView) slotted() []dns.RR {
	var out []dns.RR
	for name := range zv.slotNames {
		if n := zv.node(name); n != nil {
			for _, t := range slotTypes {
				out = append(out, n.own[t]...)
			}
		}
	}
	return out
}

func (zv *zoneView) soa() dns.RR { return zv.own[zv.origin].own[dns.TypeSOA][0] }

// viewRecords gives every record the view's own nodes hold but the SOA:
// the slot names' and the apex alias's records, and in a signed zone
// their signatures, the SOA's and the NSEC or NSEC3 records the view
// makes.
func (zv *zoneView) viewRecords() []dns.RR {
	var out []dns.RR
	for _, n := range zv.own {
		for t, rrs := range n.own {
			if t != dns.TypeSOA {
				out = append(out, rrs...)
			}
		}
	}
	return out
}

// ViewRecords returns what zone origin's view serves in place of its
// file's records, the SOA first, then in canonical order the records of
// SlotRecords and, in a signed zone, the signatures and the NSEC or
// NSEC3 records of the apex and the slot names (at the apex, the file's
// signatures too). Two snapshots of one signed zone file differ only
// there: the IXFR delta of a swap is the Diff of their ViewRecords.
func (s *Snapshot) ViewRecords(origin string) (records []dns.RR, ok bool) {
	zv := s.zones.get(strings.ToLower(dns.Fqdn(origin)))
	if zv == nil {
		return nil, false
	}
	return sortedWithSOA(zv.soa(), zv.viewRecords()), true
}

// SlotRecords returns what zone origin serves beyond its file's records:
// the SOA with the served serial first, then the records of the slot
// names (CNAME, A, AAAA, the apex alias's addresses) in canonical order.
// Two snapshots of one zone file differ only there, so that the IXFR
// delta of a swap is the Diff of their SlotRecords, however large the
// zone. ok is false when the snapshot has no such zone.
func (s *Snapshot) SlotRecords(origin string) (records []dns.RR, ok bool) {
	zv := s.zones.get(strings.ToLower(dns.Fqdn(origin)))
	if zv == nil {
		return nil, false
	}
	return sortedWithSOA(zv.soa(), zv.slotted()), true
}

// sortedWithSOA gives soa, then rrs in canonical order, once each.
func sortedWithSOA(soa dns.RR, rrs []dns.RR) []dns.RR {
	keyed := withKeys(rrs)
	slices.SortFunc(keyed, compareCanonical)
	out := make([]dns.RR, 0, 1+len(keyed))
	out = append(out, soa)
	for i, k := range keyed {
		if i > 0 && compareCanonical(keyed[i-1], k) == 0 {
			continue
		}
		out = append(out, k.rr)
	}
	return out
}

// Diff returns the records in old but not in new, and in new but not in old
// (RFC 1995 deltas), comparing whole records (owner, class, type, TTL and
// rdata; owner names case-insensitively). SOA records are compared like any
// other; callers pass both full record lists. Each list keeps the order of
// its input, without repeats.
func Diff(old, new []dns.RR) (removed, added []dns.RR) {
	p := newPacker()
	oldKeys := make(map[string]bool, len(old))
	for _, rr := range old {
		oldKeys[diffKey(rr, p)] = true
	}
	newKeys := make(map[string]bool, len(new))
	for _, rr := range new {
		k := diffKey(rr, p)
		if !newKeys[k] && !oldKeys[k] {
			added = append(added, rr)
		}
		newKeys[k] = true
	}
	for _, rr := range old {
		k := diffKey(rr, p)
		if !newKeys[k] {
			removed = append(removed, rr)
			newKeys[k] = true // reported once
		}
	}
	return removed, added
}

// diffKey identifies a whole record: class, TTL, then the canonical key
// (lowercase owner, type, rdata), which is prefix free.
func diffKey(rr dns.RR, p *packer) string {
	hdr := rr.Header()
	head := []byte{byte(hdr.Class >> 8), byte(hdr.Class), byte(hdr.Ttl >> 24), byte(hdr.Ttl >> 16), byte(hdr.Ttl >> 8), byte(hdr.Ttl)}
	return string(canonicalKey(head, rr, p))
}

// DiffZone returns the records of zone origin that a serves and b does
// not, and that b serves and a does not (RFC 1995 deltas), the SOAs
// included when they differ; records compare as Diff has it. It walks
// both zones in Transfer's order side by side, so that a reload of a
// large zone keeps no third copy of it.
func DiffZone(a, b *Snapshot, origin string) (removed, added []dns.RR) {
	origin = strings.ToLower(dns.Fqdn(origin))
	za, zb := a.zones.get(origin), b.zones.get(origin)
	toRR := func(r wireRR) dns.RR {
		rr, _, err := dns.UnpackRR(appendRecord(nil, r.owner, r.typ, r.ttl, r.rdata), 0)
		if err != nil {
			return nil
		}
		return rr
	}
	if za == nil || zb == nil {
		var ra, rb []dns.RR
		if za != nil {
			ra, _ = a.Records(origin)
		}
		if zb != nil {
			rb, _ = b.Records(origin)
		}
		return Diff(ra, rb)
	}
	removed, added = Diff([]dns.RR{dns.Copy(za.soa())}, []dns.RR{dns.Copy(zb.soa())})
	next, stop := iter.Pull(zb.wireRecords())
	defer stop()
	nb, okb := next()
	keep := func(list []dns.RR, r wireRR) []dns.RR {
		if rr := toRR(r); rr != nil {
			list = append(list, rr)
		}
		return list
	}
	for ra := range za.wireRecords() {
		for okb && compareWire(nb, ra) < 0 {
			added = keep(added, nb)
			nb, okb = next()
		}
		if okb && compareWire(nb, ra) == 0 {
			if nb.ttl != ra.ttl {
				removed, added = keep(removed, ra), keep(added, nb)
			}
			nb, okb = next()
			continue
		}
		removed = keep(removed, ra)
	}
	for ; okb; nb, okb = next() {
		added = keep(added, nb)
	}
	return removed, added
}
