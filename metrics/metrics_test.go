package metrics

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/slotdns/slotdns/dnsserver"
)

// scrape gets h as Prometheus does, in the text format, and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: got status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape: got Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("scrape: the exposition does not parse: %v", err)
	}
	return fams
}

// series gives the family's series as label set (name=value, sorted,
// joined by ",") -> value.
func series(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	fam := fams[name]
	if fam == nil {
		return nil
	}
	for _, m := range fam.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		slices.Sort(labels)
		var v float64
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Untyped != nil:
			v = m.GetUntyped().GetValue()
		}
		out[strings.Join(labels, ",")] = v
	}
	return out
}

// want checks that the family name has exactly the series of want, and
// is of type typ.
func want(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType, want map[string]float64) {
	t.Helper()
	got := series(fams, name)
	if got == nil {
		t.Errorf("%s: missing", name)
		return
	}
	if fams[name].GetType() != typ {
		t.Errorf("%s: got type %v, want %v", name, fams[name].GetType(), typ)
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s:\ngot  %v\nwant %v", name, got, want)
	}
}

func TestNilSources(t *testing.T) {
	t.Parallel()
	fams := scrape(t, New("1.2.3", Sources{}).Handler())
	want(t, fams, "slotdns_build_info", dto.MetricType_GAUGE,
		map[string]float64{"goversion=" + runtime.Version() + ",version=1.2.3": 1})
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("%s: missing, want the Go and process collectors", name)
		}
	}
	// No source, no series of it.
	for name := range fams {
		if strings.HasPrefix(name, "slotdns_dns_") || strings.HasPrefix(name, "slotdns_zone") || strings.HasPrefix(name, "slotdns_secondary") ||
			name == "slotdns_slot_answers_total" || name == "slotdns_tsig_failures_total" || name == "slotdns_drain_remaining_seconds" {
			t.Errorf("%s: exported without a source", name)
		}
	}
	// Every change kind and result is there from the start, at 0.
	changes := series(fams, "slotdns_changes_total")
	if len(changes) != len(changeKinds)*len(changeResults) || changes["kind=swap,result=ok"] != 0 {
		t.Errorf("slotdns_changes_total: got %v, want every kind and result at 0", changes)
	}
}

func TestRecorders(t *testing.T) {
	t.Parallel()
	m := New("dev", Sources{})
	m.Change("swap", "ok")
	m.Change("swap", "ok")
	m.Change("rollback_to", "conflict")
	m.Check("http-200", "before", "pass")
	m.Check("http-200", "after", "fail")
	m.AutoRollback("yourwebapp")
	m.Notify("yourwebapp.com.", "127.0.0.1:5399", "acked")
	m.Notify("yourwebapp.com.", "127.0.0.1:5399", "gave_up")
	m.API("POST /v1/apps/{app}/swap", 200)
	m.API("POST /v1/apps/{app}/swap", 409)
	m.API("GET /v1/apps", 200)
	m.Update("yourwebapp.com.", "NOERROR")
	m.Update("yourwebapp.com.", "REFUSED")
	m.Update("other", "NOTAUTH")
	fams := scrape(t, m.Handler())

	changes := series(fams, "slotdns_changes_total")
	if changes["kind=swap,result=ok"] != 2 || changes["kind=rollback_to,result=conflict"] != 1 || changes["kind=set,result=ok"] != 0 {
		t.Errorf("slotdns_changes_total: got %v", changes)
	}
	want(t, fams, "slotdns_check_results_total", dto.MetricType_COUNTER, map[string]float64{
		"check=http-200,outcome=pass,when=before": 1,
		"check=http-200,outcome=fail,when=after":  1,
	})
	want(t, fams, "slotdns_auto_rollbacks_total", dto.MetricType_COUNTER, map[string]float64{"app=yourwebapp": 1})
	want(t, fams, "slotdns_notify_total", dto.MetricType_COUNTER, map[string]float64{
		"result=acked,secondary=127.0.0.1:5399,zone=yourwebapp.com.":   1,
		"result=gave_up,secondary=127.0.0.1:5399,zone=yourwebapp.com.": 1,
	})
	want(t, fams, "slotdns_api_requests_total", dto.MetricType_COUNTER, map[string]float64{
		"code=200,route=POST /v1/apps/{app}/swap": 1,
		"code=409,route=POST /v1/apps/{app}/swap": 1,
		"code=200,route=GET /v1/apps":             1,
	})
	want(t, fams, "slotdns_updates_total", dto.MetricType_COUNTER, map[string]float64{
		"rcode=NOERROR,zone=yourwebapp.com.": 1,
		"rcode=REFUSED,zone=yourwebapp.com.": 1,
		"rcode=NOTAUTH,zone=other":           1,
	})
}

// TestNilMetrics calls every method on a nil *Metrics: metrics off.
func TestNilMetrics(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.Change("swap", "ok")
	m.Update("z.", "NOERROR")
	m.Check("c", "before", "pass")
	m.AutoRollback("app")
	m.Notify("z.", "127.0.0.1:5398", "acked")
	m.API("GET /v1/apps", 200)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("Handler of a nil *Metrics: got status %d, want 404", rec.Code)
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	scrapes := 0
	m := New("dev", Sources{
		DNS: func() dnsserver.Counts {
			scrapes++
			return dnsserver.Counts{
				Requests: map[dnsserver.RequestKey]uint64{
					{Zone: "yourwebapp.com.", Qtype: "A", Protocol: "udp", Rcode: "NOERROR"}: 7,
					{Zone: "", Qtype: "other", Protocol: "tcp", Rcode: "REFUSED"}:            2,
				},
				Dropped:      map[string]uint64{"udp": 3, "tcp": 0},
				Truncated:    map[string]uint64{"yourwebapp.com.": 1},
				SlotAnswers:  map[dnsserver.SlotKey]uint64{{App: "yourwebapp", Slot: "production"}: 5, {App: "yourwebapp", Slot: "staging"}: 0},
				Transfers:    map[dnsserver.TransferKey]uint64{{Zone: "yourwebapp.com.", Type: "AXFR", Result: "refused"}: 4},
				TSIGFailures: map[string]uint64{"bad_key": 1, "bad_time": 0},
			}
		},
		Apps: func() []AppState {
			return []AppState{
				{App: "yourwebapp", Zone: "yourwebapp.com.", Serial: 9, DrainRemaining: 1500 * time.Millisecond},
				{App: "other", Zone: "other.com."},
			}
		},
		Zones: func() []ZoneState { return []ZoneState{{Zone: "yourwebapp.com.", Serial: 2026112601}} },
		Secondaries: func() []SecondaryState {
			return []SecondaryState{
				{Zone: "yourwebapp.com.", Address: "127.0.0.1:5399", Serial: 2026112600, Lag: 1, Known: true},
				{Zone: "yourwebapp.com.", Address: "127.0.0.1:5397"}, // never answered
			}
		},
	})
	fams := scrape(t, m.Handler())
	counter, gauge := dto.MetricType_COUNTER, dto.MetricType_GAUGE
	want(t, fams, "slotdns_dns_requests_total", counter, map[string]float64{
		"protocol=udp,qtype=A,rcode=NOERROR,zone=yourwebapp.com.": 7,
		"protocol=tcp,qtype=other,rcode=REFUSED,zone=":            2,
	})
	want(t, fams, "slotdns_dns_dropped_total", counter, map[string]float64{"protocol=udp": 3, "protocol=tcp": 0})
	want(t, fams, "slotdns_dns_truncated_total", counter, map[string]float64{"zone=yourwebapp.com.": 1})
	want(t, fams, "slotdns_slot_answers_total", counter, map[string]float64{
		"app=yourwebapp,slot=production": 5,
		"app=yourwebapp,slot=staging":    0,
	})
	want(t, fams, "slotdns_zone_transfers_total", counter, map[string]float64{"result=refused,type=AXFR,zone=yourwebapp.com.": 4})
	want(t, fams, "slotdns_tsig_failures_total", counter, map[string]float64{"reason=bad_key": 1, "reason=bad_time": 0})
	want(t, fams, "slotdns_drain_remaining_seconds", gauge, map[string]float64{"app=yourwebapp": 1.5, "app=other": 0})
	want(t, fams, "slotdns_zone_serial", gauge, map[string]float64{"zone=yourwebapp.com.": 2026112601})
	want(t, fams, "slotdns_secondary_serial", gauge, map[string]float64{"secondary=127.0.0.1:5399,zone=yourwebapp.com.": 2026112600})
	want(t, fams, "slotdns_secondary_lag", gauge, map[string]float64{"secondary=127.0.0.1:5399,zone=yourwebapp.com.": 1})
	if !strings.Contains(fams["slotdns_secondary_lag"].GetHelp(), "serial steps") {
		t.Errorf("slotdns_secondary_lag help: got %q, want it to say the unit, serial steps", fams["slotdns_secondary_lag"].GetHelp())
	}
	scrape(t, m.Handler())
	if scrapes != 2 {
		t.Errorf("Sources.DNS called %d times for 2 scrapes, want once a scrape", scrapes)
	}
}

// TestLint holds every metric to Prometheus's naming conventions (promlint):
// _total on counters, base units, help on everything.
func TestLint(t *testing.T) {
	t.Parallel()
	m := New("dev", Sources{
		DNS: func() dnsserver.Counts {
			return dnsserver.Counts{Requests: map[dnsserver.RequestKey]uint64{{Zone: "a.", Qtype: "A", Protocol: "udp", Rcode: "NOERROR"}: 1}}
		},
		Apps:        func() []AppState { return []AppState{{App: "a"}} },
		Zones:       func() []ZoneState { return []ZoneState{{Zone: "a.", Serial: 1}} },
		Secondaries: func() []SecondaryState { return []SecondaryState{{Zone: "a.", Address: "127.0.0.1:5398", Known: true}} },
	})
	m.Check("c", "before", "pass")
	m.AutoRollback("a")
	m.Notify("a.", "127.0.0.1:5398", "acked")
	m.API("GET /v1/apps", 200)
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "slotdns_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}
