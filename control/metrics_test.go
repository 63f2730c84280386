package control

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeMetrics gets url as Prometheus does and parses the text format
// with Prometheus's own parser.
func scrapeMetrics(t *testing.T, c *http.Client, url string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return fams
}

// value is the series of family name whose labels include all of want.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	var sum float64
	for _, m := range fams[name].GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		if !containsAll(labels, want) {
			continue
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// TestMetricsMoveWithQueriesAndSwaps scrapes a running server's /metrics
// before and after queries and a swap.
func TestMetricsMoveWithQueriesAndSwaps(t *testing.T) {
	rs := startRemoteSite(t)
	c := rs.httpClient()
	before := scrapeMetrics(t, c, rs.url+"/metrics")
	const queries = 5
	for range queries {
		testkit.Query(t, rs.addr, "www.example.com.", dns.TypeCNAME)
		testkit.Query(t, rs.addr, "nothere.example.com.", dns.TypeA)
	}
	ch := rs.swap(api.SwapRequest{Reason: "metrics"})
	if _, err := rs.c.Swap(context.Background(), "site", api.SwapRequest{Expect: "nonsense.deploy.test."}); err == nil {
		t.Fatal("a swap with a wrong expect went through")
	}
	after := scrapeMetrics(t, c, rs.url+"/metrics")

	moved := func(name string, labels ...string) float64 {
		return value(after, name, labels...) - value(before, name, labels...)
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"slotdns_dns_requests_total", []string{"zone=example.com.", "qtype=CNAME", "protocol=udp", "rcode=NOERROR"}, queries},
		{"slotdns_dns_requests_total", []string{"zone=example.com.", "qtype=A", "protocol=udp", "rcode=NXDOMAIN"}, queries},
		{"slotdns_slot_answers_total", []string{"app=site", "slot=production"}, queries},
		{"slotdns_changes_total", []string{"kind=swap", "result=ok"}, 1},
		{"slotdns_changes_total", []string{"kind=swap", "result=conflict"}, 1},
		{"slotdns_api_requests_total", []string{`route=POST /v1/apps/{app}/swap`, "code=200"}, 1},
		{"slotdns_api_requests_total", []string{`route=POST /v1/apps/{app}/swap`, "code=409"}, 1},
	}
	for _, c := range checks {
		if got := moved(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := value(after, "slotdns_zone_serial", "zone=example.com."); got != float64(ch.Serial) {
		t.Errorf("zone serial %v, want %d", got, ch.Serial)
	}
	if got := value(after, "slotdns_drain_remaining_seconds", "app=site"); got <= 0 || got > 60 {
		t.Errorf("drain remaining %v s right after a swap with TTL 30, want a little over 30", got)
	}
	if after["slotdns_build_info"] == nil {
		t.Error("no slotdns_build_info")
	}
}

// TestMetricsNeedATokenOffLoopback: /metrics on a listener others can
// reach takes a read token.
func TestMetricsNeedATokenOffLoopback(t *testing.T) {
	rs := startRemoteSite(t)
	token := rs.token("prometheus", auth.ScopeRead, "")
	oneApp := rs.token("site-only", auth.ScopeRead, "site")
	ra := newRemoteAuth(mustVerifier(t, rs.tokens.Path), rs.s.clock.Now, testkit.Discard(), true)
	h, _ := newHandler(rs.s.svc, handlerDeps{log: testkit.Discard(), clock: rs.s.clock}, ra.authenticate)
	// The address is only read, to tell loopback from the rest.
	guarded := rs.s.metricsHandler("0.0.0.0:9153", ra, h)
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer sdt_wrong", 401}, {"Bearer " + oneApp, 403}, {"Bearer " + token, 200}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		guarded.ServeHTTP(rec, req)
		if rec.Code != tc.want || (tc.want == 200 && !strings.Contains(rec.Body.String(), "slotdns_build_info")) {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, rec.Code, tc.want)
		}
	}
}

func mustVerifier(t *testing.T, path string) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
