package dnsserver

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// TestSignedQuery checks that an ordinary query signed with a known key is
// answered as usual and signed, over UDP and TCP.
func TestSignedQuery(t *testing.T) {
	t.Parallel()
	s, _ := startXfrServer(t, &Transfer{Keys: testKeys()}, testZone(t, 7, 3))
	addr := s.UDPAddrs()[0].String()
	for _, network := range []string{"udp", "tcp"} {
		for _, edns := range []bool{false, true} {
			req := query("www.example.com.", dns.TypeA)
			if edns {
				req.SetEdns0(1232, false)
			}
			signed(req, testKeyName)
			c := &dns.Client{Net: network, TsigSecret: map[string]string{testKeyName: testSecret}, Timeout: 5 * time.Second}
			got, _, err := c.Exchange(req, addr)
			if err != nil {
				t.Fatalf("%s edns=%v: %v", network, edns, err)
			}
			if got.Rcode != dns.RcodeSuccess || len(got.Answer) != 1 || got.IsTsig() == nil {
				t.Errorf("%s edns=%v: got %v, want the answer, signed", network, edns, got)
			}
		}
	}
	// An answer too large for UDP with its TSIG comes truncated and signed.
	req := signed(query("big.example.com.", dns.TypeA), testKeyName)
	c := &dns.Client{Net: "udp", TsigSecret: map[string]string{testKeyName: testSecret}, Timeout: 5 * time.Second}
	got, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("big over UDP: %v", err)
	}
	if !got.Truncated || got.IsTsig() == nil {
		t.Errorf("big over UDP: got TC %v TSIG %v, want TC and a TSIG", got.Truncated, got.IsTsig())
	}
}

func TestRefusalLimiter(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	l := newRefusalLimiter(time.Minute, 3)
	l.now = func() time.Time { return now }
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	steps := []struct {
		advance time.Duration
		addr    netip.Addr
		want    bool
	}{
		{0, a, true},
		{time.Second, a, false},
		{0, b, true},
		{59 * time.Second, a, true}, // a minute after the first
		{0, b, false},
		{0, netip.MustParseAddr("192.0.2.3"), true},
		{0, netip.MustParseAddr("192.0.2.4"), false}, // full: three tracked, none expired
		{time.Minute, netip.MustParseAddr("192.0.2.4"), true},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := l.allow(st.addr); got != st.want {
			t.Errorf("step %d (%v): got %v, want %v", i, st.addr, got, st.want)
		}
		if len(l.last) > 3 {
			t.Fatalf("step %d: got %d sources tracked, want at most 3", i, len(l.last))
		}
	}
}

func TestRefusalsLoggedOncePerSource(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	s := startServer(t, nil, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Transfer: &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}}, Keys: testKeys()}})
	s.state.Store(xfrState(t, testZone(t, 7, 3)))
	for range 5 {
		if got := exchangeRaw(t, s.TCPAddrs()[0].String(), axfrQuery("example.com."), ""); got.Rcode != dns.RcodeRefused {
			t.Fatalf("got %s, want REFUSED", dns.RcodeToString[got.Rcode])
		}
	}
	// The log is written from a queue; Shutdown waits until it is.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), "Refused a zone transfer"); got != 1 {
		t.Errorf("log lines: got %d, want 1:\n%s", got, logs.String())
	}
	if strings.Contains(logs.String(), testSecret) {
		t.Error("the log shows a secret")
	}
}

func TestExtendedQuery(t *testing.T) {
	t.Parallel()
	signedA := signed(query("www.example.com.", dns.TypeA, withEDNS(1232, false)), testKeyName)
	wire, _, err := dns.TsigGenerate(signedA, testSecret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		req    []byte
		want   bool
		signed bool
	}{
		{"plain A", pack(t, query("www.example.com.", dns.TypeA)), false, false},
		{"A with EDNS", pack(t, query("www.example.com.", dns.TypeA, withEDNS(1232, true))), false, false},
		{"AXFR", pack(t, axfrQuery("example.com.")), true, false},
		{"IXFR", pack(t, ixfrQuery("example.com.", 1)), true, false},
		{"signed A", wire, true, true},
		{"signed A cut short", wire[:len(wire)-3], false, false},
	}
	for _, tc := range tests {
		tsigAt, got := extendedQuery(tc.req)
		if got != tc.want || (tsigAt > 0) != tc.signed {
			t.Errorf("%s: got %v (TSIG at %d), want %v signed %v", tc.name, got, tsigAt, tc.want, tc.signed)
		}
	}
}
