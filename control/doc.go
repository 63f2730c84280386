// Package control is the control plane of slotdns: the config file
// (LoadConfig), the running server (Start, Run: the store, the DNS server
// fed with a new snapshot after every change, apex alias resolution) and
// its HTTP/JSON API on a unix socket (NewHandler), with the two
// Controllers the CLI uses: Client, over the socket, and Local, on the
// database file when no server runs (Connect picks one).
package control
