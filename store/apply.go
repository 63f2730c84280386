package store

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// Apply writes b in one bbolt Update transaction, committed with one
// fsync, if every condition holds. See Store.
func (db *DB) Apply(b *Batch) (Rev, error) {
	var rev Rev
	err := db.update(func(tx *bbolt.Tx) error {
		v := boltView{tx}
		for _, c := range b.If {
			if got := v.condRev(c.Key); got != c.Rev {
				return &ConflictError{Key: c.Key, Want: c.Rev, Got: got}
			}
		}
		var err error
		if rev, err = nextRevision(tx); err != nil {
			return err
		}
		w := writer{tx: tx, rev: rev, limit: db.limit}
		return w.apply(b)
	})
	if err != nil {
		return 0, fmt.Errorf("commit to %s: %w", db.path, err)
	}
	return rev, nil
}

// condRev gives the revision of the record a condition names.
func (v boltView) condRev(k Key) Rev {
	bucket := map[string][]byte{"app": bucketApps, "zone": bucketZones, "drain": bucketDrain, "alias": bucketAliases, "rollover": bucketRollovers, "dynamic": bucketDynamic}[k.Kind]
	if bucket == nil {
		return 0
	}
	return v.rev(k, v.tx.Bucket(bucket), []byte(k.Name))
}

// nextRevision bumps and returns the store's revision counter.
func nextRevision(tx *bbolt.Tx) (Rev, error) {
	meta := tx.Bucket(bucketMeta)
	var last uint64
	if b := meta.Get(keyRevision); len(b) == 8 {
		last = binary.BigEndian.Uint64(b)
	}
	last++
	if err := meta.Put(keyRevision, binary.BigEndian.AppendUint64(nil, last)); err != nil {
		return 0, err
	}
	return Rev(last), nil
}

// writer writes one batch in tx, stamping rev on every record.
type writer struct {
	tx    *bbolt.Tx
	rev   Rev
	limit int
}

func (w writer) apply(b *Batch) error {
	for _, app := range b.DeleteApps {
		if err := w.deleteApp(app); err != nil {
			return err
		}
	}
	for _, zone := range b.DeleteZones {
		if err := w.del(bucketZones, ZoneKey(zone)); err != nil {
			return err
		}
		if err := w.dropJournal(zone); err != nil {
			return err
		}
		if err := w.del(bucketRollovers, RolloverKey(zone)); err != nil {
			return err
		}
		if err := w.del(bucketDynamic, DynamicKey(zone)); err != nil {
			return err
		}
		if history := w.tx.Bucket(bucketHistory); history.Bucket([]byte(UpdateHistory(zone))) != nil {
			if err := history.DeleteBucket([]byte(UpdateHistory(zone))); err != nil {
				return err
			}
		}
		if err := w.dropSignatures(zone); err != nil {
			return err
		}
	}
	for _, target := range b.DeleteAliases {
		if err := w.del(bucketAliases, AliasKey(target)); err != nil {
			return err
		}
	}
	for _, a := range b.Apps {
		if err := w.put(bucketApps, AppKey(a.Name), a); err != nil {
			return err
		}
	}
	for _, z := range b.Zones {
		if err := w.put(bucketZones, ZoneKey(z.Origin), z); err != nil {
			return err
		}
	}
	for _, d := range b.Drains {
		if err := w.put(bucketDrain, DrainKey(d.App), d); err != nil {
			return err
		}
	}
	for _, rec := range b.Aliases {
		if err := w.put(bucketAliases, AliasKey(rec.Target), rec); err != nil {
			return err
		}
	}
	for _, dz := range b.Dynamic {
		if err := w.put(bucketDynamic, DynamicKey(dz.Zone), dz); err != nil {
			return err
		}
	}
	for _, ro := range b.Rollovers {
		if err := w.put(bucketRollovers, RolloverKey(ro.Zone), ro); err != nil {
			return err
		}
	}
	for _, e := range b.History {
		if err := w.putEntry(e); err != nil {
			return err
		}
	}
	for _, zone := range b.DropJournals {
		if err := w.dropJournal(zone); err != nil {
			return err
		}
	}
	for _, d := range b.Journal {
		if err := w.appendDelta(d); err != nil {
			return err
		}
	}
	return nil
}

// put stores v at key's name in bucket and stamps it with the revision.
func (w writer) put(bucket []byte, key Key, v any) error {
	b, err := w.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return err
	}
	if key.Name == "" {
		return fmt.Errorf("write %s: empty name", key.Kind)
	}
	if err := putJSON(b, []byte(key.Name), v); err != nil {
		return err
	}
	revs, err := w.tx.CreateBucketIfNotExists(bucketRevs)
	if err != nil {
		return err
	}
	return revs.Put(revKey(key), binary.BigEndian.AppendUint64(nil, uint64(w.rev)))
}

func (w writer) del(bucket []byte, key Key) error {
	if b := w.tx.Bucket(bucket); b != nil {
		if err := b.Delete([]byte(key.Name)); err != nil {
			return err
		}
	}
	if revs := w.tx.Bucket(bucketRevs); revs != nil {
		return revs.Delete(revKey(key))
	}
	return nil
}

func (w writer) deleteApp(app string) error {
	if err := w.del(bucketApps, AppKey(app)); err != nil {
		return err
	}
	if err := w.del(bucketDrain, DrainKey(app)); err != nil {
		return err
	}
	history := w.tx.Bucket(bucketHistory)
	if history.Bucket([]byte(app)) != nil {
		return history.DeleteBucket([]byte(app))
	}
	return nil
}

func (w writer) putEntry(e Entry) error {
	if e.App == "" || e.Seq == 0 {
		return fmt.Errorf("write history entry %d of app %q: no app or sequence number", e.Seq, e.App)
	}
	b, err := w.tx.Bucket(bucketHistory).CreateBucketIfNotExists([]byte(e.App))
	if err != nil {
		return fmt.Errorf("history bucket of %q: %w", e.App, err)
	}
	return putJSON(b, seqKey(e.Seq), e)
}

// appendDelta stores d as its zone's newest journal entry and drops the
// oldest beyond the limit.
func (w writer) appendDelta(d Delta) error {
	journal, err := w.tx.CreateBucketIfNotExists(bucketJournal)
	if err != nil {
		return fmt.Errorf("journal bucket: %w", err)
	}
	b, err := journal.CreateBucketIfNotExists([]byte(d.Zone))
	if err != nil {
		return fmt.Errorf("journal bucket of %q: %w", d.Zone, err)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("journal sequence of %q: %w", d.Zone, err)
	}
	if err := putJSON(b, seqKey(seq), d); err != nil {
		return err
	}
	// Entries are contiguous: only the oldest are ever deleted, or all.
	first, _ := b.Cursor().First()
	for s := binary.BigEndian.Uint64(first); seq-s+1 > uint64(w.limit); s++ {
		if err := b.Delete(seqKey(s)); err != nil {
			return fmt.Errorf("drop journal entry %d of %q: %w", s, d.Zone, err)
		}
	}
	return nil
}

func (w writer) dropJournal(zone string) error {
	if journal := w.tx.Bucket(bucketJournal); journal != nil && journal.Bucket([]byte(zone)) != nil {
		if err := journal.DeleteBucket([]byte(zone)); err != nil {
			return fmt.Errorf("drop journal of %q: %w", zone, err)
		}
	}
	return nil
}
