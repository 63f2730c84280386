// Package dnsserver is slotdns's wire: UDP and TCP listeners, EDNS0,
// truncation, opcodes and rcodes. It serves every query from the current
// zones.Snapshot, which it loads once per query from an atomic pointer, and
// turns the lookup's zones.Result into the response. It parses no config and
// touches no database.
package dnsserver
