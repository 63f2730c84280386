package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/control"
)

func TestPrintDrain(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 31, 53, 500e6, time.Local)
	tests := []struct {
		name      string
		drainedAt time.Time
		want      string
	}{
		{"counting down, rounded up", now.Add(11500 * time.Millisecond), "  draining: old answers expire in 12s (at 14:32:05)\n"},
		{"past", now.Add(-time.Second), "  drained\n"},
		{"never changed", time.Time{}, "  drained\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printDrain(&b, control.AppStatus{DrainedAt: tt.drainedAt}, now)
			if got := b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDrainBar(t *testing.T) {
	since := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	at := since.Add(20 * time.Second)
	tests := []struct {
		now  time.Time
		want string
	}{
		{since, "draining [..............................]  20s left"},
		{since.Add(10 * time.Second), "draining [###############...............]  10s left"},
		{at, "draining [##############################]   0s left"},
	}
	for _, tt := range tests {
		if got := drainBar(since, at, tt.now); got != tt.want {
			t.Errorf("at %v: got %q, want %q", tt.now, got, tt.want)
		}
	}
}

const drainZone = `$ORIGIN drain.test.
$TTL 1
@      IN SOA ns1 hostmaster 1 3600 600 1209600 1
@      IN NS  ns1
ns1    IN A   192.0.2.53
`

// drainTestConfig has app "fast" served with TTL 1 and "slow" with TTL 60,
// each with two dual-stack slots, so no negative answer counts.
const drainTestConfig = `listen  = ["%s"]

[[zone]]
origin = "drain.test."
file   = "drain.test.zone"

[[app]]
name = "fast"
zone = "drain.test."
ttl  = 1

[app.slots.production]
names  = ["fast"]
target = "198.51.100.1, 2001:db8::1"

[app.slots.staging]
names  = ["fast-stage"]
target = "198.51.100.2, 2001:db8::2"

[[app]]
name = "slow"
zone = "drain.test."
ttl  = 60

[app.slots.production]
names  = ["slow"]
target = "198.51.100.3, 2001:db8::3"

[app.slots.staging]
names  = ["slow-stage"]
target = "198.51.100.4, 2001:db8::4"
`

func writeDrainConfig(t *testing.T) string {
	t.Helper()
	return writeConfigDir(t, map[string]string{
		"drain.test.zone": drainZone,
		"slotdns.toml":    fmt.Sprintf(drainTestConfig, freePort(t)),
	})
}

// status counts down after a swap; swap --wait returns once the old answers
// have expired, not before.
func TestDrainStatusAndWait(t *testing.T) {
	config := writeDrainConfig(t)
	t.Setenv("SLOTDNS_CONFIG", config)
	serveInBackground(t, config)

	if got := runCLI(t, "status", "slow"); got.code != 0 || !strings.Contains(got.stdout, "  drained\n") {
		t.Errorf("status before any change: exit %d\n%s\nwant \"drained\"", got.code, got.stdout)
	}
	if got := runCLI(t, "swap", "slow"); got.code != 0 {
		t.Fatalf("swap slow: exit %d: %s", got.code, got.stderr)
	}
	got := runCLI(t, "status", "slow")
	if !strings.Contains(got.stdout, "  draining: old answers expire in ") {
		t.Errorf("status after a swap with TTL 60: got\n%s\nwant it draining", got.stdout)
	}
	got = runCLI(t, "status", "slow", "--json")
	var st struct {
		DrainedAt time.Time `json:"drained_at"`
		Draining  bool      `json:"draining"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &st); err != nil || !st.Draining || st.DrainedAt.IsZero() {
		t.Errorf("status --json: got %s (%v), want draining with drained_at", got.stdout, err)
	}

	got = runCLI(t, "swap", "fast", "--wait")
	if got.code != 0 {
		t.Fatalf("swap --wait: exit %d: %s", got.code, got.stderr)
	}
	if !strings.Contains(got.stdout, "drained: caches that honour TTLs have dropped the old answer") {
		t.Errorf("swap --wait: got\n%s\nwant the drained line", got.stdout)
	}
	returned := time.Now()
	hist := runCLI(t, "history", "fast", "--json", "--limit", "1")
	var entries []struct {
		DrainedAt time.Time `json:"drained_at"`
	}
	if err := json.Unmarshal([]byte(hist.stdout), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("history: got %s (%v), want one entry", hist.stdout, err)
	}
	if returned.Before(entries[0].DrainedAt) {
		t.Errorf("swap --wait returned at %v, before drained_at %v", returned, entries[0].DrainedAt)
	}

	got = runCLI(t, "swap", "fast", "--wait", "--json")
	returned = time.Now()
	var ch struct {
		DrainedAt time.Time `json:"drained_at"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &ch); err != nil || ch.DrainedAt.IsZero() {
		t.Fatalf("swap --wait --json: got %s (%v), want drained_at", got.stdout, err)
	}
	if returned.Before(ch.DrainedAt) {
		t.Errorf("swap --wait --json returned at %v, before drained_at %v", returned, ch.DrainedAt)
	}
	if strings.Contains(got.stdout, "draining") {
		t.Errorf("swap --wait --json: got %s, want JSON alone", got.stdout)
	}
}
