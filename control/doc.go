// Package control is the control plane of slotdns: the running server
// and the control API, served over its unix socket or, when no server
// runs, on the database file. Every change goes through the change
// pipeline (package pipeline); this package decides when a change may
// run (its gate and checks), carries it from a request to the pipeline,
// and wires the pipeline to the DNS server, the secondaries and the apex
// alias resolver.
//
// The path of a swap: api.go decodes POST /v1/apps/{app}/swap; change.go
// checks the request, runs the gate (gate.go, with package checks) and
// calls pipeline.Swap; the pipeline commits and publishes through the
// server's sink (server.go) to the DNS server and the NOTIFY senders
// (notify.go); gate.go then watches production for the "after" window.
//
// The files, by concern:
//
//   - server.go: Server (Start, Shutdown, Run), its sink and runtime.
//   - api.go: the HTTP/JSON handler of the control API, its routes and
//     the scope each needs.
//   - identity.go: who asks: the socket's peer (SO_PEERCRED) or a token.
//   - remote.go: the remote API's tokens, sessions, login and TLS.
//   - listeners.go: the HTTP servers of the socket and the API listener.
//   - idempotency.go: a POST with an Idempotency-Key runs once.
//   - events.go: server-sent events of changes and checks.
//   - secondaries.go: each secondary followed to a new serial.
//   - plan.go: what a swap would change, for its confirmation.
//   - metrics.go: /metrics and the state it reads at scrape time.
//   - tokens.go: the token routes and whoami.
//   - socket.go: the 0600 unix socket.
//   - service.go: the API on a pipeline, for a server or offline.
//   - change.go: swap, set and rollback requests.
//   - gate.go: the gate of swaps and rollback --to, the "after" window
//     and the automatic rollback.
//   - status.go: the status of an app, its apex alias and secondaries.
//   - alias.go: apex aliases of targets outside our zones, resolved in
//     the background.
//   - notify.go: NOTIFY to secondaries, retried and coalesced.
//   - transfer.go: who may transfer which zone, and the IXFR journal, for
//     the DNS server.
//   - reload.go: zone files and config read again.
//   - local.go: the API on the database file (Connect, OpenLocal) and the
//     offline commands rename and forget.
//   - errors.go, convert.go: errors and records as the API gives them.
package control
