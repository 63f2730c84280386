package dnsserver

import (
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// burst sends n copies of m from one UDP socket at once and counts the
// answers that come back whole and truncated.
func burst(t *testing.T, addr string, m *dns.Msg, n int) (whole, truncated int) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wire := pack(t, m)
	for range n {
		c.Write(wire)
	}
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 2048)
	for {
		k, err := c.Read(buf)
		if err != nil {
			return whole, truncated
		}
		var r dns.Msg
		if r.Unpack(buf[:k]) != nil {
			continue
		}
		if r.Truncated {
			truncated++
		} else {
			whole++
		}
	}
}

// TestRRL: one source's burst of one question gets Rate whole answers a
// second, every Slip-th further one truncated, and the rest dropped;
// TCP, an exempt source and a valid server cookie are never limited.
func TestRRL(t *testing.T) {
	t.Parallel()
	const rate, slip, n = 5, 2, 60
	secrets := &CookieSecrets{Current: [16]byte{4}}
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{
		RRL:     RRL{Rate: rate, Slip: slip, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.9/32")}},
		Cookies: secrets,
	})
	addr := s.UDPAddrs()[0].String()
	whole, truncated := burst(t, addr, query("www.yourwebapp.com.", dns.TypeA), n)
	// A burst may straddle a second: at most two windows' worth.
	if whole < rate || whole > 2*rate || truncated < (n-2*rate)/slip-1 || truncated > (n-rate)/slip+1 {
		t.Fatalf("%d queries: %d whole, %d truncated; want about %d whole and %d truncated", n, whole, truncated, rate, (n-rate)/slip)
	}
	if got := s.rrl.limited.Load(); got < uint64(n-2*rate) {
		t.Errorf("limited %d, want at least %d", got, n-2*rate)
	}
	// Another question is another bucket.
	if w, _ := burst(t, addr, query("stage.yourwebapp.com.", dns.TypeA), 1); w != 1 {
		t.Error("another question was limited with the first")
	}
	// TCP is never limited.
	for range 3 {
		c, err := net.Dial("tcp", s.TCPAddrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		writeTCP(t, c, pack(t, query("www.yourwebapp.com.", dns.TypeA)))
		if r := readTCP(t, c); r.Truncated || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("TCP: %v", r)
		}
		c.Close()
	}
	// A valid server cookie: every answer comes whole.
	client, _ := hex.DecodeString("0102030405060708")
	cookie := append(client, secrets.serverCookie(nil, client, netip.MustParseAddr("127.0.0.1"), uint32(time.Now().Unix()))...)
	m := query("www.yourwebapp.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(cookie)}}
	if w, tr := burst(t, addr, m, 30); w != 30 || tr != 0 {
		t.Fatalf("with a valid server cookie: %d whole, %d truncated of 30", w, tr)
	}
}

func TestRRLClasses(t *testing.T) {
	t.Parallel()
	st := newState(testSnapshot(t, "blue.cloudapp.test."))
	answer := func(name string, qtype uint16) []byte { return st.respond(pack(t, query(name, qtype)), nil, true, nil) }
	nx1, nx2 := answer("nothere1.yourwebapp.com.", dns.TypeA), answer("nothere2.yourwebapp.com.", dns.TypeA)
	c1, n1 := classify(nx1)
	c2, n2 := classify(nx2)
	if c1 != rrlNXDomain || c2 != rrlNXDomain || string(n1) != string(n2) {
		t.Fatalf("two NXDOMAINs of one zone: classes %d %d, names %q %q; want one bucket, the zone's", c1, c2, n1, n2)
	}
	if c, _ := classify(answer("www.yourwebapp.com.", dns.TypeA)); c != rrlPositive {
		t.Errorf("an answer: class %d", c)
	}
	if c, _ := classify(answer("example.org.", dns.TypeA)); c != rrlError {
		t.Errorf("a refusal: class %d", c)
	}
}
