package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestLoadChecks(t *testing.T) {
	t.Parallel()
	cfg := load(t, testkit.SiteConfig+`
[[app.check]]
when    = "before"
http    = "/healthz"
port    = 8080
retries = 3

[[app.check]]
when    = "before"
command = ["./scripts/schema.sh", "--strict"]

[[app.check]]
when     = "after"
https    = "/ready"
status   = [200, 204]
window   = "10s"
interval = "500ms"
`)
	app, _ := cfg.App("site")
	if len(app.Checks) != 3 {
		t.Fatalf("got %d checks, want 3", len(app.Checks))
	}
	h, c, a := app.Checks[0], app.Checks[1], app.Checks[2]
	if h.Name != "http /healthz" || h.Port != 8080 || h.Retries != 3 || h.Timeout != DefaultCheckTimeout || len(h.Status) != 1 || h.Status[0] != 200 || h.Window != 0 {
		t.Errorf("http check: got %+v", h)
	}
	if c.Kind != "command" || c.Command[0] != filepath.Join(filepath.Dir(cfg.Path), "scripts/schema.sh") || c.Command[1] != "--strict" {
		t.Errorf("command check: got %+v, want the program beside the config", c)
	}
	if a.Kind != "https" || a.Port != 443 || a.Window != 10*time.Second || a.Interval != 500*time.Millisecond || len(a.Status) != 2 {
		t.Errorf("after check: got %+v", a)
	}
	if before, after := app.ChecksAt("before"), app.ChecksAt("after"); len(before) != 2 || before[1].Kind != "command" || len(after) != 1 || after[0].Path != "/ready" {
		t.Errorf("checks at: got before %+v, after %+v", before, after)
	}
}

func TestLoadCheckErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check string
		want  []string // the errors, each a substring
	}{
		{"no kind", "when = \"before\"", []string{":26: app \"site\": check 1: give exactly one of http"}},
		{"two kinds", "when = \"before\"\nhttp = \"/\"\ncommand = [\"true\"]", []string{":26: app \"site\": check 1: give exactly one of http"}},
		{"bad when", "when = \"during\"\nhttp = \"/\"", []string{":27: app \"site\": check 1: when \"during\""}},
		{"relative path", "when = \"before\"\nhttp = \"healthz\"", []string{":28: app \"site\": check 1: http \"healthz\": want a path starting with /"}},
		{"bad timeout", "when = \"before\"\nhttp = \"/\"\ntimeout = \"soon\"", []string{":29: app \"site\": check 1: timeout \"soon\""}},
		{"window before", "when = \"before\"\nhttp = \"/\"\nwindow = \"1m\"", []string{":29: app \"site\": check 1: window: only an \"after\" check"}},
		{"port of a command", "when = \"before\"\ncommand = [\"true\"]\nport = 1", []string{":29: app \"site\": check 1: port: a command check has no port"}},
		{"bad status", "when = \"after\"\nhttp = \"/\"\nstatus = [42]", []string{":29: app \"site\": check 1: status 42"}},
		{"bad retries", "when = \"after\"\nhttp = \"/\"\nretries = 101", []string{":29: app \"site\": check 1: retries 101"}},
		{"unknown key", "when = \"after\"\nhttp = \"/\"\nwhen_ = 1", []string{`:29: unknown key "app.check.when_"`}},
		// A key of the wrong type is one error, not also "give exactly one".
		{"kind of the wrong type", "when = \"before\"\nhttp = 5\nport = \"80\"", []string{
			`:28: key "app.check.http": incompatible types: the value is an integer, want a string`,
			`:29: key "app.check.port": incompatible types: the value is a string, want an integer`,
		}},
		{"status of the wrong type", "when = \"before\"\nhttp = \"/\"\nstatus = 200", []string{
			`:29: key "app.check.status": incompatible types: the value is an integer, want an array of integers; write it as status = [200, 204]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(testkit.Site(t, testkit.SiteConfig+"\n[[app.check]]\n"+tt.check+"\n"))
			got := errorsOf(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d errors", got, len(tt.want))
			}
			for i, want := range tt.want {
				if !strings.Contains(got[i], want) {
					t.Errorf("error %d: got %q, want it to contain %q", i+1, got[i], want)
				}
			}
		})
	}
}
