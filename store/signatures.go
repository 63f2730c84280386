package store

import (
	"bytes"
	"fmt"
	"iter"

	"go.etcd.io/bbolt"
)

// The signatures of a signed zone are kept so that a start reuses them
// rather than signing the whole zone again. They are a cache: the zone
// is served from its file and keys, never from them, and an entry that
// is missing, stale or damaged only means signing again. So they sit
// outside Batch and revisions, are written in a transaction of their
// own after the zone is served, and Read's View does not show them.
// The entries are opaque here: package zones gives and reads them.

// bucketSignatures is created on first use.
var bucketSignatures = []byte("signatures")

// SignatureCounts says what SaveSignatures changed.
type SignatureCounts struct {
	Kept, Written, Deleted int
}

// Signatures returns the entries kept for zone, copied out of the file;
// none when there are none.
func (db *DB) Signatures(zone string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.view(func(tx *bbolt.Tx) error {
		b := zoneSignatures(tx, zone)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return fmt.Errorf("a bucket %q among the entries", k)
			}
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the saved signatures of zone %s from %s: %w", zone, db.path, err)
	}
	return out, nil
}

// SaveSignatures makes entries the signatures kept for zone, in one
// transaction: an entry already kept as it is is not written again, and
// one no longer given is deleted.
func (db *DB) SaveSignatures(zone string, entries iter.Seq2[[]byte, []byte]) (SignatureCounts, error) {
	var c SignatureCounts
	err := db.update(func(tx *bbolt.Tx) error {
		c = SignatureCounts{}
		top, err := tx.CreateBucketIfNotExists(bucketSignatures)
		if err != nil {
			return err
		}
		b := top.Bucket([]byte(zone))
		if b == nil {
			if top.Get([]byte(zone)) != nil {
				if err := top.Delete([]byte(zone)); err != nil {
					return err
				}
			}
			if b, err = top.CreateBucket([]byte(zone)); err != nil {
				return err
			}
		}
		given := map[string]struct{}{}
		for k, v := range entries {
			given[string(k)] = struct{}{}
			if old := b.Get(k); old != nil && bytes.Equal(old, v) {
				c.Kept++
				continue
			}
			if err := b.Put(k, v); err != nil {
				return fmt.Errorf("entry %x: %w", k, err)
			}
			c.Written++
		}
		var stale [][]byte
		if err := b.ForEach(func(k, _ []byte) error {
			if _, ok := given[string(k)]; !ok {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range stale {
			if b.Bucket(k) != nil {
				err = b.DeleteBucket(k)
			} else {
				err = b.Delete(k)
			}
			if err != nil {
				return err
			}
			c.Deleted++
		}
		return nil
	})
	if err != nil {
		return SignatureCounts{}, fmt.Errorf("save the signatures of zone %s to %s: %w", zone, db.path, err)
	}
	return c, nil
}

// zoneSignatures is the bucket of zone's signatures, nil when none.
func zoneSignatures(tx *bbolt.Tx, zone string) *bbolt.Bucket {
	top := tx.Bucket(bucketSignatures)
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(zone))
}

// dropSignatures deletes zone's signatures.
func (w writer) dropSignatures(zone string) error {
	if top := w.tx.Bucket(bucketSignatures); top != nil && top.Bucket([]byte(zone)) != nil {
		if err := top.DeleteBucket([]byte(zone)); err != nil {
			return fmt.Errorf("drop the signatures of %q: %w", zone, err)
		}
	}
	return nil
}
