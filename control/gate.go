package control

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Checks gate swaps only. Set and rollback are the operator's direct
// overrides and the way back from a bad release: a failing check must
// never stand between the operator and the previous deployment.

// ErrCheckFailed marks a swap refused because a "before" check failed.
// The API answers it with 412 and the results; see CheckError.
var ErrCheckFailed = errors.New("check failed")

// CheckError is a swap refused by its gate, with every check's result.
type CheckError struct {
	App     string
	Results []store.CheckResult
}

func (e *CheckError) Error() string {
	var failed []string
	for _, r := range e.Results {
		if !r.Pass {
			failed = append(failed, fmt.Sprintf("check %q failed after %s: %s", r.Name, r.Duration.Round(time.Millisecond), r.Detail))
		}
	}
	return fmt.Sprintf("swap %q refused: %s; fix the slot about to become production, or swap with --force (recorded in history)", e.App, strings.Join(failed, "; "))
}

func (e *CheckError) Is(target error) bool { return target == ErrCheckFailed }

// gateBook knows which apps have a swap in its gate, and the last check
// results of each app. It has its own lock: DNS and the other apps never
// wait for a gate.
type gateBook struct {
	mu      sync.Mutex
	running map[string]gateHolder
	last    map[string][]store.CheckResult

	// windows are the "after" windows running; stopped once the server
	// shuts down, which cancels windowCtx and waits for them.
	windows      sync.WaitGroup
	stopped      bool
	windowCtx    context.Context
	cancelWindow context.CancelFunc

	// Tests: tlsRoots replaces the system's roots; afterCommit runs
	// before the "after" checks.
	tlsRoots    *x509.CertPool
	afterCommit func()
}

type gateHolder struct {
	kind, actor, reason string
	since               time.Time
}

// enter marks app as in its gate for a change of kind ("swap", "rollback"),
// or refuses naming the change already there.
func (g *gateBook) enter(app, kind, actor, reason string, now time.Time) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if h, ok := g.running[app]; ok {
		who := h.actor
		if h.reason != "" {
			who += fmt.Sprintf(" (%q)", h.reason)
		}
		return nil, fmt.Errorf("%s %q refused: a %s by %s is running its checks since %s; wait for it and look at slotdns status: %w",
			kind, app, h.kind, who, h.since.Format(time.TimeOnly), store.ErrConflict)
	}
	if g.running == nil {
		g.running = map[string]gateHolder{}
	}
	g.running[app] = gateHolder{kind: kind, actor: actor, reason: reason, since: now}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.running, app)
	}, nil
}

// startWindow registers an "after" window; done ends it. ok is false once
// the server is shutting down.
func (g *gateBook) startWindow() (ctx context.Context, done func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return nil, nil, false
	}
	if g.windowCtx == nil {
		g.windowCtx, g.cancelWindow = context.WithCancel(context.Background())
	}
	g.windows.Add(1)
	return g.windowCtx, g.windows.Done, true
}

// stop ends every "after" window without rolling back and waits for them.
func (g *gateBook) stop() {
	g.mu.Lock()
	g.stopped = true
	cancel := g.cancelWindow
	g.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	g.windows.Wait()
}

func (g *gateBook) remember(app string, results []store.CheckResult) {
	if len(results) == 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[string][]store.CheckResult{}
	}
	g.last[app] = results
}

func (g *gateBook) lastResults(app string) []store.CheckResult {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last[app]
}

// checksOf returns the app's checks run at when.
func checksOf(ac *AppConfig, when string) []CheckConfig {
	var out []CheckConfig
	for _, c := range ac.Checks {
		if c.When == when {
			out = append(out, c)
		}
	}
	return out
}

// productionHost is the name a production request carries: the first name
// of the slot, without the trailing dot.
func productionHost(ac *AppConfig, slot string) string {
	sc, ok := ac.Slot(slot)
	if !ok || len(sc.Names) == 0 {
		return ""
	}
	return strings.TrimSuffix(sc.Names[0], ".")
}

// runChecks runs checks at once and returns their results in order.
func (s *service) runChecks(ctx context.Context, checks []CheckConfig, run checkRun) []store.CheckResult {
	results := make([]store.CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { results[i] = runCheck(ctx, c, run) })
	}
	wg.Wait()
	return results
}

// gate runs the "before" checks of a swap of slot into with against slot's
// current target, without holding s.mu. It returns that target, which the
// swap then expects, so that a change made during the gate is not
// overwritten ("" when there are no checks), and the results; a failure
// returns a *CheckError unless req.Force.
func (s *service) gate(ctx context.Context, ac *AppConfig, req SwapRequest) (expect string, results []store.CheckResult, err error) {
	checks := checksOf(ac, "before")
	if len(checks) == 0 {
		return "", nil, nil
	}
	stored, err := s.db.App(ac.Name)
	if err != nil {
		return "", nil, fmt.Errorf("swap %q: %w", ac.Name, err)
	}
	expect = stored.Slots[req.Slot]
	t, err := zones.ParseTarget(expect)
	if err != nil {
		return "", nil, fmt.Errorf("swap %q: slot %q: stored target %q: %w", ac.Name, req.Slot, expect, err)
	}
	run := checkRun{App: ac.Name, Slot: req.Slot, From: stored.Slots[req.With], To: expect, Target: t,
		Host: productionHost(ac, req.With), lookup: s.resolveTarget, tlsRoots: s.gates.tlsRoots}
	results = s.runChecks(ctx, checks, run)
	if err := ctx.Err(); err != nil {
		// The caller went away: its checks failed for that, not the slot.
		return "", nil, fmt.Errorf("swap %q: abandoned during its checks: %w", ac.Name, err)
	}
	s.gates.remember(ac.Name, results)
	for _, r := range results {
		if !r.Pass {
			if req.Force {
				s.log.Warn("Swap forced past a failing check", "app", ac.Name, "check", r.Name, "detail", r.Detail, "actor", req.Actor)
				continue
			}
			s.log.Info("Swap refused by its checks", "app", ac.Name, "check", r.Name, "detail", r.Detail, "actor", req.Actor)
			return "", results, &CheckError{App: ac.Name, Results: results}
		}
	}
	return expect, results, nil
}

// afterWindow runs the "after" checks of a committed swap against the
// production slot in rounds, every shortest interval of them, until the
// longest window closes. On the
// first failure it rolls the swap back, unless a later change superseded
// it, and returns the rollback's entry.
func (s *service) afterWindow(ctx context.Context, ac *AppConfig, change Change, production string) ([]store.CheckResult, *store.Entry) {
	checks := checksOf(ac, "after")
	if len(checks) == 0 {
		return nil, nil
	}
	t, err := zones.ParseTarget(change.After[production])
	if err != nil {
		return nil, nil
	}
	run := checkRun{App: ac.Name, Slot: production, From: change.Before[production], To: change.After[production],
		Target: t, Host: productionHost(ac, production), lookup: s.resolveTarget, tlsRoots: s.gates.tlsRoots}
	if s.gates.afterCommit != nil {
		s.gates.afterCommit()
	}
	var window, interval time.Duration
	for _, c := range checks {
		window, interval = max(window, c.Window), min(interval, c.Interval)
		if interval == 0 {
			interval = c.Interval
		}
	}
	deadline := time.Now().Add(window)
	var results []store.CheckResult
	for {
		results = s.runChecks(ctx, checks, run)
		if ctx.Err() != nil {
			s.log.Info("After-swap checks stopped with the server; the swap stays", "app", ac.Name)
			return results, nil
		}
		s.gates.remember(ac.Name, results)
		for _, r := range results {
			if !r.Pass {
				return results, s.autoRollback(ac.Name, change, r, results)
			}
		}
		if !time.Now().Add(interval).Before(deadline) {
			s.log.Info("After-swap checks passed for their window", "app", ac.Name, "seq", change.Seq, "window", window)
			return results, nil
		}
		select {
		case <-ctx.Done():
			return results, nil
		case <-time.After(interval):
		}
		if stored, err := s.db.App(ac.Name); err != nil || stored.Version != change.Version {
			return results, nil // a later change took over
		}
	}
}

// autoRollback rolls back change after failed, unless the app changed
// since.
func (s *service) autoRollback(app string, change Change, failed store.CheckResult, results []store.CheckResult) *store.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, err := s.db.App(app)
	if err != nil || stored.Version != change.Version {
		s.log.Warn("After-swap check failed, but a later change superseded the swap; not rolling back", "app", app, "check", failed.Name, "detail", failed.Detail)
		return nil
	}
	reason := fmt.Sprintf("automatic rollback: %s failed: %s", failed.Name, failed.Detail)
	ttl := s.drainTTL(context.Background(), app, slotNames(stored.Slots)...)
	e, err := s.db.Rollback(app, store.Meta{Actor: "slotdns", Reason: reason, Checks: results})
	if err != nil {
		s.log.Error("Automatic rollback failed", "app", app, "check", failed.Name, "err", err)
		return nil
	}
	if _, err := s.committed(app, e, ttl); err != nil {
		s.log.Error("Automatic rollback not published", "app", app, "err", err)
	}
	s.log.Warn("Swap rolled back by itself", "app", app, "check", failed.Name, "detail", failed.Detail, "seq", e.Seq)
	return &e
}

func slotNames(slots map[string]string) []string {
	out := make([]string, 0, len(slots))
	for name := range slots {
		out = append(out, name)
	}
	return out
}

// checkStatus adds the last check results and the last automatic rollback
// to st.
func (s *service) checkStatus(st *AppStatus) {
	st.Checks = s.gates.lastResults(st.Name)
	hist, err := s.db.History(st.Name, 50)
	if err != nil {
		return
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Kind == store.KindRollback && hist[i].Actor == "slotdns" {
			st.LastAutoRollback = &hist[i]
			break
		}
	}
	if st.Checks == nil && len(hist) > 0 {
		st.Checks = hist[len(hist)-1].Checks
	}
}
