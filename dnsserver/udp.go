package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"time"
)

const (
	// udpReadBuffer is the socket receive buffer asked for, so that bursts
	// wait in the kernel instead of being dropped.
	udpReadBuffer = 4 << 20
	// udpMaxQuery is the largest query read over UDP; a longer one arrives
	// cut short and fails to parse.
	udpMaxQuery = 4096
)

// udpReaders is how many readers serve each UDP listen address: one for
// each CPU the process may use (GOMAXPROCS follows the affinity mask and
// the cgroup's CPU limit).
func udpReaders() int { return runtime.GOMAXPROCS(0) }

// listenUDP opens a UDP socket on addr; with share, one that other
// sockets of this process (of its user: the kernel allows no other) can
// bind beside it, each getting its share of the clients.
func listenUDP(network, addr string, share bool) (net.PacketConn, error) {
	lc := net.ListenConfig{}
	if share && reusePort != nil {
		lc.Control = reusePort
	}
	return lc.ListenPacket(context.Background(), network, addr)
}

// serveUDP starts readers readers for pc, which listenPair opened on
// network. Each reader has a socket of its own bound to pc's address
// (SO_REUSEPORT: the kernel spreads the clients over them by their
// address and port, and no reader waits for another's batch), the first
// being pc; where another socket cannot be had, the readers left share pc.
// Each reader owns its buffers and answers the packets it reads itself:
// no goroutine per packet. It runs with s.mu held.
func (s *Server) serveUDP(pc net.PacketConn, network string, readers int) {
	conns := []net.PacketConn{pc}
	for len(conns) < readers && reusePort != nil {
		c, err := listenUDP(network, pc.LocalAddr().String(), true)
		if err != nil {
			s.log.Warn("One UDP socket for several readers", "addr", pc.LocalAddr().String(), "err", err)
			break
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		if uc, ok := c.(*net.UDPConn); ok {
			uc.SetReadBuffer(udpReadBuffer)
		}
	}
	s.udpAll = append(s.udpAll, conns...)
	for i := range readers {
		c := conns[min(i, len(conns)-1)]
		counts := s.shards.newUDP()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.readUDP(c, counts)
		}()
	}
}

// readUDPSimple serves pc one packet per system call, counting in counts;
// it is the fallback where batched I/O is not available.
func (s *Server) readUDPSimple(pc net.PacketConn, counts *shard) {
	req := make([]byte, udpMaxQuery)
	out := make([]byte, 0, udpMaxQuery)
	var addr net.Addr
	cl := &client{udp: true, addr: func() netip.Addr { return addrOf(addr) }, counts: counts}
	for {
		var n int
		var err error
		n, addr, err = pc.ReadFrom(req)
		if err != nil {
			if s.shuttingDown() || isClosed(err) {
				return
			}
			time.Sleep(time.Millisecond) // an unexpected error must not spin
			continue
		}
		if resp := s.respond(s.state.Load(), req[:n], out, cl); resp != nil {
			pc.WriteTo(resp, addr)
		}
	}
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed)
}
