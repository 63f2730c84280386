package store

import (
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// AliasRecord is the last good resolution of an apex alias target that lies
// outside slotdns's zones, kept so that a restart with the resolver down
// still serves it.
type AliasRecord struct {
	Target   string    `json:"target"` // lowercase FQDN
	Addrs    []string  `json:"addrs"`  // sorted text addresses
	TTL      uint32    `json:"ttl"`
	Resolved time.Time `json:"resolved"` // when they were last confirmed
	Rev      Rev       `json:"-"`        // the record's revision, as read
}

// SaveAlias stores rec. When its addresses differ from the stored ones (or
// none were stored) it bumps the serial of every zone in zones in the same
// transaction, journaling each, and reports changed; the new serials are
// returned keyed by zone. When nothing changed, serials is nil. A zone not
// stored fails the whole call with ErrNotFound.
func (db *DB) SaveAlias(rec AliasRecord, zones []string) (changed bool, serials map[string]uint32, err error) {
	rec.Addrs = slices.Sorted(slices.Values(rec.Addrs))
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		aliases := tx.Bucket(bucketAliases)
		key := []byte(rec.Target)
		changed = true
		if aliases.Get(key) != nil {
			var stored AliasRecord
			if err := getJSON(aliases, key, &stored); err != nil {
				return err
			}
			changed = !slices.Equal(stored.Addrs, rec.Addrs)
		}
		if !changed {
			return putJSON(aliases, key, rec)
		}
		// One change, one bump per zone, even when a zone is listed twice.
		// Every zone's state before is read before the record is written.
		var changes []*journalChange
		serials = make(map[string]uint32, len(zones))
		for _, zone := range zones {
			if _, done := serials[zone]; done {
				continue
			}
			jc, err := db.beginJournal(tx, zone)
			if err != nil {
				return err
			}
			changes = append(changes, jc)
			serials[zone] = 0
		}
		if err := putJSON(aliases, key, rec); err != nil {
			return err
		}
		for _, jc := range changes {
			serial, err := bumpSerial(tx, jc.zone)
			if err != nil {
				return err
			}
			serials[jc.zone] = serial
			if err := jc.finish(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, nil, fmt.Errorf("save alias %q: %w", rec.Target, err)
	}
	return changed, serials, nil
}

// Aliases returns every stored alias record keyed by target.
func (db *DB) Aliases() (map[string]AliasRecord, error) {
	aliases := map[string]AliasRecord{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAliases)
		return b.ForEach(func(k, _ []byte) error {
			var rec AliasRecord
			if err := getJSON(b, k, &rec); err != nil {
				return err
			}
			aliases[rec.Target] = rec
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load aliases: %w", err)
	}
	return aliases, nil
}
