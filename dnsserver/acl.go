package dnsserver

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// TSIGKey is one shared secret, as `tsig-keygen` writes it.
type TSIGKey struct {
	Name      string // FQDN, lowercase, e.g. "xfr-key."
	Algorithm string // miekg/dns name, e.g. dns.HmacSHA256
	Secret    string // base64
}

// Peer is a secondary allowed to transfer a zone: queries from Addr (the
// address of the secondary; any port) may AXFR/IXFR, signed with Key when
// Key is not "".
type Peer struct {
	Addr netip.Addr
	Key  string // a TSIGKey.Name, or ""
}

// Delta is one IXFR step: Removed starts with the old SOA, Added with the
// new SOA (RFC 1995).
type Delta struct {
	Removed []dns.RR
	Added   []dns.RR
}

// Transfer configures AXFR/IXFR. With a nil Transfer every transfer is
// REFUSED.
type Transfer struct {
	Peers map[string][]Peer  // zone origin -> who may transfer it
	Keys  map[string]TSIGKey // by Name
	// Journal returns the deltas from serial from to the zone's current
	// serial; ok false makes the server answer IXFR with a full AXFR.
	Journal func(zone string, from uint32) (deltas []Delta, ok bool)
}

// transferPolicy is a Transfer prepared for queries: names canonical,
// addresses unmapped, secrets decoded.
type transferPolicy struct {
	peers   map[string][]Peer // zone -> peers, Addr unmapped, Key canonical
	keys    keyring
	journal func(zone string, from uint32) ([]Delta, bool)
}

// newTransferPolicy prepares t; bad keys are left out and returned by
// name, so that the caller can say which.
func newTransferPolicy(t *Transfer) (p *transferPolicy, badKeys []string) {
	p = &transferPolicy{peers: map[string][]Peer{}, keys: keyring{}}
	if t == nil {
		return p, nil
	}
	for zone, peers := range t.Peers {
		zone = dns.CanonicalName(zone)
		for _, peer := range peers {
			peer.Addr = peer.Addr.Unmap()
			if peer.Key != "" {
				peer.Key = dns.CanonicalName(peer.Key)
			}
			p.peers[zone] = append(p.peers[zone], peer)
		}
	}
	p.keys, badKeys = newKeyring(t.Keys)
	p.journal = t.Journal
	return p, badKeys
}

// Why a transfer was refused, for the log.
const (
	refusedNotPeer   = "not a secondary of the zone"
	refusedUnsigned  = "the secondary's key is required"
	refusedWrongKey  = "signed with another key than the secondary's"
	refusedNotServed = "not a zone served here"
)

// allow reports whether addr may transfer zone with a request signed by
// key ("" when unsigned), and if not, why.
func (p *transferPolicy) allow(zone string, addr netip.Addr, key string) (ok bool, why string) {
	why = refusedNotPeer
	for _, peer := range p.peers[zone] {
		if peer.Addr != addr {
			continue
		}
		switch {
		case peer.Key == "" || peer.Key == key:
			return true, ""
		case key == "":
			why = refusedUnsigned
		default:
			why = refusedWrongKey
		}
	}
	return false, why
}

// refusalLimiter lets a refusal be logged once per source address per
// interval. It tracks at most max sources; past that, refusals from new
// sources go unlogged until old entries expire, so a flood from many
// addresses can neither grow the map nor the log without bound.
type refusalLimiter struct {
	mu       sync.Mutex
	last     map[netip.Addr]time.Time
	interval time.Duration
	max      int
	now      func() time.Time
}

const (
	refusalLogInterval = time.Minute
	refusalLogSources  = 4096
)

func newRefusalLimiter(interval time.Duration, max int) *refusalLimiter {
	return &refusalLimiter{last: map[netip.Addr]time.Time{}, interval: interval, max: max, now: time.Now}
}

// allow reports whether a refusal from addr is to be logged now.
func (l *refusalLimiter) allow(addr netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if t, ok := l.last[addr]; ok && now.Sub(t) < l.interval {
		return false
	}
	if len(l.last) >= l.max {
		for a, t := range l.last {
			if now.Sub(t) >= l.interval {
				delete(l.last, a)
			}
		}
		if len(l.last) >= l.max {
			return false
		}
	}
	l.last[addr] = now
	return true
}

// logRefusal logs a refused transfer or a failed TSIG check, at most once
// per source address per minute.
func (s *Server) logRefusal(addr netip.Addr, name string, qtype uint16, why string) {
	if !s.refusals.allow(addr) {
		return
	}
	msg := "Refused a signed query"
	if qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		msg = "Refused a zone transfer"
	}
	s.log.Warn(msg, "zone", strings.ToLower(name), "type", dns.TypeToString[qtype], "from", addr.String(), "reason", why)
}
