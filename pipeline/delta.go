package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// delta is the IXFR delta (RFC 1995) of origin from cur to next: the
// records removed and added, each list starting with its SOA. A change
// of slots diffs the view's records alone, which are all that differ
// between two snapshots of one zone file; a reload diffs every record.
// removed and added count the records besides the SOA.
func (p *Pipeline) delta(cur, next *zones.Snapshot, origin string, whole bool) (d store.Delta, removed, added int) {
	var gone, came []dns.RR
	if whole {
		gone, came = zones.DiffZone(cur, next, origin)
	} else {
		old, _ := cur.ViewRecords(origin)
		now, _ := next.ViewRecords(origin)
		gone, came = zones.Diff(copyRecords(old), copyRecords(now))
	}
	d = store.Delta{Zone: origin, Removed: soaFirst(gone), Added: soaFirst(came)}
	return d, len(gone) - countSOA(gone), len(came) - countSOA(came)
}

// copyRecords copies rrs: packing a record to compare it writes its
// header, and the records of a published snapshot are being read by
// queries.
func copyRecords(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

func soaFirst(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			out = append([]string{rr.String()}, out...)
		} else {
			out = append(out, rr.String())
		}
	}
	return out
}

func countSOA(rrs []dns.RR) int {
	n := 0
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			n++
		}
	}
	return n
}

// servedDigest identifies what origin's slot names answer in snap (their
// records, in canonical order, the SOA aside), for store.Zone.Served.
func servedDigest(snap *zones.Snapshot, origin string) string {
	rrs, ok := snap.SlotRecords(origin)
	if !ok {
		return ""
	}
	h := sha256.New()
	for _, rr := range rrs[1:] {
		io.WriteString(h, rr.String())
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
