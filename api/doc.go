// Package api is the control API of slotdns as its callers see it: the
// JSON types of requests and replies, the kinds of error a caller branches
// on, and Client, which speaks the API over the server's unix socket. It
// imports nothing else of slotdns, so that the CLI, and any program that
// drives slotdns, depends on this package alone.
//
// The routes, all JSON in and out:
//
//	GET  /v1/apps                     []AppStatus
//	GET  /v1/apps/{app}               AppStatus
//	POST /v1/apps/{app}/swap          SwapRequest -> Change
//	POST /v1/apps/{app}/slots/{slot}  SetRequest -> Change
//	POST /v1/apps/{app}/rollback      RollbackRequest -> Change
//	GET  /v1/apps/{app}/history       []Entry (?limit=N keeps the last N)
//	POST /v1/reload                   ReloadResult
//	GET  /v1/backup                   the database file, consistent
//
// An error reply is {"error": "...", "kind": "..."}; see Error.
package api
