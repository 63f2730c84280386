package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// Entry is one history record; Seq counts from 1 per app, without gaps.
type Entry struct {
	App    string            `json:"-"` // the app whose history it is (the key)
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
	// DrainedAt is when the answers served before the change have expired
	// from every cache that honours TTLs; set once the change is served.
	DrainedAt time.Time `json:"drained_at,omitzero"`
	// Checks are the results of the checks run before (or, for an
	// automatic rollback, after) the change; Forced marks a change made
	// although a check failed.
	Checks []CheckResult `json:"checks,omitempty"`
	Forced bool          `json:"forced,omitempty"`
}

// History returns the app's entries, oldest first; limit > 0 keeps the last
// limit entries. An app without changes has an empty history.
func (db *DB) History(app string, limit int) ([]Entry, error) {
	var entries []Entry
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		if _, err := loadApp(tx, app); err != nil {
			return err
		}
		b := tx.Bucket(bucketHistory).Bucket([]byte(app))
		if b == nil {
			return nil
		}
		// Walk back from the newest entry, then restore oldest-first order.
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if limit > 0 && len(entries) == limit {
				break
			}
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode history entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			entries = append(entries, e)
		}
		slices.Reverse(entries)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history %q: %w", app, err)
	}
	return entries, nil
}

// lastEntry returns the app's newest entry; ok is false when it has none.
func lastEntry(tx *bbolt.Tx, app string) (e Entry, ok bool, err error) {
	b := tx.Bucket(bucketHistory).Bucket([]byte(app))
	if b == nil {
		return Entry{}, false, nil
	}
	k, v := b.Cursor().Last()
	if k == nil {
		return Entry{}, false, nil
	}
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, false, fmt.Errorf("decode history entry %d: %w", binary.BigEndian.Uint64(k), err)
	}
	return e, true, nil
}

// appendEntry stores e under the next sequence number of its app and
// returns e with Seq set. Keys are big-endian so bbolt's byte order is
// sequence order.
func appendEntry(tx *bbolt.Tx, app string, e Entry) (Entry, error) {
	b, err := tx.Bucket(bucketHistory).CreateBucketIfNotExists([]byte(app))
	if err != nil {
		return Entry{}, fmt.Errorf("history bucket: %w", err)
	}
	e.Seq = 1
	if k, _ := b.Cursor().Last(); k != nil {
		e.Seq = binary.BigEndian.Uint64(k) + 1
	}
	if err := putJSON(b, binary.BigEndian.AppendUint64(nil, e.Seq), e); err != nil {
		return Entry{}, err
	}
	return e, nil
}
