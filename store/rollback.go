package store

import (
	"encoding/binary"
	"fmt"
	"maps"
	"strings"

	"go.etcd.io/bbolt"
)

// RollbackTo restores the slots as history entry seq left them (its After),
// recording a new "rollback" entry, in one Update transaction as Swap does.
// An entry that does not exist fails with ErrNotFound naming the range
// there is; slots that already equal it fail with ErrNoChange. A non-nil
// expect must equal the app's slots, else ErrConflict: the caller checked
// the move from those slots, and a change since then is not overwritten.
func (db *DB) RollbackTo(app string, seq uint64, expect map[string]string, meta Meta) (Entry, error) {
	return db.mutate(app, KindRollback, meta, func(tx *bbolt.Tx, slots map[string]string) error {
		e, err := entryAt(tx, app, seq)
		if err != nil {
			return err
		}
		if expect != nil {
			if changes := diffSlots(expect, slots); len(changes) > 0 {
				return fmt.Errorf("%w: while the rollback was checked, %s", ErrConflict, strings.Join(changes, ", "))
			}
		}
		if maps.Equal(slots, e.After) {
			return fmt.Errorf("%w: the slots already are as entry %d (%s by %s) left them", ErrNoChange, e.Seq, e.Kind, actorName(e.Actor))
		}
		clear(slots)
		maps.Copy(slots, e.After)
		return nil
	})
}

// entryAt reads the app's history entry seq.
func entryAt(tx *bbolt.Tx, app string, seq uint64) (Entry, error) {
	last, ok, err := lastEntry(tx, app)
	if err != nil {
		return Entry{}, err
	}
	switch {
	case !ok:
		return Entry{}, fmt.Errorf("history entry %d %w: the app has no history yet", seq, ErrNotFound)
	case seq < 1 || seq > last.Seq:
		return Entry{}, fmt.Errorf("history entry %d %w: the app has entries 1 to %d", seq, ErrNotFound, last.Seq)
	}
	var e Entry
	b := tx.Bucket(bucketHistory).Bucket([]byte(app))
	if err := getJSON(b, binary.BigEndian.AppendUint64(nil, seq), &e); err != nil {
		return Entry{}, fmt.Errorf("history entry %d: %w", seq, err)
	}
	return e, nil
}

// Entry returns the app's history entry seq, or ErrNotFound.
func (db *DB) Entry(app string, seq uint64) (Entry, error) {
	var e Entry
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		if _, err := loadApp(tx, app); err != nil {
			return err
		}
		var err error
		e, err = entryAt(tx, app, seq)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("history %q: %w", app, err)
	}
	return e, nil
}
