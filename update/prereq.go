package update

import (
	"strings"

	"github.com/miekg/dns"
)

// View is what the zone serves, as an update sees it: the zone file's
// records and the dynamic ones laid over them.
type View interface {
	// RRset gives the records of type t at name (lowercase FQDN).
	RRset(name string, t uint16) []dns.RR
	// Types gives the types name holds; none when it does not exist
	// (an empty non-terminal holds none, yet exists: see Exists).
	Types(name string) []uint16
	// Exists reports whether name holds records or has names below it.
	Exists(name string) bool
}

// CheckPrerequisites evaluates prereqs against v, in order, and gives
// the first that fails with its rcode (RFC 2136 3.2): a name in use
// (YXDOMAIN when asked not to be, NXDOMAIN when asked to be), an RRset
// that exists (NXRRSET when it does not, YXRRSET when it should not), and
// an RRset that exists with exactly the records given (NXRRSET). A
// prerequisite outside the zone is NOTZONE; one with a TTL, or of a
// class or shape the RFC does not define, FORMERR.
func CheckPrerequisites(zone string, prereqs []dns.RR, v View) *Error {
	valueDependent := map[rrsetKey][]dns.RR{}
	var order []rrsetKey
	for _, rr := range prereqs {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		if h.Ttl != 0 {
			return errorf(dns.RcodeFormatError, "prerequisite %s %s has TTL %d, want 0", name, dns.TypeToString[h.Rrtype], h.Ttl)
		}
		if !inZone(name, zone) {
			return errorf(dns.RcodeNotZone, "prerequisite %s is outside zone %s", name, zone)
		}
		switch h.Class {
		case dns.ClassANY:
			if !emptyRDATA(rr) {
				return errorf(dns.RcodeFormatError, "prerequisite %s of class ANY carries RDATA", name)
			}
			if h.Rrtype == dns.TypeANY {
				if !v.Exists(name) {
					return errorf(dns.RcodeNameError, "prerequisite: %s is not in use", name)
				}
			} else if len(v.RRset(name, h.Rrtype)) == 0 {
				return errorf(dns.RcodeNXRrset, "prerequisite: %s has no %s records", name, dns.TypeToString[h.Rrtype])
			}
		case dns.ClassNONE:
			if !emptyRDATA(rr) {
				return errorf(dns.RcodeFormatError, "prerequisite %s of class NONE carries RDATA", name)
			}
			if h.Rrtype == dns.TypeANY {
				if v.Exists(name) {
					return errorf(dns.RcodeYXDomain, "prerequisite: %s is in use", name)
				}
			} else if len(v.RRset(name, h.Rrtype)) > 0 {
				return errorf(dns.RcodeYXRrset, "prerequisite: %s has %s records", name, dns.TypeToString[h.Rrtype])
			}
		case dns.ClassINET:
			if h.Rrtype == dns.TypeANY || IsMeta(h.Rrtype) {
				return errorf(dns.RcodeFormatError, "prerequisite %s of class IN and type %s", name, dns.TypeToString[h.Rrtype])
			}
			k := rrsetKey{name, h.Rrtype}
			if _, seen := valueDependent[k]; !seen {
				order = append(order, k)
			}
			valueDependent[k] = append(valueDependent[k], rr)
		default:
			return errorf(dns.RcodeFormatError, "prerequisite %s of class %s", name, dns.ClassToString[h.Class])
		}
	}
	// The value-dependent ones are compared RRset by RRset, once all are
	// read (RFC 2136 3.2.3).
	for _, k := range order {
		if !sameRRset(valueDependent[k], v.RRset(k.name, k.typ)) {
			return errorf(dns.RcodeNXRrset, "prerequisite: the %s records of %s are not the ones given", dns.TypeToString[k.typ], k.name)
		}
	}
	return nil
}

// rrsetKey names an RRset.
type rrsetKey struct {
	name string
	typ  uint16
}

// IsMeta reports the types that name no records: ANY, AXFR, IXFR, MAILA,
// MAILB, OPT, TSIG and TKEY.
func IsMeta(t uint16) bool {
	switch t {
	case dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		return true
	}
	return false
}

// sameRRset reports whether a and b hold the same records, TTLs and
// order aside.
func sameRRset(a, b []dns.RR) bool {
	if len(dedupe(a)) != len(dedupe(b)) {
		return false
	}
	for _, x := range a {
		if !containsRR(b, x) {
			return false
		}
	}
	return true
}

// containsRR reports whether set holds rr, TTL aside.
func containsRR(set []dns.RR, rr dns.RR) bool {
	for _, x := range set {
		if sameRR(x, rr) {
			return true
		}
	}
	return false
}

// sameRR compares owner, type and RDATA: class and TTL aside.
func sameRR(a, b dns.RR) bool {
	ah, bh := a.Header(), b.Header()
	if ah.Rrtype != bh.Rrtype || !strings.EqualFold(ah.Name, bh.Name) {
		return false
	}
	ac, bc := dns.Copy(a), dns.Copy(b)
	*ac.Header(), *bc.Header() = dns.RR_Header{Name: "x.", Rrtype: ah.Rrtype, Class: dns.ClassINET}, dns.RR_Header{Name: "x.", Rrtype: ah.Rrtype, Class: dns.ClassINET}
	return dns.IsDuplicate(ac, bc)
}

// dedupe drops records that repeat another, TTL aside.
func dedupe(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		if !containsRR(out, rr) {
			out = append(out, rr)
		}
	}
	return out
}
