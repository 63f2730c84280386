package metrics

import (
	"net/http"
	"runtime"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds slotdns's metrics in a registry of its own (not the
// global one, so that tests and several instances never share series).
// Its recorder methods are safe for concurrent use, and do nothing on a
// nil *Metrics, so callers need no checks when metrics are off.
type Metrics struct {
	reg *prometheus.Registry

	changes      *prometheus.CounterVec
	checks       *prometheus.CounterVec
	autoRollback *prometheus.CounterVec
	notify       *prometheus.CounterVec
	api          *prometheus.CounterVec
	updates      *prometheus.CounterVec
}

// The values of Change's labels, every pair of which is exported from
// the start, so that a rate over them is 0 rather than missing.
var (
	changeKinds   = []string{"swap", "set", "rollback", "rollback_to"}
	changeResults = []string{"ok", "refused", "conflict", "error"}
)

// New makes the metrics of a slotdns of the given version: the Go runtime
// and process collectors, the build info, the counters the recorder
// methods add to, and collectors that read src at scrape time.
func New(version string, src Sources) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotdns_changes_total",
			Help: "Slot changes the control plane was asked for, by kind (swap, set, rollback, rollback_to) and result (ok, refused, conflict, error).",
		}, []string{"kind", "result"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotdns_check_results_total",
			Help: "Health checks run around a change, by check, when (before or after the change) and outcome (pass, fail).",
		}, []string{"check", "when", "outcome"}),
		autoRollback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotdns_auto_rollbacks_total",
			Help: "Changes rolled back by slotdns itself after a check failed, by app.",
		}, []string{"app"}),
		notify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotdns_notify_total",
			Help: "NOTIFY messages sent to secondaries, by zone, secondary and result (acked, error, gave_up).",
		}, []string{"zone", "secondary", "result"}),
		api: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotdns_api_requests_total",
			Help: "Control API requests, by route (the pattern it matched) and HTTP status code.",
		}, []string{"route", "code"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotdns_updates_total",
			Help: "Signed DNS UPDATE messages (RFC 2136) answered, by zone and rcode (NOERROR when applied; REFUSED, NXRRSET... when not).",
		}, []string{"zone", "rcode"}),
	}
	for _, kind := range changeKinds {
		for _, result := range changeResults {
			m.changes.WithLabelValues(kind, result)
		}
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "slotdns_build_info",
		Help:        "The slotdns version and the Go version it was built with, as labels; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.changes, m.checks, m.autoRollback, m.notify, m.api, m.updates,
		stateCollector{src},
	)
	if src.DNS != nil {
		m.reg.MustRegister(dnsCollector{src.DNS})
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition formats, and
// counts its own scrapes (promhttp_metric_handler_requests_total). On a
// nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	// A source that gives one series twice must not blank the scrape:
	// serve every other series.
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, opts))
}

// Change counts a slot change: kind is swap, set, rollback or rollback_to;
// result is ok, refused, conflict or error.
func (m *Metrics) Change(kind, result string) {
	if m != nil {
		m.changes.WithLabelValues(kind, result).Inc()
	}
}

// Check counts a health check run: when is before or after (the change);
// outcome is pass or fail.
func (m *Metrics) Check(check, when, outcome string) {
	if m != nil {
		m.checks.WithLabelValues(check, when, outcome).Inc()
	}
}

// AutoRollback counts a change of app that slotdns rolled back itself.
func (m *Metrics) AutoRollback(app string) {
	if m != nil {
		m.autoRollback.WithLabelValues(app).Inc()
	}
}

// Notify counts a NOTIFY of zone sent to secondary (its address): result
// is acked, error or gave_up.
func (m *Metrics) Notify(zone, secondary, result string) {
	if m != nil {
		m.notify.WithLabelValues(zone, secondary, result).Inc()
	}
}

// Update counts a signed DNS UPDATE of zone answered with rcode (its
// name: NOERROR, REFUSED...). Only zones served here are counted by
// name; any other is counted as "other", so that the label stays small.
func (m *Metrics) Update(zone, rcode string) {
	if m != nil {
		m.updates.WithLabelValues(zone, rcode).Inc()
	}
}

// API counts a control API request by the route it matched (the mux
// pattern, e.g. "POST /v1/apps/{app}/swap", never the raw path, so that
// the label stays low in cardinality) and the status code sent.
func (m *Metrics) API(route string, code int) {
	if m != nil {
		m.api.WithLabelValues(route, strconv.Itoa(code)).Inc()
	}
}
