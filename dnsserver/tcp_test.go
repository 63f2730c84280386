package dnsserver

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// writeTCP sends each message with its 2-byte length, all in one write.
func writeTCP(t testing.TB, c net.Conn, msgs ...[]byte) {
	t.Helper()
	var buf []byte
	for _, m := range msgs {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(m)))
		buf = append(buf, m...)
	}
	if _, err := c.Write(buf); err != nil {
		t.Fatal(err)
	}
}

func readTCP(t testing.TB, c net.Conn) *dns.Msg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		t.Fatalf("read length: %v", err)
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read message: %v", err)
	}
	var m dns.Msg
	if err := m.Unpack(buf); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return &m
}

func TestTCPPipelined(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	c, err := net.Dial("tcp", s.TCPAddrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	names := []string{"www.yourwebapp.com.", "nope.yourwebapp.com.", "big.yourwebapp.com.", "yourwebapp.com.", "stage.yourwebapp.com."}
	var msgs [][]byte
	for i, name := range names {
		req := query(name, dns.TypeA)
		req.Id = uint16(100 + i)
		msgs = append(msgs, pack(t, req))
	}
	writeTCP(t, c, msgs...)
	for i, name := range names {
		got := readTCP(t, c)
		if got.Id != uint16(100+i) || got.Question[0].Name != name {
			t.Errorf("response %d: got id %d %s, want id %d %s", i, got.Id, got.Question[0].Name, 100+i, name)
		}
	}
	// The connection stays usable after the burst.
	writeTCP(t, c, msgs[0])
	if got := readTCP(t, c); got.Id != 100 {
		t.Errorf("after the burst: got id %d, want 100", got.Id)
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{TCPIdleTimeout: 100 * time.Millisecond})
	c, err := net.Dial("tcp", s.TCPAddrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	writeTCP(t, c, pack(t, query("www.yourwebapp.com.", dns.TypeA)))
	readTCP(t, c)
	// Then silence: the server must close the connection.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := c.Read(b[:]); err != io.EOF {
		t.Errorf("idle connection: got %v, want EOF from the server closing it", err)
	}
}

// TestTCPConnectionCap: with every connection taken, a new one takes the
// place of the one that has waited longest for a query.
func TestTCPConnectionCap(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{TCP: TCPLimits{MaxConns: 2}})
	addr := s.TCPAddrs()[0].String()
	req := pack(t, query("www.yourwebapp.com.", dns.TypeA))
	first := dialFrom(t, "127.0.0.1", addr)
	writeTCP(t, first, req)
	readTCP(t, first)
	time.Sleep(10 * time.Millisecond) // first has waited longest
	second := dialFrom(t, "127.0.0.1", addr)
	writeTCP(t, second, req)
	readTCP(t, second)
	third := dialFrom(t, "127.0.0.1", addr)
	writeTCP(t, third, req)
	if got := readTCP(t, third); got.Rcode != dns.RcodeSuccess {
		t.Fatalf("the third connection: rcode %d", got.Rcode)
	}
	if !closedByServer(first) {
		t.Fatal("the idlest connection was kept")
	}
	writeTCP(t, second, req)
	if got := readTCP(t, second); got.Rcode != dns.RcodeSuccess {
		t.Fatal("the second connection was closed, not the idlest")
	}
}

// dialFrom connects to addr from the loopback address from.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server closes c (EOF or reset)
// within a few seconds without answering.
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func TestTCPPerSourceCap(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{TCP: TCPLimits{MaxPerSource: 2}})
	addr := s.TCPAddrs()[0].String()
	req := pack(t, query("www.yourwebapp.com.", dns.TypeA))
	for range 2 {
		c := dialFrom(t, "127.0.0.1", addr)
		writeTCP(t, c, req)
		readTCP(t, c)
	}
	if third := dialFrom(t, "127.0.0.1", addr); !closedByServer(third) {
		t.Fatal("a third connection from one source was kept open")
	}
	// Another source is still served.
	other := dialFrom(t, "127.0.0.2", addr)
	writeTCP(t, other, req)
	if got := readTCP(t, other); got.Rcode != dns.RcodeSuccess {
		t.Fatalf("another source: rcode %d", got.Rcode)
	}
}

// TestTCPEmptyFramesDoNotHoldAConnection: a frame too short for a header
// closes the connection, rather than restart its idle timer.
func TestTCPEmptyFramesDoNotHoldAConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	c := dialFrom(t, "127.0.0.1", s.TCPAddrs()[0].String())
	c.Write([]byte{0, 0})
	if !closedByServer(c) {
		t.Fatal("a zero-length frame kept the connection open")
	}
}

// TestTCPAnswersBeforeTheNextQueryIsWhole: a query followed by the first
// bytes of the next is answered without waiting for the rest.
func TestTCPAnswersBeforeTheNextQueryIsWhole(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	c := dialFrom(t, "127.0.0.1", s.TCPAddrs()[0].String())
	first, second := pack(t, query("www.yourwebapp.com.", dns.TypeA)), pack(t, query("stage.yourwebapp.com.", dns.TypeA))
	frame := func(m []byte) []byte { return append([]byte{byte(len(m) >> 8), byte(len(m))}, m...) }
	c.Write(append(frame(first), frame(second)[:5]...))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got := readTCP(t, c); got.Question[0].Name != "www.yourwebapp.com." {
		t.Fatalf("first answer: %v", got.Question)
	}
	c.Write(frame(second)[5:])
	if got := readTCP(t, c); got.Question[0].Name != "stage.yourwebapp.com." {
		t.Fatalf("second answer: %v", got.Question)
	}
}

func TestTCPMaxQueriesPerConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{TCP: TCPLimits{MaxQueries: 3}})
	c := dialFrom(t, "127.0.0.1", s.TCPAddrs()[0].String())
	req := pack(t, query("www.yourwebapp.com.", dns.TypeA))
	for range 3 {
		writeTCP(t, c, req)
		readTCP(t, c)
	}
	if !closedByServer(c) {
		t.Fatal("the connection stayed open past its queries")
	}
}

// TestTCPKeepalive: a TCP query with edns-tcp-keepalive learns the idle
// timeout; over UDP the option is ignored.
func TestTCPKeepalive(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{TCPIdleTimeout: 7 * time.Second})
	m := query("www.yourwebapp.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})
	keepalive := func(r *dns.Msg) uint16 {
		for _, o := range r.IsEdns0().Option {
			if k, ok := o.(*dns.EDNS0_TCP_KEEPALIVE); ok {
				return k.Timeout
			}
		}
		return 0
	}
	c := dialFrom(t, "127.0.0.1", s.TCPAddrs()[0].String())
	writeTCP(t, c, pack(t, m))
	if got := keepalive(readTCP(t, c)); got != 70 {
		t.Fatalf("TCP: keepalive %d (100 ms), want 70", got)
	}
	r, err := dns.Exchange(m, s.UDPAddrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if got := keepalive(r); got != 0 {
		t.Fatalf("UDP: keepalive %d, want none", got)
	}
}

// TestNSID: a query that asks for NSID (RFC 5001) gets the configured
// identity, every time (the fast path leaves it to the slow one); one that
// does not ask, or a server without one, gets none.
func TestNSID(t *testing.T) {
	t.Parallel()
	nsidOf := func(r *dns.Msg) string {
		for _, o := range r.IsEdns0().Option {
			if n, ok := o.(*dns.EDNS0_NSID); ok {
				return n.Nsid
			}
		}
		return ""
	}
	ask := func(s *Server, withNSID bool) string {
		m := query("www.yourwebapp.com.", dns.TypeA)
		m.SetEdns0(1232, false)
		if withNSID {
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID}}
		}
		r, err := dns.Exchange(m, s.UDPAddrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		return nsidOf(r)
	}
	named := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{NSID: []byte("dns1")})
	for range 3 {
		if got := ask(named, true); got != "646e7331" {
			t.Fatalf("NSID asked: %q, want hex of dns1", got)
		}
	}
	if got := ask(named, false); got != "" {
		t.Fatalf("NSID not asked: %q, want none", got)
	}
	anonymous := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	if got := ask(anonymous, true); got != "" {
		t.Fatalf("no NSID configured: %q, want none", got)
	}
}

// FuzzTCPStream feeds a TCP connection any bytes: the server answers what
// it can, closes when it must, and never panics or hangs.
func FuzzTCPStream(f *testing.F) {
	q := pack(f, query("www.yourwebapp.com.", dns.TypeA))
	frame := append([]byte{0, byte(len(q))}, q...)
	f.Add(frame)
	f.Add(append(append([]byte{}, frame...), frame[:5]...))
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	s := New(Config{TCPIdleTimeout: time.Second})
	s.Publish(testSnapshot(f, "blue.cloudapp.test."))
	f.Fuzz(func(t *testing.T, stream []byte) {
		server, client := net.Pipe()
		if !s.tcpGate.enter(server, addrOf(server.RemoteAddr())) {
			t.Skip("gate full")
		}
		s.trackConn(server, true)
		s.wg.Add(1)
		done := make(chan struct{})
		go func() { s.serveTCP(server); close(done) }()
		go io.Copy(io.Discard, client)
		client.Write(stream)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection did not end after the client closed it")
		}
	})
}

// TestTCPConnectionCounts: accepted, refused and evicted connections are
// counted for /metrics.
func TestTCPConnectionCounts(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{Count: true, TCP: TCPLimits{MaxConns: 2, MaxPerSource: 2}})
	addr := s.TCPAddrs()[0].String()
	req := pack(t, query("www.yourwebapp.com.", dns.TypeA))
	for range 2 {
		c := dialFrom(t, "127.0.0.1", addr)
		writeTCP(t, c, req)
		readTCP(t, c)
	}
	closedByServer(dialFrom(t, "127.0.0.1", addr)) // refused: the source has two
	c := dialFrom(t, "127.0.0.2", addr)            // evicts the idlest
	writeTCP(t, c, req)
	readTCP(t, c)
	got := s.Counts().TCPConnections
	if got["accepted"] != 3 || got["refused"] != 1 || got["evicted"] != 1 {
		t.Fatalf("counts %v, want 3 accepted, 1 refused, 1 evicted", got)
	}
}
