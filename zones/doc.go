// Package zones is slotdns's data model and its answer: it parses RFC 1035
// master files, overlays the slot mapping on them, and builds immutable
// snapshots that answer authoritative lookups. It is pure and in memory: it
// reads zone files and nothing else, and knows nothing of sockets or bbolt.
package zones
