package dnsserver

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestReaderSockets runs four readers: each has a socket of its own on the
// one address, clients from many ports all get answers whichever socket
// the kernel gives them to, and a second server on the address still
// fails to start (its TCP listener does not share), leaving the first
// serving.
func TestReaderSockets(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	addr := s.UDPAddrs()[0].String()
	s.mu.Lock()
	sockets := len(s.udpAll)
	s.mu.Unlock()
	if sockets != 4 {
		t.Errorf("UDP sockets: got %d, want 4, one per reader", sockets)
	}
	askMany := func(what string) {
		t.Helper()
		for i := range 64 {
			c, err := net.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			msg := pack(t, query(fmt.Sprintf("host%d.yourwebapp.com.", i), dns.TypeA))
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1232)
			n, err := c.Read(buf)
			c.Close()
			if err != nil {
				t.Fatalf("%s: query %d from a new port: %v", what, i, err)
			}
			var resp dns.Msg
			if err := resp.Unpack(buf[:n]); err != nil || resp.Id != 0xbeef {
				t.Fatalf("%s: query %d: got %v id %#x, want the answer", what, i, err, resp.Id)
			}
		}
	}
	askMany("four readers")

	second := New(Config{Listen: []string{addr}})
	if err := second.Start(); err == nil {
		t.Fatalf("a second server on %s started, want it refused", addr)
	}
	askMany("after the second server failed")
}
