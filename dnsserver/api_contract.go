package dnsserver

// This file fixes the API other packages build against. The dnsserver owner
// replaces the stub bodies (and moves the declarations into server.go,
// listen.go, handler.go ...) but keeps the exported names and signatures.

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/slotdns/slotdns/zones"
)

// Config is what a Server needs, as plain values.
type Config struct {
	Listen         []string      // host:port; UDP and TCP on each ("[::1]:53" for IPv6)
	Logger         *slog.Logger  // nil: discard
	TCPIdleTimeout time.Duration // 0: a default (10s)
}

// Server answers DNS queries from the snapshot last published.
type Server struct{}

// New returns a server that answers REFUSED for everything until the first
// Publish.
func New(cfg Config) *Server { panic("unimplemented") }

// Publish makes snap the snapshot every following query reads.
func (s *Server) Publish(snap *zones.Snapshot) { panic("unimplemented") }

// Snapshot returns the snapshot being served (nil before Publish).
func (s *Server) Snapshot() *zones.Snapshot { panic("unimplemented") }

// Start opens every listener (an error names the address that failed, and
// nothing stays open) and serves in the background.
func (s *Server) Start() error { panic("unimplemented") }

// UDPAddrs and TCPAddrs report the bound addresses (real ports when ":0"
// was asked).
func (s *Server) UDPAddrs() []net.Addr { panic("unimplemented") }
func (s *Server) TCPAddrs() []net.Addr { panic("unimplemented") }

// Shutdown stops accepting, lets queries in flight finish until ctx ends,
// then closes everything. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error { panic("unimplemented") }
