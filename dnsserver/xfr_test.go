package dnsserver

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/serial"
	"github.com/slotdns/slotdns/zones"
)

const (
	testKeyName  = "xfr-key."
	otherKeyName = "other-key."
)

var (
	testSecret  = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	otherSecret = base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	loopback    = netip.MustParseAddr("127.0.0.1")
)

func testKeys() map[string]TSIGKey {
	return map[string]TSIGKey{
		testKeyName:  {Name: testKeyName, Algorithm: dns.HmacSHA256, Secret: testSecret},
		otherKeyName: {Name: otherKeyName, Algorithm: dns.HmacSHA256, Secret: otherSecret},
	}
}

func rrs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
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

func testSOA(t testing.TB, serial uint32) dns.RR {
	return rrs(t, fmt.Sprintf("example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. %d 3600 600 1209600 300", serial))[0]
}

// zoneRecords is a zone of n names under example.com. in AXFR order, with
// the SOA at serial.
func testZone(t testing.TB, serial uint32, n int) []dns.RR {
	records := []dns.RR{testSOA(t, serial)}
	records = append(records, rrs(t, "example.com. 300 IN NS ns1.example.com.", "ns1.example.com. 300 IN A 192.0.2.53")...)
	for i := range n {
		records = append(records, &dns.A{
			Hdr: dns.RR_Header{Name: fmt.Sprintf("host%d.example.com.", i), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.IPv4(198, 18, byte(i>>8), byte(i)).To4(),
		})
	}
	return records
}

// startXfrServer starts a server with tr whose published state serves
// records for example.com. (standing in for the snapshot's Records) and
// the fake lookup for ordinary queries.
func startXfrServer(t testing.TB, tr *Transfer, records []dns.RR) (*Server, string) {
	t.Helper()
	s := startServer(t, nil, Config{Transfer: tr})
	s.state.Store(xfrState(t, records))
	return s, s.TCPAddrs()[0].String()
}

func xfrState(t testing.TB, records []dns.RR) *state {
	st := testState(t)
	st.transfer = func(origin string) (zones.Transfer, bool) {
		if origin != "example.com." {
			return zones.Transfer{}, false
		}
		soa, _ := records[0].(*dns.SOA)
		return zones.Transfer{SOA: soa, Len: len(records) - 1, Records: slices.Values(records[1:])}, true
	}
	return st
}

// transferIn runs a transfer with miekg/dns's client, which checks every
// message's TSIG when secret is given; it returns the records and how
// many messages carried them.
func transferIn(t testing.TB, addr string, req *dns.Msg, secret map[string]string) ([]dns.RR, int, error) {
	t.Helper()
	tr := &dns.Transfer{TsigSecret: secret, ReadTimeout: 5 * time.Second}
	env, err := tr.In(req, addr)
	if err != nil {
		return nil, 0, err
	}
	var got []dns.RR
	n := 0
	for e := range env {
		if e.Error != nil {
			err = e.Error
			continue
		}
		got = append(got, e.RR...)
		n++
	}
	return got, n, err
}

func signed(m *dns.Msg, key string) *dns.Msg {
	m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	return m
}

func axfrQuery(zone string) *dns.Msg {
	m := new(dns.Msg)
	m.SetAxfr(zone)
	return m
}

func ixfrQuery(zone string, serial uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetIxfr(zone, serial, "ns1.example.com.", "hostmaster.example.com.")
	return m
}

// exchangeRaw sends req (signed with secret when req has a TSIG) over a
// TCP connection and returns the first response unverified, so that
// refusals and TSIG errors can be looked at as they are.
func exchangeRaw(t testing.TB, addr string, req *dns.Msg, secret string) *dns.Msg {
	t.Helper()
	wire := pack(t, req)
	if req.IsTsig() != nil {
		var err error
		if wire, _, err = dns.TsigGenerate(req, secret, "", false); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	writeTCP(t, c, wire)
	return readTCP(t, c)
}

func rrStrings(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return out
}

func sameRecords(t testing.TB, got, want []dns.RR) {
	t.Helper()
	g, w := rrStrings(got), rrStrings(want)
	if len(g) != len(w) {
		t.Fatalf("got %d records, want %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("record %d: got %s, want %s", i, g[i], w[i])
		}
	}
}

func TestAXFR(t *testing.T) {
	t.Parallel()
	zone := testZone(t, 7, 20)
	want := append(append([]dns.RR(nil), zone...), zone[0])
	tests := []struct {
		name   string
		peers  []Peer
		key    string // the key the request is signed with, "" for none
		secret string // the secret it is signed with
	}{
		{"unsigned from a peer without key", []Peer{{Addr: loopback}}, "", ""},
		{"signed from a peer with key", []Peer{{Addr: loopback, Key: testKeyName}}, testKeyName, testSecret},
		{"signed from a peer without key", []Peer{{Addr: loopback}}, testKeyName, testSecret},
		{"IPv4-mapped peer address", []Peer{{Addr: netip.MustParseAddr("::ffff:127.0.0.1")}}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": tc.peers}, Keys: testKeys()}, zone)
			req := axfrQuery("example.com.")
			var secret map[string]string
			if tc.key != "" {
				signed(req, tc.key)
				secret = map[string]string{tc.key: tc.secret}
			}
			got, _, err := transferIn(t, addr, req, secret)
			if err != nil {
				t.Fatalf("transfer: %v", err)
			}
			sameRecords(t, got, want)
		})
	}
}

// TestTransferRefused checks that whoever may not transfer gets an error
// and nothing of the zone: no records in any section.
func TestTransferRefused(t *testing.T) {
	t.Parallel()
	zone := testZone(t, 7, 5)
	keyed := map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}}
	tests := []struct {
		name    string
		peers   map[string][]Peer
		req     *dns.Msg
		secret  string
		rcode   int
		tsigErr uint16
	}{
		{"no transfer config", nil, axfrQuery("example.com."), "", dns.RcodeRefused, 0},
		{"another address", map[string][]Peer{"example.com.": {{Addr: netip.MustParseAddr("192.0.2.1")}}},
			axfrQuery("example.com."), "", dns.RcodeRefused, 0},
		{"another zone's peer", map[string][]Peer{"example.org.": {{Addr: loopback}}},
			axfrQuery("example.com."), "", dns.RcodeRefused, 0},
		{"zone not served", map[string][]Peer{"example.org.": {{Addr: loopback}}},
			axfrQuery("example.org."), "", dns.RcodeNotAuth, 0},
		{"a name inside the zone", map[string][]Peer{"example.com.": {{Addr: loopback}}},
			axfrQuery("www.example.com."), "", dns.RcodeNotAuth, 0},
		{"missing TSIG", keyed, axfrQuery("example.com."), "", dns.RcodeRefused, 0},
		{"another known key", keyed, signed(axfrQuery("example.com."), otherKeyName), otherSecret, dns.RcodeRefused, 0},
		{"unknown key", keyed, signed(axfrQuery("example.com."), "nope."), testSecret, dns.RcodeNotAuth, dns.RcodeBadKey},
		{"wrong secret", keyed, signed(axfrQuery("example.com."), testKeyName), otherSecret, dns.RcodeNotAuth, dns.RcodeBadSig},
		{"IXFR missing TSIG", keyed, ixfrQuery("example.com.", 3), "", dns.RcodeRefused, 0},
		{"IXFR wrong secret", keyed, signed(ixfrQuery("example.com.", 3), testKeyName), otherSecret, dns.RcodeNotAuth, dns.RcodeBadSig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tr *Transfer
			if tc.peers != nil {
				tr = &Transfer{Peers: tc.peers, Keys: testKeys()}
			}
			_, addr := startXfrServer(t, tr, zone)
			wasSigned := tc.req.IsTsig() != nil
			got := exchangeRaw(t, addr, tc.req, tc.secret)
			if got.Rcode != tc.rcode {
				t.Errorf("rcode: got %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.rcode])
			}
			if len(got.Answer)+len(got.Ns) > 0 {
				t.Errorf("got records of the zone in a refusal:\n%v", got)
			}
			for _, rr := range got.Extra {
				if rr.Header().Rrtype != dns.TypeOPT && rr.Header().Rrtype != dns.TypeTSIG {
					t.Errorf("got %v in the additional section of a refusal", rr)
				}
			}
			tsig := got.IsTsig()
			switch {
			case tc.tsigErr != 0 && (tsig == nil || tsig.Error != tc.tsigErr || tsig.MACSize != 0):
				t.Errorf("TSIG: got %v, want error %s unsigned", tsig, dns.RcodeToString[int(tc.tsigErr)])
			case tc.tsigErr == 0 && !wasSigned && tsig != nil:
				t.Errorf("TSIG: got %v in the answer to an unsigned request", tsig)
			case tc.tsigErr == 0 && wasSigned && (tsig == nil || tsig.MACSize == 0):
				t.Errorf("TSIG: got %v, want the refusal signed", tsig)
			}
		})
	}
}

func TestTSIGBadTime(t *testing.T) {
	t.Parallel()
	_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys: testKeys()}, testZone(t, 7, 5))
	req := axfrQuery("example.com.")
	req.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Add(-time.Hour).Unix())
	got := exchangeRaw(t, addr, req, testSecret)
	tsig := got.IsTsig()
	if got.Rcode != dns.RcodeNotAuth || tsig == nil || tsig.Error != dns.RcodeBadTime || len(got.Answer) != 0 {
		t.Fatalf("got %s TSIG %v with %d answers, want NOTAUTH, BADTIME, none", dns.RcodeToString[got.Rcode], tsig, len(got.Answer))
	}
	if tsig.MACSize == 0 || tsig.OtherLen != 6 {
		t.Errorf("BADTIME TSIG: got MAC size %d, other length %d; want signed, with our time", tsig.MACSize, tsig.OtherLen)
	}
}

// TestTSIGFudgeIsOurs: a request signed 1,000 s ago that claims a fudge
// of 65535 s is outside the window all the same: ours is 300 s.
func TestTSIGFudgeIsOurs(t *testing.T) {
	t.Parallel()
	_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys: testKeys()}, testZone(t, 7, 5))
	for _, tc := range []struct {
		ago  time.Duration
		want uint16
	}{{1000 * time.Second, dns.RcodeBadTime}, {200 * time.Second, 0}} {
		req := axfrQuery("example.com.")
		req.SetTsig(testKeyName, dns.HmacSHA256, 65535, time.Now().Add(-tc.ago).Unix())
		got := exchangeRaw(t, addr, req, testSecret)
		tsig := got.IsTsig()
		if tsig == nil || tsig.Error != tc.want {
			t.Errorf("signed %v ago with fudge 65535: TSIG %v, want error %d", tc.ago, tsig, tc.want)
		}
	}
}

// TestAXFRLargeZone transfers 10,000 names over several signed messages,
// each checked by miekg/dns's client (the MAC chain of RFC 8945 5.3.1).
func TestAXFRLargeZone(t *testing.T) {
	t.Parallel()
	zone := testZone(t, 7, 10000)
	_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys: testKeys()}, zone)
	got, msgs, err := transferIn(t, addr, signed(axfrQuery("example.com."), testKeyName), map[string]string{testKeyName: testSecret})
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	sameRecords(t, got, append(append([]dns.RR(nil), zone...), zone[0]))
	if msgs < 3 {
		t.Errorf("messages: got %d, want the zone spread over several", msgs)
	}
}

// fakeJournal answers from a fixed list of deltas, the way the store's
// journal does: from serial from to the newest it has.
func fakeJournal(deltas []Delta) func(string, uint32) ([]Delta, bool) {
	return func(zone string, from uint32) ([]Delta, bool) {
		for i, d := range deltas {
			if d.Removed[0].(*dns.SOA).Serial == from {
				return deltas[i:], true
			}
		}
		return nil, false
	}
}

func TestIXFR(t *testing.T) {
	t.Parallel()
	zone := testZone(t, 7, 3)
	soa5, soa6, soa7 := testSOA(t, 5), testSOA(t, 6), zone[0]
	deltas := []Delta{
		{Removed: append([]dns.RR{soa5}, rrs(t, "www.example.com. 60 IN A 192.0.2.1")...),
			Added: append([]dns.RR{soa6}, rrs(t, "www.example.com. 60 IN A 192.0.2.2")...)},
		{Removed: append([]dns.RR{soa6}, rrs(t, "www.example.com. 60 IN A 192.0.2.2")...),
			Added: append([]dns.RR{soa7}, rrs(t, "www.example.com. 60 IN A 192.0.2.3", "new.example.com. 60 IN A 192.0.2.4")...)},
	}
	incremental := []dns.RR{soa7}
	for _, d := range deltas {
		incremental = append(append(incremental, d.Removed...), d.Added...)
	}
	incremental = append(incremental, soa7)
	full := append(append([]dns.RR(nil), zone...), soa7)
	// A journal a step behind the snapshot cannot answer.
	behind := func(string, uint32) ([]Delta, bool) { return deltas[:1], true }
	tests := []struct {
		name    string
		journal func(string, uint32) ([]Delta, bool)
		serial  uint32
		want    []dns.RR
	}{
		{"incremental from 5", fakeJournal(deltas), 5, incremental},
		{"incremental from 6", fakeJournal(deltas), 6, append([]dns.RR{soa7}, incremental[1+len(deltas[0].Removed)+len(deltas[0].Added):]...)},
		{"journal cannot answer", fakeJournal(deltas), 2, full},
		{"no journal", nil, 5, full},
		{"journal behind the snapshot", behind, 5, full},
		{"up to date", fakeJournal(deltas), 7, []dns.RR{soa7}},
		{"client newer", fakeJournal(deltas), 9, []dns.RR{soa7}},
		{"client before the wrap", fakeJournal(deltas), 0xFFFFFFF0, full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, key := range []string{"", testKeyName} {
				_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: key}}},
					Keys: testKeys(), Journal: tc.journal}, zone)
				req := ixfrQuery("example.com.", tc.serial)
				var secret map[string]string
				if key != "" {
					signed(req, key)
					secret = map[string]string{key: testSecret}
				}
				got, _, err := transferIn(t, addr, req, secret)
				if err != nil {
					t.Fatalf("key %q: transfer: %v", key, err)
				}
				sameRecords(t, got, tc.want)
			}
		})
	}
}

func TestIXFROverUDP(t *testing.T) {
	t.Parallel()
	zone := testZone(t, 7, 3)
	tests := []struct {
		name  string
		peer  netip.Addr
		rcode int
	}{
		{"allowed peer gets the SOA", loopback, dns.RcodeSuccess},
		{"anyone else is refused", netip.MustParseAddr("192.0.2.1"), dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: tc.peer}}}}, zone)
			got := ask(t, "udp", s.UDPAddrs()[0].String(), ixfrQuery("example.com.", 5))
			if got.Rcode != tc.rcode {
				t.Fatalf("rcode: got %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.rcode])
			}
			if tc.rcode == dns.RcodeSuccess {
				sameRecords(t, got.Answer, zone[:1])
			} else if len(got.Answer) > 0 {
				t.Errorf("answer: got %v, want nothing", got.Answer)
			}
		})
	}
	s, _ := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys: testKeys()}, zone)
	c := &dns.Client{Net: "udp", TsigSecret: map[string]string{testKeyName: testSecret}, Timeout: 5 * time.Second}
	signedIXFR, _, err := c.Exchange(signed(ixfrQuery("example.com.", 5), testKeyName), s.UDPAddrs()[0].String())
	if err != nil {
		t.Fatalf("signed IXFR over UDP: %v", err)
	}
	if signedIXFR.IsTsig() == nil {
		t.Error("signed IXFR over UDP: got an unsigned answer")
	}
	sameRecords(t, signedIXFR.Answer, zone[:1])

}

// TestAXFROverUDP: AXFR is TCP's (RFC 5936 section 4.2): over UDP it gets
// NOTIMP and no records, from a peer as from anyone, as NSD and Knot
// answer.
func TestAXFROverUDP(t *testing.T) {
	t.Parallel()
	small := testZone(t, 7, 3)
	loopback := netip.MustParseAddr("127.0.0.1")
	for _, peers := range []map[string][]Peer{{"example.com.": {{Addr: loopback}}}, nil} {
		s, _ := startXfrServer(t, &Transfer{Peers: peers}, small)
		got := ask(t, "udp", s.UDPAddrs()[0].String(), axfrQuery("example.com."))
		if got.Rcode != dns.RcodeNotImplemented || len(got.Answer) > 0 {
			t.Fatalf("peers %v: got %s with %d records, want NOTIMP and none", peers, dns.RcodeToString[got.Rcode], len(got.Answer))
		}
	}
}

func TestIXFRWithoutSOA(t *testing.T) {
	t.Parallel()
	_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback}}}}, testZone(t, 7, 3))
	req := new(dns.Msg)
	req.SetQuestion("example.com.", dns.TypeIXFR)
	if got := exchangeRaw(t, addr, req, ""); got.Rcode != dns.RcodeFormatError || len(got.Answer) != 0 {
		t.Errorf("got %s with %d answers, want FORMERR, none", dns.RcodeToString[got.Rcode], len(got.Answer))
	}
}

// TestTransferThenQueryOnOneConnection checks that a query pipelined
// behind a transfer is answered after the transfer's last message.
func TestTransferThenQueryOnOneConnection(t *testing.T) {
	t.Parallel()
	zone := testZone(t, 7, 5000)
	_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback}}}}, zone)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	xfr := axfrQuery("example.com.")
	xfr.Id = 1
	a := query("www.example.com.", dns.TypeA)
	a.Id = 2
	writeTCP(t, c, pack(t, xfr), pack(t, a))
	var got []dns.RR
	msgs := 0
	for len(got) < 2 || got[len(got)-1].Header().Rrtype != dns.TypeSOA {
		m := readTCP(t, c)
		if m.Id != 1 || m.Rcode != dns.RcodeSuccess {
			t.Fatalf("transfer message %d: got id %d %s, want id 1 NOERROR", msgs, m.Id, dns.RcodeToString[m.Rcode])
		}
		if (len(m.Question) == 1) != (msgs == 0) {
			t.Errorf("message %d: got %d questions, want the question in the first only", msgs, len(m.Question))
		}
		got = append(got, m.Answer...)
		msgs++
	}
	sameRecords(t, got, append(append([]dns.RR(nil), zone...), zone[0]))
	if m := readTCP(t, c); m.Id != 2 || len(m.Answer) != 1 {
		t.Errorf("after the transfer: got id %d with %d answers, want id 2 with 1", m.Id, len(m.Answer))
	}
}

// FuzzIXFR builds a journal of any shape (steps of any size, gaps, a
// snapshot ahead of or behind it, serials that wrap) and asks for an IXFR
// from any serial. The answer is always one of three, each whole: our SOA
// alone (the client is up to date, or asked over UDP), the full zone, or
// a chain of deltas from the client's serial to ours.
func FuzzIXFR(f *testing.F) {
	f.Add(uint32(100), []byte{0, 1, 2}, uint8(0), false)
	f.Add(uint32(101), []byte{0, 1, 2}, uint8(0), false)
	f.Add(uint32(100), []byte{0, 0x81, 2}, uint8(0), false)
	f.Add(uint32(100), []byte{0, 1}, uint8(2), false)
	f.Add(uint32(0xFFFFFFF0), []byte{3, 3, 3}, uint8(0), false)
	f.Add(uint32(100), []byte{0, 1, 2}, uint8(0), true)
	f.Fuzz(func(t *testing.T, clientSerial uint32, shape []byte, ahead uint8, udp bool) {
		if len(shape) > 32 {
			shape = shape[:32]
		}
		// Each byte is a step: its low bits how far the serial moves,
		// its high bit a gap before it (a journal that does not chain).
		at := uint32(100)
		var deltas []Delta
		for i, b := range shape {
			from := at
			if b&0x80 != 0 {
				from++
			}
			at = from + 1 + uint32(b&3)
			name := fmt.Sprintf("step%d.example.com. 60 IN A 198.18.0.%d", i, b&0x7F)
			deltas = append(deltas, Delta{Removed: []dns.RR{testSOA(t, from)}, Added: append([]dns.RR{testSOA(t, at)}, rrs(t, name)...)})
		}
		current := at + uint32(ahead%3) // a snapshot the journal may not reach
		zone := testZone(t, current, 2)
		srv := New(Config{Transfer: &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback}}}, Journal: fakeJournal(deltas)}})
		var msgs [][]byte
		c := &client{udp: udp, addr: func() netip.Addr { return loopback }, send: func(m []byte) error {
			msgs = append(msgs, append([]byte(nil), m...))
			return nil
		}}
		req := pack(t, ixfrQuery("example.com.", clientSerial))
		if resp := srv.respond(xfrState(t, zone), req, nil, c); resp != nil {
			msgs = append(msgs, resp)
		}
		var got []dns.RR
		for _, wire := range msgs {
			var m dns.Msg
			if err := m.Unpack(wire); err != nil {
				t.Fatalf("a message does not parse: %v", err)
			}
			if m.Rcode != dns.RcodeSuccess {
				t.Fatalf("rcode %s, want NOERROR", dns.RcodeToString[m.Rcode])
			}
			got = append(got, m.Answer...)
		}
		soaSerial := func(rr dns.RR) (uint32, bool) {
			soa, ok := rr.(*dns.SOA)
			if !ok {
				return 0, false
			}
			return soa.Serial, true
		}
		if len(got) == 0 {
			t.Fatal("no records")
		}
		if s, ok := soaSerial(got[0]); !ok || s != current {
			t.Fatalf("first record %v, want our SOA at %d", got[0], current)
		}
		if len(got) == 1 {
			if !udp && serial.Less(clientSerial, current) {
				t.Fatalf("our SOA alone over TCP to a client at %d, behind %d", clientSerial, current)
			}
			return
		}
		if udp {
			t.Fatalf("%d records over UDP, want our SOA alone", len(got))
		}
		if s, ok := soaSerial(got[len(got)-1]); !ok || s != current {
			t.Fatalf("last record %v, want our SOA at %d", got[len(got)-1], current)
		}
		if _, isSOA := got[1].(*dns.SOA); !isSOA {
			// The full zone.
			if len(got) != len(zone)+1 {
				t.Fatalf("full zone of %d records, want %d", len(got), len(zone)+1)
			}
			return
		}
		// Deltas: SOA old, removed, SOA new, added, ... each starting
		// where the one before ended, from the client's serial to ours.
		at, removing := clientSerial, true
		for _, rr := range got[1 : len(got)-1] {
			s, ok := soaSerial(rr)
			if !ok {
				continue
			}
			if removing && s != at {
				t.Fatalf("a delta from %d, want one from %d\n%v", s, at, got)
			}
			at, removing = s, !removing
		}
		if !removing || at != current {
			t.Fatalf("the deltas end at %d (mid-delta %v), want at %d\n%v", at, !removing, current, got)
		}
	})
}
