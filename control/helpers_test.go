package control

import (
	"context"
	"fmt"
	"os/user"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/testkit"
)

// epoch is where the fake clocks of these tests stand at first.
var epoch = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// site is a running server on a test site, with a client of its socket.
type site struct {
	t      *testing.T
	path   string // the config
	cfg    *config.Config
	s      *Server
	c      *api.Client
	addr   string // DNS, UDP and TCP
	opts   Options
	logged *testkit.Buffer
}

// startSite writes the test site (config, or testkit.SiteConfig when "")
// and starts a server on it with opts, shut down at the end of the test.
func startSite(t *testing.T, config string, opts Options) *site {
	t.Helper()
	st := &site{t: t, path: testkit.Site(t, config), opts: opts}
	st.start()
	return st
}

func (st *site) start() {
	st.t.Helper()
	cfg, err := config.Load(st.path)
	if err != nil {
		st.t.Fatal(err)
	}
	st.logged = &testkit.Buffer{}
	s, err := Start(cfg, cfg.NewLogger(st.logged), st.opts)
	if err != nil {
		st.t.Fatalf("start: %v", err)
	}
	st.cfg, st.s, st.c = cfg, s, api.NewClient(cfg.Control)
	st.addr = s.DNSAddrs()[0].String()
	st.t.Cleanup(st.stop)
}

// stop shuts the server down; a restart is stop then start.
func (st *site) stop() {
	if st.s == nil {
		return
	}
	st.c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := st.s.Shutdown(ctx); err != nil {
		st.t.Errorf("shutdown: %v", err)
	}
	st.s = nil
}

// answer is what the server answers for name and qtype, "TYPE data; ...".
func (st *site) answer(name string, qtype uint16) string {
	st.t.Helper()
	return testkit.AnswerText(testkit.Query(st.t, st.addr, name, qtype))
}

func (st *site) swap(req api.SwapRequest) api.Change {
	st.t.Helper()
	ch, err := st.c.Swap(context.Background(), "site", req)
	if err != nil {
		st.t.Fatalf("swap: %v", err)
	}
	return ch
}

// fakeClock returns Options with a fake clock standing at epoch.
func fakeClock() (Options, *clock.Fake) {
	clk := clock.NewFake(epoch)
	return Options{Clock: clk, TLSRoots: testkit.CA()}, clk
}

// socketActor is the actor the server records for this process's
// requests on its socket (SO_PEERCRED), whatever the request says.
func socketActor(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s (uid %s)", u.Username, u.Uid)
}
