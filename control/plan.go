package control

import (
	"context"
	"fmt"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Plan says what a swap of slot with with would change now: each name's
// answer before and after, and the checks it would run. It changes
// nothing; the swap button shows it for confirmation and then sends the
// swap with Expect, so that a stale page cannot swap what it did not show.
func (s *service) Plan(_ context.Context, name, slot, with string) (api.SwapPlan, error) {
	ac, ok := s.cfg.App(name)
	if !ok {
		return api.SwapPlan{}, apiError(fmt.Errorf("app %q %w; the config declares %s", name, store.ErrNotFound, appNames(s.cfg)))
	}
	slot, with = cmpOr(slot, api.DefaultSwapSlot), cmpOr(with, api.DefaultSwapWith)
	app, _ := s.p.App(name)
	for _, sl := range []string{slot, with} {
		if _, ok := app.Slots[sl]; !ok {
			return api.SwapPlan{}, apiError(fmt.Errorf("swap %q: slot %q %w", name, sl, store.ErrNotFound))
		}
	}
	if slot == with {
		return api.SwapPlan{}, apiError(invalidf("swap %q: slot %q with itself; name two different slots", name, slot))
	}
	snap := s.p.Snapshot()
	plan := api.SwapPlan{App: name, Zone: ac.Zone, Slot: slot, With: with, Expect: app.Slots[slot], Version: app.Version,
		Answers: []api.PlannedAnswer{}, Checks: []api.PlannedCheck{}}
	for _, sl := range []struct{ slot, next string }{{slot, app.Slots[with]}, {with, app.Slots[slot]}} {
		sc, _ := ac.Slot(sl.slot)
		for _, owner := range sc.Names {
			typ, after := s.answerOf(snap, ac.Zone, owner, sl.next)
			plan.Answers = append(plan.Answers, api.PlannedAnswer{Name: owner, Slot: sl.slot, Type: typ, Before: servedText(snap, owner), After: after})
		}
	}
	for _, c := range ac.Checks {
		plan.Checks = append(plan.Checks, api.PlannedCheck{Name: c.Name, When: c.When})
	}
	return plan, nil
}

// answerOf is what owner would answer with target: a CNAME, or addresses
// at the apex (flattened) and for an address target.
func (s *service) answerOf(snap *zones.Snapshot, apex, owner, target string) (typ, text string) {
	t, err := zones.ParseTarget(target)
	if err != nil {
		return "?", target
	}
	if !t.IsHost() {
		return "A/AAAA", t.String()
	}
	if owner != apex {
		return "CNAME", t.Host
	}
	var addrs []string
	if s.cfg.InOurZones(t.Host) {
		for _, a := range snapshotAddrs(snap, t.Host) {
			addrs = append(addrs, a.String())
		}
	} else if rec, ok := s.p.Alias(t.Host); ok {
		addrs = rec.Addrs
	}
	if len(addrs) == 0 {
		return "A/AAAA", t.Host + " (addresses resolved at the swap)"
	}
	return "A/AAAA", strings.Join(addrs, ", ") + " (" + t.Host + ")"
}

// servedText is what the snapshot answers for owner now, in one line.
func servedText(snap *zones.Snapshot, owner string) string {
	if ans := snap.Lookup(owner, dns.TypeCNAME).Answer; len(ans) > 0 {
		if c, ok := ans[0].(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, owner) {
			return c.Target
		}
	}
	var addrs []string
	for _, a := range snapshotAddrs(snap, owner) {
		addrs = append(addrs, a.String())
	}
	if len(addrs) == 0 {
		return "-"
	}
	return strings.Join(addrs, ", ")
}
