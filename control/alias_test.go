package control

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// fakeResolver answers A queries for every name with the address it holds,
// or SERVFAIL when it holds "".
type fakeResolver struct {
	addr atomic.Pointer[string]
}

func (f *fakeResolver) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	addr := *f.addr.Load()
	switch {
	case addr == "":
		m.Rcode = dns.RcodeServerFailure
	case r.Question[0].Qtype == dns.TypeA:
		rr, _ := dns.NewRR(r.Question[0].Name + " 1 IN A " + addr)
		m.Answer = append(m.Answer, rr)
	}
	w.WriteMsg(m)
}

func startResolver(t *testing.T, addr string) (*fakeResolver, string) {
	t.Helper()
	f := &fakeResolver{}
	f.addr.Store(&addr)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: f}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return f, pc.LocalAddr().String()
}

func TestApexAliasResolution(t *testing.T) {
	resolver, resolverAddr := startResolver(t, "203.0.113.1")
	config := strings.Replace(testConfig, `control = "slotdns.sock"`,
		`control = "slotdns.sock"
resolver = "`+resolverAddr+`"
alias_max_stale = "2s"`, 1)
	config = strings.Replace(config, `target = "blue.deploy.test."`, `target = "app.example.net."`, 1)
	cfg := loadTestConfig(t, config)
	s := startServer(t, cfg)
	addr := s.DNSAddrs()[0].String()
	apexA := func() string {
		r := query(t, addr, "example.com.", dns.TypeA)
		if r.Rcode != dns.RcodeSuccess {
			return dns.RcodeToString[r.Rcode]
		}
		return answerText(r)
	}
	serial := func() uint32 {
		return query(t, addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial
	}

	eventually(t, "apex A from the resolver", func() bool { return apexA() == "A 203.0.113.1" })
	first := serial()

	st, err := NewClient(cfg.Control).App(context.Background(), "site")
	if err != nil {
		t.Fatal(err)
	}
	alias := st.Slots[0].Alias
	if alias == nil || alias.InZone || alias.Resolved.IsZero() || strings.Join(alias.Addrs, " ") != "203.0.113.1" {
		t.Fatalf("status alias: got %+v, want 203.0.113.1 from the resolver", alias)
	}

	// New addresses are a zone change: a new serial.
	next := "203.0.113.2"
	resolver.addr.Store(&next)
	eventually(t, "apex A after the change", func() bool { return apexA() == "A 203.0.113.2" })
	if got := serial(); got != first+1 {
		t.Errorf("serial after the change: got %d, want %d", got, first+1)
	}

	// A failing resolver: the last good addresses, then SERVFAIL once
	// alias_max_stale has passed.
	failing := ""
	resolver.addr.Store(&failing)
	eventually(t, "SERVFAIL after alias_max_stale", func() bool {
		got := apexA()
		if got != "A 203.0.113.2" && got != "SERVFAIL" {
			t.Fatalf("apex A while the resolver fails: got %q, want the last good address or SERVFAIL", got)
		}
		return got == "SERVFAIL"
	})
	// Losing the apex addresses is a zone change: a new serial, journaled.
	if got := serial(); got != first+2 {
		t.Errorf("serial after alias_max_stale: got %d, want %d", got, first+2)
	}
	if deltas, ok, err := s.db.Journal("example.com.", first+1); err != nil || !ok || len(deltas) != 1 ||
		len(deltas[0].Removed) != 2 || !strings.HasSuffix(deltas[0].Removed[1], "IN\tA\t203.0.113.2") || len(deltas[0].Added) != 1 {
		t.Errorf("journal of the expiry: got %+v (ok %v, err %v), want the apex A removed and only the SOA added", deltas, ok, err)
	}
	// www is a CNAME and never depended on the resolver.
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeCNAME)), "CNAME app.example.net."; got != want {
		t.Errorf("www: got %q, want %q", got, want)
	}
	// It comes back when the resolver does.
	resolver.addr.Store(&next)
	eventually(t, "apex A after the resolver is back", func() bool { return apexA() == "A 203.0.113.2" })
	if got := serial(); got != first+3 {
		t.Errorf("serial after the resolver is back: got %d, want %d", got, first+3)
	}
}

// Pointing the apex at a hostname never resolved before resolves it first,
// so the apex does not answer SERVFAIL meanwhile; an unresolvable one is
// refused.
func TestApexAliasResolvedBeforeSet(t *testing.T) {
	resolver, resolverAddr := startResolver(t, "203.0.113.7")
	config := strings.Replace(testConfig, `control = "slotdns.sock"`,
		`control = "slotdns.sock"
resolver = "`+resolverAddr+`"`, 1)
	cfg := loadTestConfig(t, config)
	s := startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	if _, err := c.Set(context.Background(), "site", "production", SetRequest{Target: "new.example.net."}); err != nil {
		t.Fatal(err)
	}
	if got, want := answerText(query(t, s.DNSAddrs()[0].String(), "example.com.", dns.TypeA)), "A 203.0.113.7"; got != want {
		t.Errorf("apex right after set: got %q, want %q", got, want)
	}

	failing := ""
	resolver.addr.Store(&failing)
	_, err := c.Set(context.Background(), "site", "production", SetRequest{Target: "other.example.net."})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("set to an unresolvable apex target: got %v, want ErrInvalid", err)
	}
}

// A restart with the resolver down serves the stored addresses at once.
func TestApexAliasStoredAcrossRestart(t *testing.T) {
	resolver, resolverAddr := startResolver(t, "203.0.113.9")
	config := strings.Replace(testConfig, `control = "slotdns.sock"`,
		`control = "slotdns.sock"
resolver = "`+resolverAddr+`"`, 1)
	config = strings.Replace(config, `target = "blue.deploy.test."`, `target = "app.example.net."`, 1)
	cfg := loadTestConfig(t, config)
	s, err := Start(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "apex A from the resolver", func() bool {
		return answerText(query(t, s.DNSAddrs()[0].String(), "example.com.", dns.TypeA)) == "A 203.0.113.9"
	})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	failing := ""
	resolver.addr.Store(&failing)
	s = startServer(t, cfg)
	if got, want := answerText(query(t, s.DNSAddrs()[0].String(), "example.com.", dns.TypeA)), "A 203.0.113.9"; got != want {
		t.Errorf("apex after restart: got %q, want %q", got, want)
	}
}
