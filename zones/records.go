package zones

import (
	"bytes"
	"cmp"
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
	rr    dns.RR
	owner [][]byte // labels, lowercase, rightmost first
	rtype uint16
	rdata []byte // uncompressed wire rdata
}

// newSortedRR computes the sort key of rr.
func newSortedRR(rr dns.RR) sortedRR {
	hdr := rr.Header()
	k := sortedRR{rr: rr, rtype: hdr.Rrtype, owner: canonicalLabels(hdr.Name)}
	k.rdata = rdataWire(rr)
	return k
}

// canonicalLabels gives name's labels as lowercase octets, the rightmost
// first, for RFC 4034 6.1 order.
func canonicalLabels(name string) [][]byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return [][]byte{bytes.ToLower([]byte(name))} // not a wire name: order it as text
	}
	var labels [][]byte
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		labels = append(labels, bytes.ToLower(buf[off+1:off+1+int(buf[off])]))
	}
	slices.Reverse(labels)
	return labels
}

// rdataWire gives the uncompressed wire form of rr's rdata; nil when it
// does not pack (such a record then sorts by type only).
func rdataWire(rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+256)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	hdrLen, err := dns.PackDomainName(dns.Fqdn(rr.Header().Name), make([]byte, 256), 0, nil, false)
	if err != nil || hdrLen+10 > end {
		return nil
	}
	return buf[hdrLen+10 : end]
}

// compareCanonical orders records by owner (RFC 4034 6.1), type, then
// rdata.
func compareCanonical(a, b sortedRR) int {
	if c := compareOwners(a.owner, b.owner); c != 0 {
		return c
	}
	if c := cmp.Compare(a.rtype, b.rtype); c != 0 {
		return c
	}
	return bytes.Compare(a.rdata, b.rdata)
}

func compareOwners(a, b [][]byte) int {
	for i := range min(len(a), len(b)) {
		if c := bytes.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// sortedStatic gives the zone file's records but the SOA, in canonical
// order, computed on first use.
func (st *staticZone) sortedStatic() []sortedRR {
	st.sortOnce.Do(func() {
		var all []sortedRR
		for _, n := range st.nodes {
			for t, set := range n.sets {
				if t == dns.TypeSOA {
					continue
				}
				for _, rr := range set.rrs {
					all = append(all, newSortedRR(rr))
				}
			}
		}
		slices.SortFunc(all, compareCanonical)
		st.sorted = all
	})
	return st.sorted
}

// allRecords merges the zone file's sorted records with the records this
// snapshot gives slot names (CNAME, A, AAAA, apex alias addresses
// included), after the SOA.
func (zv *zoneView) allRecords() []dns.RR {
	static := zv.static.sortedStatic()
	var dynamic []sortedRR
	for name := range zv.slotNames {
		n := zv.nodes[name]
		if n == nil {
			continue
		}
		for _, t := range []uint16{dns.TypeCNAME, dns.TypeA, dns.TypeAAAA} {
			for _, rr := range n.sets[t].rrs {
				dynamic = append(dynamic, newSortedRR(rr))
			}
		}
	}
	slices.SortFunc(dynamic, compareCanonical)

	out := make([]dns.RR, 0, 1+len(static)+len(dynamic))
	out = append(out, zv.nodes[zv.origin].sets[dns.TypeSOA].rrs[0])
	var last *sortedRR
	add := func(k *sortedRR) {
		if last != nil && compareCanonical(*last, *k) == 0 {
			return // the same record twice: a slot name the file also gives
		}
		out = append(out, k.rr)
		last = k
	}
	i, j := 0, 0
	for i < len(static) || j < len(dynamic) {
		if j == len(dynamic) || i < len(static) && compareCanonical(static[i], dynamic[j]) <= 0 {
			add(&static[i])
			i++
		} else {
			add(&dynamic[j])
			j++
		}
	}
	return out
}

// Diff returns the records in old but not in new, and in new but not in old
// (RFC 1995 deltas), comparing whole records (owner, class, type, TTL and
// rdata; owner names case-insensitively). SOA records are compared like any
// other; callers pass both full record lists. Each list keeps the order of
// its input, without repeats.
func Diff(old, new []dns.RR) (removed, added []dns.RR) {
	oldKeys := make(map[string]bool, len(old))
	for _, rr := range old {
		oldKeys[diffKey(rr)] = true
	}
	newKeys := make(map[string]bool, len(new))
	for _, rr := range new {
		k := diffKey(rr)
		if !newKeys[k] && !oldKeys[k] {
			added = append(added, rr)
		}
		newKeys[k] = true
	}
	for _, rr := range old {
		k := diffKey(rr)
		if !newKeys[k] {
			removed = append(removed, rr)
			newKeys[k] = true // reported once
		}
	}
	return removed, added
}

// diffKey identifies a whole record: lowercase owner, class, type, TTL and
// wire rdata.
func diffKey(rr dns.RR) string {
	hdr := rr.Header()
	var b strings.Builder
	b.WriteString(strings.ToLower(dns.Fqdn(hdr.Name)))
	b.WriteByte(0)
	b.Write([]byte{byte(hdr.Class >> 8), byte(hdr.Class), byte(hdr.Rrtype >> 8), byte(hdr.Rrtype),
		byte(hdr.Ttl >> 24), byte(hdr.Ttl >> 16), byte(hdr.Ttl >> 8), byte(hdr.Ttl)})
	if rdata := rdataWire(rr); rdata != nil {
		b.Write(rdata)
	} else {
		b.WriteString(rr.String()) // does not pack: compare its text
	}
	return b.String()
}

// recordsState is the per-snapshot and per-zone state of Records, kept in
// zoneView and staticZone.
type recordsState struct {
	recordsOnce sync.Once
	records     []dns.RR
}

type staticSorted struct {
	sortOnce sync.Once
	sorted   []sortedRR
}
