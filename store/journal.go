package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// Layout of the journal (schema version 1, bucket created on first use so
// that files written before it need no migration):
//
//	journal  <zone>/  -> nested bucket: big-endian uint64 seq -> Delta
//
// Entries are keyed by a sequence number that only grows, not by serial:
// serials wrap (RFC 1982), so their byte order is not the order of change.
// Every entry holds its From and To; consecutive entries chain (each From
// is the previous To) and the last To is the zone's serial. A change that
// is not journaled drops the zone's entries, so that the chain never skips
// a change.
var bucketJournal = []byte("journal")

// DefaultJournalLimit is the number of deltas kept per zone when
// SetJournal is given no positive limit.
const DefaultJournalLimit = 1000

// Delta is one step of a zone's IXFR journal (RFC 1995): the records that
// went from serial From to serial To, as zone-file text. Removed starts with
// the SOA of From, Added with the SOA of To.
type Delta struct {
	Zone    string   `json:"-"` // the zone whose journal it is (the key)
	From    uint32   `json:"from"`
	To      uint32   `json:"to"`
	Removed []string `json:"removed"`
	Added   []string `json:"added"`
}

// ZoneState is what a zone's slot answers are made of at one serial: the
// apps in the zone and every stored alias record, as the transaction sees
// them.
type ZoneState struct {
	Zone    string
	Serial  uint32
	Apps    []App // sorted by name
	Aliases map[string]AliasRecord
}

// Journaler computes the Delta of a change from the zone's state before and
// after it. The store calls it inside every Update transaction that bumps a
// zone's serial (Swap, Set, Rollback, SaveAlias, BumpSerial) and writes the
// Delta in that same transaction, so that the journal and the change commit
// together or not at all. An error aborts the change.
//
// The store sets the Delta's From and To to the serials of the change. A
// Journaler runs inside a bbolt write transaction: it must not call the DB
// (that would deadlock) and must not keep or change what it is given.
type Journaler func(before, after ZoneState) (Delta, error)

// journalSettings is what SetJournal installed.
type journalSettings struct {
	journaler Journaler
	limit     int
}

// SetJournal installs j and keeps at most limit deltas per zone (oldest
// dropped first; limit <= 0 means 1000). Without a journaler, changes are
// made as before and the journal is cut (IXFR from older serials is then
// answered by AXFR). SetJournal(nil, 0) uninstalls it.
func (db *DB) SetJournal(j Journaler, limit int) {
	if limit <= 0 {
		limit = DefaultJournalLimit
	}
	db.journal.Store(&journalSettings{journaler: j, limit: limit})
}

// journalLimit is the number of deltas kept per zone.
func (db *DB) journalLimit() int {
	if js := db.journal.Load(); js != nil {
		return js.limit
	}
	return DefaultJournalLimit
}

// ZoneChanged records a change of the zone file itself (an edit picked up by
// a reload): in one transaction it sets the serial to max(serial+1,
// atLeast) in RFC 1982 order, keeps digest as the zone's new content
// digest (see SeedZone), calls delta with the old and new serial, and
// journals what it returns. It returns the new serial. An error from delta
// aborts the change; a nil delta makes the change unjournaled (the journal
// is cut). delta runs inside the write transaction, as a Journaler does,
// and the store sets the From and To of what it returns.
func (db *DB) ZoneChanged(zone string, atLeast uint32, digest string, delta func(from, to uint32) (Delta, error)) (uint32, error) {
	db.markServed(zone)
	var to uint32
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		st, err := loadZone(tx, zone)
		if err != nil {
			return err
		}
		from := st.Serial
		to = from + 1
		if SerialLess(to, atLeast) {
			to = atLeast
		}
		st.Serial, st.Digest = to, digest
		if err := putJSON(tx.Bucket(bucketZones), []byte(zone), st); err != nil {
			return err
		}
		if delta == nil {
			return dropJournal(tx, zone)
		}
		d, err := delta(from, to)
		if err != nil {
			return fmt.Errorf("journal %d -> %d: %w", from, to, err)
		}
		d.From, d.To = from, to
		return appendDelta(tx, zone, d, db.journalLimit())
	})
	if err != nil {
		return 0, fmt.Errorf("zone %q changed: %w", zone, err)
	}
	return to, nil
}

// CutJournal records that the zone's content changed at its current serial
// without a journal entry (SeedZone and SeedApp move the serial instead):
// the journal is dropped and the next change is not journaled either, since
// a secondary at the current serial may hold the content from before.
func (db *DB) CutJournal(zone string) error {
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		if _, err := loadZone(tx, zone); err != nil {
			return err
		}
		return cutJournal(tx, zone)
	})
	if err != nil {
		return fmt.Errorf("cut journal of %q: %w", zone, err)
	}
	return nil
}

// Journal returns the deltas that lead from serial from to the zone's
// current serial, oldest first; ok is false when the journal cannot answer
// (from is older than the journal keeps, or a change went unjournaled), and
// the caller falls back to a full transfer. from equal to the current serial
// gives no deltas and ok true. When from occurs twice in the journal (only
// possible after serial jumps around the whole RFC 1982 circle) the newest
// occurrence is taken.
func (db *DB) Journal(zone string, from uint32) (deltas []Delta, ok bool, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		st, err := loadZone(tx, zone)
		if err != nil {
			return err
		}
		if from == st.Serial {
			ok = true
			return nil
		}
		b := zoneJournal(tx, zone)
		if b == nil {
			return nil
		}
		// Walk back from the newest entry, each one's To the next one's
		// From, until one starts at from.
		want := st.Serial
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var d Delta
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode journal entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if d.To != want {
				return nil // a gap: cannot happen unless the file was edited; answer nothing
			}
			deltas = append(deltas, d)
			if d.From == from {
				ok = true
				return nil
			}
			want = d.From
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("journal of %q from %d: %w", zone, from, err)
	}
	if !ok {
		return nil, false, nil
	}
	for i, j := 0, len(deltas)-1; i < j; i, j = i+1, j-1 {
		deltas[i], deltas[j] = deltas[j], deltas[i]
	}
	return deltas, true, nil
}

// zoneJournal gives the zone's journal bucket, nil when it has none.
func zoneJournal(tx *bbolt.Tx, zone string) *bbolt.Bucket {
	journal := tx.Bucket(bucketJournal)
	if journal == nil {
		return nil
	}
	return journal.Bucket([]byte(zone))
}

// journalChange is one serial-bumping change of one zone being journaled:
// begin reads the state before the change, finish the state after it and
// writes the delta.
type journalChange struct {
	zone     string
	settings *journalSettings
	before   ZoneState
}

// beginJournal starts journaling a change of zone in tx; call it before the
// change writes anything.
func (db *DB) beginJournal(tx *bbolt.Tx, zone string) (*journalChange, error) {
	db.markServed(zone)
	jc := &journalChange{zone: zone, settings: db.journal.Load()}
	if jc.settings == nil || jc.settings.journaler == nil {
		return jc, nil
	}
	var err error
	jc.before, err = loadZoneState(tx, zone)
	return jc, err
}

// finish journals the change after it is written in tx (serial bumped), or
// cuts the journal when no journaler is installed.
func (jc *journalChange) finish(tx *bbolt.Tx) error {
	if jc.settings == nil || jc.settings.journaler == nil {
		return dropJournal(tx, jc.zone)
	}
	after, err := loadZoneState(tx, jc.zone)
	if err != nil {
		return err
	}
	d, err := jc.settings.journaler(jc.before, after)
	if err != nil {
		return fmt.Errorf("journal %s %d -> %d: %w", jc.zone, jc.before.Serial, after.Serial, err)
	}
	d.From, d.To = jc.before.Serial, after.Serial
	return appendDelta(tx, jc.zone, d, jc.settings.limit)
}

// loadZoneState reads what the zone's slot answers are made of in tx.
func loadZoneState(tx *bbolt.Tx, zone string) (ZoneState, error) {
	st, err := loadZone(tx, zone)
	if err != nil {
		return ZoneState{}, err
	}
	zs := ZoneState{Zone: zone, Serial: st.Serial, Aliases: map[string]AliasRecord{}}
	apps := tx.Bucket(bucketApps)
	err = apps.ForEach(func(k, _ []byte) error {
		a, err := loadApp(tx, string(k))
		if err != nil {
			return err
		}
		if a.Zone == zone {
			zs.Apps = append(zs.Apps, a)
		}
		return nil
	})
	if err != nil {
		return ZoneState{}, err
	}
	aliases := tx.Bucket(bucketAliases)
	err = aliases.ForEach(func(k, _ []byte) error {
		var rec AliasRecord
		if err := getJSON(aliases, k, &rec); err != nil {
			return err
		}
		zs.Aliases[rec.Target] = rec
		return nil
	})
	if err != nil {
		return ZoneState{}, err
	}
	return zs, nil
}

// appendDelta stores d as the zone's newest entry and drops the oldest ones
// beyond limit. After a cut (content changed in place) it stores nothing
// and clears the cut instead: d starts from a serial whose content a
// secondary may hold in its earlier form.
func appendDelta(tx *bbolt.Tx, zone string, d Delta, limit int) error {
	st, err := loadZone(tx, zone)
	if err != nil {
		return err
	}
	if st.JournalCut {
		return dropJournal(tx, zone) // clears the cut
	}
	journal, err := tx.CreateBucketIfNotExists(bucketJournal)
	if err != nil {
		return fmt.Errorf("journal bucket: %w", err)
	}
	b, err := journal.CreateBucketIfNotExists([]byte(zone))
	if err != nil {
		return fmt.Errorf("journal bucket of %q: %w", zone, err)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("journal sequence of %q: %w", zone, err)
	}
	if err := putJSON(b, seqKey(seq), d); err != nil {
		return err
	}
	// Entries are contiguous: only the oldest are ever deleted, or all.
	first, _ := b.Cursor().First()
	for s := binary.BigEndian.Uint64(first); seq-s+1 > uint64(limit); s++ {
		if err := b.Delete(seqKey(s)); err != nil {
			return fmt.Errorf("drop journal entry %d of %q: %w", s, zone, err)
		}
	}
	return nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// dropJournal deletes the zone's journal and clears a cut: the change being
// made moves the serial without an entry, so no delta can lead across it.
func dropJournal(tx *bbolt.Tx, zone string) error {
	if journal := tx.Bucket(bucketJournal); journal != nil && journal.Bucket([]byte(zone)) != nil {
		if err := journal.DeleteBucket([]byte(zone)); err != nil {
			return fmt.Errorf("drop journal of %q: %w", zone, err)
		}
	}
	st, err := loadZone(tx, zone)
	if err != nil {
		return err
	}
	if !st.JournalCut {
		return nil
	}
	st.JournalCut = false
	return putJSON(tx.Bucket(bucketZones), []byte(zone), st)
}

// cutJournal deletes the zone's journal and marks that its content changed
// at the current serial, so that the next change is not journaled either.
func cutJournal(tx *bbolt.Tx, zone string) error {
	if err := dropJournal(tx, zone); err != nil {
		return err
	}
	st, err := loadZone(tx, zone)
	if err != nil {
		return err
	}
	st.JournalCut = true
	return putJSON(tx.Bucket(bucketZones), []byte(zone), st)
}

// journalPointer is the DB's installed journaler; a separate type keeps
// the DB struct readable.
type journalPointer = atomic.Pointer[journalSettings]

// unservedZones names the zones whose current serial was set by seeding
// through this DB (created or moved by SeedZone, or moved by SeedApp) and
// has not changed since: no secondary can have transferred the zone at
// that serial from this database, so seeding slots there needs no new
// serial.
type unservedZones struct {
	mu    sync.Mutex
	zones map[string]bool
}

func (db *DB) markUnserved(zone string) {
	db.unservedZones.mu.Lock()
	defer db.unservedZones.mu.Unlock()
	if db.unservedZones.zones == nil {
		db.unservedZones.zones = make(map[string]bool)
	}
	db.unservedZones.zones[zone] = true
}

// markServed forgets zone: a change is being made to it. Forgetting before
// the change commits is safe; it can only cause a cut that was not needed.
func (db *DB) markServed(zone string) {
	db.unservedZones.mu.Lock()
	defer db.unservedZones.mu.Unlock()
	delete(db.unservedZones.zones, zone)
}

func (db *DB) unserved(zone string) bool {
	db.unservedZones.mu.Lock()
	defer db.unservedZones.mu.Unlock()
	return db.unservedZones.zones[zone]
}
