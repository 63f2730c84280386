package metrics

import "github.com/prometheus/client_golang/prometheus"

// The control plane's state (drains, serials, secondaries) is read from
// Sources at scrape time and exported as constant gauges, so that a gauge
// never outlives the app, zone or secondary it was about.

var (
	drainRemainingDesc = prometheus.NewDesc("slotdns_drain_remaining_seconds",
		"Seconds until the slot an app last moved away from is drained (resolvers may still hold its answers); 0 when none drains.",
		[]string{"app"}, nil)
	zoneSerialDesc = prometheus.NewDesc("slotdns_zone_serial",
		"The SOA serial served for the zone.",
		[]string{"zone"}, nil)
	secondarySerialDesc = prometheus.NewDesc("slotdns_secondary_serial",
		"The SOA serial a secondary last said it has of the zone; absent until it answers.",
		[]string{"zone", "secondary"}, nil)
	secondaryLagDesc = prometheus.NewDesc("slotdns_secondary_lag",
		"How far a secondary is behind the zone, in serial steps (RFC 1982), not seconds: 0 when it has the served serial; absent until it answers.",
		[]string{"zone", "secondary"}, nil)
)

// stateCollector exports what src's Apps, Zones and Secondaries give.
type stateCollector struct {
	src Sources
}

func (stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{drainRemainingDesc, zoneSerialDesc, secondarySerialDesc, secondaryLagDesc} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Apps != nil {
		for _, a := range c.src.Apps() {
			gauge(drainRemainingDesc, max(a.DrainRemaining.Seconds(), 0), a.App)
		}
	}
	if c.src.Zones != nil {
		for _, z := range c.src.Zones() {
			gauge(zoneSerialDesc, float64(z.Serial), z.Zone)
		}
	}
	if c.src.Secondaries != nil {
		for _, s := range c.src.Secondaries() {
			if !s.Known {
				continue
			}
			gauge(secondarySerialDesc, float64(s.Serial), s.Zone, s.Address)
			gauge(secondaryLagDesc, float64(s.Lag), s.Zone, s.Address)
		}
	}
}
