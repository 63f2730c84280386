package dnsserver

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// fakeLookup stands in for a snapshot, so that every Result (SERVFAIL and
// large answers included) can be produced at will.
func fakeLookup(t testing.TB) lookupFunc {
	rrs := func(lines ...string) []dns.RR {
		var out []dns.RR
		for _, l := range lines {
			rr, err := dns.NewRR(l)
			if err != nil {
				t.Fatalf("bad test RR %q: %v", l, err)
			}
			out = append(out, rr)
		}
		return out
	}
	soa := rrs("example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 300")
	var big []string
	for i := range 100 {
		big = append(big, fmt.Sprintf("big.example.com. 60 IN A 198.18.0.%d", i))
	}
	bigAnswer := rrs(big...)
	return func(qname string, qtype uint16) zones.Answer {
		switch {
		case qname == "www.example.com.":
			return zones.Answer{Result: zones.Success, Zone: "example.com.",
				Answer: rrs("www.example.com. 30 IN CNAME blue.example.net.")}
		case qname == "example.com." && qtype == dns.TypeMX:
			return zones.Answer{Result: zones.Success, Zone: "example.com.",
				Answer: rrs("example.com. 300 IN MX 10 mail.example.com."),
				Extra:  rrs("mail.example.com. 300 IN A 192.0.2.25")}
		case qname == "example.com.":
			return zones.Answer{Result: zones.NoData, Zone: "example.com.", Ns: soa}
		case qname == "big.example.com.":
			return zones.Answer{Result: zones.Success, Zone: "example.com.", Answer: bigAnswer}
		case qname == "broken.example.com.":
			return zones.Answer{Result: zones.ServerFailure, Zone: "example.com."}
		case strings.HasSuffix(qname, "sub.example.com."):
			return zones.Answer{Result: zones.Delegation, Zone: "example.com.",
				Ns:    rrs("sub.example.com. 3600 IN NS ns.sub.example.com."),
				Extra: rrs("ns.sub.example.com. 3600 IN A 192.0.2.53")}
		case strings.HasSuffix(qname, "example.com."):
			return zones.Answer{Result: zones.NameError, Zone: "example.com.", Ns: soa}
		}
		return zones.Answer{Result: zones.NotAuth}
	}
}

func testState(t testing.TB) *state {
	st := newState(nil)
	st.lookup = fakeLookup(t)
	return st
}

// exchange runs req through the handler and unpacks the response; it fails
// the test when a response does not parse.
func exchange(t testing.TB, st *state, req []byte, udp bool) (*dns.Msg, []byte) {
	t.Helper()
	wire := st.respond(req, nil, udp, nil)
	if wire == nil {
		return nil, nil
	}
	var m dns.Msg
	if err := m.Unpack(wire); err != nil {
		t.Fatalf("response does not parse: %v\n% x", err, wire)
	}
	return &m, wire
}

func query(name string, qtype uint16, opts ...func(*dns.Msg)) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0xbeef
	m.RecursionDesired = false
	for _, o := range opts {
		o(m)
	}
	return m
}

func withEDNS(size uint16, do bool) func(*dns.Msg) {
	return func(m *dns.Msg) { m.SetEdns0(size, do) }
}

// withCookie adds a client cookie to m's OPT, as BIND and Unbound send one.
func withCookie(m *dns.Msg) {
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	wire, err := m.Pack()
	if err != nil {
		t.Fatalf("pack query: %v", err)
	}
	return wire
}

func TestHandlerRcodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		req               *dns.Msg
		rcode             int
		aa                bool
		answer, ns, extra int
	}{
		{"success", query("www.example.com.", dns.TypeA), dns.RcodeSuccess, true, 1, 0, 0},
		{"success with additional", query("example.com.", dns.TypeMX), dns.RcodeSuccess, true, 1, 0, 1},
		{"nodata", query("example.com.", dns.TypeAAAA), dns.RcodeSuccess, true, 0, 1, 0},
		{"nxdomain", query("nope.example.com.", dns.TypeA), dns.RcodeNameError, true, 0, 1, 0},
		{"referral has no AA", query("a.sub.example.com.", dns.TypeA), dns.RcodeSuccess, false, 0, 1, 1},
		{"servfail", query("broken.example.com.", dns.TypeA), dns.RcodeServerFailure, false, 0, 0, 0},
		{"outside our zones", query("example.org.", dns.TypeA), dns.RcodeRefused, false, 0, 0, 0},
		{"axfr", query("example.com.", dns.TypeAXFR), dns.RcodeRefused, false, 0, 0, 0},
		{"ixfr", query("example.com.", dns.TypeIXFR), dns.RcodeRefused, false, 0, 0, 0},
		{"class CH", query("www.example.com.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }),
			dns.RcodeRefused, false, 0, 0, 0},
		{"class ANY", query("www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }),
			dns.RcodeSuccess, true, 1, 0, 0},
		{"notify", query("example.com.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
			dns.RcodeNotAuth, false, 0, 0, 0},
		{"update", query("example.com.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }),
			dns.RcodeNotImplemented, false, 0, 0, 0},
		{"status", query("example.com.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }),
			dns.RcodeNotImplemented, false, 0, 0, 0},
		{"no question", query("example.com.", dns.TypeA, func(m *dns.Msg) { m.Question = nil }),
			dns.RcodeFormatError, false, 0, 0, 0},
		{"two questions", query("example.com.", dns.TypeA, func(m *dns.Msg) {
			m.Question = append(m.Question, m.Question[0])
		}), dns.RcodeFormatError, false, 0, 0, 0},
		{"edns version 1", query("www.example.com.", dns.TypeA, withEDNS(1232, false), func(m *dns.Msg) {
			m.IsEdns0().SetVersion(1)
		}), dns.RcodeBadVers, false, 0, 0, 1},
		{"two OPTs", query("www.example.com.", dns.TypeA, withEDNS(1232, false), func(m *dns.Msg) {
			m.Extra = append(m.Extra, m.Extra[0])
		}), dns.RcodeFormatError, false, 0, 0, 0},
		{"unknown EDNS option ignored", query("www.example.com.", dns.TypeA, withEDNS(1232, false), func(m *dns.Msg) {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}})
		}), dns.RcodeSuccess, true, 1, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := exchange(t, testState(t), pack(t, tc.req), true)
			if got == nil {
				t.Fatal("got no response")
			}
			if got.Rcode != tc.rcode {
				t.Errorf("rcode: got %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.rcode])
			}
			if got.Authoritative != tc.aa {
				t.Errorf("AA: got %v, want %v", got.Authoritative, tc.aa)
			}
			if len(got.Answer) != tc.answer || len(got.Ns) != tc.ns || len(got.Extra) != tc.extra {
				t.Errorf("sections: got %d/%d/%d, want %d/%d/%d\n%v",
					len(got.Answer), len(got.Ns), len(got.Extra), tc.answer, tc.ns, tc.extra, got)
			}
			if got.Id != tc.req.Id || !got.Response || got.Opcode != tc.req.Opcode || got.RecursionAvailable {
				t.Errorf("header: got id %#x QR %v opcode %d RA %v, want id %#x QR true opcode %d RA false",
					got.Id, got.Response, got.Opcode, got.RecursionAvailable, tc.req.Id, tc.req.Opcode)
			}
			if len(tc.req.Question) == 1 && (len(got.Question) != 1 || got.Question[0] != tc.req.Question[0]) {
				t.Errorf("question: got %v, want %v", got.Question, tc.req.Question)
			}
		})
	}
}

func TestHandlerFlags(t *testing.T) {
	t.Parallel()
	st := testState(t)
	for _, rd := range []bool{false, true} {
		for _, cd := range []bool{false, true} {
			req := query("www.example.com.", dns.TypeA, func(m *dns.Msg) {
				m.RecursionDesired, m.CheckingDisabled = rd, cd
			})
			got, _ := exchange(t, st, pack(t, req), true)
			if got.RecursionDesired != rd || got.CheckingDisabled != cd || got.RecursionAvailable {
				t.Errorf("rd=%v cd=%v: got RD %v CD %v RA %v, want RD and CD copied, RA clear",
					rd, cd, got.RecursionDesired, got.CheckingDisabled, got.RecursionAvailable)
			}
		}
	}
}

func TestHandlerEDNS(t *testing.T) {
	t.Parallel()
	st := testState(t)
	tests := []struct {
		name     string
		req      *dns.Msg
		wantOPT  bool
		wantDO   bool
		wantSize uint16
	}{
		{"no OPT, none back", query("www.example.com.", dns.TypeA), false, false, 0},
		{"OPT answered with 1232", query("www.example.com.", dns.TypeA, withEDNS(4096, false)), true, false, 1232},
		{"DO echoed", query("www.example.com.", dns.TypeA, withEDNS(4096, true)), true, true, 1232},
		{"small size still 1232", query("www.example.com.", dns.TypeA, withEDNS(512, true)), true, true, 1232},
		{"OPT on NXDOMAIN", query("nope.example.com.", dns.TypeA, withEDNS(1232, true)), true, true, 1232},
		{"OPT on REFUSED", query("example.org.", dns.TypeA, withEDNS(1232, false)), true, false, 1232},
	}
	edeTests := []struct {
		name  string
		st    *state
		req   *dns.Msg
		code  uint16
		found bool
	}{
		{"outside our zones", st, query("example.org.", dns.TypeA, withEDNS(1232, false)), dns.ExtendedErrorCodeNotAuthoritative, true},
		{"transfer", st, query("example.com.", dns.TypeAXFR, withEDNS(1232, false)), dns.ExtendedErrorCodeProhibited, true},
		{"class CH", st, query("version.bind.", dns.TypeTXT, withEDNS(1232, false), func(m *dns.Msg) {
			m.Question[0].Qclass = dns.ClassCHAOS
		}), dns.ExtendedErrorCodeNotAuthoritative, true},
		{"before Publish", newState(nil), query("www.example.com.", dns.TypeA, withEDNS(1232, false)), dns.ExtendedErrorCodeNotReady, true},
		{"answer has none", st, query("www.example.com.", dns.TypeA, withEDNS(1232, false)), 0, false},
	}
	for _, tc := range edeTests {
		t.Run("EDE "+tc.name, func(t *testing.T) {
			got, _ := exchange(t, tc.st, pack(t, tc.req), true)
			var ede *dns.EDNS0_EDE
			for _, o := range got.IsEdns0().Option {
				if e, ok := o.(*dns.EDNS0_EDE); ok {
					ede = e
				}
			}
			if (ede != nil) != tc.found || (ede != nil && ede.InfoCode != tc.code) {
				t.Errorf("got EDE %v, want code %d (present %v)", ede, tc.code, tc.found)
			}
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := exchange(t, st, pack(t, tc.req), true)
			opt := got.IsEdns0()
			if (opt != nil) != tc.wantOPT {
				t.Fatalf("OPT: got %v, want present=%v", opt, tc.wantOPT)
			}
			if opt == nil {
				return
			}
			if opt.Do() != tc.wantDO || opt.UDPSize() != tc.wantSize || opt.Version() != 0 {
				t.Errorf("OPT: got DO %v size %d version %d, want DO %v size %d version 0",
					opt.Do(), opt.UDPSize(), opt.Version(), tc.wantDO, tc.wantSize)
			}
		})
	}
}

func TestHandlerQuestionCaseKept(t *testing.T) {
	t.Parallel()
	st := testState(t)
	for _, name := range []string{"WwW.ExAmPlE.cOm.", "NOPE.EXAMPLE.COM.", "Example.ORG."} {
		for _, edns := range []bool{false, true} {
			req := query(name, dns.TypeA)
			if edns {
				req.SetEdns0(1232, false)
			}
			wire := pack(t, req)
			_, got := exchange(t, st, wire, true)
			qend := 12 + len(name) + 1 + 4
			if !bytes.Equal(got[12:qend], wire[12:qend]) {
				t.Errorf("%s edns=%v: got question % x, want % x", name, edns, got[12:qend], wire[12:qend])
			}
		}
	}
}

func TestHandlerTruncation(t *testing.T) {
	t.Parallel()
	st := testState(t)
	tests := []struct {
		name    string
		req     *dns.Msg
		udp     bool
		wantTC  bool
		maxSize int
	}{
		{"UDP without EDNS: 512", query("big.example.com.", dns.TypeA), true, true, 512},
		{"UDP EDNS 4096 capped at 1232", query("big.example.com.", dns.TypeA, withEDNS(4096, false)), true, true, 1232},
		{"UDP EDNS below 512 floored", query("big.example.com.", dns.TypeA, withEDNS(100, true)), true, true, 512},
		{"TCP whole", query("big.example.com.", dns.TypeA), false, false, maxTCPSize},
		{"TCP whole with EDNS", query("big.example.com.", dns.TypeA, withEDNS(512, false)), false, false, maxTCPSize},
		{"small answer not cut", query("www.example.com.", dns.TypeA), true, false, 512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, wire := exchange(t, st, pack(t, tc.req), tc.udp)
			if len(wire) > tc.maxSize {
				t.Errorf("size: got %d, want at most %d", len(wire), tc.maxSize)
			}
			if got.Truncated != tc.wantTC {
				t.Fatalf("TC: got %v, want %v", got.Truncated, tc.wantTC)
			}
			if len(got.Question) != 1 || got.Question[0] != tc.req.Question[0] {
				t.Errorf("question: got %v, want %v", got.Question, tc.req.Question)
			}
			if tc.wantTC && (len(got.Answer) != 0 || len(got.Ns) != 0) {
				t.Errorf("truncated sections: got %d answers, %d authority, want none", len(got.Answer), len(got.Ns))
			}
			if !tc.wantTC && tc.req.Question[0].Name == "big.example.com." && len(got.Answer) != 100 {
				t.Errorf("answers: got %d, want 100", len(got.Answer))
			}
			if (got.IsEdns0() != nil) != (tc.req.IsEdns0() != nil) {
				t.Errorf("OPT: got %v, want one exactly when asked", got.IsEdns0())
			}
		})
	}
}

func TestHandlerBeforePublish(t *testing.T) {
	t.Parallel()
	got, _ := exchange(t, newState(nil), pack(t, query("www.example.com.", dns.TypeA)), true)
	if got.Rcode != dns.RcodeRefused || got.Authoritative {
		t.Errorf("got rcode %s AA %v, want REFUSED without AA", dns.RcodeToString[got.Rcode], got.Authoritative)
	}
}

// malformed lists packets that must not crash the handler: each gets a
// FORMERR echoing the ID, or no response at all.
var malformed = []struct {
	name   string
	packet []byte
}{
	{"empty", nil},
	{"short header", []byte{0xbe, 0xef, 0x01}},
	{"header only", []byte{0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}},
	{"response", []byte{0xbe, 0xef, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	{"garbage", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xfe\xfd\xfc\xfb\xfa")},
	{"truncated question", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07exa")},
	{"question without type", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x00\x00")},
	{"compression loop", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01")},
	{"pointer forward", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x20\x00\x01\x00\x01")},
	{"label too long", append([]byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x50"), bytes.Repeat([]byte{'a'}, 80)...)},
	{"huge counts", []byte("\xbe\xef\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\x03www\x00\x00\x01\x00\x01")},
	{"qdcount 2, one question", []byte("\xbe\xef\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x03www\x00\x00\x01\x00\x01")},
	{"arcount without record", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03www\x00\x00\x01\x00\x01")},
	{"OPT cut short", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03www\x00\x00\x01\x00\x01\x00\x00\x29\x10")},
	{"OPT rdlength past end", []byte("\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x03www\x00\x00\x01\x00\x01\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x09")},
}

func TestHandlerMalformed(t *testing.T) {
	t.Parallel()
	st := testState(t)
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := exchange(t, st, tc.packet, true)
			if got == nil {
				return
			}
			if got.Id != 0xbeef || !got.Response {
				t.Errorf("got id %#x QR %v, want id 0xbeef QR true", got.Id, got.Response)
			}
			if got.Rcode == dns.RcodeSuccess {
				t.Errorf("got NOERROR for a malformed packet:\n%v", got)
			}
		})
	}
	// After all of that, a good query is still answered.
	got, _ := exchange(t, st, pack(t, query("www.example.com.", dns.TypeA)), true)
	if got == nil || got.Rcode != dns.RcodeSuccess {
		t.Errorf("good query after malformed ones: got %v, want NOERROR", got)
	}
}

func FuzzHandler(f *testing.F) {
	for _, req := range differentialQueries(f) {
		f.Add(req)
	}
	for _, tc := range malformed {
		f.Add(tc.packet)
	}
	for _, tc := range optionCases {
		f.Add(tc.packet(f))
	}
	for _, req := range transferQueries(f) {
		f.Add(req)
	}
	// The fake lookup reaches every Result; the real snapshot feeds odd
	// names to zones.Lookup.
	states := []*state{testState(f), newState(testSnapshot(f, "blue.cloudapp.test."))}
	// The server's own path: transfers from an allowed peer, signed or not,
	// with a journal for IXFR.
	zone := testZone(f, 7, 50)
	srv := New(Config{Cookies: &CookieSecrets{Current: [16]byte{7}}, Transfer: &Transfer{
		Peers:   map[string][]Peer{"example.com.": {{Addr: loopback}}, "yourwebapp.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys:    testKeys(),
		Journal: fakeJournal([]Delta{{Removed: []dns.RR{testSOA(f, 6)}, Added: []dns.RR{zone[0]}}}),
	}})
	xst := xfrState(f, zone)
	f.Fuzz(func(t *testing.T, req []byte) {
		for _, udp := range []bool{true, false} {
			var msgs [][]byte
			c := &client{udp: udp, addr: func() netip.Addr { return loopback }, send: func(m []byte) error {
				msgs = append(msgs, append([]byte(nil), m...))
				return nil
			}}
			if resp := srv.respond(xst, req, nil, c); resp != nil {
				msgs = append(msgs, resp)
			}
			for _, wire := range msgs {
				var m dns.Msg
				if err := m.Unpack(wire); err != nil {
					t.Fatalf("udp=%v: response does not parse: %v\n% x", udp, err, wire)
				}
				if !m.Response || m.Id != uint16(req[0])<<8|uint16(req[1]) {
					t.Fatalf("udp=%v: got id %#x QR %v for a query with id % x", udp, m.Id, m.Response, req[:2])
				}
				if udp && len(wire) > advertisedUDPSize {
					t.Fatalf("UDP response of %d bytes, want at most %d", len(wire), advertisedUDPSize)
				}
			}
			if udp && len(msgs) > 1 {
				t.Fatalf("got %d messages over UDP, want at most one", len(msgs))
			}
		}
		for i, udp := range []bool{true, false, true, false} {
			st := states[i/2]
			wire := st.respond(req, nil, udp, nil)
			slow := st.respondSlow(req, nil, udp, nil, nil)
			if !bytes.Equal(wire, slow) {
				t.Fatalf("udp=%v: fast path gives % x, slow path % x", udp, wire, slow)
			}
			if wire == nil {
				continue
			}
			var m dns.Msg
			if err := m.Unpack(wire); err != nil {
				t.Fatalf("response does not parse: %v\n% x", err, wire)
			}
			if !m.Response || len(req) < 2 || m.Id != uint16(req[0])<<8|uint16(req[1]) {
				t.Fatalf("got id %#x QR %v for a query with id % x", m.Id, m.Response, req[:min(2, len(req))])
			}
			if udp && len(wire) > advertisedUDPSize {
				t.Fatalf("UDP response of %d bytes, want at most %d", len(wire), advertisedUDPSize)
			}
		}
	})
}

// transferQueries are zone transfers and signed queries, for the fuzzer to
// start from.
func transferQueries(t testing.TB) [][]byte {
	sign := func(m *dns.Msg, key, secret string) []byte {
		signed(m, key)
		wire, _, err := dns.TsigGenerate(m, secret, "", false)
		if err != nil {
			t.Fatal(err)
		}
		return wire
	}
	noSOA := new(dns.Msg)
	noSOA.SetQuestion("example.com.", dns.TypeIXFR)
	return [][]byte{
		pack(t, axfrQuery("example.com.")),
		pack(t, axfrQuery("yourwebapp.com.")),
		pack(t, query("example.com.", dns.TypeAXFR, withEDNS(1232, true))),
		pack(t, ixfrQuery("example.com.", 6)),
		pack(t, ixfrQuery("example.com.", 7)),
		pack(t, ixfrQuery("example.com.", 2)),
		pack(t, noSOA),
		sign(axfrQuery("yourwebapp.com."), testKeyName, testSecret),
		sign(axfrQuery("yourwebapp.com."), testKeyName, otherSecret),
		sign(ixfrQuery("example.com.", 6), testKeyName, testSecret),
		sign(query("www.example.com.", dns.TypeA, withEDNS(1232, false)), testKeyName, testSecret),
		sign(query("www.example.com.", dns.TypeA, withEDNS(1232, false), withCookie), testKeyName, testSecret),
		sign(query("big.example.com.", dns.TypeA), testKeyName, testSecret),
		sign(query("www.example.com.", dns.TypeA), "nope.", testSecret),
	}
}
