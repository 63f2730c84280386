package store

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// Default slots of a swap.
const (
	DefaultSwapSlot = "staging"
	DefaultSwapWith = "production"
)

// Kinds of history entries.
const (
	KindSwap     = "swap"
	KindSet      = "set"
	KindRollback = "rollback"
)

// Meta is who did a change and why.
type Meta struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	// Checks and Forced are copied into the history entry.
	Checks []CheckResult `json:"checks,omitempty"`
	Forced bool          `json:"forced,omitempty"`
}

// SwapRequest exchanges the targets of Slot and With.
type SwapRequest struct {
	App    string
	Slot   string // default "staging"
	With   string // default "production"
	Expect string // if set, Slot's current target must equal it (ErrConflict)
	Meta
}

// SetRequest points Slot at Target.
type SetRequest struct {
	App    string
	Slot   string
	Target string // canonical target text
	Expect string // if set, Slot's current target must equal it (ErrConflict)
	Meta
}

// Swap applies req in one Update transaction: the targets, the app version,
// the zone serial and one history entry, or nothing.
func (db *DB) Swap(req SwapRequest) (Entry, error) {
	slot, with := req.Slot, req.With
	if slot == "" {
		slot = DefaultSwapSlot
	}
	if with == "" {
		with = DefaultSwapWith
	}
	return db.mutate(req.App, KindSwap, req.Meta, func(_ *bbolt.Tx, slots map[string]string) error {
		if slot == with {
			return fmt.Errorf("cannot swap slot %q with itself", slot)
		}
		a, err := target(slots, slot)
		if err != nil {
			return err
		}
		b, err := target(slots, with)
		if err != nil {
			return err
		}
		if err := checkExpect(slot, a, req.Expect); err != nil {
			return err
		}
		if a == b {
			return fmt.Errorf("%w: %s and %s both point at %q", ErrSameTarget, slot, with, a)
		}
		slots[slot], slots[with] = b, a
		return nil
	})
}

// Set applies req in one Update transaction, as Swap does. Setting a slot
// to the target it already has fails with ErrNoChange and records nothing.
func (db *DB) Set(req SetRequest) (Entry, error) {
	return db.mutate(req.App, KindSet, req.Meta, func(_ *bbolt.Tx, slots map[string]string) error {
		if req.Target == "" {
			return fmt.Errorf("set slot %q: empty target", req.Slot)
		}
		current, err := target(slots, req.Slot)
		if err != nil {
			return err
		}
		if err := checkExpect(req.Slot, current, req.Expect); err != nil {
			return err
		}
		if current == req.Target {
			return fmt.Errorf("%w: %s already points at %q", ErrNoChange, req.Slot, current)
		}
		slots[req.Slot] = req.Target
		return nil
	})
}

// Rollback restores the Before of the app's last history entry, when the
// app still equals that entry's After; otherwise ErrConflict saying what
// changed since. It records a new "rollback" entry, so rolling back a
// rollback redoes the change.
func (db *DB) Rollback(app string, meta Meta) (Entry, error) {
	return db.mutate(app, KindRollback, meta, func(tx *bbolt.Tx, slots map[string]string) error {
		last, ok, err := lastEntry(tx, app)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: nothing to roll back", ErrConflict)
		}
		if changes := diffSlots(last.After, slots); len(changes) > 0 {
			return fmt.Errorf("%w: since entry %d (%s by %s), %s; roll back only undoes the last change",
				ErrConflict, last.Seq, last.Kind, actorName(last.Actor), strings.Join(changes, ", "))
		}
		clear(slots)
		maps.Copy(slots, last.Before)
		return nil
	})
}

// mutate runs change on a copy of the app's slots and commits, in one
// Update transaction, the new slots, version+1, zone serial+1, its journal
// entry and one history entry. When change fails nothing is written.
func (db *DB) mutate(app, kind string, meta Meta, change func(tx *bbolt.Tx, slots map[string]string) error) (Entry, error) {
	var entry Entry
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		a, err := loadApp(tx, app)
		if err != nil {
			return err
		}
		jc, err := db.beginJournal(tx, a.Zone)
		if err != nil {
			return err
		}
		before := maps.Clone(a.Slots)
		if err := change(tx, a.Slots); err != nil {
			return err
		}
		serial, err := bumpSerial(tx, a.Zone)
		if err != nil {
			return err
		}
		a.Version++
		a.Updated = now()
		if err := saveApp(tx, a); err != nil {
			return err
		}
		if err := jc.finish(tx); err != nil {
			return err
		}
		entry, err = appendEntry(tx, app, Entry{
			Time:    a.Updated,
			Kind:    kind,
			Actor:   meta.Actor,
			Reason:  meta.Reason,
			Before:  before,
			After:   a.Slots,
			Zone:    a.Zone,
			Serial:  serial,
			Version: a.Version,
			Checks:  meta.Checks,
			Forced:  meta.Forced,
		})
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("%s %q: %w", kind, app, err)
	}
	return entry, nil
}

// target returns slot's target, or ErrNotFound naming the slots there are.
func target(slots map[string]string, slot string) (string, error) {
	t, ok := slots[slot]
	if !ok {
		return "", fmt.Errorf("slot %q %w (app has slots: %s)", slot, ErrNotFound, slotNames(slots))
	}
	return t, nil
}

// checkExpect enforces --expect: a retried request whose first attempt went
// through finds the slot changed and stops instead of applying twice.
func checkExpect(slot, current, expect string) error {
	if expect != "" && current != expect {
		return fmt.Errorf("%w: %s is %q, expected %q", ErrConflict, slot, current, expect)
	}
	return nil
}

// diffSlots describes how current differs from was, one phrase per slot,
// in slot order.
func diffSlots(was, current map[string]string) []string {
	names := slices.Collect(maps.Keys(was))
	for name := range current {
		if _, ok := was[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var changes []string
	for _, name := range names {
		old, hadOld := was[name]
		cur, hasCur := current[name]
		switch {
		case !hadOld:
			changes = append(changes, fmt.Sprintf("slot %s was added (now %q)", name, cur))
		case !hasCur:
			changes = append(changes, fmt.Sprintf("slot %s was removed (was %q)", name, old))
		case old != cur:
			changes = append(changes, fmt.Sprintf("%s changed from %q to %q", name, old, cur))
		}
	}
	return changes
}

func actorName(actor string) string {
	if actor == "" {
		return "unknown"
	}
	return actor
}
