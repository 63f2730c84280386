package testkit

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestSecondaryFollowsNotify(t *testing.T) {
	s := StartSecondary(t, 7, nil)
	if got := Query(t, s.Addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial; got != 7 {
		t.Fatalf("serial: got %d, want 7", got)
	}
	m := new(dns.Msg)
	m.SetNotify("example.com.")
	m.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns.", Mbox: "h.", Serial: 8}}
	if _, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, s.Addr); err != nil {
		t.Fatal(err)
	}
	if n := s.WaitNotify(t, 8); n.Signed {
		t.Errorf("notify: got %+v, want unsigned", n)
	}
	if got := Query(t, s.Addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial; got != 8 {
		t.Errorf("serial after NOTIFY: got %d, want 8", got)
	}
}

func TestResolver(t *testing.T) {
	r := StartResolver(t)
	r.Set("app.example.net.", 60, "203.0.113.1", "2001:db8::1")
	if got := AnswerText(Query(t, r.Addr, "app.example.net.", dns.TypeAAAA)); got != "AAAA 2001:db8::1" {
		t.Errorf("AAAA: got %q", got)
	}
	r.Fail(true)
	if got := Query(t, r.Addr, "app.example.net.", dns.TypeA).Rcode; got != dns.RcodeServerFailure {
		t.Errorf("failing: got rcode %d, want SERVFAIL", got)
	}
}

func TestDeadAddrDoesNotAnswer(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, DeadAddr(t)); err == nil {
		t.Error("a query to DeadAddr got an answer")
	}
}
