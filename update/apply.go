package update

import (
	"cmp"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/internal/serial"

	"github.com/miekg/dns"
)

// Prescan checks each update before anything is looked up (RFC 2136
// 3.4.1.3): a name outside the zone is NOTZONE; an add of a meta type, a
// deletion with a TTL or RDATA where none belongs, or another class,
// FORMERR.
func Prescan(zone string, updates []dns.RR) *Error {
	for _, rr := range updates {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		t := dns.TypeToString[h.Rrtype]
		if !inZone(name, zone) {
			return errorf(dns.RcodeNotZone, "update of %s, outside zone %s", name, zone)
		}
		switch h.Class {
		case dns.ClassINET:
			if IsMeta(h.Rrtype) {
				return errorf(dns.RcodeFormatError, "add of %s %s: not a type of records", name, t)
			}
		case dns.ClassANY:
			if h.Ttl != 0 || !emptyRDATA(rr) || IsMeta(h.Rrtype) && h.Rrtype != dns.TypeANY {
				return errorf(dns.RcodeFormatError, "deletion of %s %s: want TTL 0 and no RDATA", name, t)
			}
		case dns.ClassNONE:
			if h.Ttl != 0 || IsMeta(h.Rrtype) {
				return errorf(dns.RcodeFormatError, "deletion of a record of %s %s: want TTL 0 and a type of records", name, t)
			}
		default:
			return errorf(dns.RcodeFormatError, "update of %s of class %s", name, dns.ClassToString[h.Class])
		}
	}
	return nil
}

// Change is one RRset an update changes: what it held and what it
// holds after (nil when it is gone).
type Change struct {
	Name   string // lowercase FQDN
	Type   uint16
	Before []dns.RR
	After  []dns.RR
}

// Apply runs updates, prescanned, in order against v (RFC 2136 3.4.2)
// and gives every RRset they change, sorted by name and type. Nothing is
// changed in v: the caller commits the changes, all of them or none.
//
// As the RFC has it: the SOA is replaced only by one of a later serial
// and never deleted; the apex keeps its NS records; a CNAME is not added
// beside other data, nor other data beside a CNAME; adding a record the
// RRset holds changes its TTL; and every record of an RRset takes the TTL
// last added to it.
func Apply(zone string, updates []dns.RR, v View) []Change {
	w := &working{v: v, sets: map[rrsetKey][]dns.RR{}}
	for _, rr := range updates {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		apex := name == zone
		switch h.Class {
		case dns.ClassINET:
			w.add(name, rr, apex)
		case dns.ClassANY:
			types := []uint16{h.Rrtype}
			if h.Rrtype == dns.TypeANY {
				types = w.types(name)
			}
			for _, t := range types {
				if apex && (t == dns.TypeSOA || t == dns.TypeNS) {
					continue
				}
				w.put(name, t, nil)
			}
		case dns.ClassNONE:
			if apex && h.Rrtype == dns.TypeSOA {
				continue
			}
			set := w.get(name, h.Rrtype)
			var kept []dns.RR
			for _, x := range set {
				if !sameRR(x, rr) {
					kept = append(kept, x)
				}
			}
			if apex && h.Rrtype == dns.TypeNS && len(kept) == 0 {
				continue // the zone keeps a name server
			}
			w.put(name, h.Rrtype, kept)
		}
	}
	return w.changes()
}

// working is v with the updates applied so far.
type working struct {
	v    View
	sets map[rrsetKey][]dns.RR // changed RRsets; nil: removed
}

func (w *working) get(name string, t uint16) []dns.RR {
	if set, ok := w.sets[rrsetKey{name, t}]; ok {
		return set
	}
	return w.v.RRset(name, t)
}

func (w *working) put(name string, t uint16, set []dns.RR) {
	if len(set) == 0 {
		set = nil
	}
	w.sets[rrsetKey{name, t}] = set
}

// types gives the types name holds now.
func (w *working) types(name string) []uint16 {
	var out []uint16
	for _, t := range w.v.Types(name) {
		if _, changed := w.sets[rrsetKey{name, t}]; !changed {
			out = append(out, t)
		}
	}
	for k, set := range w.sets {
		if k.name == name && set != nil {
			out = append(out, k.typ)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// add adds rr at name under the RFC's rules.
func (w *working) add(name string, rr dns.RR, apex bool) {
	t := rr.Header().Rrtype
	switch t {
	case dns.TypeSOA:
		cur := w.get(name, t)
		if !apex || len(cur) == 0 || !serial.Less(cur[0].(*dns.SOA).Serial, rr.(*dns.SOA).Serial) {
			return
		}
		w.put(name, t, []dns.RR{normalized(rr, name)})
		return
	case dns.TypeCNAME:
		for _, other := range w.types(name) {
			if other != dns.TypeCNAME && !dnssecType(other) {
				return // CNAME and other data (RFC 2136 3.4.2.2)
			}
		}
		w.put(name, t, []dns.RR{normalized(rr, name)})
		return
	}
	if !dnssecType(t) && len(w.get(name, dns.TypeCNAME)) > 0 {
		return
	}
	set := slices.Clone(w.get(name, t))
	set = slices.DeleteFunc(set, func(x dns.RR) bool { return sameRR(x, rr) })
	set = append(set, normalized(rr, name))
	for i, x := range set {
		if x.Header().Ttl != rr.Header().Ttl {
			c := dns.Copy(x)
			c.Header().Ttl = rr.Header().Ttl
			set[i] = c
		}
	}
	w.put(name, t, set)
}

// changes lists the RRsets that differ from v.
func (w *working) changes() []Change {
	var out []Change
	for k, after := range w.sets {
		before := w.v.RRset(k.name, k.typ)
		if sameRRset(before, after) && sameTTLs(before, after) {
			continue
		}
		out = append(out, Change{Name: k.name, Type: k.typ, Before: before, After: after})
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type))
	})
	return out
}

// sameTTLs reports whether two RRsets of the same records carry the same
// TTL.
func sameTTLs(a, b []dns.RR) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	return a[0].Header().Ttl == b[0].Header().Ttl
}

// normalized is rr owned by name (lowercase) in class IN.
func normalized(rr dns.RR, name string) dns.RR {
	c := dns.Copy(rr)
	c.Header().Name, c.Header().Class, c.Header().Rdlength = name, dns.ClassINET, 0
	return c
}

// dnssecType reports the types a signed zone makes, which may stand
// beside a CNAME.
func dnssecType(t uint16) bool {
	return t == dns.TypeRRSIG || t == dns.TypeNSEC || t == dns.TypeNSEC3
}
