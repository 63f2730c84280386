package control

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/checks"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Checks gate swaps and rollback --to, which may bring another deployment
// into production. Set and a plain rollback are the operator's direct
// overrides and the way back from a bad release: a failing check must
// never stand between the operator and the previous deployment.

// gateBook knows which apps have a gated change in its checks, before its
// commit or in its "after" window, and the last check results of each
// app. It has its own lock: DNS and the other apps never wait for a gate.
type gateBook struct {
	mu      sync.Mutex
	running map[string]*gateHolder
	last    map[string][]store.CheckResult

	// windows are the "after" windows running; stopped once the server
	// shuts down, which cancels windowCtx and waits for them.
	windows      sync.WaitGroup
	stopped      bool
	windowCtx    context.Context
	cancelWindow context.CancelFunc
}

type gateHolder struct {
	kind, actor, reason string
	since               time.Time
	until               time.Time // the end of the "after" window, once in it
}

func newGateBook() *gateBook {
	ctx, cancel := context.WithCancel(context.Background())
	return &gateBook{running: map[string]*gateHolder{}, last: map[string][]store.CheckResult{}, windowCtx: ctx, cancelWindow: cancel}
}

// enter marks app as in a gated change of kind ("swap", "rollback"), or
// refuses naming the change already there: a second swap during the
// first one's checks, or during its "after" window, would make the first
// report on a window cut short.
func (g *gateBook) enter(app, kind, actor, reason string, now time.Time) (h *gateHolder, release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h, ok := g.running[app]; ok {
		who := h.actor
		if h.reason != "" {
			who += fmt.Sprintf(" (%q)", h.reason)
		}
		phase := "is running its checks since " + h.since.Local().Format(time.TimeOnly)
		if !h.until.IsZero() {
			phase = "is watched by its \"after\" checks until " + h.until.Local().Format(time.TimeOnly)
		}
		return nil, nil, fmt.Errorf("%w: %s %q refused: a %s by %s %s; wait for it and look at slotdns status",
			store.ErrConflict, kind, app, h.kind, who, phase)
	}
	h = &gateHolder{kind: kind, actor: actor, reason: reason, since: now}
	g.running[app] = h
	return h, sync.OnceFunc(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.running, app)
	}), nil
}

// watch records that h is in its "after" window until until.
func (g *gateBook) watch(h *gateHolder, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h.until = until
}

// startWindow registers an "after" window; done ends it. ok is false once
// the server is shutting down.
func (g *gateBook) startWindow() (ctx context.Context, done func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return nil, nil, false
	}
	g.windows.Add(1)
	return g.windowCtx, g.windows.Done, true
}

// stop ends every "after" window without rolling back and waits for them.
func (g *gateBook) stop() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.cancelWindow()
	g.windows.Wait()
}

// remember keeps the latest result of each check of app: an "after"
// round replaces the "after" results and keeps the "before" ones.
func (g *gateBook) remember(app string, results []store.CheckResult) {
	if len(results) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	kept := slices.DeleteFunc(slices.Clone(g.last[app]), func(old store.CheckResult) bool {
		return slices.ContainsFunc(results, func(r store.CheckResult) bool { return r.Name == old.Name && r.When == old.When })
	})
	g.last[app] = append(kept, results...)
}

func (g *gateBook) lastResults(app string) []store.CheckResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last[app]
}

// productionHost is the name a production request carries: the first name
// of the slot, without the trailing dot.
func productionHost(ac *config.App, slot string) string {
	sc, ok := ac.Slot(slot)
	if !ok || len(sc.Names) == 0 {
		return ""
	}
	return strings.TrimSuffix(sc.Names[0], ".")
}

// checkTarget is what the checks of app run against: the deployment at
// target about to become (or being) production in slot production,
// moving it from from.
func (s *service) checkTarget(ac *config.App, slot, production, from, to string) (checks.Target, error) {
	t, err := zones.ParseTarget(to)
	if err != nil {
		return checks.Target{}, fmt.Errorf("app %q slot %q: target %q: %w", ac.Name, slot, to, err)
	}
	return checks.Target{App: ac.Name, Slot: slot, From: from, To: to, Target: t,
		Host: productionHost(ac, production), Lookup: s.resolveTarget, TLSRoots: s.tlsRoots}, nil
}

// runBefore runs the app's "before" checks against run. A failure is a
// *CheckError unless force, which logs it and goes on.
func (s *service) runBefore(ctx context.Context, ac *config.App, kind string, run checks.Target, force bool, actor string) ([]store.CheckResult, error) {
	results := s.runChecks(ctx, ac.Name, "before", ac.ChecksAt("before"), run)
	if err := ctx.Err(); err != nil {
		// The caller went away: its checks failed for that, not the slot.
		return nil, fmt.Errorf("%s %q: abandoned during its checks: %w", kind, ac.Name, err)
	}
	s.gates.remember(ac.Name, results)
	for _, r := range results {
		if r.Pass {
			continue
		}
		if force {
			s.log.Warn("Gated change forced past a failing check", "app", ac.Name, "kind", kind, "check", r.Name, "detail", r.Detail, "actor", actor)
			continue
		}
		s.log.Info("Gated change refused by its checks", "app", ac.Name, "kind", kind, "check", r.Name, "detail", r.Detail, "actor", actor)
		return results, &CheckError{App: ac.Name, Kind: kind, Results: results}
	}
	return results, nil
}

// runChecks runs one round of the app's checks of phase ("before",
// "after"), telling the event streams as each starts and ends.
func (s *service) runChecks(ctx context.Context, app, phase string, list []config.Check, run checks.Target) []store.CheckResult {
	for _, c := range list {
		s.events.publish(api.Event{Type: api.EventCheck, App: app, Phase: phase, CheckName: c.Name})
	}
	results := checks.Run(ctx, s.clock, list, run)
	for i, r := range results {
		s.events.publish(api.Event{Type: api.EventCheck, App: app, Phase: phase, CheckName: r.Name, Check: &results[i]})
		outcome := "pass"
		if !r.Pass {
			outcome = "fail"
		}
		s.metrics.Check(r.Name, phase, outcome)
	}
	return results
}

// windowOutcome is how an "after" window ended.
type windowOutcome struct {
	results    []store.CheckResult
	rolledBack *store.Entry // the automatic rollback it made
	superseded *store.Entry // the later change that cut it short
}

// afterWindow runs the "after" checks of a committed swap against
// production in rounds, every shortest interval of them, until the
// longest window closes. On the first failure it rolls the swap back,
// unless a later change superseded it; a later change also ends the
// window early, and is reported.
func (s *service) afterWindow(ctx context.Context, ac *config.App, h *gateHolder, entry store.Entry, production string) windowOutcome {
	list := ac.ChecksAt("after")
	run, err := s.checkTarget(ac, production, production, entry.Before[production], entry.After[production])
	if err != nil {
		return windowOutcome{}
	}
	var window, interval time.Duration
	for _, c := range list {
		window = max(window, c.Window)
		if interval == 0 || c.Interval < interval {
			interval = c.Interval
		}
	}
	deadline := s.clock.Now().Add(window)
	s.gates.watch(h, deadline)
	var out windowOutcome
	for {
		out.results = s.runChecks(ctx, ac.Name, "after", list, run)
		if ctx.Err() != nil {
			s.log.Info("After-swap checks stopped with the server; the swap stays", "app", ac.Name)
			return out
		}
		s.gates.remember(ac.Name, out.results)
		if later := s.laterChange(ac.Name, entry); later != nil {
			s.log.Warn("A later change ended the after-swap window early", "app", ac.Name, "seq", entry.Seq, "by", later.Seq, "kind", later.Kind, "actor", later.Actor)
			out.superseded = later
			return out
		}
		for _, r := range out.results {
			if !r.Pass {
				out.rolledBack, out.superseded = s.autoRollback(ac.Name, entry, r, out.results)
				return out
			}
		}
		if !s.clock.Now().Add(interval).Before(deadline) {
			s.log.Info("After-swap checks passed for their window", "app", ac.Name, "seq", entry.Seq, "window", window)
			return out
		}
		if !clock.Sleep(s.clock, interval, ctx.Done()) {
			return out
		}
	}
}

// laterChange returns the first history entry after entry, when the app
// changed since.
func (s *service) laterChange(app string, entry store.Entry) *store.Entry {
	var later *store.Entry
	s.db.Read(func(v store.View) error {
		if e, err := v.Entry(app, entry.Seq+1); err == nil {
			later = &e
		}
		return nil
	})
	return later
}

// autoRollback rolls back entry after failed, unless the app changed
// since (then it returns the change that superseded it).
func (s *service) autoRollback(app string, entry store.Entry, failed store.CheckResult, results []store.CheckResult) (rolledBack, superseded *store.Entry) {
	reason := fmt.Sprintf("automatic rollback: %s failed: %s", failed.Name, failed.Detail)
	res, err := s.p.Rollback(app, entry.Version, pipelineMeta(actorSlotdns, reason, results, false))
	if err != nil {
		if later := s.laterChange(app, entry); later != nil {
			s.log.Warn("After-swap check failed, but a later change superseded the swap; not rolling back", "app", app, "check", failed.Name, "detail", failed.Detail)
			return nil, later
		}
		s.log.Error("Automatic rollback failed", "app", app, "check", failed.Name, "err", err)
		return nil, nil
	}
	s.log.Warn("Swap rolled back by itself", "app", app, "check", failed.Name, "detail", failed.Detail, "seq", res.Entry.Seq)
	s.events.publish(changeEvent(app, res.Entry))
	s.metrics.AutoRollback(app)
	return &res.Entry, nil
}

// resolveTarget finds the addresses of host for a check: from the served
// snapshot when it lies in our zones, else through the configured
// resolver or the system's.
func (s *service) resolveTarget(ctx context.Context, host string) ([]netip.Addr, error) {
	if s.cfg.InOurZones(host) {
		return snapshotAddrs(s.p.Snapshot(), host), nil
	}
	return lookupAddrs(ctx, s.cfg.Resolver, host)
}
