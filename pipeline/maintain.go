package pipeline

import (
	"fmt"
	"maps"
	"strings"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/store"
)

// Rename and Forget resolve orphans (see Orphan) while no server runs:
// they change the database so that it matches the config again, each in
// one transaction conditional on what it read. They need no zone files,
// and leave serials alone: the next start gives a zone whose slots were
// reshaped a new serial, as for any change of the config.

// Rename keeps the state of an app, or of a slot ("app/slot"), under the
// new name the config now gives it: from must be in the database and not
// in the config, to in the config and not in the database. An app keeps
// its targets, version, history and drain state; a slot its target, and
// the app's history names it anew so that rollback still applies.
func Rename(st store.Store, cfg *config.Config, from, to string) error {
	fromApp, fromSlot, isSlot := strings.Cut(from, "/")
	toApp, toSlot, toIsSlot := strings.Cut(to, "/")
	if isSlot != toIsSlot || isSlot && fromApp != toApp {
		return fmt.Errorf("%w: rename %s %s: give two apps (OLD NEW) or two slots of one app (APP/OLD APP/NEW)", ErrInvalid, from, to)
	}
	return readThenApply(st, func(v store.View) (*store.Batch, error) {
		if isSlot {
			return renameSlot(v, cfg, fromApp, fromSlot, toSlot)
		}
		return renameApp(v, cfg, fromApp, toApp)
	})
}

// readThenApply applies the batch plan computes from one read: after the
// read transaction has ended, as bbolt wants, and conditional on what it
// read.
func readThenApply(st store.Store, plan func(store.View) (*store.Batch, error)) error {
	var b *store.Batch
	if err := st.Read(func(v store.View) error {
		var err error
		b, err = plan(v)
		return err
	}); err != nil {
		return err
	}
	_, err := st.Apply(b)
	return err
}

func renameApp(v store.View, cfg *config.Config, from, to string) (*store.Batch, error) {
	if _, ok := cfg.App(from); ok {
		return nil, fmt.Errorf("%w: rename %s: the config still declares app %q; remove it from %s first", ErrInvalid, from, from, cfg.Path)
	}
	if _, ok := cfg.App(to); !ok {
		return nil, fmt.Errorf("%w: rename %s %s: the config declares no app %q; add it to %s first", ErrInvalid, from, to, to, cfg.Path)
	}
	app, err := v.App(from)
	if err != nil {
		return nil, fmt.Errorf("rename %s: %w", from, err)
	}
	if _, err := v.App(to); err == nil {
		return nil, fmt.Errorf("%w: rename %s %s: app %q has state already; forget it first if it is not needed", store.ErrConflict, from, to, to)
	}
	history, err := v.History(from, 0)
	if err != nil {
		return nil, err
	}
	drains, err := v.Drains()
	if err != nil {
		return nil, err
	}
	b := &store.Batch{
		If:         []store.Cond{{Key: store.AppKey(from), Rev: app.Rev}, {Key: store.AppKey(to)}},
		DeleteApps: []string{from},
	}
	app.Name = to
	b.Apps = []store.App{app}
	for _, e := range history {
		e.App = to
		b.History = append(b.History, e)
	}
	if d, ok := drains[from]; ok {
		d.App = to
		b.Drains = []store.DrainState{d}
	}
	return b, nil
}

func renameSlot(v store.View, cfg *config.Config, appName, from, to string) (*store.Batch, error) {
	ac, ok := cfg.App(appName)
	if !ok {
		return nil, fmt.Errorf("%w: rename %s/%s: the config declares no app %q", ErrInvalid, appName, from, appName)
	}
	if _, ok := ac.Slot(from); ok {
		return nil, fmt.Errorf("%w: rename %s/%s: the config still declares slot %q of app %q", ErrInvalid, appName, from, from, appName)
	}
	if _, ok := ac.Slot(to); !ok {
		return nil, fmt.Errorf("%w: rename %s/%s %s/%s: the config declares no slot %q of app %q", ErrInvalid, appName, from, appName, to, to, appName)
	}
	app, err := v.App(appName)
	if err != nil {
		return nil, fmt.Errorf("rename %s/%s: %w", appName, from, err)
	}
	if _, ok := app.Slots[from]; !ok {
		return nil, fmt.Errorf("rename %s/%s: slot %w in the database", appName, from, store.ErrNotFound)
	}
	if _, ok := app.Slots[to]; ok {
		return nil, fmt.Errorf("%w: rename %s/%s %s/%s: slot %q has a target already; forget it first if it is not needed", store.ErrConflict, appName, from, appName, to, to)
	}
	history, err := v.History(appName, 0)
	if err != nil {
		return nil, err
	}
	app.Slots = renameKey(app.Slots, from, to)
	b := &store.Batch{If: []store.Cond{{Key: store.AppKey(appName), Rev: app.Rev}}, Apps: []store.App{app}}
	for _, e := range history {
		e.Before, e.After = renameKey(e.Before, from, to), renameKey(e.After, from, to)
		b.History = append(b.History, e)
	}
	return b, nil
}

// renameKey copies m with key from named to.
func renameKey(m map[string]string, from, to string) map[string]string {
	out := maps.Clone(m)
	if v, ok := out[from]; ok {
		delete(out, from)
		out[to] = v
	}
	return out
}

// Forget drops the state of an app ("app": its targets, history and
// drain state), of a slot ("app/slot": its target) or, with zone set, of
// a zone (its serial and journal) that the config no longer declares.
func Forget(st store.Store, cfg *config.Config, name string, zone bool) error {
	return readThenApply(st, func(v store.View) (*store.Batch, error) {
		appName, slot, isSlot := strings.Cut(name, "/")
		switch {
		case zone:
			return forgetZone(v, cfg, name)
		case isSlot:
			return forgetSlot(v, cfg, appName, slot)
		}
		if _, ok := cfg.App(name); ok {
			return nil, fmt.Errorf("%w: forget %s: the config declares app %q; remove it from %s first", ErrInvalid, name, name, cfg.Path)
		}
		app, err := v.App(name)
		if err != nil {
			return nil, fmt.Errorf("forget %s: %w", name, err)
		}
		return &store.Batch{If: []store.Cond{{Key: store.AppKey(name), Rev: app.Rev}}, DeleteApps: []string{name}}, nil
	})
}

func forgetSlot(v store.View, cfg *config.Config, appName, slot string) (*store.Batch, error) {
	if ac, ok := cfg.App(appName); ok {
		if _, ok := ac.Slot(slot); ok {
			return nil, fmt.Errorf("%w: forget %s/%s: the config declares slot %q of app %q; remove it from %s first", ErrInvalid, appName, slot, slot, appName, cfg.Path)
		}
	}
	app, err := v.App(appName)
	if err != nil {
		return nil, fmt.Errorf("forget %s/%s: %w", appName, slot, err)
	}
	if _, ok := app.Slots[slot]; !ok {
		return nil, fmt.Errorf("forget %s/%s: slot %w in the database", appName, slot, store.ErrNotFound)
	}
	delete(app.Slots, slot)
	return &store.Batch{If: []store.Cond{{Key: store.AppKey(appName), Rev: app.Rev}}, Apps: []store.App{app}}, nil
}

func forgetZone(v store.View, cfg *config.Config, origin string) (*store.Batch, error) {
	if _, ok := cfg.Zone(origin); ok {
		return nil, fmt.Errorf("%w: forget --zone %s: the config declares the zone; remove it from %s first", ErrInvalid, origin, cfg.Path)
	}
	z, err := v.Zone(origin)
	if err != nil {
		return nil, fmt.Errorf("forget --zone %s: %w", origin, err)
	}
	apps, err := v.Apps()
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		// An app the config declares has moved to a zone it declares:
		// the next start records its new zone.
		if _, declared := cfg.App(a.Name); a.Zone == origin && !declared {
			return nil, fmt.Errorf("%w: forget --zone %s: app %q is stored in it; rename or forget the app first", store.ErrConflict, origin, a.Name)
		}
	}
	return &store.Batch{If: []store.Cond{{Key: store.ZoneKey(origin), Rev: z.Rev}}, DeleteZones: []string{origin}}, nil
}
