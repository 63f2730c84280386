// Package dnsserver is slotdns's wire: UDP and TCP listeners, EDNS0,
// truncation, opcodes and rcodes. It serves every query from the current
// zones.Snapshot, which it loads once per query from an atomic pointer, and
// turns the lookup's zones.Result into the response. It parses no config and
// touches no database.
//
// The files, by concern:
//
//   - server.go: Server, its listeners, Publish and Shutdown.
//   - handler.go: one query in, one response out, through a full dns.Msg
//     parse: header checks, EDNS0, Result to rcode and AA, truncation.
//   - fastpath.go: the same answers for plain queries without dns.Msg, from
//     responses packed once per published snapshot and kept beside it.
//   - udp.go, udp_linux.go: long-lived readers, one per CPU the process
//     may use; on Linux each has a socket of its own (SO_REUSEPORT) and
//     moves up to 32 packets per recvmmsg and sendmmsg, made as raw
//     system calls on the non-blocking socket, and answers inline.
//   - tcp.go: one goroutine per connection, pipelined queries answered in
//     order, an idle timeout and a cap on connections.
//   - xfr.go: AXFR and IXFR (over TCP, streamed in messages of up to 64
//     KiB; IXFR over UDP gets the SOA), and TSIG-signed queries. The fast
//     path takes none of these; the server sends them here.
//   - acl.go: the transfer config, who may transfer which zone, and the
//     refusal log limited to one line per source per minute.
//   - tsig.go: TSIG (RFC 8945) keys, request checks and response signing.
//   - counts.go: Counts, what the server counted (Config.Count), summed
//     over its readers when asked; labels.go: the bounded label values
//     (query types, rcodes, TSIG failure reasons).
//   - counters.go: the counters of each reader (shards of cache-line
//     blocks) and what one query counts as (tally).
//   - ids.go: the stable ids of zones and app slots that index the
//     counters, and each published state's map to them.
package dnsserver
