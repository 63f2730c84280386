package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

const actorSlotdns = api.ActorSlotdns

// The three verbs of the swap button. Each checks its request, runs the
// gate when the app has checks, and hands the change to the pipeline.

func (s *service) Swap(ctx context.Context, app string, req api.SwapRequest) (api.Change, error) {
	ch, err := s.swap(ctx, app, req)
	return ch, s.counted("swap", err)
}

func (s *service) Set(ctx context.Context, app, slot string, req api.SetRequest) (api.Change, error) {
	ch, err := s.set(ctx, app, slot, req)
	return ch, s.counted("set", err)
}

func (s *service) Rollback(ctx context.Context, app string, req api.RollbackRequest) (api.Change, error) {
	ch, err := s.rollback(ctx, app, req)
	kind := "rollback"
	if req.To != 0 {
		kind = "rollback_to"
	}
	return ch, s.counted(kind, err)
}

// counted counts a change of kind by its outcome, and gives its error as
// the API's.
func (s *service) counted(kind string, err error) error {
	err = apiError(err)
	s.metrics.Change(kind, resultOf(err))
	return err
}

func (s *service) swap(ctx context.Context, name string, req api.SwapRequest) (api.Change, error) {
	ac, err := s.request(name, req.Actor, req.Reason)
	if err != nil {
		return api.Change{}, err
	}
	if ch, ok, err := s.replay(ctx, name); ok || err != nil {
		return ch, err
	}
	req.Slot, req.With = cmpOr(req.Slot, api.DefaultSwapSlot), cmpOr(req.With, api.DefaultSwapWith)
	if req.Slot == req.With {
		return api.Change{}, invalidf("swap %q: slot %q with itself; name two different slots", name, req.Slot)
	}
	expect, err := canonicalTarget("expect", req.Expect)
	if err != nil {
		return api.Change{}, err
	}
	before, after := ac.ChecksAt("before"), ac.ChecksAt("after")
	h, release := (*gateHolder)(nil), func() {}
	if len(before)+len(after) > 0 {
		if h, release, err = s.gates.enter(name, "swap", req.Actor, req.Reason, s.clock.Now()); err != nil {
			return api.Change{}, err
		}
	}
	defer func() { release() }()
	var results []store.CheckResult
	app, _ := s.p.App(name)
	if target, ok := app.Slots[req.Slot]; ok && len(before) > 0 {
		// The swap then commits only if the slot still points at the
		// target checked: a change made during the gate is not lost.
		if expect != "" && expect != target {
			return api.Change{}, fmt.Errorf("%w: swap %q: slot %q points at %s, not %s", store.ErrConflict, name, req.Slot, target, expect)
		}
		expect = target
		run, err := s.checkTarget(ac, req.Slot, req.With, app.Slots[req.With], target)
		if err != nil {
			return api.Change{}, err
		}
		if results, err = s.runBefore(ctx, ac, "swap", run, req.Force, req.Actor); err != nil {
			return api.Change{}, err
		}
	}
	res, err := s.commit(ctx, func(alias *store.AliasRecord) (pipeline.Result, error) {
		return s.p.Swap(name, req.Slot, req.With, expect, withAlias(ctx, pipelineMeta(req.Actor, req.Reason, results, failed(results)), alias))
	})
	if err != nil {
		return api.Change{}, err
	}
	ch := s.change(name, res)
	if len(after) == 0 {
		return ch, nil
	}
	// The window runs to its end even when the caller stops waiting, and
	// stops without rolling back when the server does.
	wctx, done, ok := s.gates.startWindow()
	if !ok {
		s.log.Warn("Server stopping: the after-swap checks do not run", "app", name, "seq", res.Entry.Seq)
		return ch, nil
	}
	if req.NoWaitChecks && s.rt.serving() {
		owned := release
		release = func() {}
		go func() {
			defer done()
			defer owned()
			s.afterWindow(wctx, ac, h, res.Entry, req.With)
		}()
		return ch, nil
	}
	defer done()
	out := s.afterWindow(wctx, ac, h, res.Entry, req.With)
	ch.AfterChecks, ch.RolledBack, ch.Superseded = out.results, apiEntryPtr(out.rolledBack), apiEntryPtr(out.superseded)
	return ch, nil
}

func (s *service) set(ctx context.Context, name, slot string, req api.SetRequest) (api.Change, error) {
	if _, err := s.request(name, req.Actor, req.Reason); err != nil {
		return api.Change{}, err
	}
	if ch, ok, err := s.replay(ctx, name); ok || err != nil {
		return ch, err
	}
	to, err := canonicalTarget("target", req.Target)
	if err != nil {
		return api.Change{}, fmt.Errorf("set %q slot %q: %w", name, slot, err)
	}
	if to == "" {
		return api.Change{}, invalidf("set %q slot %q: no target; give a hostname or IP addresses", name, slot)
	}
	expect, err := canonicalTarget("expect", req.Expect)
	if err != nil {
		return api.Change{}, err
	}
	res, err := s.commit(ctx, func(alias *store.AliasRecord) (pipeline.Result, error) {
		return s.p.Set(name, slot, to, expect, withAlias(ctx, pipelineMeta(req.Actor, req.Reason, nil, false), alias))
	})
	if err != nil {
		return api.Change{}, err
	}
	return s.change(name, res), nil
}

func (s *service) rollback(ctx context.Context, name string, req api.RollbackRequest) (api.Change, error) {
	ac, err := s.request(name, req.Actor, req.Reason)
	if err != nil {
		return api.Change{}, err
	}
	if ch, ok, err := s.replay(ctx, name); ok || err != nil {
		return ch, err
	}
	if req.To == 0 {
		if req.Force {
			return api.Change{}, invalidf("rollback %q: force goes with to; a plain rollback runs no checks", name)
		}
		res, err := s.commit(ctx, func(alias *store.AliasRecord) (pipeline.Result, error) {
			return s.p.Rollback(name, 0, withAlias(ctx, pipelineMeta(req.Actor, req.Reason, nil, false), alias))
		})
		if err != nil {
			return api.Change{}, err
		}
		return s.change(name, res), nil
	}
	return s.rollbackTo(ctx, ac, req)
}

// rollbackTo restores the slots of history entry req.To. When that moves
// another target into production it passes the same "before" checks as a
// swap, against that target; Force passes a failure and the entry records
// it. It commits only if the slots are still those its checks started
// from.
func (s *service) rollbackTo(ctx context.Context, ac *config.App, req api.RollbackRequest) (api.Change, error) {
	var entry store.Entry
	if err := s.db.Read(func(v store.View) error {
		var err error
		entry, err = v.Entry(ac.Name, req.To)
		return err
	}); err != nil {
		return api.Change{}, fmt.Errorf("rollback %q --to %d: %w", ac.Name, req.To, err)
	}
	app, _ := s.p.App(ac.Name)
	var results []store.CheckResult
	production := api.DefaultSwapWith
	if to, from := entry.After[production], app.Slots[production]; len(ac.ChecksAt("before")) > 0 && to != "" && to != from {
		_, release, err := s.gates.enter(ac.Name, "rollback", req.Actor, req.Reason, s.clock.Now())
		if err != nil {
			return api.Change{}, err
		}
		defer release()
		run, err := s.checkTarget(ac, production, production, from, to)
		if err != nil {
			return api.Change{}, err
		}
		if results, err = s.runBefore(ctx, ac, "rollback", run, req.Force, req.Actor); err != nil {
			return api.Change{}, err
		}
	}
	reason := fmt.Sprintf("back to #%d", req.To)
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	res, err := s.commit(ctx, func(alias *store.AliasRecord) (pipeline.Result, error) {
		return s.p.RollbackTo(ac.Name, req.To, app.Slots, withAlias(ctx, pipelineMeta(req.Actor, reason, results, failed(results)), alias))
	})
	if err != nil {
		return api.Change{}, err
	}
	return s.change(ac.Name, res), nil
}

// commit runs a change; when it would put at a zone apex a hostname
// outside our zones whose addresses are not known, it resolves them
// first (outside the write lock, within 5 seconds) and runs the change
// again with them, so that the apex never answers SERVFAIL for want of a
// background refresh.
func (s *service) commit(ctx context.Context, run func(*store.AliasRecord) (pipeline.Result, error)) (pipeline.Result, error) {
	res, err := run(nil)
	unknown, ok := errors.AsType[*pipeline.UnknownAliasError](err)
	if !ok {
		return res, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rec, rerr := resolveAlias(ctx, s.cfg.Resolver, unknown.Target, s.clock.Now())
	if rerr != nil {
		return res, invalidf("the zone apex %s would serve %s, whose addresses are unknown: %v; check the name and the resolver", unknown.Zone, unknown.Target, rerr)
	}
	s.log.Info("Apex alias resolved before serving it", "target", rec.Target, "addrs", rec.Addrs, "ttl", rec.TTL)
	return run(&rec)
}

// request checks what every change request carries: a configured app, and
// an actor and a reason that are plain text.
func (s *service) request(name, actor, reason string) (*config.App, error) {
	ac, ok := s.cfg.App(name)
	if !ok {
		return nil, fmt.Errorf("app %q %w; the config declares %s", name, store.ErrNotFound, appNames(s.cfg))
	}
	for _, f := range []struct{ field, text string }{{"actor", actor}, {"reason", reason}} {
		if err := api.CheckText(f.field, f.text); err != nil {
			return nil, err
		}
	}
	return ac, nil
}

// canonicalTarget gives a target as the store keeps it, "" for none.
func canonicalTarget(field, text string) (string, error) {
	if text == "" {
		return "", nil
	}
	t, err := zones.ParseTarget(text)
	if err != nil {
		return "", invalidf("%s: %v", field, err)
	}
	return t.String(), nil
}

// change is the reply to a committed change, which it also announces to
// the event streams.
func (s *service) change(app string, res pipeline.Result) api.Change {
	s.events.publish(changeEvent(app, res.Entry))
	return s.changeReply(app, res.Entry, res.TTL)
}

func changeEvent(app string, e store.Entry) api.Event {
	entry := e.Entry
	return api.Event{Type: api.EventChange, App: app, Zone: e.Zone, Serial: e.Serial, Entry: &entry}
}

// changeReply is the reply to a change that made entry. It names the
// secondaries of the zone, for the caller to ask whether they serve the
// new serial: the CLI then needs no more of the config than where the
// server is.
func (s *service) changeReply(app string, e store.Entry, ttl uint32) api.Change {
	ch := api.Change{App: app, Entry: e.Entry, TTL: ttl, DrainedAt: e.DrainedAt, Secondaries: []api.SecondaryResult{}}
	if zc, ok := s.cfg.Zone(e.Zone); ok {
		for _, sec := range zc.Secondaries {
			ch.Secondaries = append(ch.Secondaries, api.SecondaryResult{Address: sec.Address})
		}
	}
	return ch
}

func pipelineMeta(actor, reason string, results []store.CheckResult, forced bool) pipeline.Meta {
	return pipeline.Meta{Actor: actor, Reason: reason, Checks: results, Forced: forced}
}

// withAlias completes the meta of a change requested in ctx: the apex
// alias resolved for it, and the request's idempotency id.
func withAlias(ctx context.Context, m pipeline.Meta, alias *store.AliasRecord) pipeline.Meta {
	m.Alias = alias
	m.RequestID = requestIDOf(ctx)
	return m
}

// failed reports whether a check of results failed: a change made anyway
// was forced.
func failed(results []store.CheckResult) bool {
	return slices.ContainsFunc(results, func(r store.CheckResult) bool { return !r.Pass })
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
