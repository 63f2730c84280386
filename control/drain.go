package control

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// drainClock knows, per app, when the last copy of an answer that slotdns
// no longer serves for the app's names has expired from every cache that
// honours TTLs. It learns it from the snapshots published: when the
// answers for an app's names change, the previous ones are retired at that
// instant and live until the instant plus the longest TTL they were served
// with. The state is kept in the store, so a restart that serves different
// answers (a new TTL in the config, a change made while it was down)
// retires the previous process's answers at start, conservatively as if
// they had been served until then.
//
// Publishes come in order under service.mu; mu guards state for status
// readers that do not hold it.
type drainClock struct {
	mu    sync.Mutex
	db    *store.DB
	log   *slog.Logger
	now   func() time.Time
	state map[string]store.DrainState // per app, loaded from the store on first use
}

func newDrainClock(db *store.DB, logger *slog.Logger, now func() time.Time) *drainClock {
	return &drainClock{db: db, log: logger, now: now, state: map[string]store.DrainState{}}
}

// load returns the app's state, reading the store the first time.
// The caller holds d.mu.
func (d *drainClock) load(app string) store.DrainState {
	if st, ok := d.state[app]; ok {
		return st
	}
	st, _, err := d.db.DrainState(app)
	if err != nil {
		d.log.Error("Drain state unreadable; the drain clock starts from what this process serves", "app", app, "err", err)
	}
	d.state[app] = st
	return st
}

// published records what snap serves for each app's names.
func (d *drainClock) published(snap *zones.Snapshot, apps []AppConfig) {
	now := d.now().UTC().Round(0)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, app := range apps {
		digest, ttl := servedAnswers(snap, &app)
		was := d.load(app.Name)
		next := retire(was, digest, ttl, now)
		if next == was {
			continue
		}
		d.state[app.Name] = next
		if err := d.db.SaveDrainState(app.Name, next); err != nil {
			d.log.Error("Drain state not saved; after a restart the drain clock may end early", "app", app.Name, "err", err)
		}
	}
}

// retire returns the drain state after answers identified by digest, with
// ttl as their longest TTL, replace those of was at now.
func retire(was store.DrainState, digest string, ttl uint32, now time.Time) store.DrainState {
	next := was
	next.Digest, next.TTL = digest, ttl
	switch {
	case was.Digest == "":
		// Nothing served before, as far as we know.
	case was.Digest != digest:
		// Other answers: every version of the old ones is retired now.
		next.DrainedAt = latest(was.DrainedAt, was.HeldUntil, expiry(now, was.TTL))
		next.HeldUntil = time.Time{}
	case was.TTL != ttl:
		// The same answers with another TTL (a config change): copies
		// with the old TTL may outlive the new one.
		next.HeldUntil = latest(was.HeldUntil, expiry(now, was.TTL))
	}
	return next
}

// drainedAt is when every answer retired so far for app has expired; it is
// never before since (the change's own time) so that an app without
// anything to drain reads as drained from its change on.
func (d *drainClock) drainedAt(app string, since time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return latest(since, d.load(app).DrainedAt)
}

// cacheSecond is added to every expiry: caches count time in whole
// seconds and keep an answer through the second in which its TTL ends
// (Unbound answers from cache 2s after caching a TTL 2 answer).
const cacheSecond = time.Second

// expiry is when an answer served until at with ttl has left every cache.
func expiry(at time.Time, ttl uint32) time.Time {
	return at.Add(time.Duration(ttl)*time.Second + cacheSecond)
}

func latest(times ...time.Time) time.Time {
	var out time.Time
	for _, t := range times {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// servedAnswers looks up every name of app's slots in snap as a resolver
// would (A and AAAA) and returns a digest of what those names own in the
// answers, without TTLs, and the longest TTL a cache may keep any of it for:
// the TTL of each record owned by the name (slot CNAMEs and addresses, the
// apex alias's addresses), and for a negative answer at the name min(SOA
// TTL, SOA MINIMUM) (RFC 2308). Records a CNAME leads to belong to the
// target's name: a cache keeps them on their own, and they stay true of the
// old deployment, so they are not part of the slot's old answer; once the
// CNAME expires, a resolver asks again and follows the new one. The SOA's
// serial is left out of the digest: it changes with every change of the
// zone, while a cached negative answer means the same whatever serial it
// carries.
func servedAnswers(snap *zones.Snapshot, app *AppConfig) (digest string, ttl uint32) {
	var names []string
	for _, slot := range app.Slots {
		names = append(names, slot.Names...)
	}
	return servedAt(snap, names)
}

// servedAt is servedAnswers for names.
func servedAt(snap *zones.Snapshot, names []string) (digest string, ttl uint32) {
	names = slices.Sorted(slices.Values(names))
	names = slices.Compact(names)
	h := sha256.New()
	for _, name := range names {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			ans := snap.Lookup(name, qtype)
			var b strings.Builder
			b.WriteString(name + " " + dns.TypeToString[qtype] + " " + ans.Result.String() + "\n")
			owned := false
			for _, rr := range ans.Answer {
				if !strings.EqualFold(rr.Header().Name, name) {
					continue
				}
				owned = true
				ttl = max(ttl, rr.Header().Ttl)
				b.WriteString(withoutTTL(rr) + "\n")
			}
			for _, rr := range ans.Ns {
				soa, ok := rr.(*dns.SOA)
				if !ok || owned {
					continue // a negative answer at the end of a CNAME is the target's
				}
				ttl = max(ttl, min(soa.Hdr.Ttl, soa.Minttl))
				b.WriteString("negative " + soa.Hdr.Name + "\n")
			}
			h.Write([]byte(b.String()))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), ttl
}

// withoutTTL is rr's text with its TTL set to 0.
func withoutTTL(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Ttl = 0
	return c.String()
}
