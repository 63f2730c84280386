package main

import (
	"strings"
	"testing"
)

func TestRollbackTo(t *testing.T) {
	config := writeConfig(t, "127.0.0.1:5353")
	t.Setenv("SLOTDNS_CONFIG", config)
	for _, args := range [][]string{{"swap", "site"}, {"set", "site", "production", "192.0.2.7"}} {
		if got := runCLI(t, args...); got.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, got.code, got.stderr)
		}
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"entry 1", []string{"rollback", "site", "--to", "1"}, 0, "site: rolled back to the slots of #1 (#3 by ", ""},
		{"past the history", []string{"rollback", "site", "--to", "9"}, 1, "", "history entry 9 not found: the app has entries 1 to 3"},
		{"entry 0", []string{"rollback", "site", "--to", "0"}, 2, "", "--to 0"},
		{"force without --to", []string{"rollback", "site", "--force"}, 2, "", "--force goes with --to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, tt.args...)
			if got.code != tt.code || !strings.Contains(got.stdout, tt.stdout) || !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("got exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout with %q, stderr with %q", got.code, got.stdout, got.stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
	got := runCLI(t, "history", "site")
	if !strings.Contains(got.stdout, "back to #1") {
		t.Errorf("history: got\n%s\nwant the reason naming #1", got.stdout)
	}
}
