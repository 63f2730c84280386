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
}

// SeedApp records app in zone and, for every slot not yet in the store,
// its initial target. Slots already stored keep their target: the store is
// the truth after the first start. It returns the slots it added, sorted.
//
// The zone must have been seeded (SeedZone) first. Seeding is not a
// mutation: it leaves the version, the zone serial and the history alone,
// so a caller that adds slots to a zone it already serves may want
// BumpSerial. An app stored under another zone moves to zone.
//
// Slots added at a serial that secondaries may have transferred cut the
// zone's IXFR journal (see CutJournal). A zone this DB created or raised
// the serial of (SeedZone) since it was opened, and whose serial has not
// changed since, is exempt: nothing can have been transferred at that
// serial yet, provided the caller seeds before it serves.
func (db *DB) SeedApp(app, zone string, slots map[string]string) ([]string, error) {
	var added []string
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
		if !isNew && a.Zone == zone && len(added) == 0 {
			return nil // nothing new: do not rewrite the record
		}
		// The zones' content changed at their current serials: a
		// secondary there holds it without these slots, so no delta from
		// that serial can be right.
		if !isNew && a.Zone != zone && !db.unserved(a.Zone) {
			if _, err := loadZone(tx, a.Zone); err == nil {
				if err := cutJournal(tx, a.Zone); err != nil {
					return err
				}
			}
		}
		if !db.unserved(zone) {
			if err := cutJournal(tx, zone); err != nil {
				return err
			}
		}
		a.Zone = zone
		a.Updated = now()
		return saveApp(tx, a)
	})
	if err != nil {
		return nil, fmt.Errorf("seed app %q: %w", app, err)
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
