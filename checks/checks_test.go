package checks

import (
	"context"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/zones"
)

var at2 = zones.Target{Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}

func runOne(c config.Check, run Target) (res struct {
	Pass           bool
	Detail, Output string
	Attempts       int
	Target, Error  string
}) {
	got := Run(context.Background(), clock.Real, []config.Check{c}, run)[0]
	res.Pass, res.Detail, res.Output, res.Attempts, res.Target, res.Error = got.Pass, got.Detail, got.Output, got.Attempts, got.Target, got.Error
	return res
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	hanging, _, release := testkit.Held()
	t.Cleanup(release)
	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc
		kind, cert string
		skipVerify bool
		wantPass   bool
		wantDetail string
	}{
		{"healthy", func(w http.ResponseWriter, r *http.Request) {
			if r.Host != "example.com" && !strings.HasPrefix(r.Host, "example.com:") {
				http.Error(w, "unknown host "+r.Host, http.StatusMisdirectedRequest)
				return
			}
			w.Write([]byte("ok"))
		}, "http", "", false, true, "status 200"},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "database down", 500) }, "http", "", false, false, "status 500, want 200"},
		{"hang", hanging, "http", "", false, false, "no answer within 300ms (timeout)"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/login", http.StatusFound) }, "http", "", false, false, "status 302, want 200"},
		{"certificate for the production name", testkit.OK, "https", "example.com", false, true, "status 200"},
		{"certificate for another name", testkit.OK, "https", "other.example.net", false, false, "certificate"},
		{"another name, verification off", testkit.OK, "https", "other.example.net", true, true, "status 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := testkit.Deployment(t, tc.handler, tc.cert)
			c := config.Check{Name: tc.kind + " /healthz", When: "before", Kind: tc.kind, Path: "/healthz", Port: port,
				Status: []int{200}, Timeout: 300 * time.Millisecond, Interval: 10 * time.Millisecond, InsecureSkipVerify: tc.skipVerify}
			got := runOne(c, Target{App: "site", Slot: "staging", Target: at2, Host: "example.com", TLSRoots: testkit.CA()})
			if got.Pass != tc.wantPass || !strings.Contains(got.Detail, tc.wantDetail) {
				t.Errorf("pass %v, detail %q (error %q); want pass %v, detail containing %q", got.Pass, got.Detail, got.Error, tc.wantPass, tc.wantDetail)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	port := testkit.Deployment(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
		}
	}, "")
	c := config.Check{Name: "http /", Kind: "http", Path: "/", Port: port, Status: []int{200}, Timeout: time.Second, Interval: time.Hour, Retries: 2}
	// The retries wait an hour each, on a fake clock that a goroutine
	// moves on as soon as the check waits.
	clk := clock.NewFake(time.Unix(0, 0))
	stop := clk.AutoAdvance(time.Hour)
	got := Run(context.Background(), clk, []config.Check{c}, Target{Target: at2, Host: "example.com"})[0]
	stop()
	if !got.Pass || got.Attempts != 3 {
		t.Errorf("pass %v after %d attempts (%s); want a pass at attempt 3", got.Pass, got.Attempts, got.Detail)
	}
}

func TestCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "check.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$SLOTDNS_APP $SLOTDNS_SLOT $SLOTDNS_FROM $SLOTDNS_TO\"\n[ \"$SLOTDNS_APP\" = site ]\n"), 0o755)
	sleeper := filepath.Join(dir, "sleep.sh")
	os.WriteFile(sleeper, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	for _, tc := range []struct {
		name, command, app     string
		wantPass               bool
		wantOutput, wantDetail string
	}{
		{"sees the environment", script, "site", true, "site staging 192.0.2.1 192.0.2.2\n", "exit status 0"},
		{"exit 1 fails", script, "other", false, "other staging 192.0.2.1 192.0.2.2\n", "exit status 1"},
		{"timeout kills it", sleeper, "site", false, "", "killed after 200ms (timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Check{Name: "command", Kind: "command", Command: []string{tc.command}, Timeout: 200 * time.Millisecond}
			got := runOne(c, Target{App: tc.app, Slot: "staging", From: "192.0.2.1", To: "192.0.2.2"})
			if got.Pass != tc.wantPass || got.Output != tc.wantOutput || got.Detail != tc.wantDetail {
				t.Errorf("pass %v, output %q, detail %q; want %v, %q, %q", got.Pass, got.Output, got.Detail, tc.wantPass, tc.wantOutput, tc.wantDetail)
			}
		})
	}
}

func TestEveryAddress(t *testing.T) {
	t.Parallel()
	port := testkit.Deployments(t, testkit.OK, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "half broken", http.StatusServiceUnavailable)
	}, "")
	c := config.Check{Name: "http /", Kind: "http", Path: "/", Port: port, Status: []int{200}, Timeout: time.Second}
	for _, tc := range []struct {
		name, target, wantTarget string
		wantPass                 bool
	}{
		{"one healthy address", "127.0.0.2", "127.0.0.2:" + strconv.Itoa(port), true},
		{"a failing address among them", "127.0.0.2, 127.0.0.3", "127.0.0.3:" + strconv.Itoa(port), false},
	} {
		target, err := zones.ParseTarget(tc.target)
		if err != nil {
			t.Fatal(err)
		}
		got := runOne(c, Target{Target: target, Host: "example.com"})
		if got.Pass != tc.wantPass || got.Target != tc.wantTarget {
			t.Errorf("%s: pass %v from %s (%s); want %v from %s", tc.name, got.Pass, got.Target, got.Detail, tc.wantPass, tc.wantTarget)
		}
	}
}
