package update

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Error is an UPDATE refused: the rcode to answer with and why, for the
// log and the client's EDE text.
type Error struct {
	Rcode  int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", dns.RcodeToString[e.Rcode], e.Reason)
}

func errorf(rcode int, format string, args ...any) *Error {
	return &Error{Rcode: rcode, Reason: fmt.Sprintf(format, args...)}
}

// Request is an UPDATE message read: the zone it updates (lowercase
// FQDN), its prerequisites and its updates, in the message's order.
type Request struct {
	Zone    string
	Prereqs []dns.RR
	Updates []dns.RR
}

// Parse reads m, an UPDATE (RFC 2136 2): a zone section of one SOA
// question in class IN, the prerequisites in the answer section and the
// updates in the authority section. A message of another shape is
// FORMERR, another class NOTIMP.
func Parse(m *dns.Msg) (*Request, *Error) {
	if m.Opcode != dns.OpcodeUpdate {
		return nil, errorf(dns.RcodeFormatError, "opcode %s, not UPDATE", dns.OpcodeToString[m.Opcode])
	}
	if len(m.Question) != 1 {
		return nil, errorf(dns.RcodeFormatError, "%d records in the zone section, want 1", len(m.Question))
	}
	z := m.Question[0]
	if z.Qtype != dns.TypeSOA {
		return nil, errorf(dns.RcodeFormatError, "zone section of type %s, want SOA", dns.TypeToString[z.Qtype])
	}
	if z.Qclass != dns.ClassINET {
		return nil, errorf(dns.RcodeNotImplemented, "zone section of class %s; only IN is served", dns.ClassToString[z.Qclass])
	}
	if _, ok := dns.IsDomainName(z.Name); !ok {
		return nil, errorf(dns.RcodeFormatError, "zone name %q", z.Name)
	}
	return &Request{Zone: strings.ToLower(dns.Fqdn(z.Name)), Prereqs: m.Answer, Updates: m.Ns}, nil
}

// inZone reports whether name is zone or below it.
func inZone(name, zone string) bool { return dns.IsSubDomain(zone, strings.ToLower(name)) }

// emptyRDATA reports whether rr carries no RDATA, as the prerequisites
// and deletions of class ANY and NONE do where they name no records.
// Read from the wire, such a record keeps its RDLENGTH of 0; built with
// miekg/dns's helpers (RRsetUsed, RemoveRRset...) it is a *dns.ANY.
func emptyRDATA(rr dns.RR) bool {
	if _, ok := rr.(*dns.ANY); ok {
		return true
	}
	return rr.Header().Rdlength == 0
}
