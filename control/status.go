package control

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/probe"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

func (s *service) Apps(ctx context.Context) ([]api.AppStatus, error) {
	out := make([]api.AppStatus, 0, len(s.cfg.Apps))
	secondaries := map[string][]api.SecondaryStatus{} // asked once per zone
	signing := map[string]*api.DNSSECStatus{}
	for i := range s.cfg.Apps {
		st, err := s.appStatus(&s.cfg.Apps[i])
		if err != nil {
			return nil, apiError(err)
		}
		if _, ok := secondaries[st.Zone]; !ok {
			secondaries[st.Zone] = s.secondaryStatus(ctx, st.Zone, st.Serial)
			if signing[st.Zone], err = s.dnssecStatus(st.Zone); err != nil {
				return nil, apiError(err)
			}
		}
		st.Secondaries, st.DNSSEC = secondaries[st.Zone], signing[st.Zone]
		out = append(out, st)
	}
	return out, nil
}

func (s *service) App(ctx context.Context, name string) (api.AppStatus, error) {
	ac, ok := s.cfg.App(name)
	if !ok {
		return api.AppStatus{}, apiError(fmt.Errorf("app %q %w; the config declares %s", name, store.ErrNotFound, appNames(s.cfg)))
	}
	st, err := s.appStatus(ac)
	if err != nil {
		return api.AppStatus{}, apiError(err)
	}
	st.Secondaries = s.secondaryStatus(ctx, st.Zone, st.Serial)
	if st.DNSSEC, err = s.dnssecStatus(st.Zone); err != nil {
		return api.AppStatus{}, apiError(err)
	}
	return st, nil
}

// lastChanges bounds the history an app's status reads for its last
// automatic rollback.
const lastChanges = 50

// appStatus is an app as served, without asking the secondaries.
func (s *service) appStatus(ac *config.App) (api.AppStatus, error) {
	app, _ := s.p.App(ac.Name)
	var hist []store.Entry
	stored := true
	err := s.db.Read(func(v store.View) error {
		if _, err := v.App(ac.Name); err != nil {
			stored = false
		}
		var err error
		hist, err = v.History(ac.Name, lastChanges)
		return err
	})
	if err != nil {
		return api.AppStatus{}, fmt.Errorf("app %q: %w", ac.Name, err)
	}
	snap := s.p.Snapshot()
	st := api.AppStatus{Name: ac.Name, Zone: ac.Zone, Version: app.Version, TTL: ac.TTL, Updated: app.Updated, Stored: stored, Slots: []api.SlotStatus{}}
	st.Serial, _ = snap.Serial(ac.Zone)
	for _, slot := range slices.Sorted(maps.Keys(app.Slots)) {
		ss := api.SlotStatus{Slot: slot, Names: []string{}, Target: app.Slots[slot], TTL: ac.TTL}
		if sc, ok := ac.Slot(slot); ok {
			ss.Names = sc.Names
			ss.ConfigTarget = sc.Target.String()
			ss.Differs = ss.ConfigTarget != ss.Target
		}
		if t, err := zones.ParseTarget(ss.Target); err == nil && t.IsHost() && slices.Contains(ss.Names, ac.Zone) {
			ss.Alias = s.aliasStatus(snap, ac.Zone, t.Host)
		}
		st.Slots = append(st.Slots, ss)
	}
	if len(hist) > 0 {
		st.LastChange = apiEntryPtr(&hist[len(hist)-1])
	}
	st.DrainedAt = latest(st.Updated, s.p.DrainState(ac.Name).DrainedAt)
	st.Draining = st.DrainedAt.After(s.clock.Now())
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Kind == pipeline.KindRollback && hist[i].Actor == api.ActorSlotdns {
			st.LastAutoRollback = apiEntryPtr(&hist[i])
			break
		}
	}
	st.Checks = s.gates.lastResults(ac.Name)
	if st.Checks == nil && len(hist) > 0 {
		st.Checks = hist[len(hist)-1].Checks
	}
	return st, nil
}

// aliasStatus reports what snap serves at apex for target.
func (s *service) aliasStatus(snap *zones.Snapshot, apex, target string) *api.AliasStatus {
	as := &api.AliasStatus{Name: apex, Target: target, InZone: s.cfg.InOurZones(target), Addrs: []string{}}
	first := true
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range snap.Lookup(apex, qtype).Answer {
			var addr string
			switch rr := rr.(type) {
			case *dns.A:
				addr = rr.A.String()
			case *dns.AAAA:
				addr = rr.AAAA.String()
			default:
				continue
			}
			as.Addrs = append(as.Addrs, addr)
			if first || rr.Header().Ttl < as.TTL {
				as.TTL, first = rr.Header().Ttl, false
			}
		}
	}
	if as.InZone {
		return as
	}
	rec, ok := s.p.Alias(target)
	as.Stale = !ok || s.clock.Now().After(rec.Resolved.Add(time.Duration(rec.TTL)*time.Second))
	as.Resolved = rec.Resolved
	return as
}

// secondaryStatus asks each secondary of zone for its serial, all at
// once, beside the last NOTIFY sent to it.
func (s *service) secondaryStatus(ctx context.Context, zone string, ours uint32) []api.SecondaryStatus {
	zc, ok := s.cfg.Zone(zone)
	if !ok {
		return []api.SecondaryStatus{}
	}
	out := make([]api.SecondaryStatus, len(zc.Secondaries))
	var wg sync.WaitGroup
	for i, sec := range zc.Secondaries {
		out[i] = api.SecondaryStatus{Address: sec.Address, Key: strings.TrimSuffix(sec.Key, "."), LastNotify: s.rt.lastNotify(zone, sec.Address)}
		wg.Go(func() {
			serial, err := probe.Serial(ctx, sec.Address, zone, time.Second)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].Serial = serial
			out[i].Lag = int64(int32(ours - serial))
		})
	}
	wg.Wait()
	return out
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
