// Package store keeps slotdns's live state in bbolt: slot targets, app
// versions, zone serials, history and each zone's IXFR journal. Every
// mutation is one Update transaction, its journal entry included. It knows
// nothing of the DNS wire format: targets are stored, and journal deltas
// kept, as the text the caller hands in.
package store
