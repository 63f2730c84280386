package dnsserver

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/slotdns/slotdns/internal/source"
)

// TCPLimits bound what TCP clients may hold (RFC 7766 section 6.2): a
// host that opens connections and keeps them open must not take TCP away
// from everyone else.
type TCPLimits struct {
	// MaxConns caps the open connections over all listeners; 0: 1000.
	MaxConns int
	// MaxPerSource caps those of one source (an IPv4 address, an IPv6
	// /64); 0: 32.
	MaxPerSource int
	// MaxQueries closes a connection after that many queries; 0: 10000.
	MaxQueries int
	// BusyIdleTimeout replaces the idle timeout while more than half of
	// MaxConns are open; 0: 2s.
	BusyIdleTimeout time.Duration
}

const (
	defaultTCPMaxConns     = 1000
	defaultTCPMaxPerSource = 32
	defaultTCPMaxQueries   = 10000
	defaultTCPBusyIdle     = 2 * time.Second
)

func (l TCPLimits) withDefaults() TCPLimits {
	if l.MaxConns <= 0 {
		l.MaxConns = defaultTCPMaxConns
	}
	if l.MaxPerSource <= 0 {
		l.MaxPerSource = defaultTCPMaxPerSource
	}
	if l.MaxQueries <= 0 {
		l.MaxQueries = defaultTCPMaxQueries
	}
	if l.BusyIdleTimeout <= 0 {
		l.BusyIdleTimeout = defaultTCPBusyIdle
	}
	return l
}

// tcpGate counts the open connections, in all and per source. When all
// are taken, a new connection takes the place of the one that has waited
// longest for its next query: connections that only sit there cannot keep
// a client that asks from being served.
type tcpGate struct {
	limits TCPLimits

	mu       sync.Mutex
	conns    map[net.Conn]*gateConn
	bySource map[netip.Prefix]int
	// accepted, refused (a source at its limit) and evicted (the idlest,
	// to make room) connections, under mu.
	accepted, refused, evicted uint64
}

type gateConn struct {
	source  netip.Prefix
	waiting bool      // between queries
	since   time.Time // when it began to wait
	evicted bool      // closed to make room: already counted out
}

func newTCPGate(l TCPLimits) *tcpGate {
	return &tcpGate{limits: l, conns: map[net.Conn]*gateConn{}, bySource: map[netip.Prefix]int{}}
}

// enter admits c from addr, making room when every connection is taken,
// or refuses it when its source has all it may have.
func (g *tcpGate) enter(c net.Conn, addr netip.Addr) bool {
	src := source.Host(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bySource[src] >= g.limits.MaxPerSource {
		g.refused++
		return false
	}
	if len(g.conns) >= g.limits.MaxConns && !g.evictIdlest() {
		g.refused++
		return false
	}
	g.accepted++
	g.conns[c] = &gateConn{source: src, waiting: true, since: time.Now()}
	g.bySource[src]++
	return true
}

// evictIdlest closes the connection that has waited longest for a query.
func (g *tcpGate) evictIdlest() bool {
	var idlest net.Conn
	var at time.Time
	for c, gc := range g.conns {
		if gc.waiting && (idlest == nil || gc.since.Before(at)) {
			idlest, at = c, gc.since
		}
	}
	if idlest == nil {
		return false // every one is busy answering
	}
	g.forget(idlest)
	g.evicted++
	idlest.Close() // its reader ends, and leave finds it gone
	return true
}

func (g *tcpGate) forget(c net.Conn) {
	gc, ok := g.conns[c]
	if !ok {
		return
	}
	delete(g.conns, c)
	if g.bySource[gc.source]--; g.bySource[gc.source] <= 0 {
		delete(g.bySource, gc.source)
	}
}

func (g *tcpGate) leave(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.forget(c)
}

// wait marks c as waiting for its next query, and returns how long it
// may: shorter while more than half the connections are open, so that
// idle ones make room.
func (g *tcpGate) wait(c net.Conn, normal time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gc, ok := g.conns[c]; ok {
		gc.waiting, gc.since = true, time.Now()
	}
	if len(g.conns) > g.limits.MaxConns/2 {
		return min(normal, g.limits.BusyIdleTimeout)
	}
	return normal
}

// busy marks c as answering a query: it is not evicted meanwhile.
func (g *tcpGate) busy(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gc, ok := g.conns[c]; ok {
		gc.waiting = false
	}
}

// counts gives the connections open now and the totals since start.
func (g *tcpGate) counts() (open int, totals map[string]uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns), map[string]uint64{"accepted": g.accepted, "refused": g.refused, "evicted": g.evicted}
}
