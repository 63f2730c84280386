package dnsserver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// option packs one EDNS option: its code, length and data.
func option(code uint16, data ...byte) []byte {
	return append(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, code), uint16(len(data))), data...)
}

// resolverOptions are OPT RDATAs that resolvers send and slotdns ignores:
// the answer is the one to the same query with a bare OPT.
var resolverOptions = []struct {
	name  string
	rdata []byte
}{
	{"client cookie", option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8)},
	{"client and server cookie", option(dns.EDNS0COOKIE, bytes.Repeat([]byte{0xc0}, 24)...)},
	{"padding", option(dns.EDNS0PADDING, make([]byte, 100)...)},
	{"empty padding", option(dns.EDNS0PADDING)},
	{"NSID request", option(dns.EDNS0NSID)},
	{"subnet IPv4 /24", option(dns.EDNS0SUBNET, 0, 1, 24, 0, 198, 51, 100)},
	{"subnet IPv6 /56", option(dns.EDNS0SUBNET, 0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x01)},
	{"subnet IPv4 /0", option(dns.EDNS0SUBNET, 0, 1, 0, 0)},
	{"cookie, NSID and padding", slices.Concat(option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8),
		option(dns.EDNS0NSID), option(dns.EDNS0PADDING, 0, 0, 0))},
}

// withOptions packs m, which must end in an OPT without options, with
// rdata as that OPT's RDATA; rdlength says how long the RDATA claims to be.
func withOptions(t testing.TB, m *dns.Msg, rdata []byte, rdlength int) []byte {
	t.Helper()
	wire := pack(t, m)
	if m.IsEdns0() == nil || len(m.IsEdns0().Option) != 0 {
		t.Fatalf("withOptions: got %v, want a query ending in a bare OPT", m)
	}
	binary.BigEndian.PutUint16(wire[len(wire)-2:], uint16(rdlength))
	return append(wire, rdata...)
}

// differentialQueries are queries the fast path takes.
func differentialQueries(t testing.TB) [][]byte {
	var out [][]byte
	for _, name := range []string{"www.example.com.", "WWW.Example.COM.", "example.com.", "nope.example.com.",
		"NoPe.example.com.", "a.sub.example.com.", "broken.example.com.", "example.org.", "big.example.com.", "."} {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeANY, dns.TypeSOA} {
			for _, edns := range []int{0, 1, 2} { // none, plain, DO
				for _, flags := range []int{0, 1, 2, 3} { // RD, CD
					q := query(name, qtype, func(m *dns.Msg) {
						m.Id = uint16(len(out))
						m.RecursionDesired = flags&1 != 0
						m.CheckingDisabled = flags&2 != 0
					})
					if edns == 0 {
						out = append(out, pack(t, q))
						continue
					}
					q.SetEdns0(1232, edns == 2)
					out = append(out, pack(t, q))
					for _, o := range resolverOptions {
						q.Id = uint16(len(out))
						out = append(out, withOptions(t, q, o.rdata, len(o.rdata)))
					}
				}
			}
		}
	}
	return out
}

// TestOptionsIgnored checks, on the slow path alone, what lets the fast path
// serve a query with options from the bare OPT's cached response: the slow
// path's answer does not depend on them.
func TestOptionsIgnored(t *testing.T) {
	t.Parallel()
	st := testState(t)
	for _, o := range resolverOptions {
		t.Run(o.name, func(t *testing.T) {
			for _, name := range []string{"www.example.com.", "nope.example.com.", "example.org.", "big.example.com."} {
				for _, udp := range []bool{true, false} {
					bare := query(name, dns.TypeA, withEDNS(1232, true))
					want := st.respondSlow(pack(t, bare), nil, udp, nil, nil)
					got := st.respondSlow(withOptions(t, bare, o.rdata, len(o.rdata)), nil, udp, nil, nil)
					if !bytes.Equal(got, want) {
						t.Errorf("%s udp=%v:\ngot  % x\nwant % x", name, udp, got, want)
					}
				}
			}
		})
	}
}

// optionCase is an OPT RDATA for a query of www.example.com A, the rcode
// it gets, and whether the fast path takes it.
type optionCase struct {
	name     string
	rdata    []byte
	rdlength int // -1: len(rdata)
	fast     bool
	rcode    int
}

var optionCases = []optionCase{
	{"cookie", option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8), -1, true, dns.RcodeSuccess},
	{"cookie and padding", slices.Concat(option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8), option(dns.EDNS0PADDING, 0, 0)), -1, true, dns.RcodeSuccess},
	{"subnet", option(dns.EDNS0SUBNET, 0, 1, 24, 0, 198, 51, 100), -1, true, dns.RcodeSuccess},
	{"NSID", option(dns.EDNS0NSID), -1, true, dns.RcodeSuccess},
	// Malformed framing: the slow path answers FORMERR.
	{"option header cut short", []byte{0, 10, 0}, -1, false, dns.RcodeFormatError},
	{"option longer than RDATA", option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5, 6, 7, 8)[:10], -1, false, dns.RcodeFormatError},
	{"second option cut short", append(option(dns.EDNS0NSID), 0, 12), -1, false, dns.RcodeFormatError},
	{"RDLENGTH past the end", option(dns.EDNS0NSID), 6, false, dns.RcodeFormatError},
	{"RDLENGTH short of the options", option(dns.EDNS0PADDING, 0, 0), 4, false, dns.RcodeFormatError},
	// Content the slow path rejects.
	{"subnet family 3", option(dns.EDNS0SUBNET, 0, 3, 0, 0), -1, false, dns.RcodeFormatError},
	{"subnet prefix past IPv4", option(dns.EDNS0SUBNET, 0, 1, 33, 0, 1, 2, 3, 4, 5), -1, false, dns.RcodeFormatError},
	{"subnet too short", option(dns.EDNS0SUBNET, 0, 1, 0), -1, false, dns.RcodeFormatError},
	// Odd but accepted by the slow path: it decides, and ignores them.
	{"cookie of 5 bytes", option(dns.EDNS0COOKIE, 1, 2, 3, 4, 5), -1, false, dns.RcodeSuccess},
	{"NSID with data", option(dns.EDNS0NSID, 1), -1, false, dns.RcodeSuccess},
	{"subnet with scope", option(dns.EDNS0SUBNET, 0, 1, 24, 24, 198, 51, 100), -1, false, dns.RcodeSuccess},
	{"subnet address longer than prefix", option(dns.EDNS0SUBNET, 0, 1, 8, 0, 198, 51, 100, 7), -1, false, dns.RcodeSuccess},
	{"subnet family 0", option(dns.EDNS0SUBNET, 0, 0, 0, 0), -1, false, dns.RcodeSuccess},
	{"unknown option", option(65001, 1, 2, 3), -1, false, dns.RcodeSuccess},
	{"expire", option(dns.EDNS0EXPIRE), -1, false, dns.RcodeSuccess},
}

func (tc optionCase) packet(t testing.TB) []byte {
	rdlength := tc.rdlength
	if rdlength < 0 {
		rdlength = len(tc.rdata)
	}
	return withOptions(t, query("www.example.com.", dns.TypeA, withEDNS(1232, false)), tc.rdata, rdlength)
}

// TestFastPathOptions checks which option sets the fast path takes, and that
// the answer to each is the slow path's, whichever path gives it.
func TestFastPathOptions(t *testing.T) {
	t.Parallel()
	st := testState(t)
	for _, tc := range optionCases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.packet(t)
			var key [maxKeyLen]byte
			if _, _, got := parseFast(req, &key); got != tc.fast {
				t.Errorf("fast path takes it: got %v, want %v", got, tc.fast)
			}
			for _, udp := range []bool{true, false} {
				want := st.respondSlow(req, nil, udp, nil, nil)
				got, wire := exchange(t, st, req, udp)
				if !bytes.Equal(wire, want) {
					t.Errorf("udp=%v:\ngot  % x\nwant % x", udp, wire, want)
				}
				if got.Rcode != tc.rcode {
					t.Errorf("udp=%v: rcode: got %s, want %s", udp, dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.rcode])
				}
			}
		})
	}
}

// TestFastPathMatchesSlowPath checks that the cached answer is the one the
// full parse gives, byte for byte, for first and repeated queries.
func TestFastPathMatchesSlowPath(t *testing.T) {
	t.Parallel()
	st := testState(t)
	for round := range 2 {
		for _, req := range differentialQueries(t) {
			var key [maxKeyLen]byte
			if _, _, ok := parseFast(req, &key); !ok {
				t.Fatalf("fast path refuses % x", req)
			}
			for _, udp := range []bool{true, false} {
				want := st.respondSlow(req, nil, udp, nil, nil)
				got := st.respond(req, nil, udp, nil)
				if !bytes.Equal(got, want) {
					var m dns.Msg
					m.Unpack(req)
					t.Errorf("round %d udp=%v %v:\ngot  % x\nwant % x", round, udp, m.Question, got, want)
				}
			}
		}
	}
	if st.cache.len() == 0 {
		t.Error("cache: got no entries, want the fast path to fill it")
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	st := testState(t)
	st.cache = newResponseCache(10, maxCachedBytes)
	for i := range 50 {
		req := pack(t, query(fmt.Sprintf("n%d.example.com.", i), dns.TypeA))
		got, _ := exchange(t, st, req, true)
		if got.Rcode != dns.RcodeNameError {
			t.Fatalf("n%d: got %s, want NXDOMAIN", i, dns.RcodeToString[got.Rcode])
		}
	}
	if got := st.cache.len(); got != 10 {
		t.Errorf("cache size: got %d, want 10", got)
	}
}

func TestCacheBytesBounded(t *testing.T) {
	t.Parallel()
	st := testState(t)
	st.cache = newResponseCache(100, 1000)
	for _, udp := range []bool{false, true} {
		got, _ := exchange(t, st, pack(t, query("big.example.com.", dns.TypeA)), udp)
		if len(got.Answer) == 0 && !got.Truncated {
			t.Fatalf("udp=%v: got %v, want the answers or TC", udp, got)
		}
	}
	exchange(t, st, pack(t, query("www.example.com.", dns.TypeA)), true)
	if got := st.cache.len(); got != 1 {
		t.Errorf("cache entries: got %d, want only the small response kept", got)
	}
}
