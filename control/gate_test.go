package control

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// gateConfig is testConfig with production on 127.0.0.2 and staging on
// 127.0.0.3, with checks appended.
func gateConfig(checks string) string {
	return strings.NewReplacer(
		`target = "blue.deploy.test."`, `target = "127.0.0.2"`,
		`target = "green.deploy.test."`, `target = "127.0.0.3"`,
	).Replace(testConfig) + checks
}

// gatePair starts the production (127.0.0.2) and staging (127.0.0.3)
// deployments on one port, over TLS with a certificate for certName when
// it is not "", and returns the port.
func gatePair(t *testing.T, production, staging http.HandlerFunc, certName string) int {
	t.Helper()
	first, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	_, portText, _ := net.SplitHostPort(first.Addr().String())
	second, err := net.Listen("tcp", "127.0.0.3:"+portText)
	if err != nil {
		first.Close()
		t.Fatal(err)
	}
	for _, d := range []struct {
		l net.Listener
		h http.HandlerFunc
	}{{first, production}, {second, staging}} {
		srv := httptest.NewUnstartedServer(d.h)
		srv.Listener.Close()
		srv.Listener = d.l
		if certName != "" {
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{testCert(t, certName)}}
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
	}
	port, _ := strconv.Atoi(portText)
	return port
}

func ok(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }

// heldHandler answers "ok" only once release is closed; entered receives
// when the first request arrives, so a test knows a check is running.
func heldHandler() (h http.HandlerFunc, entered <-chan struct{}, release chan struct{}) {
	arrived := make(chan struct{}, 1)
	release = make(chan struct{})
	h = func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
		w.Write([]byte("ok"))
	}
	return h, arrived, release
}

func TestSwapGate(t *testing.T) {
	failing := func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hanging := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	tests := []struct {
		name       string
		staging    http.HandlerFunc
		scheme     string
		certName   string
		force      bool
		wantSwap   bool
		wantDetail string
	}{
		{"healthy", ok, "http", "", false, true, "status 200"},
		{"500 refuses", failing, "http", "", false, false, "status 500, want 200"},
		{"hang times out", hanging, "http", "", false, false, "no answer within 300ms (timeout)"},
		{"certificate for the production name", ok, "https", "example.com", false, true, "status 200"},
		{"certificate for another name refuses", ok, "https", "wrong.example.net", false, false, "certificate"},
		{"force goes through", failing, "http", "", true, true, "status 500, want 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := gatePair(t, ok, tt.staging, tt.certName)
			cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when    = "before"
`+tt.scheme+` = "/healthz"
port    = `+strconv.Itoa(port)+`
timeout = "300ms"
`))
			s := startServer(t, cfg)
			s.svc.gates.tlsRoots = testCA.pool
			addr := s.DNSAddrs()[0].String()
			c := NewClient(cfg.Control)
			defer c.Close()

			ch, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann", Force: tt.force})
			var results []store.CheckResult
			if tt.wantSwap {
				if err != nil {
					t.Fatalf("swap: %v", err)
				}
				results = ch.Checks
				if ch.Forced != tt.force {
					t.Errorf("forced: got %v, want %v", ch.Forced, tt.force)
				}
			} else {
				var apiErr *APIError
				if !errors.Is(err, ErrCheckFailed) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusPreconditionFailed {
					t.Fatalf("swap: got %v, want a 412 refusal", err)
				}
				results = apiErr.Checks
			}
			if len(results) != 1 || !strings.Contains(results[0].Detail, tt.wantDetail) {
				t.Fatalf("checks: got %+v, want one with detail %q", results, tt.wantDetail)
			}
			want := "A 127.0.0.2"
			if tt.wantSwap {
				want = "A 127.0.0.3"
			}
			if got := answerText(query(t, addr, "www.example.com.", dns.TypeA)); got != want {
				t.Errorf("www: got %q, want %q", got, want)
			}
			hist, err := c.History(context.Background(), "site", 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSwap != (len(hist) == 1) {
				t.Fatalf("history: got %d entries", len(hist))
			}
			if tt.wantSwap && (hist[0].Forced != tt.force || len(hist[0].Checks) != 1) {
				t.Errorf("history entry: got forced %v checks %+v, want forced %v and the result", hist[0].Forced, hist[0].Checks, tt.force)
			}
			st, err := c.App(context.Background(), "site")
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Checks) != 1 || st.Checks[0].Detail != results[0].Detail {
				t.Errorf("status checks: got %+v, want the gate's", st.Checks)
			}
		})
	}
}

func TestSwapAfterCheckRollsBack(t *testing.T) {
	var swapped atomic.Bool
	staging := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/live" && swapped.Load() {
			http.Error(w, "crashed under load", http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	}
	port := gatePair(t, ok, staging, "")
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when = "before"
http = "/ready"
port = `+strconv.Itoa(port)+`

[[app.check]]
when     = "after"
http     = "/live"
port     = `+strconv.Itoa(port)+`
window   = "5s"
interval = "20ms"
`))
	s, addr, c := startWithClient(t, cfg)

	// The deployment breaks once it serves production.
	s.svc.gates.afterCommit = func() { swapped.Store(true) }
	ch, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann"})
	if err != nil {
		t.Fatalf("swap: %v", err)
	}
	if ch.RolledBack == nil || ch.RolledBack.Actor != "slotdns" || ch.RolledBack.Reason != "automatic rollback: http /live failed: status 502, want 200" {
		t.Fatalf("rolled back: got %+v, want the automatic rollback", ch.RolledBack)
	}
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeA)), "A 127.0.0.2"; got != want {
		t.Errorf("www after the rollback: got %q, want %q", got, want)
	}
	st, err := c.App(context.Background(), "site")
	if err != nil {
		t.Fatal(err)
	}
	if st.LastAutoRollback == nil || st.LastAutoRollback.Seq != 2 || len(st.LastAutoRollback.Checks) != 1 {
		t.Errorf("status: last automatic rollback %+v, want entry 2 with the failed check", st.LastAutoRollback)
	}
}

func TestSwapAfterCheckInBackground(t *testing.T) {
	var swapped atomic.Bool
	staging := func(w http.ResponseWriter, r *http.Request) {
		if swapped.Load() {
			http.Error(w, "gone", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}
	port := gatePair(t, ok, staging, "")
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when     = "after"
http     = "/live"
port     = `+strconv.Itoa(port)+`
window   = "10s"
interval = "20ms"
`))
	_, addr, c := startWithClient(t, cfg)
	if _, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann", NoWaitChecks: true}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeA)), "A 127.0.0.3"; got != want {
		t.Errorf("www right after the swap: got %q, want %q", got, want)
	}
	swapped.Store(true)
	eventually(t, "automatic rollback served", func() bool {
		return answerText(query(t, addr, "www.example.com.", dns.TypeA)) == "A 127.0.0.2"
	})
}

func TestSwapRefusedDuringGate(t *testing.T) {
	slow, entered, release := heldHandler()
	port := gatePair(t, ok, slow, "")
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when    = "before"
http    = "/healthz"
port    = `+strconv.Itoa(port)+`
timeout = "30s"
`))
	_, addr, c := startWithClient(t, cfg)

	first := make(chan error, 1)
	go func() {
		_, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann", Reason: "release 42"})
		first <- err
	}()
	<-entered
	// The gate holds no lock that DNS or status needs.
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeA)), "A 127.0.0.2"; got != want {
		t.Errorf("www during the gate: got %q, want %q", got, want)
	}
	if _, err := c.App(context.Background(), "site"); err != nil {
		t.Errorf("status during the gate: %v", err)
	}
	_, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "bob"})
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `a swap by ann ("release 42") is running its checks since`) {
		t.Errorf("second swap: got %v, want a conflict naming the first", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first swap: %v", err)
	}
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeA)), "A 127.0.0.3"; got != want {
		t.Errorf("www after the gate: got %q, want %q", got, want)
	}
}

func TestSwapGateChangeDuringGate(t *testing.T) {
	slow, entered, release := heldHandler()
	port := gatePair(t, ok, slow, "")
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when = "before"
http = "/healthz"
port = `+strconv.Itoa(port)+`
`))
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	first := make(chan error, 1)
	go func() {
		_, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann"})
		first <- err
	}()
	<-entered
	// Staging changes while its old target is being checked.
	if _, err := c.Set(context.Background(), "site", "staging", SetRequest{Target: "127.0.0.4", Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-first; !errors.Is(err, store.ErrConflict) {
		t.Errorf("swap: got %v, want a conflict: the checked target is no longer staging's", err)
	}
}

func TestSwapCommandCheckEnv(t *testing.T) {
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when    = "before"
command = ["./env.sh"]
`))
	dir := filepath.Dir(cfg.Path)
	out := filepath.Join(dir, "env.out")
	script := "#!/bin/sh\necho \"$SLOTDNS_APP $SLOTDNS_SLOT $SLOTDNS_FROM $SLOTDNS_TO\" > " + out + "\n"
	if err := os.WriteFile(filepath.Join(dir, "env.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	if _, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann"}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "site staging 127.0.0.2 127.0.0.3\n"; string(got) != want {
		t.Errorf("environment: got %q, want %q", got, want)
	}
}

func TestSwapGateHostnameTarget(t *testing.T) {
	var hosts atomic.Value
	staging := func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host)
		w.Write([]byte("ok"))
	}
	port := gatePair(t, ok, staging, "")
	// Staging's target is a name in our zones: the check asks the
	// served snapshot for its address, not the system's resolver.
	config := strings.Replace(gateConfig(`
[[app.check]]
when = "before"
http = "/healthz"
port = `+strconv.Itoa(port)+`
`), `target = "127.0.0.3"`, `target = "green.deploy.test."`, 1)
	path := writeConfig(t, config)
	zone := strings.Replace(testDeployZone, "green  IN A   198.51.100.20", "green  IN A   127.0.0.3", 1)
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "deploy.test.zone"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfigAt(t, path)
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	ch, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann"})
	if err != nil {
		t.Fatalf("swap: %v", err)
	}
	wantTarget := "127.0.0.3:" + strconv.Itoa(port)
	if len(ch.Checks) != 1 || !ch.Checks[0].Pass || ch.Checks[0].Target != wantTarget {
		t.Errorf("checks: got %+v, want a pass from %s", ch.Checks, wantTarget)
	}
	if got, want := hosts.Load(), "example.com:"+strconv.Itoa(port); got != want {
		t.Errorf("Host header: got %v, want %q", got, want)
	}
}

func TestShutdownEndsAfterWindows(t *testing.T) {
	port := gatePair(t, ok, ok, "")
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when     = "after"
http     = "/live"
port     = `+strconv.Itoa(port)+`
window   = "1h"
interval = "10ms"
`))
	s := startServer(t, cfg)
	windowOpen := make(chan struct{}, 2)
	s.svc.gates.afterCommit = func() { windowOpen <- struct{}{} }
	c := NewClient(cfg.Control)
	defer c.Close()
	if _, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "ann", NoWaitChecks: true}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := c.Swap(context.Background(), "site", SwapRequest{Actor: "bob"})
		waiting <- err
	}()
	<-windowOpen
	<-windowOpen
	// Both windows, the one in the background and the one a swap waits
	// for, end with the server; neither rolls back.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-waiting; err != nil {
		t.Errorf("waiting swap: got %v, want its change", err)
	}
}

func TestSwapForcedButAbandoned(t *testing.T) {
	port := gatePair(t, ok, ok, "")
	cfg := loadTestConfig(t, gateConfig(`
[[app.check]]
when = "before"
http = "/healthz"
port = `+strconv.Itoa(port)+`
`))
	s := startServer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Checks that failed because the caller left are no reason to force.
	if _, err := s.svc.Swap(ctx, "site", SwapRequest{Actor: "ann", Force: true}); err == nil || !strings.Contains(err.Error(), "abandoned during its checks") {
		t.Errorf("swap: got %v, want it abandoned", err)
	}
	if hist, err := s.svc.History(context.Background(), "site", 0); err != nil || len(hist) != 0 {
		t.Errorf("history: got %d entries (%v), want none", len(hist), err)
	}
}
