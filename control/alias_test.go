package control

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// aliasSite is the test site with a resolver, alias_max_stale and, when
// apex is not "", production's target.
func aliasSite(t *testing.T, resolver, apex string, opts Options) *site {
	cfg := testkit.Edit(t, testkit.SiteConfig, `control = "slotdns.sock"`, "control = \"slotdns.sock\"\nresolver = \""+resolver+"\"\nalias_max_stale = \"1h\"")
	if apex != "" {
		cfg = testkit.Edit(t, cfg, `target = "blue.deploy.test."`, `target = "`+apex+`"`)
	}
	return startSite(t, cfg, opts)
}

func (st *site) apexA() string {
	r := testkit.Query(st.t, st.addr, "example.com.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[r.Rcode]
	}
	return testkit.AnswerText(r)
}

func (st *site) serial() uint32 {
	return testkit.Query(st.t, st.addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial
}

// tick lets the refresher set its timer, then moves the clock past it.
func tick(t *testing.T, clk *clock.Fake, d time.Duration) {
	t.Helper()
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("the alias refresher never waited")
	}
	clk.Advance(d)
}

func TestApexAliasThroughResolver(t *testing.T) {
	t.Parallel()
	resolver := testkit.StartResolver(t)
	resolver.Set("app.example.net.", 60, "203.0.113.1")
	opts, clk := fakeClock()
	st := aliasSite(t, resolver.Addr, "app.example.net.", opts)
	testkit.Eventually(t, "apex A from the resolver", func() bool { return st.apexA() == "A 203.0.113.1" })
	first := st.serial()
	app, err := st.c.App(context.Background(), "site")
	if err != nil {
		t.Fatal(err)
	}
	if a := app.Slots[0].Alias; a == nil || a.InZone || a.Resolved.IsZero() || strings.Join(a.Addrs, " ") != "203.0.113.1" {
		t.Fatalf("status alias: got %+v, want 203.0.113.1 from the resolver", a)
	}
	// New addresses, found when the refresh comes (80% of the TTL), are
	// a zone change: a new serial.
	resolver.Set("app.example.net.", 60, "203.0.113.2")
	tick(t, clk, 48*time.Second)
	testkit.Eventually(t, "apex A after the change", func() bool { return st.apexA() == "A 203.0.113.2" })
	if got := st.serial(); got != first+1 {
		t.Errorf("serial after the change: got %d, want %d", got, first+1)
	}
	// A failing resolver: the last good addresses, then SERVFAIL once
	// alias_max_stale has passed, and a new serial, journaled.
	resolver.Fail(true)
	for range 200 {
		if clk.Now().Sub(epoch) > 2*time.Hour {
			break
		}
		tick(t, clk, 30*time.Second)
		if got := st.apexA(); got != "A 203.0.113.2" && got != "SERVFAIL" {
			t.Fatalf("apex A while the resolver fails: got %q, want the last good address or SERVFAIL", got)
		}
	}
	testkit.Eventually(t, "SERVFAIL after alias_max_stale", func() bool { return st.apexA() == "SERVFAIL" })
	if got := st.serial(); got != first+2 {
		t.Errorf("serial after alias_max_stale: got %d, want %d", got, first+2)
	}
	var deltas []store.Delta
	st.s.DB().Read(func(v store.View) error { deltas, _, _ = v.Journal("example.com.", first+1); return nil })
	if len(deltas) != 1 || len(deltas[0].Removed) != 2 || !strings.HasSuffix(deltas[0].Removed[1], "IN\tA\t203.0.113.2") || len(deltas[0].Added) != 1 {
		t.Errorf("journal of the expiry: got %+v, want the apex A removed and only the SOA added", deltas)
	}
	// www is a CNAME and never depended on the resolver.
	if got := st.answer("www.example.com.", dns.TypeCNAME); got != "CNAME app.example.net." {
		t.Errorf("www: got %q", got)
	}
	resolver.Fail(false)
	tick(t, clk, 30*time.Second)
	testkit.Eventually(t, "apex A after the resolver is back", func() bool { return st.apexA() == "A 203.0.113.2" })
	if got := st.serial(); got != first+3 {
		t.Errorf("serial after the resolver is back: got %d, want %d", got, first+3)
	}
}

// Pointing the apex at a hostname never resolved before resolves it first,
// so the apex does not answer SERVFAIL meanwhile; an unresolvable one is
// refused.
func TestApexAliasResolvedBeforeSet(t *testing.T) {
	t.Parallel()
	resolver := testkit.StartResolver(t)
	resolver.Set("new.example.net.", 60, "203.0.113.7")
	st := aliasSite(t, resolver.Addr, "", Options{})
	if _, err := st.c.Set(context.Background(), "site", "production", api.SetRequest{Target: "new.example.net."}); err != nil {
		t.Fatal(err)
	}
	if got := st.apexA(); got != "A 203.0.113.7" {
		t.Errorf("apex right after set: got %q", got)
	}
	_, err := st.c.Set(context.Background(), "site", "production", api.SetRequest{Target: "other.example.net."})
	if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "whose addresses are unknown") {
		t.Fatalf("set to an unresolvable apex target: got %v, want refused", err)
	}
}

// A restart with the resolver down serves the stored addresses at once.
func TestApexAliasStoredAcrossRestart(t *testing.T) {
	t.Parallel()
	resolver := testkit.StartResolver(t)
	resolver.Set("app.example.net.", 60, "203.0.113.9")
	st := aliasSite(t, resolver.Addr, "app.example.net.", Options{})
	testkit.Eventually(t, "apex A from the resolver", func() bool { return st.apexA() == "A 203.0.113.9" })
	st.stop()
	resolver.Fail(true)
	st.start()
	if got := st.apexA(); got != "A 203.0.113.9" {
		t.Errorf("apex after restart: got %q", got)
	}
}
