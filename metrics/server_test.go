package metrics

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/slotdns/slotdns/dnsserver"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/zones"
)

// TestDNSServerCounts starts a real DNS server on loopback, sends it
// queries, and sees them in the scrape.
func TestDNSServerCounts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "example.test.zone")
	testkit.WriteFile(t, path, "$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n")
	z, err := zones.ParseFile("example.test.", path)
	if err != nil {
		t.Fatal(err)
	}
	target, err := zones.ParseTarget("blue.example.net.")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Build(zones.Input{Zones: []zones.ZoneInput{{Zone: z, Serial: 1, Slots: []zones.Slot{
		{App: "site", Slot: "production", Names: []string{"www.example.test."}, Target: target, TTL: 30},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := dnsserver.New(dnsserver.Config{Listen: []string{"127.0.0.1:0"}, Logger: testkit.Discard(), Count: true})
	srv.Publish(snap)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	m := New("dev", Sources{DNS: srv.Counts})
	addr := srv.UDPAddrs()[0].String()

	before := scrape(t, m.Handler())
	if got := series(before, "slotdns_slot_answers_total"); got["app=site,slot=production"] != 0 {
		t.Errorf("slot answers before any query: got %v, want 0", got)
	}
	for range 3 {
		testkit.Query(t, addr, "www.example.test.", dns.TypeA)
	}
	testkit.Query(t, addr, "nope.example.test.", dns.TypeAAAA)
	testkit.Query(t, addr, "example.org.", dns.TypeA)

	fams := scrape(t, m.Handler())
	want(t, fams, "slotdns_dns_requests_total", dto.MetricType_COUNTER, map[string]float64{
		"protocol=udp,qtype=A,rcode=NOERROR,zone=example.test.":     3,
		"protocol=udp,qtype=AAAA,rcode=NXDOMAIN,zone=example.test.": 1,
		"protocol=udp,qtype=A,rcode=REFUSED,zone=":                  1,
	})
	want(t, fams, "slotdns_slot_answers_total", dto.MetricType_COUNTER, map[string]float64{"app=site,slot=production": 3})
	want(t, fams, "slotdns_dns_dropped_total", dto.MetricType_COUNTER, map[string]float64{"protocol=udp": 0, "protocol=tcp": 0})
}
