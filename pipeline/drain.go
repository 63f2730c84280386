package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// The drain clock: per app, when the last copy of an answer slotdns no
// longer serves for the app's names has expired from every cache that
// honours TTLs. Every change computes it from the snapshots before and
// after it: when the answers for an app's names change, the previous ones
// are retired at that instant and live until the instant plus the longest
// TTL they were served with. The state is kept in the store with the
// change, so a restart that serves different answers (a new TTL in the
// config, a change made while it was down) retires the previous process's
// answers at start, as if they had been served until then.

// cacheSecond is added to every expiry: caches count time in whole
// seconds and keep an answer through the second in which its TTL ends
// (Unbound answers from cache 2s after caching a TTL 2 answer).
const cacheSecond = time.Second

// Retire returns the drain state after answers identified by digest, with
// ttl as their longest TTL, replace those of was at the instant at.
func Retire(was store.DrainState, digest string, ttl uint32, at time.Time) store.DrainState {
	next := was
	next.Digest, next.TTL = digest, ttl
	switch {
	case was.Digest == "":
		// Nothing served before, as far as we know.
	case was.Digest != digest:
		// Other answers: every version of the old ones is retired now.
		next.DrainedAt = latest(was.DrainedAt, was.HeldUntil, expiry(at, was.TTL))
		next.HeldUntil = time.Time{}
	case was.TTL != ttl:
		// The same answers with another TTL (a config change): copies
		// with the old TTL may outlive the new one.
		next.HeldUntil = latest(was.HeldUntil, expiry(at, was.TTL))
	}
	return next
}

// drainSame reports whether two drain states say the same; revisions
// aside.
func drainSame(a, b store.DrainState) bool {
	return a.Digest == b.Digest && a.TTL == b.TTL && a.HeldUntil.Equal(b.HeldUntil) && a.DrainedAt.Equal(b.DrainedAt)
}

// expiry is when an answer served until at with ttl has left every cache.
func expiry(at time.Time, ttl uint32) time.Time {
	return at.Add(time.Duration(ttl)*time.Second + cacheSecond)
}

// CacheExpiry is the drain clock's expiry for other records than slot
// answers (a DNSKEY RRset, signatures): when a record served until at
// with ttl has left every cache that honours TTLs.
func CacheExpiry(at time.Time, ttl uint32) time.Time { return expiry(at, ttl) }

func latest(times ...time.Time) time.Time {
	var out time.Time
	for _, t := range times {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// ServedAt looks up every one of names in snap as a resolver would (A and
// AAAA) and returns a digest of what those names own in the answers,
// without TTLs, and the longest TTL a cache may keep any of it for: the
// TTL of each record owned by the name (slot CNAMEs and addresses, the
// apex alias's addresses), and for a negative answer at the name min(SOA
// TTL, SOA MINIMUM) (RFC 2308). Records a CNAME leads to belong to the
// target's name: a cache keeps them on their own, and they stay true of
// the old deployment, so they are not part of the slot's old answer; once
// the CNAME expires, a resolver asks again and follows the new one. The
// SOA's serial is left out of the digest: it changes with every change of
// the zone, while a cached negative answer means the same whatever serial
// it carries.
func ServedAt(snap *zones.Snapshot, names []string) (digest string, ttl uint32) {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	h := sha256.New()
	var b strings.Builder
	for _, name := range names {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			ans := snap.Lookup(name, qtype)
			b.Reset()
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
