package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// bucketDrain holds, per app, what the drain clock needs across restarts:
//
//	drain  <app>  -> DrainState
//
// It is created on first use, so files written before it exist stay valid.
var bucketDrain = []byte("drain")

// DrainState is what the server last served for an app's names and until
// when answers it served earlier may still sit in caches. A restart reads
// it: the answers of the previous process count as retired when the new
// one publishes different answers.
type DrainState struct {
	App string `json:"-"` // the app (the key)
	Rev Rev    `json:"-"` // the record's revision, as read
	// Digest identifies the answers served (records without their TTLs).
	Digest string `json:"digest"`
	// TTL is the longest TTL served with those answers right now.
	TTL uint32 `json:"ttl"`
	// HeldUntil covers the same answers served earlier with a longer TTL:
	// a cache may hold them until then.
	HeldUntil time.Time `json:"held_until,omitzero"`
	// DrainedAt is when the last copy of any answer served before the
	// current one has expired from caches that honour TTLs.
	DrainedAt time.Time `json:"drained_at,omitzero"`
}

// DrainState returns the app's stored drain state; ok is false when none
// was stored.
func (db *DB) DrainState(app string) (st DrainState, ok bool, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDrain)
		if b == nil || b.Get([]byte(app)) == nil {
			return nil
		}
		ok = true
		return getJSON(b, []byte(app), &st)
	})
	if err != nil {
		return DrainState{}, false, fmt.Errorf("drain state of %q: %w", app, err)
	}
	return st, ok, nil
}

// SaveDrainState stores st as the app's drain state.
func (db *DB) SaveDrainState(app string, st DrainState) error {
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDrain)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(app), st)
	})
	if err != nil {
		return fmt.Errorf("save drain state of %q: %w", app, err)
	}
	return nil
}

// SetDrainedAt records in the app's history entry seq when the answers
// served before it have expired from caches; the instant is known only
// once the change is published, after the entry was written.
func (db *DB) SetDrainedAt(app string, seq uint64, at time.Time) error {
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHistory).Bucket([]byte(app))
		if b == nil {
			return fmt.Errorf("history entry %d: %w", seq, ErrNotFound)
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		var e Entry
		if err := getJSON(b, key, &e); err != nil {
			return fmt.Errorf("history entry %d: %w", seq, err)
		}
		e.DrainedAt = at
		return putJSON(b, key, e)
	})
	if err != nil {
		return fmt.Errorf("drained_at of %q entry %d: %w", app, seq, err)
	}
	return nil
}
