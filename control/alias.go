package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// aliasResolver keeps the addresses of apex alias targets that lie outside
// our zones: it resolves each through the configured resolver in the
// background, refreshing before the TTL runs out, so that no query ever
// waits on it. When resolution fails it keeps the last good addresses until
// maxStale has passed since they were last confirmed.
type aliasResolver struct {
	svc      *service
	resolver string
	maxStale time.Duration
	log      *slog.Logger
	udp, tcp *dns.Client

	ctx context.Context // ends at shutdown
	wg  sync.WaitGroup

	mu       sync.Mutex
	records  map[string]store.AliasRecord // last good resolution by target
	expired  map[string]bool              // past maxStale, no longer served
	watchers map[string]context.CancelFunc
}

func newAliasResolver(ctx context.Context, svc *service, recs map[string]store.AliasRecord) *aliasResolver {
	if recs == nil {
		recs = map[string]store.AliasRecord{}
	}
	return &aliasResolver{
		svc:      svc,
		resolver: svc.cfg.Resolver,
		maxStale: svc.cfg.AliasMaxStale,
		log:      svc.log,
		udp:      &dns.Client{Net: "udp", Timeout: 2 * time.Second},
		tcp:      &dns.Client{Net: "tcp", Timeout: 2 * time.Second},
		ctx:      ctx,
		records:  recs,
		expired:  map[string]bool{},
		watchers: map[string]context.CancelFunc{},
	}
}

// served returns the addresses to serve, leaving out those past maxStale.
func (a *aliasResolver) served(now time.Time) map[string]zones.Alias {
	a.mu.Lock()
	defer a.mu.Unlock()
	return servedAliases(a.records, now, a.maxStale)
}

func (a *aliasResolver) record(target string) (store.AliasRecord, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, ok := a.records[target]
	return rec, ok
}

// watch resolves exactly targets from now on: it starts a refresh loop for
// each new one and stops those no longer listed. It never blocks on them.
func (a *aliasResolver) watch(targets []string) {
	if a.resolver == "" {
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
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.refresh(ctx, target)
		}()
	}
}

// wait stops every refresh loop; the caller has ended a.ctx.
func (a *aliasResolver) wait() { a.wg.Wait() }

// refresh resolves target until ctx ends.
func (a *aliasResolver) refresh(ctx context.Context, target string) {
	failures := 0
	for {
		rec, err := a.resolve(ctx, target)
		if ctx.Err() != nil {
			return
		}
		var next time.Duration
		if err == nil {
			if failures > 0 {
				a.log.Info("Apex alias resolves again", "target", target, "addrs", rec.Addrs)
			}
			failures = 0
			a.resolved(rec)
			next = max(time.Second, time.Duration(rec.TTL)*time.Second*8/10)
		} else {
			failures++
			next = a.failed(target, err, failures)
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// resolved records a good resolution; when the served addresses change it
// saves them (bumping the serial of every zone whose apex serves target)
// and publishes a new snapshot.
func (a *aliasResolver) resolved(rec store.AliasRecord) {
	s := a.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	apexZones, err := s.apexZones(rec.Target)
	if err != nil {
		a.log.Error("Apex alias not saved", "target", rec.Target, "err", err)
		return
	}
	changed, serials, err := s.db.SaveAlias(rec, apexZones)
	if err != nil {
		a.log.Error("Apex alias not saved", "target", rec.Target, "err", err)
		return
	}
	a.mu.Lock()
	prev, had := a.records[rec.Target]
	wasExpired := a.expired[rec.Target]
	a.records[rec.Target] = rec
	delete(a.expired, rec.Target)
	a.mu.Unlock()
	if !changed && had && !wasExpired && slices.Equal(prev.Addrs, rec.Addrs) {
		return
	}
	if !changed && wasExpired {
		// The stored addresses are served again after they had expired:
		// a change of the zones' content, so their serials go up.
		for _, zone := range apexZones {
			if _, err := s.db.BumpSerial(zone); err != nil {
				a.log.Error("Serial not bumped for an apex alias resolved again", "zone", zone, "target", rec.Target, "err", err)
			}
		}
	}
	a.log.Info("Apex alias addresses changed", "target", rec.Target, "addrs", rec.Addrs, "ttl", rec.TTL, "zones", apexZones, "serials", serials)
	if err := s.rebuild(); err != nil {
		a.log.Error("Apex alias not published", "target", rec.Target, "err", err)
	}
}

// failed logs a failed resolution and says when to try again. Once the last
// good addresses are older than maxStale they are no longer served.
func (a *aliasResolver) failed(target string, err error, failures int) time.Duration {
	now := time.Now()
	a.mu.Lock()
	rec, ok := a.records[target]
	expiry := rec.Resolved.Add(a.maxStale)
	expireNow := ok && !a.expired[target] && !now.Before(expiry)
	if expireNow {
		a.expired[target] = true
	}
	a.mu.Unlock()

	// Only a target the apex serves right now affects answers; the others
	// are watched because a swap may move them there.
	apexZones, _ := a.svc.apexZones(target)
	atApex := len(apexZones) > 0
	switch {
	case expireNow && atApex:
		a.log.Error("Apex alias has no good addresses for longer than alias_max_stale; its apex answers SERVFAIL for A and AAAA until it resolves",
			"target", target, "zones", apexZones, "resolved", rec.Resolved, "alias_max_stale", a.maxStale, "err", err)
	case expireNow:
		a.log.Warn("Addresses of a possible apex alias target are older than alias_max_stale; dropped until it resolves",
			"target", target, "resolved", rec.Resolved, "alias_max_stale", a.maxStale, "err", err)
	case failures > 1:
	case atApex && ok && now.Before(expiry):
		a.log.Warn("Apex alias resolution failed; serving the last good addresses", "target", target, "zones", apexZones, "addrs", rec.Addrs, "until", expiry, "err", err)
	case atApex:
		a.log.Error("Apex alias resolution failed and no addresses are known; its apex answers SERVFAIL for A and AAAA", "target", target, "zones", apexZones, "err", err)
	default:
		a.log.Warn("Resolving a target that a swap may move to the zone apex failed; retrying", "target", target, "err", err)
	}
	if expireNow {
		a.svc.mu.Lock()
		// The apex loses its addresses: a change of the zone's content,
		// so its serial goes up and secondaries follow.
		for _, zone := range apexZones {
			if _, err := a.svc.db.BumpSerial(zone); err != nil {
				a.log.Error("Serial not bumped for an expired apex alias", "zone", zone, "target", target, "err", err)
			}
		}
		if err := a.svc.rebuild(); err != nil {
			a.log.Error("Apex alias not published", "target", target, "err", err)
		}
		a.svc.mu.Unlock()
	}

	next := min(time.Second<<min(failures-1, 5), 30*time.Second)
	if ok && now.Before(expiry) {
		next = min(next, expiry.Sub(now)+time.Millisecond)
	}
	return next
}

// remember records a resolution made elsewhere (ensureAlias) as the last
// good one.
func (a *aliasResolver) remember(rec store.AliasRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records[rec.Target] = rec
	delete(a.expired, rec.Target)
}

func (a *aliasResolver) resolve(ctx context.Context, target string) (store.AliasRecord, error) {
	return resolveAlias(ctx, a.udp, a.tcp, a.resolver, target)
}

// resolveAlias asks resolver for target's A and AAAA records.
func resolveAlias(ctx context.Context, udp, tcp *dns.Client, resolver, target string) (store.AliasRecord, error) {
	rec := store.AliasRecord{Target: target, Resolved: time.Now()}
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
				rec.TTL = rr.Header().Ttl
				first = false
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
