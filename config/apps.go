package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/zones"
)

// buildApps checks the [[app]] tables and their slots.
func (p *parser) buildApps(cfg *Config, fc *fileConfig) {
	declared := map[string]bool{}
	// A zone whose origin has the wrong type may be the one an app names.
	originBad := false
	for i, fz := range fc.Zone {
		originBad = originBad || p.bad[fmt.Sprintf("zone[%d].origin", i)]
		if o, err := canonicalOrigin(fz.Origin); err == nil {
			declared[o] = true
		}
	}
	appLines := map[string]int{}
	owners := map[string]string{} // the owner of every slot name across all apps: "app/slot"
	for i, fa := range fc.App {
		key := fmt.Sprintf("app[%d]", i)
		line := p.line(key+".name", key)
		if p.bad[key+".zone"] {
			continue // its names cannot be read without the zone
		}
		switch {
		case p.bad[key+".name"]:
			// Its other keys are still checked, under its place in the
			// file; the config fails with the name's error anyway.
			fa.Name = fmt.Sprintf("#%d", i+1)
		case !namePattern.MatchString(fa.Name):
			p.addf(line, "app name %q: want letters, digits, '.', '-' or '_'", fa.Name)
			continue
		default:
			if prev, ok := appLines[fa.Name]; ok {
				p.addf(line, "app %q is declared twice (first at line %d); keep one [[app]]", fa.Name, prev)
				continue
			}
			appLines[fa.Name] = line
		}
		zoneLine := p.line(key+".zone", key+".name", key)
		origin, err := canonicalOrigin(fa.Zone)
		switch {
		case fa.Zone == "":
			p.addf(line, "app %q: zone is missing; add zone = \"example.com.\" naming a [[zone]]", fa.Name)
			continue
		case err != nil:
			p.addf(zoneLine, "app %q: zone %q: %v", fa.Name, fa.Zone, err)
			continue
		case !declared[origin]:
			if !originBad {
				p.addf(zoneLine, "app %q: zone %q is not declared; add a [[zone]] with origin = %q", fa.Name, fa.Zone, origin)
			}
			continue
		}
		app := App{Name: fa.Name, Zone: origin, TTL: DefaultTTL, Line: line}
		if fa.TTL != nil {
			if *fa.TTL < 1 || *fa.TTL > 1<<31-1 {
				p.addf(p.line(key+".ttl", key), "app %q: ttl %d: want a number of seconds from 1 to 2147483647", fa.Name, *fa.TTL)
			} else {
				app.TTL = uint32(*fa.TTL)
			}
		}
		if len(fa.Slots) == 0 && !fa.slotsBad {
			p.addf(line, "app %q has no slots; add [app.slots.production] with names and target", fa.Name)
		}
		targetLines := map[string]int{}
		for _, slotName := range slices.Sorted(maps.Keys(fa.Slots)) {
			slotKey := key + ".slots." + slotName
			slot, ok := p.buildSlot(fa.Name, slotName, slotKey, origin, fa.Slots[slotName], owners)
			if ok {
				app.Slots = append(app.Slots, slot)
				targetLines[slotName] = p.line(slotKey+".target", slotKey)
			}
		}
		app.Checks = p.buildChecks(key, fa.Name, fa.Check)
		// An apex alias of a hostname outside our zones is resolved through
		// the resolver.
		if s, ok := app.ApexSlot(); ok && fc.Resolver == "" && !p.bad["resolver"] && s.Target.IsHost() && !cfg.InOurZones(s.Target.Host) {
			p.addf(targetLines[s.Name], "app %q: slot %q: target %s lies outside our zones and serves the zone apex %s, which needs its addresses; set resolver = \"host:port\" of a recursive resolver, or point the slot at addresses", app.Name, s.Name, s.Target.Host, app.Zone)
		}
		cfg.Apps = append(cfg.Apps, app)
	}
}

// buildSlot checks one [app.slots.NAME] of app at slotKey. owners maps
// every slot name taken so far to its "app/slot".
func (p *parser) buildSlot(app, name, slotKey, origin string, fs fileSlot, owners map[string]string) (Slot, bool) {
	slotLine := p.line(slotKey, slotKey+".names", slotKey+".target")
	namesLine := p.line(slotKey+".names", slotKey)
	targetLine := p.line(slotKey+".target", slotKey)
	where := fmt.Sprintf("app %q: slot %q", app, name)
	if !namePattern.MatchString(name) {
		p.addf(slotLine, "%s: slot names want letters, digits, '.', '-' or '_'", where)
		return Slot{}, false
	}
	slot := Slot{Name: name, Line: slotLine, namesLine: namesLine}
	if len(fs.Names) == 0 && !p.bad[slotKey+".names"] {
		p.addf(namesLine, "%s: names is empty; add names = [\"www\"] (\"@\" is the zone apex)", where)
	}
	for _, n := range fs.Names {
		fqdn, err := ownerName(n, origin)
		if err != nil {
			p.addf(namesLine, "%s: name %q: %v", where, n, err)
			continue
		}
		if prev, ok := owners[fqdn]; ok {
			prevApp, prevSlot, _ := strings.Cut(prev, "/")
			if prevApp == app {
				p.addf(namesLine, "%s: name %q is already a slot name of %q; a name belongs to one slot only", where, n, prevSlot)
			} else {
				p.addf(namesLine, "%s: name %q is already a slot name of app %q slot %q; a name belongs to one slot only", where, n, prevApp, prevSlot)
			}
			continue
		}
		owners[fqdn] = app + "/" + name
		slot.Names = append(slot.Names, fqdn)
	}
	if p.bad[slotKey+".target"] {
		return Slot{}, false
	}
	if strings.TrimSpace(fs.Target) == "" {
		p.addf(targetLine, "%s: target is missing; add target = \"app.cloudapp.net.\" or a list of addresses \"192.0.2.1, 2001:db8::1\"", where)
		return Slot{}, false
	}
	t, err := zones.ParseTarget(fs.Target)
	if err != nil {
		p.addf(targetLine, "%s: %v", where, err)
		return Slot{}, false
	}
	slot.Target = t
	return slot, true
}
