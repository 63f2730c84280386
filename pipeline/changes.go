package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Kinds of history entries.
const (
	KindSwap     = "swap"
	KindSet      = "set"
	KindRollback = "rollback"
)

// Meta is who makes a change and why, and what was checked before it.
type Meta struct {
	Actor  string
	Reason string
	Checks []store.CheckResult
	// Forced marks a change made although a check failed.
	Forced bool
	// RequestID identifies the request, when it carried an
	// Idempotency-Key: a retry finds the change it made in the history.
	RequestID string
	// Alias is a resolution of the hostname outside our zones that the
	// change puts at a zone apex, made just before it when no good one was
	// stored, so that the apex has addresses from the first query on.
	Alias *store.AliasRecord
}

// Result is a committed change of an app.
type Result struct {
	Entry store.Entry // the history entry, drain instant included
	// TTL is the longest TTL served for the changed names before the
	// change: how long their old answers may stay in caches.
	TTL uint32
	// Serials are the zones that got a new serial, with it.
	Serials map[string]uint32
}

// Swap exchanges the targets of slot and with (expect: see SwapSlots).
func (p *Pipeline) Swap(app, slot, with, expect string, meta Meta) (Result, error) {
	return p.changeApp(app, KindSwap, meta, func(_ store.View, a store.App) (map[string]string, error) {
		return SwapSlots(a.Slots, slot, with, expect)
	})
}

// Set points slot at to (canonical target text; expect: see SetSlot).
func (p *Pipeline) Set(app, slot, to, expect string, meta Meta) (Result, error) {
	return p.changeApp(app, KindSet, meta, func(_ store.View, a store.App) (map[string]string, error) {
		return SetSlot(a.Slots, slot, to, expect)
	})
}

// Rollback undoes the app's last change (see RollbackSlots). With
// version > 0 it rolls back only while the app is at that version: an
// automatic rollback does not undo a change made after the swap it
// undoes.
func (p *Pipeline) Rollback(app string, version uint64, meta Meta) (Result, error) {
	return p.changeApp(app, KindRollback, meta, func(v store.View, a store.App) (map[string]string, error) {
		if version > 0 && a.Version != version {
			return nil, fmt.Errorf("%w: app %q is at version %d, no longer %d: a later change superseded the one to roll back", store.ErrConflict, app, a.Version, version)
		}
		last, ok, err := v.LastEntry(app)
		if err != nil {
			return nil, err
		}
		if !ok {
			return RollbackSlots(a.Slots, nil)
		}
		return RollbackSlots(a.Slots, &last)
	})
}

// RollbackTo restores the slots of history entry seq (see
// RollbackToSlots).
func (p *Pipeline) RollbackTo(app string, seq uint64, expect map[string]string, meta Meta) (Result, error) {
	return p.changeApp(app, KindRollback, meta, func(v store.View, a store.App) (map[string]string, error) {
		e, err := v.Entry(app, seq)
		if err != nil {
			return nil, err
		}
		return RollbackToSlots(a.Slots, e, expect)
	})
}

// changeApp runs one change of an app's slots through the pipeline: rule
// gets the app as one read transaction sees it, and may read more of that
// view (a history entry); its slots are committed with a new version, the
// zone's next serial and a history entry.
func (p *Pipeline) changeApp(name, kind string, meta Meta, rule func(store.View, store.App) (map[string]string, error)) (Result, error) {
	ac, ok := p.cfg.App(name)
	if !ok {
		return Result{}, fmt.Errorf("%s %q: app %w; the config declares %s", kind, name, store.ErrNotFound, appList(p.cfg))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var app store.App
	var zone store.Zone
	var slots map[string]string
	var last uint64 // the app's newest history entry
	err := p.store.Read(func(v store.View) error {
		var err error
		if app, zone, err = p.readApp(v, name); err != nil {
			return err
		}
		e, ok, err := v.LastEntry(name)
		if err != nil {
			return err
		}
		if ok {
			last = e.Seq
		}
		slots, err = rule(v, app)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	s := newStep(p.now())
	if err := p.checkApex(ac, slots, meta.Alias, s); err != nil {
		if _, ok := err.(*UnknownAliasError); ok {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	next := app
	next.Slots, next.Version, next.Updated = slots, app.Version+1, s.at
	s.conds = append(s.conds, store.Cond{Key: store.AppKey(name), Rev: app.Rev}, store.Cond{Key: store.ZoneKey(zone.Origin), Rev: zone.Rev})
	s.apps[name] = next
	zone.Serial = NextSerial(zone.Serial)
	s.zones[zone.Origin] = zone
	s.entries = []store.Entry{{App: name, Entry: api.Entry{
		Seq: last + 1, Time: s.at, Kind: kind, Actor: meta.Actor, Reason: meta.Reason,
		Before: app.Slots, After: slots, Zone: zone.Origin, Version: next.Version,
		Checks: meta.Checks, Forced: meta.Forced, RequestID: meta.RequestID,
	}}}
	_, ttl := ServedAt(p.current.Load(), appNames(ac, changedSlots(app.Slots, slots)...))
	out, err := p.commit(s)
	if err != nil {
		return Result{}, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	e := out.entries[0]
	p.log.Info("App changed", "app", name, "kind", kind, "seq", e.Seq, "actor", e.Actor, "reason", e.Reason,
		"before", e.Before, "after", e.After, "zone", e.Zone, "serial", e.Serial, "drained_at", e.DrainedAt)
	return Result{Entry: e, TTL: ttl, Serials: out.serials}, nil
}

// checkApex refuses slots that would put a hostname outside our zones at
// the zone apex without addresses to serve for it: with no resolver
// configured, or none known. A fresh resolution handed in goes into s.
func (p *Pipeline) checkApex(ac *config.App, slots map[string]string, fresh *store.AliasRecord, s *step) error {
	apex, ok := ac.ApexSlot()
	if !ok {
		return nil
	}
	t, err := zones.ParseTarget(slots[apex.Name])
	if err != nil || !t.IsHost() || p.cfg.InOurZones(t.Host) {
		return nil
	}
	if p.cfg.Resolver == "" {
		return fmt.Errorf("%w: target %s lies outside our zones and slot %q serves the zone apex %s, which needs its addresses; set resolver in %s, or use a target in our zones or addresses",
			ErrInvalid, t.Host, apex.Name, ac.Zone, p.cfg.Path)
	}
	if fresh != nil && fresh.Target == t.Host {
		s.aliases = maps.Clone(p.aliases)
		s.writeAliases = []store.AliasRecord{*fresh}
		s.conds = append(s.conds, store.Cond{Key: store.AliasKey(fresh.Target), Rev: p.aliases[fresh.Target].Rev})
		return nil
	}
	if _, ok := servedAliases(p.aliases, s.at, p.cfg.AliasMaxStale)[t.Host]; !ok {
		return &UnknownAliasError{Target: t.Host, Zone: ac.Zone}
	}
	return nil
}

// UnknownAliasError refuses a change that would put at a zone apex a
// hostname outside our zones whose addresses are not known (never
// resolved, or not within alias_max_stale): the apex would answer
// SERVFAIL. The caller resolves the target, outside the write lock, and
// makes the change again with the resolution in Meta.Alias.
type UnknownAliasError struct {
	Target, Zone string
}

func (e *UnknownAliasError) Error() string {
	return fmt.Sprintf("the zone apex %s would serve %s, whose addresses are unknown; check the name and the resolver", e.Zone, e.Target)
}

func (e *UnknownAliasError) Unwrap() error { return ErrInvalid }

// changedSlots lists the slots whose targets differ between two states.
func changedSlots(before, after map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(after)) {
		if before[name] != after[name] {
			out = append(out, name)
		}
	}
	return out
}

func appList(cfg *config.Config) string {
	if len(cfg.Apps) == 0 {
		return "no apps"
	}
	var names []string
	for _, a := range cfg.Apps {
		names = append(names, fmt.Sprintf("%q", a.Name))
	}
	return joinWords(names)
}

func joinWords(words []string) string {
	out := ""
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			out += " and "
		default:
			out += ", "
		}
		out += w
	}
	return out
}
