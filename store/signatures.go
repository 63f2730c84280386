package store

import (
	"bytes"
	"fmt"
	"iter"
	"slices"

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
		// In key order, bbolt fills its pages one after the other: a
		// zone's first save is many times faster than in random order.
		var given []signatureEntry
		for k, v := range entries {
			given = append(given, signatureEntry{key: k, value: v})
		}
		slices.SortFunc(given, func(a, b signatureEntry) int { return bytes.Compare(a.key, b.key) })
		var stale [][]byte
		i := 0
		if err := b.ForEach(func(k, v []byte) error {
			for i < len(given) && bytes.Compare(given[i].key, k) < 0 {
				i++
			}
			switch {
			case i < len(given) && bytes.Equal(given[i].key, k):
				if v != nil && bytes.Equal(given[i].value, v) {
					given[i].kept = true
				}
			default:
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
		if first, _ := b.Cursor().First(); first == nil {
			b.FillPercent = 0.9 // filled in order, and rarely grown after
		}
		for _, e := range given {
			if e.kept {
				c.Kept++
				continue
			}
			if b.Bucket(e.key) != nil {
				if err := b.DeleteBucket(e.key); err != nil {
					return err
				}
			}
			if err := b.Put(e.key, e.value); err != nil {
				return fmt.Errorf("entry %x: %w", e.key, err)
			}
			c.Written++
		}
		return nil
	})
	if err != nil {
		return SignatureCounts{}, fmt.Errorf("save the signatures of zone %s to %s: %w", zone, db.path, err)
	}
	return c, nil
}

type signatureEntry struct {
	key, value []byte
	kept       bool // already in the file as it is
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
