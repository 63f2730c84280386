package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

// acceptTCP accepts connections on ln until it is closed.
func (s *Server) acceptTCP(ln net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.shuttingDown() {
				return
			}
			// Out of file descriptors or the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("Accepting a TCP connection failed", "addr", ln.Addr().String(), "err", err)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		select {
		case s.tcpSlots <- struct{}{}:
		default:
			c.Close() // too many connections: the client may retry
			continue
		}
		if !s.trackConn(c, true) {
			<-s.tcpSlots
			c.Close()
			return
		}
		s.wg.Add(1)
		go s.serveTCP(c)
	}
}

// trackConn adds c to (or removes it from) the connections Shutdown wakes.
// It reports false when the server is shutting down.
func (s *Server) trackConn(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.tcpConns, c)
		return true
	}
	if s.closed {
		return false
	}
	s.tcpConns[c] = struct{}{}
	return true
}

// serveTCP answers the queries on one connection in order, as they arrive:
// each is read whole (2-byte length, then the message) and answered before
// the next. Responses are written out when no further query is buffered,
// so pipelined queries share writes. The connection closes after
// TCPIdleTimeout without a complete query.
func (s *Server) serveTCP(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.trackConn(c, false)
		c.Close()
		<-s.tcpSlots
	}()
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 4096)
	req := make([]byte, 512) // grown when a longer query arrives
	out := make([]byte, 0, 4096)
	var lenBuf [2]byte
	remote := addrOf(c.RemoteAddr())
	cl := &client{
		counts: s.shards.forTCP(),
		addr:   func() netip.Addr { return remote },
		send: func(msg []byte) error {
			var l [2]byte
			binary.BigEndian.PutUint16(l[:], uint16(len(msg)))
			c.SetWriteDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
			w.Write(l[:])
			w.Write(msg)
			if err := w.Flush(); err != nil {
				c.Close() // the next read ends the connection
				return err
			}
			return nil
		},
	}
	for {
		if err := c.SetReadDeadline(time.Now().Add(s.cfg.TCPIdleTimeout)); err != nil {
			return
		}
		// Checked after setting the deadline: Shutdown's own deadline, set
		// after it marks the server closed, then always wins.
		if s.shuttingDown() && r.Buffered() == 0 {
			return
		}
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n > len(req) {
			req = make([]byte, n)
		}
		if _, err := io.ReadFull(r, req[:n]); err != nil {
			return
		}
		resp := s.respond(s.state.Load(), req[:n], out, cl)
		if resp != nil {
			binary.BigEndian.PutUint16(lenBuf[:], uint16(len(resp)))
			w.Write(lenBuf[:])
			w.Write(resp)
			if cap(resp) <= 64*1024 {
				out = resp[:0] // keep a larger buffer the packer made
			}
		}
		if r.Buffered() == 0 {
			c.SetWriteDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}
