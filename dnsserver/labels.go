package dnsserver

import "github.com/miekg/dns"

// The counters' label values come from small fixed sets, so that no query
// can add a label value: a query type or rcode outside the set counts as
// "other". Each set is a table; a counter is kept at the index of its value.

// qtypeNames are the query types counted by name; index 0 is every other.
var qtypeNames = [...]string{"other", "A", "AAAA", "CNAME", "SOA", "NS", "MX", "TXT", "SRV", "CAA", "PTR", "ANY", "AXFR", "IXFR"}

const numQtypes = len(qtypeNames)

// qtypeIndex gives qtype's index in qtypeNames.
func qtypeIndex(qtype uint16) uint8 {
	switch qtype {
	case dns.TypeA:
		return 1
	case dns.TypeAAAA:
		return 2
	case dns.TypeCNAME:
		return 3
	case dns.TypeSOA:
		return 4
	case dns.TypeNS:
		return 5
	case dns.TypeMX:
		return 6
	case dns.TypeTXT:
		return 7
	case dns.TypeSRV:
		return 8
	case dns.TypeCAA:
		return 9
	case dns.TypePTR:
		return 10
	case dns.TypeANY:
		return 11
	case dns.TypeAXFR:
		return 12
	case dns.TypeIXFR:
		return 13
	}
	return 0
}

// rcodeNames are the rcodes counted by name, at the index rcodeIndex
// gives; the last is every other (BADVERS among them).
var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "NOTAUTH", "other"}

const (
	numRcodes  = len(rcodeNames)
	otherRcode = numRcodes - 1
)

// rcodeIndex maps the 4-bit rcode of a response header to its index in
// rcodeNames: rcodes 0 to 5 are their own index.
var rcodeIndex = [16]int{0, 1, 2, 3, 4, 5, otherRcode, otherRcode, otherRcode,
	6, // NOTAUTH
	otherRcode, otherRcode, otherRcode, otherRcode, otherRcode, otherRcode}

// Protocols, the index of a reader's counters.
const (
	protoUDP = iota
	protoTCP
)

var protocolNames = [...]string{protoUDP: "udp", protoTCP: "tcp"}

// Transfer types and results.
var (
	transferTypeNames   = [...]string{"AXFR", "IXFR"}
	transferResultNames = [...]string{"ok", "refused"}
)

const (
	transferOK = iota
	transferRefused
)

// tsigReasons are why a request's TSIG failed, at the index tsigReason
// gives them (0 is no failure).
var tsigReasons = [...]string{1: "bad_key", 2: "bad_signature", 3: "bad_time", 4: "bad_truncation", 5: "malformed"}

// tsigReason gives the index in tsigReasons of a failed check, 0 when the
// check passed.
func tsigReason(c tsigCheck) uint8 {
	switch {
	case c.formErr:
		return 5
	case c.err == dns.RcodeBadKey:
		return 1
	case c.err == dns.RcodeBadSig:
		return 2
	case c.err == dns.RcodeBadTime:
		return 3
	case c.err == dns.RcodeBadTrunc:
		return 4
	}
	return 0
}
