package integration

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

// TestSwapChecks runs the demo with production on 127.0.0.2 and staging on
// 127.0.0.3, each an HTTP server on one port: staging answers /ready but
// fails /live, so a gate on /live refuses the swap and a gate on /ready
// lets it through, after which the "after" check on /live rolls it back.
func TestSwapChecks(t *testing.T) {
	t.Parallel()
	port := startDeployments(t)
	checks := func(before, after string) func(string) string {
		return func(config string) string {
			config = strings.Replace(config, `target = "serktools-stagetest.cloudapp.test."`, `target = "127.0.0.2"`, 1)
			config = strings.Replace(config, `target = "e7e3f38589d04635a6d0d0aee22bd842.cloudapp.test."`, `target = "127.0.0.3"`, 1)
			config += "\n[[app.check]]\nwhen = \"before\"\nhttp = \"" + before + "\"\nport = " + strconv.Itoa(port) + "\n"
			if after != "" {
				config += "\n[[app.check]]\nwhen = \"after\"\nhttp = \"" + after + "\"\nport = " + strconv.Itoa(port) + "\nwindow = \"5s\"\ninterval = \"50ms\"\n"
			}
			return config
		}
	}

	t.Run("a failing gate refuses", func(t *testing.T) {
		in := newDemo(t, checks("/live", ""))
		in.start()
		r := in.slotdns("swap", "yourwebapp")
		if r.code != 1 || !strings.Contains(r.stdout, "swap refused by its checks") || !strings.Contains(r.stdout, "status 500, want 200") || !strings.Contains(r.stdout, "> staging is broken") {
			t.Errorf("got %v, want exit 1 with the failed check and its body", r)
		}
		if got, want := dig(t, in.port, "www.yourwebapp.com.", "A").addrs("www.yourwebapp.com."), []string{"127.0.0.2"}; !slices.Equal(got, want) {
			t.Errorf("www after the refusal: got %v, want %v", got, want)
		}
	})

	t.Run("a failing after check rolls back", func(t *testing.T) {
		in := newDemo(t, checks("/ready", "/live"))
		in.start()
		r := in.slotdns("swap", "yourwebapp", "--reason", "release 42")
		if r.code != 1 || !strings.Contains(r.stdout, "rolled back by slotdns (#2): automatic rollback: http /live failed: status 500, want 200") {
			t.Errorf("got %v, want exit 1 reporting the automatic rollback", r)
		}
		if got, want := dig(t, in.port, "www.yourwebapp.com.", "A").addrs("www.yourwebapp.com."), []string{"127.0.0.2"}; !slices.Equal(got, want) {
			t.Errorf("www after the rollback: got %v, want %v", got, want)
		}
		var st []struct {
			LastAutoRollback *struct {
				Actor  string `json:"actor"`
				Reason string `json:"reason"`
			} `json:"last_auto_rollback"`
			Checks []struct {
				Name string `json:"name"`
				When string `json:"when"`
				Pass bool   `json:"pass"`
			} `json:"checks"`
		}
		out := in.mustSlotdns("status", "--json").stdout
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		// The last result of each check: the "before" one passed, the
		// "after" one failed.
		if len(st) != 1 || st[0].LastAutoRollback == nil || st[0].LastAutoRollback.Actor != "slotdns" || len(st[0].Checks) != 2 ||
			st[0].Checks[0].When != "before" || !st[0].Checks[0].Pass || st[0].Checks[1].When != "after" || st[0].Checks[1].Pass {
			t.Errorf("status --json: got %s, want the automatic rollback, the passed before check and the failed after check", out)
		}
	})
}

// startDeployments serves production on 127.0.0.2 and staging on
// 127.0.0.3, on one port, and returns it; staging fails /live.
func startDeployments(t *testing.T) int {
	t.Helper()
	return testkit.Deployments(t,
		func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("production ok")) },
		func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/live" {
				http.Error(w, "staging is broken", http.StatusInternalServerError)
				return
			}
			w.Write([]byte("staging ready"))
		}, "")
}
