// Package probe asks DNS servers what they serve, as a resolver would, and
// compares it with the store: the DNS side of `slotdns verify` (one server,
// or with --all every authoritative server of the zone), of waiting for
// secondaries after a change, and of the secondaries' serials in status.
// It takes the control API's types (api.AppStatus) as input and returns
// plain results with JSON tags; printing them is the CLI's job.
//
// probe never sends a packet to a documentation address (RFC 5737:
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32).
// Example zones and configs are full of them, and on some networks they
// are routed for real. AuthServers and VerifyAll list such servers as
// Skipped; the other functions answer with the reason as an error.
//
// Files:
//
//	query.go    the one place a query goes out (exchange, ask), timeouts,
//	            documentation addresses, Dialable
//	serial.go   Serial, WaitSerial: a zone's SOA serial, polled until served
//	verify.go   Verify, Result, Row; plan: the questions a slot implies
//	servers.go  AuthServers, Server, Skipped: slotdns, the NS set, the secondaries
//	matrix.go   VerifyAll, Matrix, MatrixRow, Cell: every question of every server
package probe
