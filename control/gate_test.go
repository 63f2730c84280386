package control

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// gateConfig is the test site with production on 127.0.0.2 and staging
// on 127.0.0.3 (see testkit.Deployments), with checks appended.
func gateConfig(checks string) string {
	return strings.NewReplacer(
		`target = "blue.deploy.test."`, `target = "127.0.0.2"`,
		`target = "green.deploy.test."`, `target = "127.0.0.3"`,
	).Replace(testkit.SiteConfig) + checks
}

func check(when, kind, path string, port int, extra string) string {
	return "\n[[app.check]]\nwhen = \"" + when + "\"\n" + kind + " = \"" + path + "\"\nport = " + strconv.Itoa(port) + "\n" + extra
}

func failing(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "database down", http.StatusInternalServerError)
}

func TestSwapGate(t *testing.T) {
	t.Parallel()
	hanging, _, release := testkit.Held()
	t.Cleanup(release)
	for _, tc := range []struct {
		name           string
		staging        http.HandlerFunc
		scheme, cert   string
		force, swapped bool
		wantDetail     string
	}{
		{"healthy", testkit.OK, "http", "", false, true, "status 200"},
		{"500 refuses", failing, "http", "", false, false, "status 500, want 200"},
		{"hang times out", hanging, "http", "", false, false, "no answer within 300ms (timeout)"},
		{"certificate for the production name", testkit.OK, "https", "example.com", false, true, "status 200"},
		{"certificate for another name refuses", testkit.OK, "https", "wrong.example.net", false, false, "certificate"},
		{"force goes through", failing, "http", "", true, true, "status 500, want 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := testkit.Deployments(t, testkit.OK, tc.staging, tc.cert)
			st := startSite(t, gateConfig(check("before", tc.scheme, "/healthz", port, `timeout = "300ms"`)), Options{TLSRoots: testkit.CA()})
			ch, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann", Force: tc.force})
			results := ch.Checks
			if tc.swapped {
				if err != nil {
					t.Fatalf("swap: %v", err)
				}
				if ch.Forced != tc.force {
					t.Errorf("forced: got %v, want %v", ch.Forced, tc.force)
				}
			} else {
				e, ok := errors.AsType[*api.Error](err)
				if !ok || e.Kind != api.KindCheckFailed {
					t.Fatalf("swap: got %v, want refused by its checks", err)
				}
				results = e.Checks
			}
			if len(results) != 1 || !strings.Contains(results[0].Detail, tc.wantDetail) {
				t.Fatalf("checks: got %+v, want one with detail %q", results, tc.wantDetail)
			}
			want := map[bool]string{false: "A 127.0.0.2", true: "A 127.0.0.3"}[tc.swapped]
			if got := st.answer("www.example.com.", dns.TypeA); got != want {
				t.Errorf("www: got %q, want %q", got, want)
			}
			hist, _ := st.c.History(context.Background(), "site", 0)
			if tc.swapped != (len(hist) == 1) || tc.swapped && (hist[0].Forced != tc.force || len(hist[0].Checks) != 1) {
				t.Errorf("history: got %+v", hist)
			}
			app, _ := st.c.App(context.Background(), "site")
			if len(app.Checks) != 1 || app.Checks[0].Detail != results[0].Detail {
				t.Errorf("status checks: got %+v, want the gate's", app.Checks)
			}
		})
	}
}

func TestAfterCheckRollsBack(t *testing.T) {
	t.Parallel()
	// The new deployment is ready, but fails once it serves production.
	staging := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/live" {
			http.Error(w, "crashed under load", http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	}
	port := testkit.Deployments(t, testkit.OK, staging, "")
	opts, clk := fakeClock()
	st := startSite(t, gateConfig(check("before", "http", "/ready", port, "")+check("after", "http", "/live", port, "window = \"60s\"\ninterval = \"5s\"\n")), opts)
	defer clk.AutoAdvance(5 * time.Second)()
	ch := st.swap(api.SwapRequest{Actor: "ann"})
	if rb := ch.RolledBack; rb == nil || rb.Actor != "slotdns" || rb.Reason != "automatic rollback: http /live failed: status 502, want 200" {
		t.Fatalf("rolled back: got %+v, want the automatic rollback", ch.RolledBack)
	}
	if got := st.answer("www.example.com.", dns.TypeA); got != "A 127.0.0.2" {
		t.Errorf("www after the rollback: got %q", got)
	}
	app, _ := st.c.App(context.Background(), "site")
	if app.LastAutoRollback == nil || app.LastAutoRollback.Seq != 2 || len(app.LastAutoRollback.Checks) != 1 {
		t.Errorf("status: last automatic rollback %+v, want entry 2 with the failed check", app.LastAutoRollback)
	}
}

// TestAfterWindowPassesOnTheFakeClock: a whole 60s window, watched every
// 10s, costs no real time.
func TestAfterWindowPassesOnTheFakeClock(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, testkit.OK, "")
	opts, clk := fakeClock()
	st := startSite(t, gateConfig(check("after", "http", "/live", port, "window = \"60s\"\ninterval = \"10s\"\n")), opts)
	defer clk.AutoAdvance(10 * time.Second)()
	start := time.Now()
	ch := st.swap(api.SwapRequest{Actor: "ann"})
	if ch.RolledBack != nil || ch.Superseded != nil || len(ch.AfterChecks) != 1 || !ch.AfterChecks[0].Pass {
		t.Errorf("swap: got %+v, want its window passed", ch)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the window took %s of real time", took)
	}
}

func TestAfterCheckInBackground(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, failing, "")
	opts, clk := fakeClock()
	st := startSite(t, gateConfig(check("after", "http", "/live", port, "window = \"60s\"\ninterval = \"1s\"\n")), opts)
	defer clk.AutoAdvance(time.Second)()
	if _, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann", NoWaitChecks: true}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	testkit.Eventually(t, "automatic rollback served", func() bool {
		return st.answer("www.example.com.", dns.TypeA) == "A 127.0.0.2"
	})
}

// TestSwapDuringAnotherSwapsWindow: the second swap is refused naming
// the first; a set meanwhile supersedes the first, which then says so.
func TestSwapDuringAnotherSwapsWindow(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, testkit.OK, "")
	opts, clk := fakeClock()
	st := startSite(t, gateConfig(check("after", "http", "/live", port, "window = \"60s\"\ninterval = \"10s\"\n")), opts)
	first := make(chan api.Change, 1)
	go func() {
		ch, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann", Reason: "release 42"})
		if err != nil {
			t.Error(err)
		}
		first <- ch
	}()
	// The first swap waits out its first interval.
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("the first swap's window never waited")
	}
	_, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "bob"})
	if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), `a swap by `+socketActor(t)+` ("release 42") is watched by its "after" checks until`) {
		t.Errorf("second swap: got %v, want a conflict naming the first", err)
	}
	if _, err := st.c.Set(context.Background(), "site", "staging", api.SetRequest{Target: "127.0.0.4", Actor: "bob"}); err != nil {
		t.Fatalf("set during the window: %v", err)
	}
	clk.Advance(10 * time.Second)
	ch := <-first
	if ch.Superseded == nil || ch.Superseded.Seq != 2 || ch.Superseded.Kind != "set" || ch.RolledBack != nil {
		t.Errorf("first swap: got superseded %+v, rolled back %+v; want superseded by #2", ch.Superseded, ch.RolledBack)
	}
}

func TestSwapRefusedDuringGate(t *testing.T) {
	t.Parallel()
	slow, entered, release := testkit.Held()
	port := testkit.Deployments(t, testkit.OK, slow, "")
	st := startSite(t, gateConfig(check("before", "http", "/healthz", port, `timeout = "30s"`)), Options{})
	first := make(chan error, 1)
	go func() {
		_, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann", Reason: "release 42"})
		first <- err
	}()
	<-entered
	// The gate holds no lock that DNS or status needs.
	if got := st.answer("www.example.com.", dns.TypeA); got != "A 127.0.0.2" {
		t.Errorf("www during the gate: got %q", got)
	}
	if _, err := st.c.App(context.Background(), "site"); err != nil {
		t.Errorf("status during the gate: %v", err)
	}
	_, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "bob"})
	if !errors.Is(err, api.ErrConflict) || !strings.Contains(err.Error(), `a swap by `+socketActor(t)+` ("release 42") is running its checks since`) {
		t.Errorf("second swap: got %v, want a conflict naming the first", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatalf("first swap: %v", err)
	}
	if got := st.answer("www.example.com.", dns.TypeA); got != "A 127.0.0.3" {
		t.Errorf("www after the gate: got %q", got)
	}
}

func TestChangeDuringGateIsNotLost(t *testing.T) {
	t.Parallel()
	slow, entered, release := testkit.Held()
	port := testkit.Deployments(t, testkit.OK, slow, "")
	st := startSite(t, gateConfig(check("before", "http", "/healthz", port, "")), Options{})
	first := make(chan error, 1)
	go func() {
		_, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann"})
		first <- err
	}()
	<-entered
	// Staging changes while its old target is being checked.
	if _, err := st.c.Set(context.Background(), "site", "staging", api.SetRequest{Target: "127.0.0.4", Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-first; !errors.Is(err, api.ErrConflict) {
		t.Errorf("swap: got %v, want a conflict: the checked target is no longer staging's", err)
	}
}

func TestCommandCheckEnvironment(t *testing.T) {
	t.Parallel()
	st := startSite(t, gateConfig("\n[[app.check]]\nwhen = \"before\"\ncommand = [\"./env.sh\"]\n"), Options{})
	dir := filepath.Dir(st.path)
	out := filepath.Join(dir, "env.out")
	os.WriteFile(filepath.Join(dir, "env.sh"), []byte("#!/bin/sh\necho \"$SLOTDNS_APP $SLOTDNS_SLOT $SLOTDNS_FROM $SLOTDNS_TO\" > "+out+"\n"), 0o755)
	st.swap(api.SwapRequest{Actor: "ann"})
	if got := testkit.ReadFile(t, out); got != "site staging 127.0.0.2 127.0.0.3\n" {
		t.Errorf("environment: got %q", got)
	}
}

func TestGateAsksOurZonesForHostnameTargets(t *testing.T) {
	t.Parallel()
	var host chan string = make(chan string, 4)
	port := testkit.Deployments(t, testkit.OK, func(w http.ResponseWriter, r *http.Request) {
		host <- r.Host
		w.Write([]byte("ok"))
	}, "")
	// Staging's target is a name in our zones: the check asks the
	// served snapshot for its address, not the system's resolver.
	cfg := strings.Replace(gateConfig(check("before", "http", "/healthz", port, "")), `target = "127.0.0.3"`, `target = "green.deploy.test."`, 1)
	path := testkit.Site(t, cfg)
	testkit.WriteFile(t, filepath.Join(filepath.Dir(path), "deploy.test.zone"), strings.Replace(testkit.DeployZone, "green  IN A   198.51.100.20", "green  IN A   127.0.0.3", 1))
	st := &site{t: t, path: path}
	st.start()
	ch := st.swap(api.SwapRequest{Actor: "ann"})
	if want := "127.0.0.3:" + strconv.Itoa(port); len(ch.Checks) != 1 || !ch.Checks[0].Pass || ch.Checks[0].Target != want {
		t.Errorf("checks: got %+v, want a pass from %s", ch.Checks, want)
	}
	if got, want := <-host, "example.com:"+strconv.Itoa(port); got != want {
		t.Errorf("Host header: got %q, want %q", got, want)
	}
}

func TestShutdownEndsAfterWindows(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, testkit.OK, "")
	opts, clk := fakeClock()
	st := startSite(t, gateConfig(check("after", "http", "/live", port, "window = \"1h\"\ninterval = \"10s\"\n")), opts)
	if _, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann", NoWaitChecks: true}); err != nil {
		t.Fatalf("swap: %v", err)
	}
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("the window never waited")
	}
	// The window ends with the server, without rolling back.
	st.stop()
	st.start()
	if got := st.answer("www.example.com.", dns.TypeA); got != "A 127.0.0.3" {
		t.Errorf("www after the restart: got %q, want the swap kept", got)
	}
}

func TestAbandonedGateDoesNotForce(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, testkit.OK, "")
	st := startSite(t, gateConfig(check("before", "http", "/healthz", port, "")), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Checks that failed because the caller left are no reason to force.
	if _, err := st.s.svc.Swap(ctx, "site", api.SwapRequest{Actor: "ann", Force: true}); err == nil || !strings.Contains(err.Error(), "abandoned during its checks") {
		t.Errorf("swap: got %v, want it abandoned", err)
	}
	if hist, _ := st.c.History(context.Background(), "site", 0); len(hist) != 0 {
		t.Errorf("history: got %d entries, want none", len(hist))
	}
}

func TestRollbackToGate(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, failing, "")
	st := startSite(t, gateConfig(check("before", "http", "/healthz", port, "")), Options{})
	// Staging (127.0.0.3) fails its checks: the swap is forced; then set
	// back by hand; rollback --to the forced entry is gated again.
	st.swap(api.SwapRequest{Actor: "ann", Force: true})
	if _, err := st.c.Rollback(context.Background(), "site", api.RollbackRequest{Actor: "ann"}); err != nil {
		t.Fatal(err)
	}
	_, err := st.c.Rollback(context.Background(), "site", api.RollbackRequest{Actor: "bob", To: 1})
	if e, ok := errors.AsType[*api.Error](err); !ok || e.Kind != api.KindCheckFailed || len(e.Checks) != 1 {
		t.Fatalf("rollback --to 1: got %v, want refused by its checks", err)
	}
	ch, err := st.c.Rollback(context.Background(), "site", api.RollbackRequest{Actor: "bob", To: 1, Force: true})
	if err != nil || !ch.Forced || ch.Reason != "back to #1" || ch.After["production"] != "127.0.0.3" {
		t.Errorf("forced rollback --to 1: got %+v, %v", ch, err)
	}
}

// TestShutdownDuringGate: a server stopped while a swap runs its checks
// ends the request with an error; the swap is not half made, and a
// restart serves what was committed (TestShutdownWaitsForRequests shows
// the order of the shutdown).
func TestShutdownDuringGate(t *testing.T) {
	t.Parallel()
	slow, entered, release := testkit.Held()
	t.Cleanup(release)
	port := testkit.Deployments(t, testkit.OK, slow, "")
	st := startSite(t, gateConfig(check("before", "http", "/healthz", port, `timeout = "30s"`)), Options{})
	swapped := make(chan error, 1)
	go func() {
		_, err := st.c.Swap(context.Background(), "site", api.SwapRequest{Actor: "ann"})
		swapped <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st.s.Shutdown(ctx) // reports the request it had to cut
	st.s = nil
	if err := <-swapped; err == nil {
		t.Error("the swap cut by the shutdown reported success")
	}
	if strings.Contains(st.logged.String(), "panic") {
		t.Errorf("the shutdown logged a panic:\n%s", st.logged)
	}
	st.start()
	if got := st.answer("www.example.com.", dns.TypeA); got != "A 127.0.0.2" {
		t.Errorf("www after the restart: got %q, want the production it had", got)
	}
	if h, err := st.c.History(context.Background(), "site", 0); err != nil || len(h) != 0 {
		t.Errorf("history after the restart: %v, %v, want no entry", h, err)
	}
}
