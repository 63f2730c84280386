package dnsserver

import (
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// TestReadersDoNotWaitForTheLog: with the log output stalled, sources
// over the rate limit make the readers log, and the server goes on
// answering everyone. Once the output moves, the lines are written.
func TestReadersDoNotWaitForTheLog(t *testing.T) {
	t.Parallel()
	out := testkit.NewStalledWriter()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{
		Logger: slog.New(slog.NewTextHandler(out, nil)),
		RRL:    RRL{Rate: 1, Slip: 2, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
	})
	t.Cleanup(out.Release) // before the shutdown, which writes the rest
	addr := s.UDPAddrs()[0].String()
	limited := query("www.yourwebapp.com.", dns.TypeA)
	// 200 sources in 200 /24s, each over the limit: 200 log lines (one
	// per source) meet the stalled output.
	for i := range 200 {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 1, byte(i), 1)}, s.UDPAddrs()[0].(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		wire := pack(t, limited)
		for range 4 {
			c.Write(wire)
		}
		c.Close()
	}
	// Another source still gets its answers.
	for i := range 20 {
		m := query("stage.yourwebapp.com.", dns.TypeA)
		r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
		if err != nil || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("query %d with the log stalled: %v %v", i, r, err)
		}
	}
	if got := s.rrl.limited.Load(); got == 0 {
		t.Fatal("no response was limited: the test logged nothing")
	}
}
