package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// Read runs fn on a view of one bbolt read transaction.
func (db *DB) Read(fn func(View) error) error {
	return db.view(func(tx *bbolt.Tx) error { return fn(boltView{tx}) })
}

// boltView is a View on one bbolt transaction.
type boltView struct{ tx *bbolt.Tx }

// rev gives the revision of the record at key in bucket: the one kept in
// revs, 1 for a record written before revisions were, 0 for none.
func (v boltView) rev(key Key, bucket *bbolt.Bucket, name []byte) Rev {
	if bucket == nil || bucket.Get(name) == nil {
		return 0
	}
	if revs := v.tx.Bucket(bucketRevs); revs != nil {
		if b := revs.Get(revKey(key)); len(b) == 8 {
			return Rev(binary.BigEndian.Uint64(b))
		}
	}
	return 1
}

func revKey(k Key) []byte { return []byte(k.Kind + "/" + k.Name) }

func (v boltView) App(name string) (App, error) {
	a, err := loadApp(v.tx, name)
	if err != nil {
		return App{}, fmt.Errorf("app %q: %w", name, err)
	}
	a.Rev = v.rev(AppKey(name), v.tx.Bucket(bucketApps), []byte(name))
	return a, nil
}

func (v boltView) Apps() ([]App, error) {
	var apps []App
	err := v.tx.Bucket(bucketApps).ForEach(func(k, _ []byte) error {
		a, err := v.App(string(k))
		apps = append(apps, a)
		return err
	})
	return apps, err // bbolt iterates in key order, which is name order
}

func (v boltView) Zone(origin string) (Zone, error) {
	b := v.tx.Bucket(bucketZones)
	var z Zone
	if err := getJSON(b, []byte(origin), &z); err != nil {
		return Zone{}, fmt.Errorf("zone %q: %w", origin, err)
	}
	z.Origin = origin
	z.Rev = v.rev(ZoneKey(origin), b, []byte(origin))
	return z, nil
}

func (v boltView) Zones() ([]Zone, error) {
	var out []Zone
	err := v.tx.Bucket(bucketZones).ForEach(func(k, _ []byte) error {
		z, err := v.Zone(string(k))
		out = append(out, z)
		return err
	})
	return out, err
}

func (v boltView) Drains() (map[string]DrainState, error) {
	out := map[string]DrainState{}
	b := v.tx.Bucket(bucketDrain)
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, _ []byte) error {
		var st DrainState
		if err := getJSON(b, k, &st); err != nil {
			return fmt.Errorf("drain state of %q: %w", k, err)
		}
		st.App = string(k)
		st.Rev = v.rev(DrainKey(st.App), b, k)
		out[st.App] = st
		return nil
	})
	return out, err
}

func (v boltView) Aliases() (map[string]AliasRecord, error) {
	out := map[string]AliasRecord{}
	b := v.tx.Bucket(bucketAliases)
	err := b.ForEach(func(k, _ []byte) error {
		var rec AliasRecord
		if err := getJSON(b, k, &rec); err != nil {
			return fmt.Errorf("alias %q: %w", k, err)
		}
		rec.Target = string(k)
		rec.Rev = v.rev(AliasKey(rec.Target), b, k)
		out[rec.Target] = rec
		return nil
	})
	return out, err
}

func (v boltView) History(app string, limit int) ([]Entry, error) {
	b := v.tx.Bucket(bucketHistory).Bucket([]byte(app))
	if b == nil {
		return nil, nil
	}
	var entries []Entry
	// Walk back from the newest entry, then restore oldest-first order.
	c := b.Cursor()
	for k, data := c.Last(); k != nil; k, data = c.Prev() {
		if limit > 0 && len(entries) == limit {
			break
		}
		e, err := decodeEntry(app, k, data)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	slices.Reverse(entries)
	return entries, nil
}

func (v boltView) Entry(app string, seq uint64) (Entry, error) {
	last, ok, err := v.LastEntry(app)
	switch {
	case err != nil:
		return Entry{}, err
	case !ok:
		return Entry{}, fmt.Errorf("history entry %d %w: app %q has no history yet", seq, ErrNotFound, app)
	case seq < 1 || seq > last.Seq:
		return Entry{}, fmt.Errorf("history entry %d %w: app %q has entries 1 to %d", seq, ErrNotFound, app, last.Seq)
	}
	key := seqKey(seq)
	data := v.tx.Bucket(bucketHistory).Bucket([]byte(app)).Get(key)
	if data == nil {
		return Entry{}, fmt.Errorf("history entry %d of app %q: %w", seq, app, ErrNotFound)
	}
	return decodeEntry(app, key, data)
}

func (v boltView) LastEntry(app string) (Entry, bool, error) {
	b := v.tx.Bucket(bucketHistory).Bucket([]byte(app))
	if b == nil {
		return Entry{}, false, nil
	}
	k, data := b.Cursor().Last()
	if k == nil {
		return Entry{}, false, nil
	}
	e, err := decodeEntry(app, k, data)
	return e, err == nil, err
}

func decodeEntry(app string, key, data []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("decode history entry %d of app %q: %w", binary.BigEndian.Uint64(key), app, err)
	}
	e.App = app
	return e, nil
}

func (v boltView) Journal(zone string, from uint32) ([]Delta, bool, error) {
	z, err := v.Zone(zone)
	if err != nil {
		return nil, false, err
	}
	if from == z.Serial {
		return nil, true, nil
	}
	b := zoneJournal(v.tx, zone)
	if b == nil {
		return nil, false, nil
	}
	// Walk back from the newest entry, each one's To the next one's From,
	// until one starts at from. When from occurs twice (only possible
	// after serials went around the whole RFC 1982 circle) the newest
	// occurrence is taken.
	var deltas []Delta
	want := z.Serial
	c := b.Cursor()
	for k, data := c.Last(); k != nil; k, data = c.Prev() {
		var d Delta
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, false, fmt.Errorf("decode journal entry %d of %q: %w", binary.BigEndian.Uint64(k), zone, err)
		}
		if d.To != want {
			return nil, false, nil // a gap: the chain is cut; answer with the whole zone
		}
		d.Zone = zone
		deltas = append(deltas, d)
		if d.From == from {
			slices.Reverse(deltas)
			return deltas, true, nil
		}
		want = d.From
	}
	return nil, false, nil
}
