package control

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

func TestServerSwapServedAtOnce(t *testing.T) {
	cfg := loadTestConfig(t, "")
	_, addr, c := startWithClient(t, cfg)
	ctx := context.Background()

	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeCNAME)), "CNAME blue.deploy.test."; got != want {
		t.Fatalf("www before: got %q, want %q", got, want)
	}
	serialBefore := query(t, addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial

	ch, err := c.Swap(ctx, "site", SwapRequest{Actor: "ann@host", Reason: "release"})
	if err != nil {
		t.Fatal(err)
	}
	// The reply comes after the publish: the very next query sees it.
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeCNAME)), "CNAME green.deploy.test."; got != want {
		t.Errorf("www after: got %q, want %q", got, want)
	}
	if got, want := answerText(query(t, addr, "stage.example.com.", dns.TypeCNAME)), "CNAME blue.deploy.test."; got != want {
		t.Errorf("stage after: got %q, want %q", got, want)
	}
	if got, want := answerText(query(t, addr, "example.com.", dns.TypeA)), "A 198.51.100.20"; got != want {
		t.Errorf("apex after: got %q, want %q", got, want)
	}
	serialAfter := query(t, addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial
	if serialAfter != serialBefore+1 || ch.Serial != serialAfter {
		t.Errorf("serial: got %d (reply %d), want %d", serialAfter, ch.Serial, serialBefore+1)
	}
	// www's CNAME (TTL 30) is the slot's answer; blue's A (TTL 60) behind
	// it is blue's own, still true after the swap, and not waited for.
	if ch.TTL != 30 || ch.DrainedAt.Before(ch.Time.Add(30e9)) || ch.DrainedAt.After(ch.Time.Add(35e9)) {
		t.Errorf("drain: got ttl %d at %v, want about 30s (+1s) after %v", ch.TTL, ch.DrainedAt, ch.Time)
	}

	st, err := c.App(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != serialAfter || st.LastChange == nil || st.LastChange.Seq != 1 {
		t.Errorf("status: got serial %d last change %+v, want %d and #1", st.Serial, st.LastChange, serialAfter)
	}
	for _, slot := range st.Slots {
		if !slot.Differs {
			t.Errorf("slot %s: got differs false, want true after a swap", slot.Slot)
		}
		if slot.Slot == "production" {
			if slot.Alias == nil || strings.Join(slot.Alias.Addrs, " ") != "198.51.100.20" || !slot.Alias.InZone {
				t.Errorf("production alias: got %+v, want 198.51.100.20 from our zones", slot.Alias)
			}
		}
	}
}

// A restart serves the state as it was left; the config only seeds.
func TestServerRestartKeepsState(t *testing.T) {
	cfg := loadTestConfig(t, "")
	s, err := Start(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(cfg.Control)
	if _, err := c.Set(context.Background(), "site", "staging", SetRequest{Target: "192.0.2.99"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	if _, err := os.Stat(cfg.Control); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control socket after shutdown: got %v, want it removed", err)
	}

	s = startServer(t, cfg)
	if got, want := answerText(query(t, s.DNSAddrs()[0].String(), "stage.example.com.", dns.TypeA)), "A 192.0.2.99"; got != want {
		t.Errorf("stage after restart: got %q, want %q", got, want)
	}
}

// Parallel swaps through the API lose no update, and what is served at the
// end equals the store.
func TestServerConcurrentSwaps(t *testing.T) {
	cfg := loadTestConfig(t, "")
	s := startServer(t, cfg)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(cfg.Control)
			defer c.Close()
			if _, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "test"}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("swap: %v", err)
	}
	c := NewClient(cfg.Control)
	defer c.Close()
	hist, err := c.History(context.Background(), "site", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != n {
		t.Fatalf("history: got %d entries, want %d", len(hist), n)
	}
	for i, e := range hist {
		if e.Seq != uint64(i+1) {
			t.Fatalf("history entry %d: got seq %d, want %d", i, e.Seq, i+1)
		}
		if i > 0 && e.Serial != hist[i-1].Serial+1 {
			t.Fatalf("history entry %d: got serial %d, want %d", i, e.Serial, hist[i-1].Serial+1)
		}
	}
	// An even number of swaps leaves the config's mapping.
	addr := s.DNSAddrs()[0].String()
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeCNAME)), "CNAME blue.deploy.test."; got != want {
		t.Errorf("www: got %q, want %q", got, want)
	}
	snap := s.DNS().Snapshot()
	if serial, _ := snap.Serial("example.com."); serial != hist[n-1].Serial {
		t.Errorf("served serial: got %d, want %d", serial, hist[n-1].Serial)
	}
}

func TestServerStaleSocket(t *testing.T) {
	cfg := loadTestConfig(t, "")
	// A socket file left by a server that died.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Control, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(cfg.Control); err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	startServer(t, cfg)
	info, err := os.Stat(cfg.Control)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("socket mode: got %v, want 0600", got)
	}
}

// A second server on the same socket is refused, and nothing of it stays
// open: the database is free again afterwards.
func TestServerRefusesLiveSocket(t *testing.T) {
	cfg := loadTestConfig(t, "")
	s := startServer(t, cfg)
	second := *cfg
	second.DB = cfg.DB + ".second"
	if _, err := Start(&second, discard()); err == nil || !strings.Contains(err.Error(), "already answers") {
		t.Fatalf("second server: got %v, want a refusal naming the live socket", err)
	}
	db, err := store.Open(second.DB, store.Options{})
	if err != nil {
		t.Fatalf("database after a refused start: %v", err)
	}
	db.Close()
	// The first server still answers.
	if _, err := NewClient(s.cfg.Control).Apps(context.Background()); err != nil {
		t.Errorf("first server: %v", err)
	}
}

func TestServerRefusesLockedDatabase(t *testing.T) {
	cfg := loadTestConfig(t, "")
	startServer(t, cfg)
	second := *cfg
	second.Control = cfg.Control + ".second"
	_, err := Start(&second, discard())
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second server: got %v, want ErrLocked", err)
	}
}

func TestConnect(t *testing.T) {
	cfg := loadTestConfig(t, "")
	ctl, direct, err := Connect(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	if !direct {
		t.Error("no server: got direct false, want true")
	}
	ch, err := ctl.Swap(context.Background(), "site", SwapRequest{Actor: "offline"})
	if err != nil {
		t.Fatal(err)
	}
	ctl.Close()

	// The server serves what was changed while it was down.
	s := startServer(t, cfg)
	ctl, direct, err = Connect(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if direct {
		t.Error("server running: got direct true, want false")
	}
	st, err := ctl.App(context.Background(), "site")
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != ch.Serial || st.Version != 1 {
		t.Errorf("status: got serial %d version %d, want %d and 1", st.Serial, st.Version, ch.Serial)
	}
	if got, want := answerText(query(t, s.DNSAddrs()[0].String(), "www.example.com.", dns.TypeCNAME)), "CNAME green.deploy.test."; got != want {
		t.Errorf("www: got %q, want %q", got, want)
	}
}

// Several apps in one zone, one with three slots: each swaps on its own.
func TestServerSeveralAppsAndSlots(t *testing.T) {
	cfg := loadTestConfig(t, testConfig+`
[[app]]
name = "shop"
zone = "example.com."
ttl  = 5

[app.slots.production]
names  = ["shop"]
target = "192.0.2.10"

[app.slots.staging]
names  = ["shop-stage"]
target = "192.0.2.11, 2001:db8::11"

[app.slots.qa]
names  = ["shop-qa.example.com."]
target = "blue.deploy.test."
`)
	_, addr, c := startWithClient(t, cfg)
	ctx := context.Background()

	apps, err := c.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[1].Name != "shop" || len(apps[1].Slots) != 3 {
		t.Fatalf("apps: got %+v, want site and shop with 3 slots", apps)
	}
	ch, err := c.Swap(ctx, "shop", SwapRequest{Slot: "qa", With: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	// qa's CNAME (TTL 5); blue's records behind it are blue's own.
	if ch.TTL != 5 {
		t.Errorf("drain ttl: got %d, want 5", ch.TTL)
	}
	if got, want := answerText(query(t, addr, "shop-stage.example.com.", dns.TypeCNAME)), "CNAME blue.deploy.test."; got != want {
		t.Errorf("shop-stage: got %q, want %q", got, want)
	}
	if got, want := answerText(query(t, addr, "shop-qa.example.com.", dns.TypeAAAA)), "AAAA 2001:db8::11"; got != want {
		t.Errorf("shop-qa: got %q, want %q", got, want)
	}
	// The other app is untouched, and both share the zone's serial.
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeCNAME)), "CNAME blue.deploy.test."; got != want {
		t.Errorf("www: got %q, want %q", got, want)
	}
	site, err := c.App(ctx, "site")
	if err != nil {
		t.Fatal(err)
	}
	if site.Serial != ch.Serial || site.Version != 0 {
		t.Errorf("site: got serial %d version %d, want %d and 0", site.Serial, site.Version, ch.Serial)
	}
}

// The server logs once per slot whose stored target differs from the
// config, once per change, and never per query.
func TestServerLogs(t *testing.T) {
	cfg := loadTestConfig(t, "")
	local, err := OpenLocal(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Set(context.Background(), "site", "staging", SetRequest{Target: "192.0.2.50"}); err != nil {
		t.Fatal(err)
	}
	local.Close()

	var buf syncBuffer
	s, err := Start(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if got := strings.Count(buf.String(), "differs from config"); got != 1 {
		t.Errorf("differs lines: got %d, want 1\n%s", got, buf.String())
	}
	before := strings.Count(buf.String(), "\n")
	for range 20 {
		query(t, s.DNSAddrs()[0].String(), "www.example.com.", dns.TypeA)
	}
	if _, err := NewClient(cfg.Control).Swap(context.Background(), "site", SwapRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "\n") - before; got != 1 {
		t.Errorf("lines after 20 queries and one swap: got %d, want 1\n%s", got, buf.String())
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServerLongSocketPath(t *testing.T) {
	cfg := loadTestConfig(t, "")
	cfg.Control = filepath.Join(filepath.Dir(cfg.Control), strings.Repeat("s", 120)+".sock")
	_, err := Start(cfg, discard())
	if err == nil || !strings.Contains(err.Error(), "unix sockets allow 107") {
		t.Fatalf("got %v, want the path limit named", err)
	}
	// Nothing stayed open: the database can be opened again.
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}
