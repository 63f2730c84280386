package pipeline

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Open records the config's zones and apps in the store as a start does,
// and builds and publishes the first snapshot: seeding is a change like
// any other, committed in one transaction (when anything is new).
//
//   - A slot the store does not hold yet takes the config's target; a slot
//     it holds keeps its stored target (a restart never undoes a swap).
//   - A zone whose content (file records and slot layout) changed while
//     nothing served it gets a new serial (see SeedZone), and so does a
//     zone that would answer otherwise than at its stored serial (see
//     seedServed).
//   - Answers that differ from those the previous process served retire
//     theirs now, for the drain clock.
//
// A database holding apps, slots or zones the config does not declare is
// refused with an *OrphanError saying how to rename or forget each, since
// serving would silently reseed them from the config (a read-only Open
// lists them in Orphans instead). files holds the parsed zone files.
func Open(st store.Store, cfg *config.Config, files map[string]*zones.Zone, opts Options) (*Pipeline, error) {
	p := &Pipeline{store: st, cfg: cfg, clock: opts.Clock, log: opts.Logger, sink: opts.Sink, readOnly: opts.ReadOnly,
		files: maps.Clone(files), apps: map[string]store.App{}, zones: map[string]store.Zone{}}
	if p.clock == nil {
		p.clock = clock.Real
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.sink == nil {
		p.sink = Discard
	}
	for _, z := range cfg.Zones {
		if files[z.Origin] == nil {
			return nil, fmt.Errorf("zone %s: its file %s is not loaded", z.Origin, z.File)
		}
	}
	var apps []store.App
	var zs []store.Zone
	err := st.Read(func(v store.View) error {
		var err error
		if apps, err = v.Apps(); err != nil {
			return err
		}
		if zs, err = v.Zones(); err != nil {
			return err
		}
		if p.drains, err = v.Drains(); err != nil {
			return err
		}
		p.aliases, err = v.Aliases()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the state: %w", err)
	}
	p.orphans = findOrphans(cfg, apps, zs)
	if len(p.orphans) > 0 && !p.readOnly {
		return nil, &OrphanError{Orphans: p.orphans, Config: cfg.Path}
	}
	if err := p.seed(apps, zs); err != nil {
		return nil, err
	}
	return p, nil
}

// seed is Open's change: see Open.
func (p *Pipeline) seed(apps []store.App, zs []store.Zone) error {
	at := p.now()
	b := &store.Batch{}
	storedZones := map[string]store.Zone{}
	for _, z := range zs {
		storedZones[z.Origin] = z
	}
	write := map[string]bool{} // the zones whose record the batch writes
	for _, zc := range p.cfg.Zones {
		file := p.files[zc.Origin]
		digest, err := file.ContentDigest(slotLayout(p.cfg, zc.Origin)...)
		if err != nil {
			return fmt.Errorf("zone %s: %w", zc.Origin, err)
		}
		stored, isStored := storedZones[zc.Origin]
		var was *store.Zone
		if isStored {
			was = &stored
		}
		next, moved := SeedZone(was, zc.Origin, file.SOA.Serial, digest)
		next.Rev = stored.Rev
		p.zones[zc.Origin] = next
		if !moved {
			continue
		}
		write[zc.Origin] = true
		if isStored {
			b.DropJournals = append(b.DropJournals, zc.Origin)
		}
		if isStored && next.Serial != stored.Serial {
			p.log.Info("Zone changed since it was last served (its file or the slots of the config); serving a new serial, secondaries take it whole",
				"zone", zc.Origin, "serial", next.Serial, "previous_serial", stored.Serial)
		}
	}
	storedApps := map[string]store.App{}
	for _, a := range apps {
		storedApps[a.Name] = a
	}
	for i := range p.cfg.Apps {
		ac := &p.cfg.Apps[i]
		stored, isStored := storedApps[ac.Name]
		var was *store.App
		if isStored {
			was = &stored
		}
		next, added := SeedApp(was, ac)
		p.apps[ac.Name] = next
		for _, slot := range added {
			p.log.Info("Slot seeded from config", "app", ac.Name, "slot", slot, "target", next.Slots[slot])
		}
		for _, slot := range ac.Slots {
			if live := next.Slots[slot.Name]; live != slot.Target.String() {
				p.log.Info("Slot target differs from config; serving the stored one", "app", ac.Name, "slot", slot.Name, "target", live, "config_target", slot.Target.String())
			}
		}
		if isStored && len(added) == 0 && stored.Zone == ac.Zone {
			continue
		}
		next.Updated = at
		p.apps[ac.Name] = next
		b.If = append(b.If, store.Cond{Key: store.AppKey(ac.Name), Rev: stored.Rev})
		b.Apps = append(b.Apps, next)
	}

	in := zones.Input{Now: at, Aliases: servedAliases(p.aliases, at, p.cfg.AliasMaxStale)}
	for _, zc := range p.cfg.Zones {
		zi, err := zoneInput(p.cfg, p.files[zc.Origin], p.zones[zc.Origin].Serial, appsIn(p.apps))
		if err != nil {
			return err
		}
		in.Zones = append(in.Zones, zi)
	}
	snap, err := zones.Build(in)
	if err != nil {
		return fmt.Errorf("build the zones: %w", err)
	}
	drains := p.retire(snap, at.Add(commitMargin))
	if snap, err = p.seedServed(snap, storedZones, write, b); err != nil {
		return err
	}
	for _, zc := range p.cfg.Zones {
		if write[zc.Origin] {
			b.If = append(b.If, store.Cond{Key: store.ZoneKey(zc.Origin), Rev: storedZones[zc.Origin].Rev})
			b.Zones = append(b.Zones, p.zones[zc.Origin])
		}
	}
	for _, app := range slices.Sorted(maps.Keys(drains)) {
		b.If = append(b.If, store.Cond{Key: store.DrainKey(app), Rev: p.drains[app].Rev})
		b.Drains = append(b.Drains, drains[app])
	}
	if !b.Empty() && !p.readOnly {
		rev, err := p.store.Apply(b)
		if err != nil {
			return fmt.Errorf("record the config in the database: %w", err)
		}
		for _, a := range b.Apps {
			a.Rev = rev
			p.apps[a.Name] = a
		}
		for _, z := range b.Zones {
			z.Rev = rev
			p.zones[z.Origin] = z
		}
		for _, d := range b.Drains {
			d.Rev = rev
			p.drains[d.App] = d
		}
	} else {
		maps.Copy(p.drains, drains)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Secondaries are told of every zone at start: a serial may have
	// moved while no server ran.
	var origins []string
	for _, zc := range p.cfg.Zones {
		origins = append(origins, zc.Origin)
	}
	p.publish(snap, origins)
	return nil
}

// seedServed compares what each zone of snap serves with what the
// previous process served at the stored serial (store.Zone.Served). An
// apex alias into another zone, or an alias that expired while nothing
// served, changes a zone whose own file and slots did not: such a zone
// gets a new serial here, its journal cut, so that a secondary holding
// the stored serial learns it is behind. It returns snap with those
// serials, and marks in write every zone whose record must be written.
func (p *Pipeline) seedServed(snap *zones.Snapshot, storedZones map[string]store.Zone, write map[string]bool, b *store.Batch) (*zones.Snapshot, error) {
	var in zones.Input
	for _, zc := range p.cfg.Zones {
		zs := p.zones[zc.Origin]
		served := servedDigest(snap, zc.Origin)
		if zs.Served == served {
			continue
		}
		stored, isStored := storedZones[zc.Origin]
		if isStored && stored.Served != "" && zs.Serial == stored.Serial {
			zs.Serial = NextSerial(zs.Serial)
			b.DropJournals = append(b.DropJournals, zc.Origin)
			p.log.Info("Zone answers otherwise than when it was last served (an apex alias's addresses); serving a new serial, secondaries take it whole",
				"zone", zc.Origin, "serial", zs.Serial, "previous_serial", stored.Serial)
			zi, err := zoneInput(p.cfg, p.files[zc.Origin], zs.Serial, appsIn(p.apps))
			if err != nil {
				return nil, err
			}
			in.Zones = append(in.Zones, zi)
		}
		zs.Served = served
		p.zones[zc.Origin] = zs
		write[zc.Origin] = true
	}
	if len(in.Zones) == 0 {
		return snap, nil
	}
	next, err := snap.With(in)
	if err != nil {
		return nil, fmt.Errorf("build the zones: %w", err)
	}
	return next, nil
}
