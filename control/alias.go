package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// aliasRefresher keeps the addresses of apex alias targets that lie
// outside our zones: it resolves each through the configured resolver in
// the background, refreshing before the TTL runs out, so that no query
// ever waits on it, and hands each result to the pipeline. When
// resolution fails it keeps serving the last good addresses until
// alias_max_stale has passed since they were last confirmed; then the
// pipeline stops serving them.
type aliasRefresher struct {
	p     *pipeline.Pipeline
	cfg   *config.Config
	log   *slog.Logger
	clock clock.Clock

	ctx context.Context // ends at shutdown
	wg  sync.WaitGroup

	mu       sync.Mutex
	watchers map[string]context.CancelFunc
}

func newAliasRefresher(ctx context.Context, p *pipeline.Pipeline, cfg *config.Config, logger *slog.Logger, clk clock.Clock) *aliasRefresher {
	return &aliasRefresher{p: p, cfg: cfg, log: logger, clock: clk, ctx: ctx, watchers: map[string]context.CancelFunc{}}
}

// aliasTargets lists the hostnames outside our zones that an apex may
// serve in snap: every hostname target of an app with an apex slot, since
// a swap can move any of them to the apex. It reads the snapshot alone,
// so that the pipeline's sink may call it.
func aliasTargets(cfg *config.Config, snap *zones.Snapshot) []string {
	var out []string
	for i := range cfg.Apps {
		ac := &cfg.Apps[i]
		if _, ok := ac.ApexSlot(); !ok {
			continue
		}
		in, _ := snap.ZoneInput(ac.Zone)
		for _, slot := range in.Slots {
			if t := slot.Target; slot.App == ac.Name && t.IsHost() && !cfg.InOurZones(t.Host) && !slices.Contains(out, t.Host) {
				out = append(out, t.Host)
			}
		}
	}
	slices.Sort(out)
	return out
}

// watch resolves exactly targets from now on: it starts a refresh loop for
// each new one and stops those no longer listed. It never blocks on them.
func (a *aliasRefresher) watch(targets []string) {
	if a.cfg.Resolver == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx.Err() != nil {
		return
	}
	for target, cancel := range a.watchers {
		if !slices.Contains(targets, target) {
			cancel()
			delete(a.watchers, target)
		}
	}
	for _, target := range targets {
		if _, ok := a.watchers[target]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(a.ctx)
		a.watchers[target] = cancel
		a.wg.Go(func() { a.refresh(ctx, target) })
	}
}

// wait waits for every refresh loop; the caller has ended a.ctx. Taking
// a.mu first lets a watch that started before a.ctx ended add its loops
// before the wait begins; a later one adds none.
func (a *aliasRefresher) wait() {
	a.mu.Lock()
	a.mu.Unlock()
	a.wg.Wait()
}

// refresh resolves target until ctx ends.
func (a *aliasRefresher) refresh(ctx context.Context, target string) {
	failures := 0
	for {
		rec, err := resolveAlias(ctx, a.cfg.Resolver, target, a.clock.Now())
		if ctx.Err() != nil {
			return
		}
		var next time.Duration
		if err == nil {
			if failures > 0 {
				a.log.Info("Apex alias resolves again", "target", target, "addrs", rec.Addrs)
			}
			failures = 0
			if zones, err := a.p.AliasResolved(rec); err != nil {
				a.log.Error("Apex alias not saved", "target", target, "err", err)
			} else if len(zones) > 0 {
				a.log.Info("Apex alias addresses changed", "target", target, "addrs", rec.Addrs, "ttl", rec.TTL, "zones", zones)
			}
			next = max(time.Second, time.Duration(rec.TTL)*time.Second*8/10)
		} else {
			failures++
			next = a.failed(target, err, failures)
		}
		if !clock.Sleep(a.clock, next, ctx.Done()) {
			return
		}
	}
}

// failed logs a failed resolution, stops serving addresses older than
// alias_max_stale, and says when to try again.
func (a *aliasRefresher) failed(target string, err error, failures int) time.Duration {
	now := a.clock.Now()
	rec, ok := a.p.Alias(target)
	expiry := rec.Resolved.Add(a.cfg.AliasMaxStale)
	apexZones := a.p.Snapshot().AliasUsers(target)
	switch {
	case ok && !now.Before(expiry):
		if zones, rerr := a.p.RefreshAliases(); rerr != nil {
			a.log.Error("Apex alias not expired", "target", target, "err", rerr)
		} else if len(zones) > 0 {
			a.log.Error("Apex alias has no good addresses for longer than alias_max_stale; its apex answers SERVFAIL for A and AAAA until it resolves",
				"target", target, "zones", zones, "resolved", rec.Resolved, "alias_max_stale", a.cfg.AliasMaxStale, "err", err)
		}
	case failures > 1:
	case len(apexZones) > 0 && ok:
		a.log.Warn("Apex alias resolution failed; serving the last good addresses", "target", target, "zones", apexZones, "addrs", rec.Addrs, "until", expiry, "err", err)
	case len(apexZones) > 0:
		a.log.Error("Apex alias resolution failed and no addresses are known; its apex answers SERVFAIL for A and AAAA", "target", target, "zones", apexZones, "err", err)
	default:
		a.log.Warn("Resolving a target that a swap may move to the zone apex failed; retrying", "target", target, "err", err)
	}
	next := min(time.Second<<min(failures-1, 5), 30*time.Second)
	if ok && now.Before(expiry) {
		next = min(next, expiry.Sub(now)+time.Millisecond)
	}
	return next
}

// resolveAlias asks resolver for target's A and AAAA records.
func resolveAlias(ctx context.Context, resolver, target string, now time.Time) (store.AliasRecord, error) {
	rec := store.AliasRecord{Target: target, Resolved: now.UTC().Round(0)}
	if resolver == "" {
		return rec, fmt.Errorf("resolve %s: no resolver is configured", target)
	}
	udp := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	tcp := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	seen := map[netip.Addr]bool{}
	var addrs []netip.Addr
	first := true
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(target, qtype)
		m.SetEdns0(1232, false)
		r, _, err := udp.ExchangeContext(ctx, m, resolver)
		if err == nil && r.Truncated {
			r, _, err = tcp.ExchangeContext(ctx, m, resolver)
		}
		if err != nil {
			return rec, fmt.Errorf("resolve %s %s at %s: %w", target, dns.TypeToString[qtype], resolver, err)
		}
		if r.Rcode != dns.RcodeSuccess {
			return rec, fmt.Errorf("resolve %s %s at %s: %s", target, dns.TypeToString[qtype], resolver, dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			var addr netip.Addr
			switch rr := rr.(type) {
			case *dns.A:
				addr, _ = netip.AddrFromSlice(rr.A.To4())
			case *dns.AAAA:
				addr, _ = netip.AddrFromSlice(rr.AAAA.To16())
			case *dns.CNAME:
			default:
				continue
			}
			if first || rr.Header().Ttl < rec.TTL {
				rec.TTL, first = rr.Header().Ttl, false
			}
			if addr.IsValid() && !seen[addr] {
				seen[addr] = true
				addrs = append(addrs, addr)
			}
		}
	}
	if len(addrs) == 0 {
		return rec, fmt.Errorf("resolve %s at %s: %w", target, resolver, errNoAddrs)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for _, addr := range addrs {
		rec.Addrs = append(rec.Addrs, addr.String())
	}
	return rec, nil
}

var errNoAddrs = errors.New("no A or AAAA records")

// snapshotAddrs gives the addresses snap serves for host.
func snapshotAddrs(snap *zones.Snapshot, host string) []netip.Addr {
	var addrs []netip.Addr
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range snap.Lookup(host, qtype).Answer {
			switch rr := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
					addrs = append(addrs, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA); ok {
					addrs = append(addrs, a)
				}
			}
		}
	}
	return addrs
}

// lookupAddrs resolves host through resolver ("" for the system's).
func lookupAddrs(ctx context.Context, resolver, host string) ([]netip.Addr, error) {
	r := net.DefaultResolver
	if resolver != "" {
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, resolver)
		}}
	}
	return r.LookupNetIP(ctx, "ip", strings.TrimSuffix(host, "."))
}
