package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// TestApexAliasThroughResolver: when the deployments' zone is not slotdns's
// own, the apex alias is resolved through the configured resolver (here a
// second slotdns, authoritative for cloudapp.test). While the resolver is
// down the last good addresses are served until alias_max_stale has passed,
// then the apex A gets SERVFAIL while every other name keeps answering; once
// the resolver is back, so are the addresses.
func TestApexAliasThroughResolver(t *testing.T) {
	t.Parallel()
	cloud := newDemo(t, nil)
	zoneTTL := regexp.MustCompile(`(?m)^\$TTL\s+\d+`)
	zoneFile := filepath.Join(cloud.dir, "zones", "cloudapp.test.zone")
	testkit.WriteFile(t, zoneFile, zoneTTL.ReplaceAllString(testkit.ReadFile(t, zoneFile), "$$TTL 1")) // refreshed every second
	cloud.start()

	ownZone := regexp.MustCompile(`(?s)# The deployments' hostnames.*?file\s*=\s*"zones/cloudapp.test.zone"\n`)
	site := newDemo(t, func(config string) string {
		config = ownZone.ReplaceAllString(config, "")
		return strings.Replace(config, "[[zone]]",
			fmt.Sprintf("resolver = %q\nalias_max_stale = \"2s\"\n\n[[zone]]", cloud.addr()), 1)
	})
	if strings.Contains(site.readConfig(), "cloudapp.test.zone") {
		t.Fatalf("the site's config still serves cloudapp.test:\n%s", site.readConfig())
	}
	site.start()

	apex := func() string {
		resp, err := query(site.addr(), "yourwebapp.com.", dns.TypeA, time.Second)
		if err != nil {
			return err.Error()
		}
		a := answerOf(resp)
		if a.status != "NOERROR" {
			return a.status
		}
		return strings.Join(a.addrs("yourwebapp.com."), " ")
	}
	prod := strings.Join(targetAddrs[prodTarget], " ")
	wantApex := func(step, want string) {
		t.Helper()
		var got string
		if !poll(40*time.Second, func() bool { got = apex(); return got == want }) {
			t.Fatalf("%s: apex A got %q, want %q", step, got, want)
		}
	}

	wantApex("resolved through the resolver", prod)
	checkOthers := func(step string) {
		t.Helper()
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"www.yourwebapp.com.", dns.TypeA}, {"yourwebapp.com.", dns.TypeMX}, {"yourwebapp.com.", dns.TypeSOA}} {
			resp, err := query(site.addr(), q.name, q.qtype, time.Second)
			if err != nil || resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
				t.Errorf("%s: %s %s: got %v (err %v), want NOERROR with an answer", step, q.name, dns.TypeToString[q.qtype], resp, err)
			}
		}
	}
	checkOthers("resolver up")

	cloud.stop()
	// The last good addresses until alias_max_stale has passed, then SERVFAIL.
	var got string
	poll(40*time.Second, func() bool { got = apex(); return got != prod })
	if got != "SERVFAIL" {
		t.Fatalf("resolver down: apex A got %q, want %q until alias_max_stale, then SERVFAIL", got, prod)
	}
	checkOthers("resolver down")

	port := cloud.port
	cloud.start()
	if cloud.port != port {
		t.Fatalf("the resolver came back on port %d, not %d where the site looks for it", cloud.port, port)
	}
	wantApex("resolver back", prod)
}
