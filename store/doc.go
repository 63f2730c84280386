// Package store keeps slotdns's live state in bbolt: slot targets, app
// versions, zone serials and history. Every mutation is one Update
// transaction. It knows nothing of the DNS wire format: targets are stored
// as the canonical text the caller hands in.
package store
