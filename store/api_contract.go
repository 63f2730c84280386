package store

// This file fixes the API other packages build against. The store owner
// replaces the stub bodies (and moves the declarations into db.go, swap.go,
// history.go, serial.go ...) but keeps the exported names and signatures.

import (
	"errors"
	"time"
)

var (
	ErrNotFound   = errors.New("not found")                  // no such app, slot or zone
	ErrConflict   = errors.New("conflict")                   // --expect did not match, or rollback refused
	ErrSameTarget = errors.New("slots have the same target") // a swap of two slots with one target
	ErrLocked     = errors.New("database is locked by another process")
)

// DB is an open slotdns database.
type DB struct{}

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock; 0 means a short default
	// (1s), after which Open fails with ErrLocked.
	Timeout  time.Duration
	ReadOnly bool
}

// Open opens (creating if needed) the database at path.
func Open(path string, opts Options) (*DB, error) { panic("unimplemented") }

// Close closes the database.
func (db *DB) Close() error { panic("unimplemented") }

// Path returns the file path.
func (db *DB) Path() string { panic("unimplemented") }

// App is one app's live state.
type App struct {
	Name    string            `json:"name"`
	Zone    string            `json:"zone"`
	Version uint64            `json:"version"` // bumped by every mutation
	Slots   map[string]string `json:"slots"`   // slot -> canonical target text
	Updated time.Time         `json:"updated"`
}

// SeedApp records app in zone and, for every slot not yet in the store,
// its initial target. Slots already stored keep their target: the store is
// the truth after the first start. It returns the slots it added.
func (db *DB) SeedApp(app, zone string, slots map[string]string) ([]string, error) {
	panic("unimplemented")
}

// SeedZone makes the zone's stored serial max(stored, fileSerial) in RFC
// 1982 order and returns it.
func (db *DB) SeedZone(zone string, fileSerial uint32) (uint32, error) { panic("unimplemented") }

// ZoneSerial returns the stored serial of zone.
func (db *DB) ZoneSerial(zone string) (uint32, error) { panic("unimplemented") }

// BumpSerial increments the zone's serial (RFC 1982) in its own
// transaction, for zone changes that are not app mutations (an apex alias
// whose resolved addresses changed). It returns the new serial.
func (db *DB) BumpSerial(zone string) (uint32, error) { panic("unimplemented") }

// App returns one app; ErrNotFound when it is not stored.
func (db *DB) App(name string) (App, error) { panic("unimplemented") }

// Apps returns every stored app, sorted by name.
func (db *DB) Apps() ([]App, error) { panic("unimplemented") }

// Meta is who did a change and why.
type Meta struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// SwapRequest exchanges the targets of Slot and With.
type SwapRequest struct {
	App    string
	Slot   string // default "staging"
	With   string // default "production"
	Expect string // if set, Slot's current target must equal it (ErrConflict)
	Meta
}

// SetRequest points Slot at Target.
type SetRequest struct {
	App    string
	Slot   string
	Target string // canonical target text
	Expect string // if set, Slot's current target must equal it (ErrConflict)
	Meta
}

// Entry is one history record; Seq counts from 1 per app, without gaps.
type Entry struct {
	Seq    uint64            `json:"seq"`
	Time   time.Time         `json:"time"`
	Kind   string            `json:"kind"` // "swap", "set", "rollback"
	Actor  string            `json:"actor"`
	Reason string            `json:"reason,omitempty"`
	Before map[string]string `json:"before"` // slot -> target, whole app
	After  map[string]string `json:"after"`
	Zone   string            `json:"zone"`
	Serial uint32            `json:"serial"` // the zone serial after the change
	// Version is the app version after the change.
	Version uint64 `json:"version"`
}

// Swap applies req in one Update transaction: the targets, the app version,
// the zone serial and one history entry, or nothing.
func (db *DB) Swap(req SwapRequest) (Entry, error) { panic("unimplemented") }

// Set applies req in one Update transaction, as Swap does.
func (db *DB) Set(req SetRequest) (Entry, error) { panic("unimplemented") }

// Rollback restores the Before of the app's last history entry, when the
// app still equals that entry's After; otherwise ErrConflict saying what
// changed since.
func (db *DB) Rollback(app string, meta Meta) (Entry, error) { panic("unimplemented") }

// History returns the app's entries, oldest first; limit > 0 keeps the last
// limit entries.
func (db *DB) History(app string, limit int) ([]Entry, error) { panic("unimplemented") }

// SerialLess reports whether a < b in RFC 1982 serial number arithmetic.
func SerialLess(a, b uint32) bool { panic("unimplemented") }

// AliasRecord is the last good resolution of an apex alias target that lies
// outside slotdns's zones, kept so that a restart with the resolver down
// still serves it.
type AliasRecord struct {
	Target   string    `json:"target"` // lowercase FQDN
	Addrs    []string  `json:"addrs"`  // sorted text addresses
	TTL      uint32    `json:"ttl"`
	Resolved time.Time `json:"resolved"` // when they were last confirmed
}

// SaveAlias stores rec. When its addresses differ from the stored ones it
// bumps the serial of every zone in zones in the same transaction and
// reports changed; the new serials are returned keyed by zone.
func (db *DB) SaveAlias(rec AliasRecord, zones []string) (changed bool, serials map[string]uint32, err error) {
	panic("unimplemented")
}

// Aliases returns every stored alias record keyed by target.
func (db *DB) Aliases() (map[string]AliasRecord, error) { panic("unimplemented") }
