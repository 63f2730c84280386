package testkit

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/serial"
)

// ServeDNS answers with h over UDP and TCP on one free port of
// 127.0.0.1 until the test ends, and returns the address. tsig holds the
// TSIG secrets it verifies (name: base64 secret), or nil.
func ServeDNS(t testing.TB, h dns.Handler, tsig map[string]string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			pc.Close()
			if attempt < 20 {
				continue // the port is taken for TCP; try another
			}
			t.Fatal(err)
		}
		for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h, TsigSecret: tsig}, {Listener: ln, Handler: h, TsigSecret: tsig}} {
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			go srv.ActivateAndServe()
			<-started
			t.Cleanup(func() { srv.Shutdown() })
		}
		return addr
	}
}

// DeadAddr returns a loopback host:port that nobody listens on, over UDP
// or TCP: "a server that does not answer". Queries to it fail at once or
// time out, and never leave the machine.
func DeadAddr(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// Query asks addr for name and qtype over UDP, again over TCP when the
// answer is truncated, and fails t when no answer comes.
func Query(t testing.TB, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err == nil && r.Truncated {
		r, _, err = (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, addr)
	}
	if err != nil {
		t.Fatalf("query %s %s at %s: %v", name, dns.TypeToString[qtype], addr, err)
	}
	return r
}

// AnswerText gives the answer section's data, "TYPE data" per record,
// joined by "; ".
func AnswerText(r *dns.Msg) string {
	var parts []string
	for _, rr := range r.Answer {
		f := strings.Fields(rr.String())
		parts = append(parts, strings.Join(f[3:], " "))
	}
	return strings.Join(parts, "; ")
}

// Notify is one NOTIFY as a Secondary saw it.
type Notify struct {
	Serial uint32
	Signed bool // it carried a TSIG
	Valid  bool // and the TSIG verified
}

// Secondary is a fake secondary on loopback: it answers SOA queries with
// the serial it serves, and records every NOTIFY. By default it follows
// each NOTIFY it answers, as if the transfer were instant.
type Secondary struct {
	Addr string

	mu       sync.Mutex
	serial   uint32
	follow   bool
	drop     int           // NOTIFYs left to ignore
	hold     chan struct{} // when set, NOTIFY answers wait for it to close
	notifies []Notify
}

// StartSecondary starts a secondary serving serial, verifying TSIG with
// keys (name: base64 secret) when not nil.
func StartSecondary(t testing.TB, serial uint32, keys map[string]string) *Secondary {
	t.Helper()
	s := &Secondary{serial: serial, follow: true}
	s.Addr = ServeDNS(t, dns.HandlerFunc(s.serve), keys)
	return s
}

func (s *Secondary) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	if r.Opcode != dns.OpcodeNotify {
		s.mu.Lock()
		m.Authoritative = true
		m.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns1.example.com.", Mbox: "hostmaster.example.com.", Serial: s.serial}}
		s.mu.Unlock()
		if tsig := r.IsTsig(); tsig != nil && w.TsigStatus() == nil {
			m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())
		}
		w.WriteMsg(m)
		return
	}
	n := Notify{Signed: r.IsTsig() != nil}
	n.Valid = n.Signed && w.TsigStatus() == nil
	if len(r.Answer) > 0 {
		if soa, ok := r.Answer[0].(*dns.SOA); ok {
			n.Serial = soa.Serial
		}
	}
	s.mu.Lock()
	s.notifies = append(s.notifies, n)
	drop := s.drop > 0
	if drop {
		s.drop--
	}
	hold := s.hold
	s.mu.Unlock()
	if drop {
		return
	}
	if hold != nil {
		<-hold
	}
	s.mu.Lock()
	// As a secondary that transfers the zone, it moves only forward
	// (RFC 1982): a NOTIFY of an older serial changes nothing.
	if s.follow && serial.Less(s.serial, n.Serial) {
		s.serial = n.Serial
	}
	s.mu.Unlock()
	if tsig := r.IsTsig(); tsig != nil {
		m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())
	}
	w.WriteMsg(m)
}

// SetSerial sets the serial it serves.
func (s *Secondary) SetSerial(serial uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial = serial
}

// Follow sets whether an answered NOTIFY of a later serial moves the
// serial it serves.
func (s *Secondary) Follow(follow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.follow = follow
}

// Drop makes it ignore the next n NOTIFYs, as a secondary that is down.
func (s *Secondary) Drop(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop = n
}

// Hold makes NOTIFY answers wait until the returned function is called.
func (s *Secondary) Hold() (release func()) {
	hold := make(chan struct{})
	s.mu.Lock()
	s.hold = hold
	s.mu.Unlock()
	return sync.OnceFunc(func() {
		s.mu.Lock()
		s.hold = nil
		s.mu.Unlock()
		close(hold)
	})
}

// Notifies returns the NOTIFYs received so far.
func (s *Secondary) Notifies() []Notify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Notify(nil), s.notifies...)
}

// WaitNotify waits until a NOTIFY of serial has come, and returns it.
func (s *Secondary) WaitNotify(t testing.TB, serial uint32) Notify {
	t.Helper()
	var got Notify
	Eventually(t, "NOTIFY of serial "+strconv.FormatUint(uint64(serial), 10)+" at "+s.Addr, func() bool {
		for _, n := range s.Notifies() {
			if n.Serial == serial {
				got = n
				return true
			}
		}
		return false
	})
	return got
}

// Resolver is a fake recursive resolver on loopback: it answers A and
// AAAA queries for the names it was given, NXDOMAIN for others, and
// SERVFAIL for everything while failing.
type Resolver struct {
	Addr string

	mu      sync.Mutex
	records map[string][]dns.RR // by lowercase FQDN
	failing bool
	queries int
}

// StartResolver starts a resolver that knows no names yet.
func StartResolver(t testing.TB) *Resolver {
	t.Helper()
	r := &Resolver{records: map[string][]dns.RR{}}
	r.Addr = ServeDNS(t, dns.HandlerFunc(r.serve), nil)
	return r
}

// Set makes name answer with addrs (IPv4 and IPv6 text) and ttl; no
// addrs makes it unknown again.
func (r *Resolver) Set(name string, ttl uint32, addrs ...string) {
	name = strings.ToLower(dns.Fqdn(name))
	var rrs []dns.RR
	for _, a := range addrs {
		ip := net.ParseIP(a)
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: ttl}
		if ip4 := ip.To4(); ip4 != nil {
			hdr.Rrtype = dns.TypeA
			rrs = append(rrs, &dns.A{Hdr: hdr, A: ip4})
		} else {
			hdr.Rrtype = dns.TypeAAAA
			rrs = append(rrs, &dns.AAAA{Hdr: hdr, AAAA: ip})
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(rrs) == 0 {
		delete(r.records, name)
	} else {
		r.records[name] = rrs
	}
}

// Fail makes every answer SERVFAIL while failing is true.
func (r *Resolver) Fail(failing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = failing
}

// Queries is the number of queries answered so far.
func (r *Resolver) Queries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queries
}

func (r *Resolver) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	r.mu.Lock()
	r.queries++
	q := req.Question[0]
	rrs, known := r.records[strings.ToLower(q.Name)]
	switch {
	case r.failing:
		m.Rcode = dns.RcodeServerFailure
	case !known:
		m.Rcode = dns.RcodeNameError
	default:
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				c := dns.Copy(rr)
				c.Header().Name = q.Name
				m.Answer = append(m.Answer, c)
			}
		}
	}
	r.mu.Unlock()
	w.WriteMsg(m)
}
