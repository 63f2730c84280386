package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slotdns/slotdns/dnsserver"
)

// The DNS counters are the server's own (dnsserver.Counts, summed over
// its readers when asked): dnsCollector turns one Counts into constant
// metrics at every scrape, so that the query path never touches a
// Prometheus type.

var (
	dnsRequestsDesc = prometheus.NewDesc("slotdns_dns_requests_total",
		`DNS queries answered, by zone (the served zone the name is in; "" for none), query type, protocol and rcode; a zone transfer counts once.`,
		[]string{"zone", "qtype", "protocol", "rcode"}, nil)
	dnsDroppedDesc = prometheus.NewDesc("slotdns_dns_dropped_total",
		"DNS packets that got no response (a response, or less than a header), by protocol.",
		[]string{"protocol"}, nil)
	dnsTruncatedDesc = prometheus.NewDesc("slotdns_dns_truncated_total",
		"Answers sent over UDP with TC set, for the client to ask again over TCP, by zone.",
		[]string{"zone"}, nil)
	slotAnswersDesc = prometheus.NewDesc("slotdns_slot_answers_total",
		"Answers for the names of an app's slot, by app and slot.",
		[]string{"app", "slot"}, nil)
	zoneTransfersDesc = prometheus.NewDesc("slotdns_zone_transfers_total",
		"AXFR and IXFR requests, by zone, type and result (ok: sent; refused: not for this client, or a zone not served here).",
		[]string{"zone", "type", "result"}, nil)
	tsigFailuresDesc = prometheus.NewDesc("slotdns_tsig_failures_total",
		"Signed requests whose TSIG failed, by reason (bad_key, bad_signature, bad_time, bad_truncation, malformed).",
		[]string{"reason"}, nil)
	tcpConnsDesc = prometheus.NewDesc("slotdns_tcp_connections_total",
		"TCP connections, by result (accepted; refused: the source had all it may have; evicted: the idlest, closed to make room).",
		[]string{"result"}, nil)
	tcpOpenDesc = prometheus.NewDesc("slotdns_tcp_connections_open",
		"TCP connections open now.", nil, nil)
	rrlDesc = prometheus.NewDesc("slotdns_rrl_responses_total",
		"UDP responses over the rate limit, by what became of them (slipped: sent truncated; dropped: not sent).",
		[]string{"action"}, nil)
	cookiesDesc = prometheus.NewDesc("slotdns_cookie_queries_total",
		"Queries with a DNS cookie, by what it held (client_only; valid: a server cookie of ours; invalid: one we did not make, or too old; malformed).",
		[]string{"result"}, nil)
)

// dnsCollector exports what counts gives, at scrape time.
type dnsCollector struct {
	counts func() dnsserver.Counts
}

func (dnsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dnsRequestsDesc, dnsDroppedDesc, dnsTruncatedDesc, slotAnswersDesc, zoneTransfersDesc, tsigFailuresDesc, rrlDesc, cookiesDesc, tcpConnsDesc, tcpOpenDesc} {
		ch <- d
	}
}

func (c dnsCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.counts()
	counter := func(d *prometheus.Desc, n uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), labels...)
	}
	for k, n := range counts.Requests {
		counter(dnsRequestsDesc, n, k.Zone, k.Qtype, k.Protocol, k.Rcode)
	}
	for protocol, n := range counts.Dropped {
		counter(dnsDroppedDesc, n, protocol)
	}
	for zone, n := range counts.Truncated {
		counter(dnsTruncatedDesc, n, zone)
	}
	for k, n := range counts.SlotAnswers {
		counter(slotAnswersDesc, n, k.App, k.Slot)
	}
	for k, n := range counts.Transfers {
		counter(zoneTransfersDesc, n, k.Zone, k.Type, k.Result)
	}
	for reason, n := range counts.TSIGFailures {
		counter(tsigFailuresDesc, n, reason)
	}
	for action, n := range counts.RRL {
		counter(rrlDesc, n, action)
	}
	for result, n := range counts.Cookies {
		counter(cookiesDesc, n, result)
	}
	for result, n := range counts.TCPConnections {
		counter(tcpConnsDesc, n, result)
	}
	if counts.TCPConnections != nil {
		ch <- prometheus.MustNewConstMetric(tcpOpenDesc, prometheus.GaugeValue, float64(counts.TCPOpen))
	}
}
