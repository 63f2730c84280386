package store

import (
	"errors"
	"fmt"
	"time"
)

// Store is the contract slotdns's change pipeline has with its state:
// read a consistent view, and apply a batch of writes only if the records
// it read are still at the revisions it read. DB, on a bbolt file, is the
// embedded implementation; the contract is small enough for a backend on
// etcd (see the package documentation).
type Store interface {
	// Read runs fn on one consistent view of the state.
	Read(fn func(View) error) error
	// Apply writes b in one transaction if every condition of b.If
	// holds, and returns the revision it stamped on what it wrote. A
	// condition that fails writes nothing and returns a *ConflictError.
	Apply(b *Batch) (Rev, error)
	Close() error
}

// View is one consistent reading of the state. Every record read carries
// its revision (Rev), which a Batch may then require.
type View interface {
	// App returns one app; an error wrapping ErrNotFound when there is
	// none.
	App(name string) (App, error)
	Apps() ([]App, error) // sorted by name
	Zone(origin string) (Zone, error)
	Zones() ([]Zone, error) // sorted by origin
	// Drains returns every app's drain state, keyed by app.
	Drains() (map[string]DrainState, error)
	// Aliases returns every stored alias record, keyed by target.
	Aliases() (map[string]AliasRecord, error)
	// History returns the app's entries, oldest first; limit > 0 keeps
	// the last limit. The app need not be stored.
	History(app string, limit int) ([]Entry, error)
	// Entry returns entry seq of the app's history, or ErrNotFound
	// naming the range there is.
	Entry(app string, seq uint64) (Entry, error)
	// LastEntry returns the app's newest entry; ok is false when it has
	// none.
	LastEntry(app string) (e Entry, ok bool, err error)
	// Rollovers returns the key rollover state of every zone that has
	// one, keyed by zone.
	Rollovers() (map[string]Rollover, error)
	// Dynamic returns the records DNS UPDATE added to zone; none when
	// there are none.
	Dynamic(zone string) (DynamicZone, error)
	// Journal returns the deltas that lead from serial from to the
	// zone's stored serial, oldest first; ok is false when the journal
	// cannot answer and the caller falls back to a full transfer.
	Journal(zone string, from uint32) (deltas []Delta, ok bool, err error)
}

// Rev is a revision: Apply stamps everything one batch writes with the
// next revision of the store, as etcd stamps ModRevision. A record never
// written has revision 0.
type Rev uint64

// Key names one record for a condition.
type Key struct {
	Kind string // "app", "zone", "drain", "alias", "rollover" or "dynamic"
	Name string
}

func (k Key) String() string { return fmt.Sprintf("%s %q", k.Kind, k.Name) }

// AppKey, ZoneKey, DrainKey and AliasKey name the records of Batch.If.
func AppKey(name string) Key     { return Key{"app", name} }
func ZoneKey(origin string) Key  { return Key{"zone", origin} }
func DrainKey(app string) Key    { return Key{"drain", app} }
func AliasKey(target string) Key { return Key{"alias", target} }

// Cond requires a record to be at a revision: Rev 0 means that the
// record must not exist.
type Cond struct {
	Key Key
	Rev Rev
}

// Batch is one change of the state, applied all at once or not at all.
// Deletes are applied first, then puts, then journal appends.
type Batch struct {
	If []Cond

	Apps    []App
	Zones   []Zone
	Drains  []DrainState
	Aliases []AliasRecord
	// History entries are put at (App, Seq); a new entry's Seq is the
	// app's last plus one. Every change that appends one also writes the
	// app with a condition on its revision, so two writers cannot append
	// the same Seq.
	History []Entry
	// Journal deltas are appended to the journal of their Zone, each
	// From the previous To; the oldest are dropped beyond the store's
	// journal limit. DropJournals empties the named zones' journals
	// first: a change that is not journaled cuts the chain.
	Journal      []Delta
	DropJournals []string
	// Rollovers are put whole; DeleteZones drops a zone's too.
	Rollovers []Rollover
	// Dynamic sets are put whole; DeleteZones drops a zone's too.
	Dynamic []DynamicZone

	// DeleteApps removes apps with their history and drain state;
	// DeleteZones zones with their journal and saved signatures.
	DeleteApps    []string
	DeleteZones   []string
	DeleteAliases []string
}

// Empty reports whether b writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Apps)+len(b.Zones)+len(b.Drains)+len(b.Aliases)+len(b.History)+len(b.Journal)+len(b.Rollovers)+len(b.Dynamic)+
		len(b.DropJournals)+len(b.DeleteApps)+len(b.DeleteZones)+len(b.DeleteAliases) == 0
}

// Errors callers branch on.
var (
	ErrNotFound = errors.New("not found") // no such app, slot, zone or entry
	ErrConflict = errors.New("conflict")  // a condition of a batch failed, or a change does not fit the state
	ErrLocked   = errors.New("database is locked by another process")
	// ErrDamaged is a file that is not a whole slotdns database.
	ErrDamaged = errors.New("damaged")
)

// ConflictError is a batch refused because a record moved since it was
// read.
type ConflictError struct {
	Key       Key
	Want, Got Rev
}

func (e *ConflictError) Error() string {
	if e.Want == 0 {
		return fmt.Sprintf("%s was created meanwhile (revision %d)", e.Key, e.Got)
	}
	if e.Got == 0 {
		return fmt.Sprintf("%s was removed meanwhile (it was at revision %d)", e.Key, e.Want)
	}
	return fmt.Sprintf("%s changed meanwhile (revision %d, read at %d)", e.Key, e.Got, e.Want)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// Zone is the stored state of one zone.
type Zone struct {
	Origin string `json:"-"` // the key
	Serial uint32 `json:"serial"`
	// Digest identifies the content served at Serial that does not come
	// from the store (the zone file's records, the slots laid over them),
	// as the caller computed it; the store only keeps it.
	Digest string `json:"digest,omitempty"`
	// Served identifies what the zone's slot names answered at Serial,
	// apex alias addresses included: content that also depends on other
	// zones and on alias resolutions in time. A start that would serve
	// otherwise gives the zone a new serial. Empty in databases written
	// before it was recorded.
	Served string `json:"served,omitempty"`
	// JournalCut, written by earlier versions, says the content changed
	// at this serial without a journal entry.
	JournalCut bool `json:"journal_cut,omitempty"`
	Rev        Rev  `json:"-"`
}

// Stats counts the transactions of a DB since it was opened.
type Stats struct {
	Reads   uint64 // Read (and the other read-only calls)
	Commits uint64 // Apply and every other write transaction that committed
}

// now is the time stamped on changes: UTC, without the monotonic reading,
// so a time compares equal to itself after a JSON round trip.
func now() time.Time { return time.Now().UTC().Round(0) }
