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
		if !s.tcpGate.enter(c, addrOf(c.RemoteAddr())) {
			c.Close() // its source has all the connections it may have
			continue
		}
		if !s.trackConn(c, true) {
			s.tcpGate.leave(c)
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
// the next. Responses are written out unless the next query is buffered
// whole, so pipelined queries share writes and a query followed by part of
// the next is answered at once. The connection closes when its next
// query has not arrived whole within the idle timeout (shorter while the
// server is busy), after MaxQueries queries, and on a frame too short to
// hold a DNS header: a client that sends nothing useful does not keep it.
func (s *Server) serveTCP(c net.Conn) {
	defer s.wg.Done()
	remote := addrOf(c.RemoteAddr())
	defer func() {
		s.trackConn(c, false)
		c.Close()
		s.tcpGate.leave(c)
	}()
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 4096)
	req := make([]byte, 512) // grown when a longer query arrives
	out := make([]byte, 0, 4096)
	var lenBuf [2]byte
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
	for queries := 0; queries < s.cfg.TCP.MaxQueries; queries++ {
		if err := c.SetReadDeadline(time.Now().Add(s.tcpGate.wait(c, s.cfg.TCPIdleTimeout))); err != nil {
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
		if n < headerLen {
			return // not a message: an empty frame would hold the connection for free
		}
		if n > len(req) {
			req = make([]byte, n)
		}
		if _, err := io.ReadFull(r, req[:n]); err != nil {
			return
		}
		s.tcpGate.busy(c) // a whole query: not to be evicted while answered
		resp := s.respond(s.state.Load(), req[:n], out, cl)
		if resp != nil {
			binary.BigEndian.PutUint16(lenBuf[:], uint16(len(resp)))
			w.Write(lenBuf[:])
			w.Write(resp)
			if cap(resp) <= 64*1024 {
				out = resp[:0] // keep a larger buffer the packer made
			}
		}
		if !nextBuffered(r) {
			c.SetWriteDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
	w.Flush()
}

// nextBuffered reports whether r holds the next query whole, so that its
// answer may share a write with this one.
func nextBuffered(r *bufio.Reader) bool {
	if r.Buffered() < 2 {
		return false
	}
	l, _ := r.Peek(2)
	return r.Buffered() >= 2+int(binary.BigEndian.Uint16(l))
}
