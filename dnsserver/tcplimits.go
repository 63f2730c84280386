package dnsserver

import (
	"net/netip"
	"sync"
	"time"
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

// tcpGate counts the open connections, in all and per source.
type tcpGate struct {
	limits TCPLimits

	mu       sync.Mutex
	open     int
	bySource map[netip.Prefix]int
}

func newTCPGate(l TCPLimits) *tcpGate {
	return &tcpGate{limits: l, bySource: map[netip.Prefix]int{}}
}

// sourceOf groups an IPv6 client by its /64, which one host usually owns
// whole; an IPv4 client is itself.
func sourceOf(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}

// enter admits a connection from addr, or refuses it when the server or
// the source is at its limit.
func (g *tcpGate) enter(addr netip.Addr) bool {
	src := sourceOf(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open >= g.limits.MaxConns || g.bySource[src] >= g.limits.MaxPerSource {
		return false
	}
	g.open++
	g.bySource[src]++
	return true
}

func (g *tcpGate) leave(addr netip.Addr) {
	src := sourceOf(addr)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open--
	if g.bySource[src]--; g.bySource[src] <= 0 {
		delete(g.bySource, src)
	}
}

// idleTimeout is how long a connection may wait for its next query:
// shorter while the server is busy, so that idle connections make room.
func (g *tcpGate) idleTimeout(normal time.Duration) time.Duration {
	g.mu.Lock()
	busy := g.open > g.limits.MaxConns/2
	g.mu.Unlock()
	if busy {
		return min(normal, g.limits.BusyIdleTimeout)
	}
	return normal
}
