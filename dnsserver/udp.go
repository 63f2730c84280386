package dnsserver

import (
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

// serveUDP starts the readers of pc. Each reader owns its buffers and
// answers the packets it reads itself: no goroutine per packet.
func (s *Server) serveUDP(pc net.PacketConn) {
	if uc, ok := pc.(*net.UDPConn); ok {
		uc.SetReadBuffer(udpReadBuffer)
	}
	for range runtime.GOMAXPROCS(0) {
		counts := s.shards.newUDP()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.readUDP(pc, counts)
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
