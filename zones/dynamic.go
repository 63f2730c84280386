package zones

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// Layer is what DNS UPDATE changed of a zone file: the records updates
// added, and the file's records they deleted. It is laid over the file
// each time the file is read, so that an edit of the file and the
// updates both count.
type Layer struct {
	Added   []dns.RR
	Removed []dns.RR // matched to the file's records by RDATA, the TTL aside
}

// Empty reports whether the layer changes nothing.
func (l Layer) Empty() bool { return len(l.Added) == 0 && len(l.Removed) == 0 }

// Overlap is a name where both the zone file and the layer hold records:
// the file gained records at a name that updates had written, or a
// policy with file_records let updates write beside the file's.
type Overlap struct {
	Name string
	// Shadowed is set when the two cannot stand together (a CNAME beside
	// other data, or two CNAMEs): the file's records are served, and the
	// layer's at the name are not.
	Shadowed bool
}

// dynamicPlace is the file name the places of a layer's records give.
const dynamicPlace = "(dynamic update)"

// WithLayer gives the zone file z with l laid over it: the file's
// records less those l removed, plus those it added. An RRset that both
// hold takes the TTL of the layer's records. Where the two cannot stand
// together at a name, the file wins (see Overlap). z must be a zone file
// as parsed, not signed: signing comes after.
func (z *Zone) WithLayer(l Layer) (*Zone, []Overlap, error) {
	if z.signing != nil {
		return nil, nil, fmt.Errorf("zone %s: dynamic records go under the signatures, not over a signed zone", z.Origin)
	}
	if l.Empty() {
		return z, nil, nil
	}
	added, removed, err := z.layerByName(l)
	if err != nil {
		return nil, nil, err
	}
	out := &Zone{Origin: z.Origin, File: z.File, origin: z.origin}
	out.places.segs = slices.Clone(z.places.segs)
	out.places.last = z.places.last
	dynTag := out.places.tag(dynamicPlace, 0) // one place for every record of the layer
	b := compact.NewBuilder(z.Len() + len(l.Added))
	var overlaps []Overlap
	for fn := range z.recs.All() {
		name := lowerName(fn.Name())
		add, rm := added[name], removed[name]
		if add == nil && rm == nil {
			if err := copyNode(b, fn); err != nil {
				return nil, nil, err
			}
			continue
		}
		kept, err := fileRecordsKept(fn, name, rm)
		if err != nil {
			return nil, nil, err
		}
		if len(add) > 0 && len(kept) > 0 {
			o := Overlap{Name: name, Shadowed: cannotStandTogether(kept, add)}
			overlaps = append(overlaps, o)
			if o.Shadowed {
				add = nil
			}
		}
		for _, rr := range mergeSets(kept, add) {
			if err := b.AddRR(rr, tagOf(fn, rr.Header().Rrtype, dynTag)); err != nil {
				return nil, nil, fmt.Errorf("zone %s: dynamic record %s: %w", z.Origin, rr, err)
			}
		}
		delete(added, name)
	}
	for _, name := range slices.Sorted(maps.Keys(added)) {
		for _, rr := range added[name] {
			if err := b.AddRR(rr, dynTag); err != nil {
				return nil, nil, fmt.Errorf("zone %s: dynamic record %s: %w", z.Origin, rr, err)
			}
		}
	}
	if err := out.finish(b); err != nil {
		return nil, nil, fmt.Errorf("zone %s: the dynamic records break the zone's rules (a CNAME beside other data, or an SOA or NS they cannot hold); remove them with slotdns records rm", z.Origin)
	}
	return out, overlaps, nil
}

// layerByName groups the layer's records by owner, checking each.
func (z *Zone) layerByName(l Layer) (added, removed map[string][]dns.RR, err error) {
	added, removed = map[string][]dns.RR{}, map[string][]dns.RR{}
	for _, group := range []struct {
		rrs []dns.RR
		to  map[string][]dns.RR
	}{{l.Added, added}, {l.Removed, removed}} {
		for _, rr := range group.rrs {
			h := rr.Header()
			name := strings.ToLower(h.Name)
			switch {
			case !dns.IsSubDomain(z.Origin, name):
				return nil, nil, fmt.Errorf("zone %s: dynamic record %s lies outside the zone", z.Origin, rr)
			case h.Class != dns.ClassINET:
				return nil, nil, fmt.Errorf("zone %s: dynamic record %s: class %s, want IN", z.Origin, rr, dns.ClassToString[h.Class])
			case h.Rrtype == dns.TypeSOA || slices.Contains(generated, h.Rrtype):
				return nil, nil, fmt.Errorf("zone %s: dynamic record %s: type %s is the server's alone", z.Origin, rr, dns.TypeToString[h.Rrtype])
			}
			c := dns.Copy(rr)
			c.Header().Name = name
			group.to[name] = append(group.to[name], c)
		}
	}
	return added, removed, nil
}

// copyNode copies every record of a file's name as it is.
func copyNode(b *compact.Builder, fn compact.Node) error {
	var err error
	fn.Sets(func(set compact.Set) bool {
		set.Each(func(ttl uint32, rdata []byte) bool {
			err = b.Add(fn.Name(), set.Type(), ttl, rdata, set.Tag())
			return err == nil
		})
		return err == nil
	})
	return err
}

// fileRecordsKept gives the file's records at a name less those removed.
func fileRecordsKept(fn compact.Node, name string, removed []dns.RR) ([]dns.RR, error) {
	var out []dns.RR
	var err error
	fn.Sets(func(set compact.Set) bool {
		var rrs []dns.RR
		if rrs, err = set.RRs(name); err != nil {
			return false
		}
		for _, rr := range rrs {
			if !slices.ContainsFunc(removed, func(x dns.RR) bool { return dns.IsDuplicate(x, rr) }) {
				out = append(out, rr)
			}
		}
		return true
	})
	return out, err
}

// cannotStandTogether reports whether the file's records and the
// layer's at one name break the CNAME rule (RFC 1034 3.6.2).
func cannotStandTogether(file, layer []dns.RR) bool {
	cname := func(rrs []dns.RR) (has, other bool) {
		for _, rr := range rrs {
			switch t := rr.Header().Rrtype; {
			case t == dns.TypeCNAME:
				has = true
			case !dnssecMeta(t):
				other = true
			}
		}
		return has, other
	}
	fc, fo := cname(file)
	lc, lo := cname(layer)
	return fc && (lo || lc) || lc && fo
}

// mergeSets joins the file's records and the layer's at one name: a
// record both hold once, and every record of an RRset the layer adds to
// with the layer's TTL.
func mergeSets(file, layer []dns.RR) []dns.RR {
	ttls := map[uint16]uint32{}
	for _, rr := range layer {
		ttls[rr.Header().Rrtype] = rr.Header().Ttl
	}
	out := make([]dns.RR, 0, len(file)+len(layer))
	for _, rr := range file {
		if ttl, ok := ttls[rr.Header().Rrtype]; ok && rr.Header().Ttl != ttl {
			rr = dns.Copy(rr)
			rr.Header().Ttl = ttl
		}
		out = append(out, rr)
	}
	for _, rr := range layer {
		if !slices.ContainsFunc(out, func(x dns.RR) bool { return dns.IsDuplicate(x, rr) }) {
			out = append(out, rr)
		}
	}
	return out
}

// tagOf gives the place tag of the file's RRset of type t at fn, or the
// layer's when the file has none.
func tagOf(fn compact.Node, t uint16, layer uint32) uint32 {
	if s := fn.Set(t); s.Len() > 0 {
		return s.Tag()
	}
	return layer
}

// Types gives the types of the records at name (lowercase FQDN); none
// when the zone has no such name or it is an empty non-terminal.
func (z *Zone) Types(name string) []uint16 {
	n := z.node(name)
	if n == nil {
		return nil
	}
	return n.types()
}

// Exists reports whether the zone has name: records there, or names
// below it.
func (z *Zone) Exists(name string) bool { return z.node(name) != nil }

// Owns reports whether the zone file holds name: records at it, or a
// delegation at or above it (below the apex), whose territory the names
// below are.
func (z *Zone) Owns(name string) bool {
	if n := z.node(name); n != nil && len(n.types()) > 0 {
		return true
	}
	for n := name; n != z.Origin && dns.IsSubDomain(z.Origin, n); n = parent(n) {
		if len(z.RRset(n, dns.TypeNS)) > 0 {
			return true
		}
	}
	return false
}
