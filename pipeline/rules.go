package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/serial"
	"github.com/slotdns/slotdns/store"
)

// The rules of every change, as pure functions of plain values: what the
// slots become, or why the change is refused. The pipeline reads their
// inputs in one transaction and commits what they return; they are
// tested without a database.

// ErrInvalid marks a request that can never succeed as written; the
// other refusals wrap store.ErrNotFound or store.ErrConflict.
var ErrInvalid = errors.New("invalid request")

// ErrSameTarget refuses a swap of two slots that point at one target: it
// would change nothing. It is a conflict: the request does not fit the
// state.
var ErrSameTarget = fmt.Errorf("%w: both slots point at one target", store.ErrConflict)

// ErrNoChange refuses a change that would leave the slots as they are, so
// that history records only real changes.
var ErrNoChange = fmt.Errorf("%w: nothing to change", store.ErrConflict)

// SwapSlots exchanges the targets of slot and with. With expect set, slot
// must point at it (a retried pipeline step finds the slot changed and
// stops instead of swapping back).
func SwapSlots(slots map[string]string, slot, with, expect string) (map[string]string, error) {
	if slot == with {
		return nil, fmt.Errorf("%w: swap slot %q with itself; name two different slots", ErrInvalid, slot)
	}
	a, err := target(slots, slot)
	if err != nil {
		return nil, err
	}
	b, err := target(slots, with)
	if err != nil {
		return nil, err
	}
	if err := checkExpect(slot, a, expect); err != nil {
		return nil, err
	}
	if a == b {
		return nil, fmt.Errorf("%w: %s and %s both point at %q", ErrSameTarget, slot, with, a)
	}
	next := maps.Clone(slots)
	next[slot], next[with] = b, a
	return next, nil
}

// SetSlot points slot at to, which is canonical target text.
func SetSlot(slots map[string]string, slot, to, expect string) (map[string]string, error) {
	current, err := target(slots, slot)
	if err != nil {
		return nil, err
	}
	if err := checkExpect(slot, current, expect); err != nil {
		return nil, err
	}
	if current == to {
		return nil, fmt.Errorf("%w: %s already points at %q", ErrNoChange, slot, current)
	}
	next := maps.Clone(slots)
	next[slot] = to
	return next, nil
}

// RollbackSlots restores the Before of last, the app's newest history
// entry, when the slots still equal its After; otherwise it refuses saying
// what changed since. Rolling back a rollback redoes the change.
//
// Only the slots the app has now count: a slot added to the config after
// the entry keeps its target, and one forgotten since is not restored.
func RollbackSlots(slots map[string]string, last *store.Entry) (map[string]string, error) {
	if last == nil {
		return nil, fmt.Errorf("%w: nothing to roll back: the app has no history yet", store.ErrConflict)
	}
	if changes := diffSlots(shared(last.After, slots), shared(slots, last.After)); len(changes) > 0 {
		return nil, fmt.Errorf("%w: since entry %d (%s by %s), %s; rollback only undoes the last change (rollback --to N restores any entry)",
			store.ErrConflict, last.Seq, last.Kind, actorName(last.Actor), strings.Join(changes, ", "))
	}
	next := overlay(slots, last.Before)
	if maps.Equal(next, slots) {
		return nil, fmt.Errorf("%w: entry %d (%s by %s) changed none of the slots the app has now", ErrNoChange, last.Seq, last.Kind, actorName(last.Actor))
	}
	return next, nil
}

// RollbackToSlots restores the slots as entry left them (its After), of
// the slots the app has now (as RollbackSlots). With expect not nil the
// slots must still equal it: the caller checked the move from those
// slots, and a change made meanwhile is not overwritten.
func RollbackToSlots(slots map[string]string, entry store.Entry, expect map[string]string) (map[string]string, error) {
	if expect != nil {
		if changes := diffSlots(expect, slots); len(changes) > 0 {
			return nil, fmt.Errorf("%w: while the rollback was checked, %s", store.ErrConflict, strings.Join(changes, ", "))
		}
	}
	next := overlay(slots, entry.After)
	if maps.Equal(slots, next) {
		return nil, fmt.Errorf("%w: the slots already are as entry %d (%s by %s) left them", ErrNoChange, entry.Seq, entry.Kind, actorName(entry.Actor))
	}
	return next, nil
}

// shared gives the slots of a that b has too.
func shared(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for name, target := range a {
		if _, ok := b[name]; ok {
			out[name] = target
		}
	}
	return out
}

// overlay gives slots with the targets from for the slots they share.
func overlay(slots, from map[string]string) map[string]string {
	next := maps.Clone(slots)
	maps.Copy(next, shared(from, slots))
	return next
}

// NextSerial is the serial after a change of a zone at from: from+1,
// wrapping as RFC 1982 allows.
func NextSerial(from uint32) uint32 { return from + 1 }

// NextSerialAtLeast is NextSerial, or atLeast (a zone file's serial, a
// secondary's) when that is later (RFC 1982). A step never reaches 2^31,
// where RFC 1982 leaves the order undefined: a secondary must see the
// new serial as greater.
func NextSerialAtLeast(from, atLeast uint32) uint32 {
	next := from + 1
	if serial.Less(next, atLeast) {
		next = atLeast
	}
	if next-from > maxSerialStep {
		next = from + maxSerialStep
	}
	return next
}

// maxSerialStep is the largest increment RFC 1982 allows (2^31 - 1).
const maxSerialStep = 1<<31 - 1

// SeedZone is the state of a zone as a start finds it: stored (nil when
// the database does not know the zone yet), with a file of fileSerial
// whose content (records and slot layout) has digest.
//
//   - A zone not yet stored takes fileSerial and digest.
//   - The same digest: the serial becomes max(stored, fileSerial).
//   - Another digest: the content changed while nothing served it, so the
//     serial becomes max(stored+1, fileSerial), and secondaries holding
//     the stored serial learn that they are behind.
//
// moved reports a serial or digest that differs from the stored one; a
// serial moved this way is not journaled (the zone's journal is cut).
func SeedZone(stored *store.Zone, origin string, fileSerial uint32, digest string) (next store.Zone, moved bool) {
	if stored == nil {
		return store.Zone{Origin: origin, Serial: fileSerial, Digest: digest}, true
	}
	next = *stored
	next.JournalCut = false
	if stored.Digest != digest {
		next.Serial = NextSerialAtLeast(stored.Serial, fileSerial)
	} else if serial.Less(stored.Serial, fileSerial) {
		next.Serial = fileSerial
	}
	next.Digest = digest
	return next, next.Serial != stored.Serial || stored.Digest != digest || stored.JournalCut
}

// SeedApp is the state of a configured app as a start finds it: stored
// (nil when new) with every slot the config declares that the store does
// not hold yet seeded from the config's target. The store is the truth
// for the slots it holds: a restart never undoes a swap. Seeding is not a
// change of the app: its version and history stay.
func SeedApp(stored *store.App, app *config.App) (next store.App, added []string) {
	if stored == nil {
		next = store.App{Name: app.Name, Slots: map[string]string{}}
	} else {
		next = *stored
		next.Slots = maps.Clone(stored.Slots)
	}
	next.Zone = app.Zone
	for _, slot := range app.Slots {
		if _, ok := next.Slots[slot.Name]; !ok {
			next.Slots[slot.Name] = slot.Target.String()
			added = append(added, slot.Name)
		}
	}
	return next, added
}

// target returns slot's target, or ErrNotFound naming the slots there are.
func target(slots map[string]string, slot string) (string, error) {
	t, ok := slots[slot]
	if !ok {
		return "", fmt.Errorf("slot %q %w; the app has slots %s", slot, store.ErrNotFound, strings.Join(slices.Sorted(maps.Keys(slots)), ", "))
	}
	return t, nil
}

// checkExpect enforces --expect: a retried request whose first attempt went
// through finds the slot changed and stops instead of applying twice.
func checkExpect(slot, current, expect string) error {
	if expect != "" && current != expect {
		return fmt.Errorf("%w: %s is %q, expected %q", store.ErrConflict, slot, current, expect)
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
