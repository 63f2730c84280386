package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// zoneInput is the one place that turns the config and the state into
// what a zone serves: the zone file, the serial, and for every app of the
// zone each configured slot with its stored target and the app's TTL. An
// app not in apps (not stored yet) serves its config targets; a stored
// target that does not parse is an error naming it.
func zoneInput(cfg *config.Config, file *zones.Zone, serial uint32, apps func(name string) (store.App, bool)) (zones.ZoneInput, error) {
	zi := zones.ZoneInput{Zone: file, Serial: serial}
	for _, app := range cfg.AppsIn(file.Origin) {
		stored, isStored := apps(app.Name)
		for _, slot := range app.Slots {
			t := slot.Target
			if text, ok := stored.Slots[slot.Name]; isStored && ok {
				parsed, err := zones.ParseTarget(text)
				if err != nil {
					return zones.ZoneInput{}, fmt.Errorf("app %q slot %q: the stored target %q does not parse (%v); set the slot anew with slotdns set", app.Name, slot.Name, text, err)
				}
				t = parsed
			}
			zi.Slots = append(zi.Slots, zones.Slot{App: app.Name, Slot: slot.Name, Names: slot.Names, Target: t, TTL: app.TTL})
		}
	}
	return zi, nil
}

// appsIn gives a lookup of apps by name in a map.
func appsIn(apps map[string]store.App) func(string) (store.App, bool) {
	return func(name string) (store.App, bool) {
		a, ok := apps[name]
		return a, ok
	}
}

// servedAliases turns stored alias records into what a snapshot serves,
// leaving out those last confirmed longer than maxStale before now.
func servedAliases(recs map[string]store.AliasRecord, now time.Time, maxStale time.Duration) map[string]zones.Alias {
	out := map[string]zones.Alias{}
	for target, rec := range recs {
		if now.Sub(rec.Resolved) > maxStale {
			continue
		}
		a := zones.Alias{TTL: rec.TTL}
		for _, text := range rec.Addrs {
			if addr, err := netip.ParseAddr(text); err == nil {
				a.Addrs = append(a.Addrs, addr)
			}
		}
		if len(a.Addrs) > 0 {
			out[target] = a
		}
	}
	return out
}

// slotLayout lists the slots the config lays over zone, one sorted line
// each, "slot APP SLOT ttl TTL NAME...": part of the zone's content digest
// (targets are the store's), so that a slot added or reshaped while
// nothing served it gives the zone a new serial at start.
func slotLayout(cfg *config.Config, zone string) []string {
	var lines []string
	for _, app := range cfg.AppsIn(zone) {
		for _, slot := range app.Slots {
			names := slices.Sorted(slices.Values(slot.Names))
			lines = append(lines, fmt.Sprintf("slot %s %s ttl %d %s", app.Name, slot.Name, app.TTL, strings.Join(names, " ")))
		}
	}
	slices.Sort(lines)
	return lines
}

// appNames lists the owner names of the given slots of app (all of them
// when slots is empty).
func appNames(app *config.App, slots ...string) []string {
	var names []string
	for _, s := range app.Slots {
		if len(slots) == 0 || slices.Contains(slots, s.Name) {
			names = append(names, s.Names...)
		}
	}
	return names
}
