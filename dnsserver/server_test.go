package dnsserver

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// testSnapshot serves testdata/yourwebapp.com.zone with production ("@" and
// www) on target and staging (stage) on green.cloudapp.test.
func testSnapshot(t testing.TB, target string) *zones.Snapshot {
	t.Helper()
	z, err := zones.ParseFile("yourwebapp.com.", "testdata/yourwebapp.com.zone")
	if err != nil {
		t.Fatal(err)
	}
	prod, err := zones.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	stage, err := zones.ParseTarget("green.cloudapp.test.")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Build(zones.Input{
		Zones: []zones.ZoneInput{{Zone: z, Serial: 7, Slots: []zones.Slot{
			{App: "yourwebapp", Slot: "production", Names: []string{"www.yourwebapp.com."}, Target: prod, TTL: 30},
			{App: "yourwebapp", Slot: "staging", Names: []string{"stage.yourwebapp.com."}, Target: stage, TTL: 30},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// loopbacks are the addresses the socket tests listen on: IPv4, and IPv6
// when the machine has ::1.
func loopbacks(t testing.TB) []string {
	addrs := []string{"127.0.0.1:0"}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		addrs = append(addrs, "[::1]:0")
	} else {
		t.Logf("no IPv6 loopback: %v", err)
	}
	return addrs
}

// startServer starts a server on listen with snap published and shuts it
// down when the test ends.
func startServer(t testing.TB, snap *zones.Snapshot, cfg Config) *Server {
	t.Helper()
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"127.0.0.1:0"}
	}
	s := New(cfg)
	if snap != nil {
		s.Publish(snap)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func ask(t testing.TB, network, addr string, req *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("%s %s %v: %v", network, addr, req.Question, err)
	}
	return resp
}

func TestServeUDPAndTCP(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{Listen: loopbacks(t)})
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		aa     bool
		answer string // first answer as text, "" for none
	}{
		{"slot CNAME", "www.yourwebapp.com.", dns.TypeA, dns.RcodeSuccess, true,
			"www.yourwebapp.com.\t30\tIN\tCNAME\tblue.cloudapp.test."},
		{"case kept", "WWW.YourWebApp.COM.", dns.TypeA, dns.RcodeSuccess, true, ""},
		{"zone file MX", "yourwebapp.com.", dns.TypeMX, dns.RcodeSuccess, true,
			"yourwebapp.com.\t3600\tIN\tMX\t10 mail.yourwebapp.com."},
		{"nxdomain", "nope.yourwebapp.com.", dns.TypeA, dns.RcodeNameError, true, ""},
		{"nodata", "mail.yourwebapp.com.", dns.TypeAAAA, dns.RcodeSuccess, true, ""},
		{"referral", "a.sub.yourwebapp.com.", dns.TypeA, dns.RcodeSuccess, false, ""},
		{"not ours", "example.org.", dns.TypeA, dns.RcodeRefused, false, ""},
		{"axfr refused", "yourwebapp.com.", dns.TypeAXFR, dns.RcodeRefused, false, ""},
	}
	for _, udp := range s.UDPAddrs() {
		for _, network := range []string{"udp", "tcp"} {
			for _, tc := range tests {
				t.Run(network+" "+udp.String()+" "+tc.name, func(t *testing.T) {
					req := query(tc.qname, tc.qtype, withEDNS(1232, true))
					got := ask(t, network, udp.String(), req)
					want := tc.rcode
					if network == "udp" && tc.qtype == dns.TypeAXFR {
						want = dns.RcodeNotImplemented // AXFR is TCP's
					}
					if got.Rcode != want || got.Authoritative != tc.aa {
						t.Errorf("got %s AA %v, want %s AA %v", dns.RcodeToString[got.Rcode], got.Authoritative,
							dns.RcodeToString[want], tc.aa)
					}
					if got.Question[0].Name != tc.qname {
						t.Errorf("question: got %s, want %s", got.Question[0].Name, tc.qname)
					}
					if opt := got.IsEdns0(); opt == nil || !opt.Do() || opt.UDPSize() != advertisedUDPSize {
						t.Errorf("OPT: got %v, want DO and size 1232", opt)
					}
					if tc.answer != "" && (len(got.Answer) == 0 || got.Answer[0].String() != tc.answer) {
						t.Errorf("answer: got %v, want %s", got.Answer, tc.answer)
					}
				})
			}
		}
	}
}

func TestListenAddrs(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil, Config{Listen: loopbacks(t)})
	udp, tcp := s.UDPAddrs(), s.TCPAddrs()
	if len(udp) != len(loopbacks(t)) || len(tcp) != len(udp) {
		t.Fatalf("got %d UDP and %d TCP addresses, want %d each", len(udp), len(tcp), len(loopbacks(t)))
	}
	for i := range udp {
		if udp[i].String() != tcp[i].String() || strings.HasSuffix(udp[i].String(), ":0") {
			t.Errorf("address %d: got UDP %s and TCP %s, want the same real port", i, udp[i], tcp[i])
		}
	}
}

func TestTruncatedThenTCP(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	addr := s.UDPAddrs()[0].String()
	for _, edns := range []bool{false, true} {
		req := query("big.yourwebapp.com.", dns.TypeA)
		if edns {
			req.SetEdns0(4096, false)
		}
		got := ask(t, "udp", addr, req)
		if !got.Truncated || len(got.Answer) != 0 || len(got.Question) != 1 {
			t.Errorf("udp edns=%v: got TC %v, %d answers, %d questions; want TC, no answers, the question",
				edns, got.Truncated, len(got.Answer), len(got.Question))
		}
		got = ask(t, "tcp", addr, req)
		if got.Truncated || len(got.Answer) != 100 {
			t.Errorf("tcp edns=%v: got TC %v, %d answers; want no TC, 100 answers", edns, got.Truncated, len(got.Answer))
		}
	}
}

func TestMalformedOverSockets(t *testing.T) {
	t.Parallel()
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{})
	addr := s.UDPAddrs()[0].String()
	good := query("www.yourwebapp.com.", dns.TypeA)
	oversized := append(pack(t, query("www.yourwebapp.com.", dns.TypeA)), make([]byte, 10000)...)
	packets := append(malformed, struct {
		name   string
		packet []byte
	}{"longer than the read buffer", oversized})
	for _, tc := range packets {
		t.Run("udp "+tc.name, func(t *testing.T) {
			c, err := net.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(tc.packet); err != nil {
				t.Fatal(err)
			}
			if got := ask(t, "udp", addr, good); got.Rcode != dns.RcodeSuccess {
				t.Errorf("good query after it: got %s, want NOERROR", dns.RcodeToString[got.Rcode])
			}
		})
		t.Run("tcp "+tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if len(tc.packet) <= maxTCPSize {
				writeTCP(t, c, tc.packet, pack(t, good))
			}
			if got := ask(t, "tcp", addr, good); got.Rcode != dns.RcodeSuccess {
				t.Errorf("good query after it: got %s, want NOERROR", dns.RcodeToString[got.Rcode])
			}
		})
	}
	// A length prefix promising more than is ever sent stalls only its
	// own connection.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0xff, 0xff, 1, 2, 3})
	if got := ask(t, "tcp", addr, good); got.Rcode != dns.RcodeSuccess {
		t.Errorf("beside a stalled connection: got %s, want NOERROR", dns.RcodeToString[got.Rcode])
	}
}

func TestPublishSeenByNextQuery(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil, Config{})
	addr := s.UDPAddrs()[0].String()
	req := query("www.yourwebapp.com.", dns.TypeA)
	if got := ask(t, "udp", addr, req); got.Rcode != dns.RcodeRefused {
		t.Errorf("before Publish: got %s, want REFUSED", dns.RcodeToString[got.Rcode])
	}
	if s.Snapshot() != nil {
		t.Errorf("Snapshot before Publish: got %p, want nil", s.Snapshot())
	}
	for _, target := range []string{"blue.cloudapp.test.", "green.cloudapp.test.", "blue.cloudapp.test."} {
		snap := testSnapshot(t, target)
		s.Publish(snap)
		if s.Snapshot() != snap {
			t.Errorf("Snapshot: got %p, want the one published, %p", s.Snapshot(), snap)
		}
		for _, network := range []string{"udp", "tcp"} {
			got := ask(t, network, addr, req)
			if len(got.Answer) != 1 || got.Answer[0].(*dns.CNAME).Target != target {
				t.Errorf("%s after publishing %s: got %v", network, target, got.Answer)
			}
		}
	}
}

// TestShutdown checks that the ports are free afterwards, so it runs
// alone (not in parallel), on a loopback address no other test binds: a
// port freed here would otherwise be taken by the next listener.
func TestShutdown(t *testing.T) {
	s := New(Config{Listen: []string{"127.0.0.77:0"}})
	s.Publish(testSnapshot(t, "blue.cloudapp.test."))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.TCPAddrs()[0].String()
	ask(t, "udp", addr, query("www.yourwebapp.com.", dns.TypeA))
	// An idle TCP connection must not hold Shutdown up.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	writeTCP(t, idle, pack(t, query("www.yourwebapp.com.", dns.TypeA)))
	readTCP(t, idle)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: got %v, want nil", err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("second shutdown: got %v, want nil", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("dial %s after shutdown: got a connection, want refused", addr)
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("open connection after shutdown: got %v, want EOF", err)
	}
	// The UDP port is free again.
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Errorf("UDP %s after shutdown: %v, want it closed", addr, err)
	} else {
		pc.Close()
	}
	if err := s.Start(); err == nil {
		t.Error("Start after Shutdown: got nil, want an error")
	}
}

func TestStartFailsWhole(t *testing.T) {
	t.Parallel()
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	freeAddr := freeUDPAndTCP(t)

	s := New(Config{Listen: []string{freeAddr, taken.LocalAddr().String()}})
	err = s.Start()
	if err == nil || !strings.Contains(err.Error(), taken.LocalAddr().String()) {
		t.Fatalf("start: got %v, want an error naming %s", err, taken.LocalAddr())
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("start: got %T, want it to wrap the *net.OpError", err)
	}
	// The first address, which did bind, was released.
	for _, network := range []string{"udp", "tcp"} {
		var c io.Closer
		if network == "udp" {
			c, err = net.ListenPacket(network, freeAddr)
		} else {
			c, err = net.Listen(network, freeAddr)
		}
		if err != nil {
			t.Errorf("%s %s after the failed start: %v, want it free", network, freeAddr, err)
			continue
		}
		c.Close()
	}
	if len(s.UDPAddrs()) != 0 || len(s.TCPAddrs()) != 0 {
		t.Errorf("addresses after the failed start: got %v %v, want none", s.UDPAddrs(), s.TCPAddrs())
	}
}

// TestWildcardAnswersFromQueriedAddress listens on the unspecified address
// (on an ephemeral port, queried over loopback only) and asks 127.0.0.2: the
// client's connected socket takes the answer only from that address.
func TestWildcardAnswersFromQueriedAddress(t *testing.T) {
	t.Parallel()
	for listen, hosts := range map[string][]string{
		"0.0.0.0:0": {"127.0.0.1", "127.0.0.2"},
		"[::]:0":    {"::1"},
	} {
		t.Run(listen, func(t *testing.T) {
			s := New(Config{Listen: []string{listen}})
			s.Publish(testSnapshot(t, "blue.cloudapp.test."))
			if err := s.Start(); err != nil {
				t.Skipf("listen %s: %v", listen, err)
			}
			t.Cleanup(func() { s.Shutdown(context.Background()) })
			port := s.UDPAddrs()[0].(*net.UDPAddr).Port
			for _, host := range hosts {
				addr := net.JoinHostPort(host, strconv.Itoa(port))
				if got := ask(t, "udp", addr, query("www.yourwebapp.com.", dns.TypeA)); got.Rcode != dns.RcodeSuccess {
					t.Errorf("%s: got %s, want NOERROR", addr, dns.RcodeToString[got.Rcode])
				}
			}
		})
	}
}

func TestPanicAnsweredWithServfail(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil, Config{})
	st := newState(nil)
	lookup := fakeLookup(t)
	st.lookup = func(qname string, qtype uint16) zones.Answer {
		if qname == "panic.example.com." {
			panic("lookup bug")
		}
		return lookup(qname, qtype)
	}
	s.state.Store(st)
	addr := s.UDPAddrs()[0].String()
	for _, network := range []string{"udp", "tcp"} {
		got := ask(t, network, addr, query("panic.example.com.", dns.TypeA))
		if got.Rcode != dns.RcodeServerFailure || got.Id != 0xbeef {
			t.Errorf("%s: got %s id %#x, want SERVFAIL id 0xbeef", network, dns.RcodeToString[got.Rcode], got.Id)
		}
		if got := ask(t, network, addr, query("www.example.com.", dns.TypeA)); got.Rcode != dns.RcodeSuccess {
			t.Errorf("%s after the panic: got %s, want NOERROR", network, dns.RcodeToString[got.Rcode])
		}
	}
	if got := s.panics.Load(); got != 2 {
		t.Errorf("panics counted: got %d, want 2", got)
	}
}

// TestWildcardIPv4BesideIPv6 listens on both unspecified addresses with one
// port, as an operator lists them: "[::]" must not take the IPv4 side too.
func TestWildcardIPv4BesideIPv6(t *testing.T) {
	t.Parallel()
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 on this machine: %v", err)
	} else {
		ln.Close()
	}
	var s *Server
	var port string
	// Another process may take the probed port before the server does.
	for attempt := 0; ; attempt++ {
		probe := New(Config{Listen: []string{"0.0.0.0:0"}})
		if err := probe.Start(); err != nil {
			t.Fatal(err)
		}
		port = strconv.Itoa(probe.UDPAddrs()[0].(*net.UDPAddr).Port)
		probe.Shutdown(context.Background())

		s = New(Config{Listen: []string{"0.0.0.0:" + port, "[::]:" + port}})
		s.Publish(testSnapshot(t, "blue.cloudapp.test."))
		err := s.Start()
		if err == nil {
			break
		}
		if attempt == 5 || !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("listen on 0.0.0.0 and [::] port %s: %v", port, err)
		}
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	for _, host := range []string{"127.0.0.1", "::1"} {
		for _, network := range []string{"udp", "tcp"} {
			addr := net.JoinHostPort(host, port)
			if got := ask(t, network, addr, query("www.yourwebapp.com.", dns.TypeA)); got.Rcode != dns.RcodeSuccess {
				t.Errorf("%s %s: got %s, want NOERROR", network, addr, dns.RcodeToString[got.Rcode])
			}
		}
	}
}

// freeUDPAndTCP returns a loopback address whose port was free for both UDP
// and TCP a moment ago: a server starting on it needs both, and other tests
// bind ports meanwhile.
func freeUDPAndTCP(t *testing.T) string {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return ""
}
