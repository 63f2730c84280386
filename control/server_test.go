package control

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

func TestSwapServedAtOnceInOneCommit(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	if got, want := st.answer("www.example.com.", dns.TypeCNAME), "CNAME blue.deploy.test."; got != want {
		t.Fatalf("www before: got %q, want %q", got, want)
	}
	before := st.s.DB().Stats().Commits
	ch := st.swap(api.SwapRequest{Actor: "ann@host", Reason: "release"})
	if got := st.s.DB().Stats().Commits - before; got != 1 {
		t.Errorf("commits of a swap: got %d, want 1", got)
	}
	// The reply comes after the publish: the very next query sees it.
	for _, q := range []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"www.example.com.", dns.TypeCNAME, "CNAME green.deploy.test."},
		{"stage.example.com.", dns.TypeCNAME, "CNAME blue.deploy.test."},
		{"example.com.", dns.TypeA, "A 198.51.100.20"},
	} {
		if got := st.answer(q.name, q.qtype); got != q.want {
			t.Errorf("%s after the swap: got %q, want %q", q.name, got, q.want)
		}
	}
	soa := testkit.Query(t, st.addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA)
	if soa.Serial != 2026010102 || ch.Serial != soa.Serial || ch.Seq != 1 || ch.Actor != socketActor(t) {
		t.Errorf("change %+v, served serial %d; want #1 at serial 2026010102", ch, soa.Serial)
	}
	// www's CNAME (TTL 30) is the slot's answer; blue's A (TTL 60) behind
	// it is blue's own, still true after the swap, and not waited for.
	if ch.TTL != 30 || ch.DrainedAt.Before(ch.Time.Add(31e9)) || ch.DrainedAt.After(ch.Time.Add(32e9)) {
		t.Errorf("drain: got ttl %d until %v, want 30s (+1s, +the commit margin) after %v", ch.TTL, ch.DrainedAt, ch.Time)
	}
	app, err := st.c.App(context.Background(), "site")
	if err != nil {
		t.Fatal(err)
	}
	if !app.Stored || app.Serial != soa.Serial || app.LastChange == nil || app.LastChange.Seq != 1 || !app.Draining {
		t.Errorf("status: got %+v", app)
	}
	for _, slot := range app.Slots {
		if !slot.Differs {
			t.Errorf("slot %s: got differs false, want true after a swap", slot.Slot)
		}
		if slot.Slot == "production" && (slot.Alias == nil || strings.Join(slot.Alias.Addrs, " ") != "198.51.100.20" || !slot.Alias.InZone) {
			t.Errorf("production alias: got %+v, want 198.51.100.20 from our zones", slot.Alias)
		}
	}
}

// A restart serves the state as it was left; the config only seeds.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	if _, err := st.c.Set(context.Background(), "site", "staging", api.SetRequest{Target: "192.0.2.99"}); err != nil {
		t.Fatal(err)
	}
	st.stop()
	st.start()
	if got := st.answer("stage.example.com.", dns.TypeA); got != "A 192.0.2.99" {
		t.Errorf("stage after restart: got %q, want the set target", got)
	}
	if got := st.s.DB().Stats().Commits; got != 0 {
		t.Errorf("a restart with nothing new committed %d times", got)
	}
}

// TestConcurrentSwaps: changes from many clients at once are serialised
// by the pipeline, each one whole: history contiguous, every serial once.
func TestConcurrentSwaps(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := st.c.Swap(context.Background(), "site", api.SwapRequest{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("swap: %v", err)
	}
	hist, err := st.c.History(context.Background(), "site", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 20 {
		t.Fatalf("history: %d entries, want 20", len(hist))
	}
	for i, e := range hist {
		if e.Seq != uint64(i+1) || e.Version != uint64(i+1) || e.Serial != 2026010102+uint32(i) {
			t.Errorf("entry %d: seq %d version %d serial %d", i, e.Seq, e.Version, e.Serial)
		}
		if i > 0 && e.Before["production"] != hist[i-1].After["production"] {
			t.Errorf("entry %d does not start where %d ended", e.Seq, hist[i-1].Seq)
		}
	}
	if got := st.answer("www.example.com.", dns.TypeCNAME); got != "CNAME blue.deploy.test." {
		t.Errorf("www after an even number of swaps: got %q", got)
	}
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string) // the config's path
		want    string
	}{
		{"a live server on the socket", func(t *testing.T, path string) {
			cfg, _ := config.Load(path)
			ln, err := net.Listen("unix", cfg.Control)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
		}, "a server already answers on it"},
		{"a locked database", func(t *testing.T, path string) {
			first := startSite(t, "", Options{}) // in another folder
			cfg, _ := config.Load(path)
			other := strings.Replace(testkit.ReadFile(t, path), `db      = "slotdns.db"`, `db      = "`+first.cfg.DB+`"`, 1)
			testkit.WriteFile(t, cfg.Path, other)
		}, "is another slotdns serving it?"},
		{"an empty database file", func(t *testing.T, path string) {
			testkit.WriteFile(t, filepath.Join(filepath.Dir(path), "slotdns.db"), "")
		}, "the file is empty (0 bytes)"},
		{"a renamed app", func(t *testing.T, path string) {
			st := startSite(t, testkit.ReadFile(t, path), Options{})
			st.stop()
			cfg := testkit.Edit(t, testkit.SiteConfig, `name = "site"`, `name = "shop"`)
			cfg = testkit.Edit(t, cfg, `db      = "slotdns.db"`, `db      = "`+st.cfg.DB+`"`)
			testkit.WriteFile(t, path, cfg)
		}, `app "site" is in the database but not in`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := testkit.Site(t, "")
			tc.prepare(t, path)
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Start(cfg, nil, Options{})
			if err == nil {
				s.Shutdown(context.Background())
				t.Fatal("Start: got nil error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start: got %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestStaleSocket: a socket file left by a server that was killed is
// taken over; the new socket is private.
func TestStaleSocket(t *testing.T) {
	t.Parallel()
	path := testkit.Site(t, "")
	cfg, _ := config.Load(path)
	ln, err := net.Listen("unix", cfg.Control)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	st := &site{t: t, path: path}
	st.start()
	info, err := os.Stat(cfg.Control)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("socket: got %v, %v, want mode 0600", info, err)
	}
	if _, err := st.c.Apps(context.Background()); err != nil {
		t.Errorf("API over the new socket: %v", err)
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(filepath.Dir(cfg.Control))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".s") {
			t.Errorf("left beside the socket: %s", e.Name())
		}
	}
}

func TestAPIRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	for _, reason := range []string{"forged\n4  2026  evil  swap", "\x1b[2J", "bidi \u202e"} {
		_, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Reason: reason})
		if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "control character") {
			t.Errorf("reason %q: got %v, want refused as invalid", reason, err)
		}
	}
	if hist, _ := st.c.History(context.Background(), "site", 0); len(hist) != 0 {
		t.Errorf("refused swaps left history: %+v", hist)
	}
}

// TestShutdownWaitsForRequests: the store closes only after the last
// control request has returned, however late.
func TestShutdownWaitsForRequests(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	st.s.requests.RLock() // a request still running
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- st.s.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // let Shutdown reach its wait
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned under a running request: %v", err)
	default:
	}
	if err := st.s.db.Read(func(store.View) error { return nil }); err != nil {
		t.Errorf("the store during a running request: %v, want still open", err)
	}
	st.s.requests.RUnlock()
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	st.s = nil
}
