// Package metrics exports slotdns's metrics for Prometheus: the DNS data
// plane's counters, the control plane's changes, checks and NOTIFYs, and
// the state of apps, zones and secondaries.
//
// # Use
//
//	m := metrics.New(version, metrics.Sources{
//		DNS:         dnsServer.Counts, // with dnsserver.Config.Count
//		Apps:        ...,              // func() []metrics.AppState
//		Zones:       ...,              // func() []metrics.ZoneState
//		Secondaries: ...,              // func() []metrics.SecondaryState
//	})
//	mux.Handle("GET /metrics", m.Handler())
//	m.Change("swap", "ok")
//
// New makes a registry of its own (never the global one) with the Go
// runtime and process collectors and slotdns_build_info. Handler serves
// it, in the text or protobuf exposition format the scraper asks for.
// Sources are read at every scrape; a nil one exports nothing. The
// recorder methods (Change, Check, AutoRollback, Notify, API) add to
// counters, and do nothing on a nil *Metrics, so that code that records
// needs no check for metrics being off.
//
// Label values are the caller's: pass the values listed below, names from
// the config (apps, zones, checks, secondaries) and mux patterns, never
// anything a client sends, so that every label stays low in cardinality.
//
// # Metrics
//
// DNS, from Sources.DNS (dnsserver.Counts), as constant metrics made at
// scrape time, so that the query path never touches a Prometheus type:
//
//	slotdns_dns_requests_total{zone,qtype,protocol,rcode}  queries answered
//	slotdns_dns_dropped_total{protocol}                    packets with no response
//	slotdns_dns_truncated_total{zone}                      UDP answers with TC
//	slotdns_slot_answers_total{app,slot}                   answers for a slot's names
//	slotdns_zone_transfers_total{zone,type,result}         AXFR, IXFR: ok, refused
//	slotdns_tsig_failures_total{reason}                    bad_key, bad_signature, bad_time, bad_truncation, malformed
//	slotdns_rrl_responses_total{action}                    slipped, dropped (nothing without rate limiting)
//	slotdns_cookie_queries_total{result}                   client_only, valid, invalid, malformed (nothing with cookies off)
//	slotdns_tcp_connections_total{result}                  accepted, refused, evicted
//	slotdns_tcp_connections_open                           open now
//
// The zone is "" for names in no zone served here; qtype is one of A,
// AAAA, CNAME, SOA, NS, MX, TXT, SRV, CAA, PTR, ANY, AXFR, IXFR and
// "other"; rcode one of NOERROR, NXDOMAIN, REFUSED, SERVFAIL, FORMERR,
// NOTIMP, NOTAUTH and "other"; protocol udp or tcp.
//
// Control plane, from the recorder methods:
//
//	slotdns_changes_total{kind,result}               Change: swap, set, rollback, rollback_to; ok, refused, conflict, error
//	slotdns_check_results_total{check,when,outcome}  Check: before, after; pass, fail
//	slotdns_auto_rollbacks_total{app}                AutoRollback
//	slotdns_notify_total{zone,secondary,result}      Notify: acked, error, gave_up
//	slotdns_api_requests_total{route,code}           API: the mux pattern, the HTTP status
//
// State, from Sources.Apps, Zones and Secondaries, as gauges made at
// scrape time:
//
//	slotdns_drain_remaining_seconds{app}       AppState.DrainRemaining
//	slotdns_zone_serial{zone}                  ZoneState.Serial
//	slotdns_secondary_serial{zone,secondary}   SecondaryState.Serial
//	slotdns_secondary_lag{zone,secondary}      SecondaryState.Lag, in serial steps
//
// A secondary that never answered (Known false) has neither gauge, rather
// than a made-up value. And:
//
//	slotdns_build_info{version,goversion}  always 1
//
// The files: metrics.go has Metrics, New, Handler and the recorders;
// sources.go the Sources and the states they give; dns.go the collector
// of the DNS counters; state.go that of the gauges.
package metrics
