package zones

import (
	"bytes"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Records returns every record of zone origin as the snapshot serves it, for
// AXFR: the SOA first (with the served serial), then every other record in
// a stable canonical order (owner in canonical DNS order, then type, then
// rdata), slot records and apex alias addresses included as ordinary
// CNAME/A/AAAA records. ok is false when the snapshot has no such zone. The
// slice is fixed for the snapshot and must not be modified.
//
// The zone file's records are sorted once per *Zone; each snapshot merges
// its slot records into them on the first call, so that Build does not pay
// for transfers.
func (s *Snapshot) Records(origin string) (records []dns.RR, ok bool) {
	zv := s.zones[strings.ToLower(dns.Fqdn(origin))]
	if zv == nil {
		return nil, false
	}
	zv.recordsOnce.Do(func() { zv.records = zv.allRecords() })
	return zv.records, true
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

// sortedStatic gives the zone file's records but the SOA, in canonical
// order, computed on first use.
func (st *staticZone) sortedStatic() []sortedRR {
	st.sortOnce.Do(func() {
		var rrs []dns.RR
		for _, n := range st.nodes {
			for t, set := range n.sets {
				if t != dns.TypeSOA {
					rrs = append(rrs, set.rrs...)
				}
			}
		}
		st.sorted = withKeys(rrs)
		slices.SortFunc(st.sorted, compareCanonical)
		st.sortedRRs = make([]dns.RR, len(st.sorted))
		for i, k := range st.sorted {
			st.sortedRRs[i] = k.rr
		}
	})
	return st.sorted
}

// allRecords merges the zone file's sorted records with the records this
// snapshot gives slot names (CNAME, A, AAAA, apex alias addresses
// included), after the SOA.
func (zv *zoneView) allRecords() []dns.RR {
	static := zv.static.sortedStatic()
	dynamic := withKeys(zv.slotted())
	slices.SortFunc(dynamic, compareCanonical)

	// Few slot records go into many file records: find each one's place
	// by binary search and copy the file's records in between.
	rrs := zv.static.sortedRRs
	out := make([]dns.RR, 0, 1+len(static)+len(dynamic))
	out = append(out, zv.soa())
	pos := 0
	for i, d := range dynamic {
		at, found := slices.BinarySearchFunc(static[pos:], d, compareCanonical)
		out = append(out, rrs[pos:pos+at]...)
		pos += at
		if found || i > 0 && compareCanonical(dynamic[i-1], d) == 0 {
			continue // the same record twice
		}
		out = append(out, d.rr)
	}
	return append(out, rrs[pos:]...)
}

// slotted gives the records the view's slot names own: CNAME, A and
// AAAA, apex alias addresses included.
func (zv *zoneView) slotted() []dns.RR {
	var out []dns.RR
	for name := range zv.slotNames {
		if n := zv.node(name); n != nil {
			for _, t := range []uint16{dns.TypeCNAME, dns.TypeA, dns.TypeAAAA} {
				out = append(out, n.sets[t].rrs...)
			}
		}
	}
	return out
}

func (zv *zoneView) soa() dns.RR { return zv.node(zv.origin).sets[dns.TypeSOA].rrs[0] }

// SlotRecords returns what zone origin serves beyond its file's records:
// the SOA with the served serial first, then the records of the slot
// names (CNAME, A, AAAA, the apex alias's addresses) in canonical order.
// Two snapshots of one zone file differ only there, so that the IXFR
// delta of a swap is the Diff of their SlotRecords, however large the
// zone. ok is false when the snapshot has no such zone.
func (s *Snapshot) SlotRecords(origin string) (records []dns.RR, ok bool) {
	zv := s.zones[strings.ToLower(dns.Fqdn(origin))]
	if zv == nil {
		return nil, false
	}
	keyed := withKeys(zv.slotted())
	slices.SortFunc(keyed, compareCanonical)
	out := make([]dns.RR, 0, 1+len(keyed))
	out = append(out, zv.soa())
	for i, k := range keyed {
		if i > 0 && compareCanonical(keyed[i-1], k) == 0 {
			continue
		}
		out = append(out, k.rr)
	}
	return out, true
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

// recordsState is the per-snapshot and per-zone state of Records, kept in
// zoneView and staticZone.
type recordsState struct {
	recordsOnce sync.Once
	records     []dns.RR
}

type staticSorted struct {
	sortOnce  sync.Once
	sorted    []sortedRR
	sortedRRs []dns.RR // the records of sorted, to copy from
}
