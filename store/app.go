package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// App is one app's live state.
type App struct {
	Name    string            `json:"name"`
	Zone    string            `json:"zone"`
	Version uint64            `json:"version"` // bumped by every mutation
	Slots   map[string]string `json:"slots"`   // slot -> canonical target text
	Updated time.Time         `json:"updated"`
	Rev     Rev               `json:"-"` // the record's revision, as read
}

// SeedApp records app in zone and, for every slot not yet in the store,
// its initial target. Slots already stored keep their target: the store is
// the truth after the first start. It returns the slots it added, sorted.
//
// The zone must have been seeded (SeedZone) first. Seeding is not a
// mutation: it leaves the version and the history alone. An app stored
// under another zone moves to zone.
//
// Slots added (or an app moved) change what a zone serves. A zone that
// secondaries may hold at its current serial gets the next serial in the
// same transaction, so that they fetch the new content, and its journal is
// cut (no delta leads to the new serial; IXFR is answered by AXFR). A zone
// this DB created or moved the serial of (SeedZone, or an earlier SeedApp)
// since it was opened, and whose serial has not changed since, keeps its
// serial: nothing can have been transferred at that serial yet, provided
// the caller seeds before it serves. So a fresh database's first start
// serves the file's serial.
func (db *DB) SeedApp(app, zone string, slots map[string]string) ([]string, error) {
	var added, bumped []string
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		if _, err := loadZone(tx, zone); err != nil {
			return err
		}
		a, err := loadApp(tx, app)
		isNew := errors.Is(err, ErrNotFound)
		switch {
		case isNew:
			a = App{Name: app, Slots: map[string]string{}}
		case err != nil:
			return err
		}
		for slot, target := range slots {
			if _, ok := a.Slots[slot]; !ok {
				a.Slots[slot] = target
				added = append(added, slot)
			}
		}
		moved := !isNew && a.Zone != zone
		if !moved && len(added) == 0 && !isNew {
			return nil // nothing new: do not rewrite the record
		}
		var changed []string
		if moved {
			if _, err := loadZone(tx, a.Zone); err == nil {
				changed = append(changed, a.Zone)
			}
		}
		if moved || len(added) > 0 {
			changed = append(changed, zone)
		}
		for _, z := range changed {
			if db.unserved(z) {
				continue
			}
			if _, err := bumpSerial(tx, z); err != nil {
				return err
			}
			if err := dropJournal(tx, z); err != nil {
				return err
			}
			bumped = append(bumped, z)
		}
		a.Zone = zone
		a.Updated = now()
		return saveApp(tx, a)
	})
	if err != nil {
		return nil, fmt.Errorf("seed app %q: %w", app, err)
	}
	// The serials just moved have not been served: more slots seeded
	// there before serving need no second bump.
	for _, z := range bumped {
		db.markUnserved(z)
	}
	slices.Sort(added)
	return added, nil
}

// App returns one app; ErrNotFound when it is not stored.
func (db *DB) App(name string) (App, error) {
	var a App
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		a, err = loadApp(tx, name)
		return err
	})
	if err != nil {
		return App{}, fmt.Errorf("load app %q: %w", name, err)
	}
	return a, nil
}

// Apps returns every stored app, sorted by name.
func (db *DB) Apps() ([]App, error) {
	var apps []App
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		// bbolt iterates in key order, which is name order.
		return tx.Bucket(bucketApps).ForEach(func(k, _ []byte) error {
			a, err := loadApp(tx, string(k))
			apps = append(apps, a)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load apps: %w", err)
	}
	return apps, nil
}

func loadApp(tx *bbolt.Tx, name string) (App, error) {
	apps := tx.Bucket(bucketApps)
	if apps.Get([]byte(name)) == nil {
		return App{}, fmt.Errorf("app %w (stored apps: %s)", ErrNotFound, keyList(apps))
	}
	var a App
	if err := getJSON(apps, []byte(name), &a); err != nil {
		return App{}, err
	}
	if a.Slots == nil {
		a.Slots = map[string]string{}
	}
	return a, nil
}

func saveApp(tx *bbolt.Tx, a App) error {
	return putJSON(tx.Bucket(bucketApps), []byte(a.Name), a)
}

// slotNames lists an app's slots for error messages.
func slotNames(slots map[string]string) string {
	return listOrNone(slices.Collect(maps.Keys(slots)))
}
