package auth

import (
	"net/netip"
	"sync"
	"time"

	"github.com/slotdns/slotdns/internal/source"
)

// Limiter bounds failed logins per source: a burst of failures, then one
// per interval. A source over it is refused before its token is even
// looked at, so guessing tokens costs the guesser time, not the server.
type Limiter struct {
	burst    int
	interval time.Duration
	max      int // sources tracked; past it the fullest buckets are forgotten
	now      func() time.Time

	mu      sync.Mutex
	sources map[netip.Prefix]*failures
}

type failures struct {
	tokens   float64 // failures still allowed
	at       time.Time
	loggedAt time.Time
}

// logEvery is how often one source's failures are logged.
const logEvery = time.Minute

// NewLimiter allows burst failures per source, then one per interval.
func NewLimiter(burst int, interval time.Duration, max int, now func() time.Time) *Limiter {
	return &Limiter{burst: burst, interval: interval, max: max, now: now, sources: map[netip.Prefix]*failures{}}
}

func (l *Limiter) refill(f *failures, now time.Time) {
	f.tokens += float64(now.Sub(f.at)) / float64(l.interval)
	if f.tokens > float64(l.burst) {
		f.tokens = float64(l.burst)
	}
	f.at = now
}

// Blocked reports whether addr has used up its failures, and when it may
// try again.
func (l *Limiter) Blocked(addr netip.Addr) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.sources[source.Host(addr)]
	if !ok {
		return false, 0
	}
	now := l.now()
	l.refill(f, now)
	if f.tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - f.tokens) * float64(l.interval))
}

// Fail counts a failure of addr, and reports whether to log it: at most
// once a minute per source.
func (l *Limiter) Fail(addr netip.Addr) (log bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	key := source.Host(addr)
	f, ok := l.sources[key]
	if !ok {
		if len(l.sources) >= l.max {
			l.forget(now)
		}
		f = &failures{tokens: float64(l.burst), at: now}
		l.sources[key] = f
	}
	l.refill(f, now)
	f.tokens--
	if f.tokens < 0 {
		f.tokens = 0
	}
	if now.Sub(f.loggedAt) >= logEvery {
		f.loggedAt = now
		return true
	}
	return false
}

// forget drops the sources that have all their failures back; if none
// has, the table is full of attackers and starts again.
func (l *Limiter) forget(now time.Time) {
	for k, f := range l.sources {
		l.refill(f, now)
		if f.tokens >= float64(l.burst) {
			delete(l.sources, k)
		}
	}
	if len(l.sources) >= l.max {
		clear(l.sources)
	}
}
