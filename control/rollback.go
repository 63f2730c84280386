package control

import (
	"context"
	"fmt"
	"slices"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// rollbackTo restores the slots of history entry req.To. When that moves
// another target into production it passes the same "before" checks as a
// swap, against that target, without holding s.mu; --force passes a
// failure and the entry records it.
func (s *service) rollbackTo(ctx context.Context, app string, req RollbackRequest) (Change, error) {
	ac, err := s.appConfig(app)
	if err != nil {
		return Change{}, err
	}
	target, err := s.db.Entry(app, req.To)
	if err != nil {
		return Change{}, fmt.Errorf("rollback %q --to %d: %w", app, req.To, err)
	}
	// The slots the move is checked from; the commit below refuses if they
	// changed while the checks ran.
	stored, err := s.db.App(app)
	if err != nil {
		return Change{}, fmt.Errorf("rollback %q: %w", app, err)
	}
	results, err := s.gateRollbackTo(ctx, ac, target, stored, req)
	if err != nil {
		return Change{}, err
	}
	reason := fmt.Sprintf("back to #%d", req.To)
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	forced := slices.ContainsFunc(results, func(r store.CheckResult) bool { return !r.Pass })
	s.mu.Lock()
	defer s.mu.Unlock()
	var slots []string
	for _, sc := range ac.Slots {
		slots = append(slots, sc.Name)
	}
	ttl := s.drainTTL(ctx, app, slots...)
	e, err := s.db.RollbackTo(app, req.To, stored.Slots, store.Meta{Actor: req.Actor, Reason: reason, Checks: results, Forced: forced})
	if err != nil {
		return Change{}, err
	}
	return s.committed(app, e, ttl)
}

// gateRollbackTo runs the app's "before" checks against the production
// target that entry would restore, when it differs from the current one.
func (s *service) gateRollbackTo(ctx context.Context, ac *AppConfig, entry store.Entry, stored store.App, req RollbackRequest) ([]store.CheckResult, error) {
	checks := checksOf(ac, "before")
	if len(checks) == 0 {
		return nil, nil
	}
	production := store.DefaultSwapWith
	to, from := entry.After[production], stored.Slots[production]
	if to == "" || to == from {
		return nil, nil
	}
	t, err := zones.ParseTarget(to)
	if err != nil {
		return nil, fmt.Errorf("rollback %q --to %d: target %q: %w", ac.Name, entry.Seq, to, err)
	}
	release, err := s.gates.enter(ac.Name, "rollback", req.Actor, req.Reason, s.now())
	if err != nil {
		return nil, err
	}
	defer release()
	run := checkRun{App: ac.Name, Slot: production, From: from, To: to, Target: t,
		Host: productionHost(ac, production), lookup: s.resolveTarget, tlsRoots: s.gates.tlsRoots}
	results := s.runChecks(ctx, checks, run)
	s.gates.remember(ac.Name, results)
	for _, r := range results {
		if r.Pass {
			continue
		}
		if req.Force {
			s.log.Warn("Rollback forced past a failing check", "app", ac.Name, "to", entry.Seq, "check", r.Name, "detail", r.Detail, "actor", req.Actor)
			continue
		}
		s.log.Info("Rollback refused by its checks", "app", ac.Name, "to", entry.Seq, "check", r.Name, "detail", r.Detail, "actor", req.Actor)
		return results, &CheckError{App: ac.Name, Results: results}
	}
	return results, nil
}
