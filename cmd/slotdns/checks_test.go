package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCheckConfig writes the test config with checks appended and the
// script check.sh beside it.
func writeCheckConfig(t *testing.T, checks, script string) string {
	t.Helper()
	config := writeConfig(t, "127.0.0.1:0")
	dir := filepath.Dir(config)
	if err := os.WriteFile(filepath.Join(dir, "check.sh"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + checks); err != nil {
		t.Fatal(err)
	}
	return config
}

func TestSwapChecks(t *testing.T) {
	const before = "[[app.check]]\nwhen = \"before\"\ncommand = [\"./check.sh\"]\n"
	const after = "[[app.check]]\nwhen = \"after\"\ncommand = [\"./check.sh\"]\nwindow = \"2s\"\ninterval = \"10ms\"\n"
	tests := []struct {
		name     string
		checks   string
		script   string
		args     []string
		code     int
		stdout   []string
		stderr   string
		wantLast string // the kind and actor of the last history entry
	}{
		{"before passes", before, "exit 0\n", nil, 0,
			[]string{"swapped staging and production", "check command ./check.sh (before): pass, exit status 0"}, "", "swap ann"},
		{"before fails", before, "echo schema v7 is not compatible; exit 1\n", nil, 1,
			[]string{"site: swap refused by its checks", "FAIL, exit status 1", "> schema v7 is not compatible"}, `swap "site" refused: check "command ./check.sh" failed`, ""},
		{"before fails, forced", before, "exit 1\n", []string{"--force"}, 0,
			[]string{"swapped staging and production", "forced past the failing checks"}, "", "swap ann"},
		{"after fails", after, "[ \"$SLOTDNS_SLOT\" = production ] && { echo 502 from $SLOTDNS_TO; exit 1; }; exit 0\n", nil, 1,
			[]string{"swapped staging and production", "site: rolled back by slotdns (#2): automatic rollback: command ./check.sh failed: exit status 1",
				"production serves blue.deploy.test. again"}, "", "rollback slotdns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := writeCheckConfig(t, tt.checks, tt.script)
			t.Setenv("SUDO_USER", "")
			t.Setenv("USER", "ann")
			got := runCLI(t, append([]string{"--config", config, "swap", "site"}, tt.args...)...)
			if got.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, tt.code, got.stdout, got.stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("stdout:\n%s\nwant it to contain %q", got.stdout, want)
				}
			}
			if !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("stderr: got %q, want it to contain %q", got.stderr, tt.stderr)
			}
			hist := runCLI(t, "--config", config, "history", "site", "--json")
			if tt.wantLast == "" {
				if !strings.Contains(hist.stdout, "[]") {
					t.Errorf("history: got %s, want none", hist.stdout)
				}
				return
			}
			kind, actor, _ := strings.Cut(tt.wantLast, " ")
			if !strings.Contains(hist.stdout, `"kind": "`+kind+`"`) || !strings.Contains(hist.stdout, `"actor": "`+actor) || !strings.Contains(hist.stdout, `"checks": [`) {
				t.Errorf("history: got %s, want a %s by %s with its checks", hist.stdout, kind, actor)
			}
		})
	}
}
