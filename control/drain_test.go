package control

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/store"
)

// drainConfig is a config with one app in zone whose slots are given as
// TOML lines, with the app's TTL.
func drainConfig(zone string, ttl int, slots string) string {
	// testConfig's server and zones, without its app.
	head, _, _ := strings.Cut(testConfig, "[[app]]")
	return head + fmt.Sprintf(`[[app]]
name = "app"
zone = %q
ttl  = %d
%s`, zone, ttl, slots)
}

const dualStackSlots = `
[app.slots.production]
names  = ["app"]
target = "198.51.100.1, 2001:db8::1"

[app.slots.staging]
names  = ["stage-app"]
target = "198.51.100.2, 2001:db8::2"
`

const ipv4Slots = `
[app.slots.production]
names  = ["app"]
target = "192.0.2.7"

[app.slots.staging]
names  = ["stage-app"]
target = "192.0.2.8"
`

// apexSlots has the apex alone, so that its TTL is the only one served.
const apexSlots = `
[app.slots.production]
names  = ["@"]
target = "blue.deploy.test."
`

func TestServedAnswersTTL(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   uint32
	}{
		{"slot answers with the app's TTL", drainConfig("deploy.test.", 30, dualStackSlots), 30},
		// example.com.'s SOA: TTL 3600, MINIMUM 300.
		{"AAAA NODATA at an IPv4-only target counts min(SOA TTL, MINIMUM)", drainConfig("example.com.", 30, ipv4Slots), 300},
		// blue.deploy.test. has A and AAAA with TTL 60.
		{"apex alias below the target's TTL", drainConfig("deploy.test.", 30, apexSlots), 30},
		{"apex alias capped by the target's TTL", drainConfig("deploy.test.", 90, apexSlots), 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadTestConfig(t, tt.config)
			local, err := OpenLocal(cfg, discard())
			if err != nil {
				t.Fatal(err)
			}
			defer local.Close()
			app, _ := cfg.App("app")
			if _, got := servedAnswers(local.current.Load(), app); got != tt.want {
				t.Errorf("longest TTL served: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRetire(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	type step struct {
		digest string
		ttl    uint32
		at     time.Time
	}
	tests := []struct {
		name  string
		steps []step
		want  time.Time // DrainedAt after the last step
	}{
		{"first answers drain nothing", []step{{"a", 30, t0}}, time.Time{}},
		// Every expiry has cacheSecond (1s) added.
		{"TTL 30, then a change", []step{{"a", 30, t0}, {"b", 30, sec(5)}}, sec(36)},
		{"TTL lowered 8 to 2 just before a change", []step{{"a", 8, t0}, {"a", 2, sec(1)}, {"b", 2, sec(2)}}, sec(10)},
		{"TTL lowered long before a change", []step{{"a", 8, t0}, {"a", 2, sec(1)}, {"b", 2, sec(100)}}, sec(103)},
		{"a second change keeps the first one's later instant", []step{{"a", 300, t0}, {"b", 2, sec(1)}, {"c", 2, sec(2)}}, sec(302)},
		{"same answers republished drain nothing new", []step{{"a", 30, t0}, {"b", 30, sec(1)}, {"b", 30, sec(60)}}, sec(32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st store.DrainState
			for _, s := range tt.steps {
				st = retire(st, s.digest, s.ttl, s.at)
			}
			if !st.DrainedAt.Equal(tt.want) {
				t.Errorf("drained at: got %v, want %v", st.DrainedAt, tt.want)
			}
		})
	}
}

// A swap on a running server drains after the TTL served before it; status
// says it is draining until then, and the history entry keeps the instant.
func TestDrainClockSwap(t *testing.T) {
	cfg := loadTestConfig(t, drainConfig("deploy.test.", 1, dualStackSlots))
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	ctx := context.Background()
	ch, err := c.Swap(ctx, "app", SwapRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if earliest := ch.Time.Add(time.Second); ch.DrainedAt.Before(earliest) {
		t.Errorf("drained_at: got %v, want not before %v", ch.DrainedAt, earliest)
	}
	hist, err := c.History(ctx, "app", 1)
	if err != nil || len(hist) != 1 || !hist[0].DrainedAt.Equal(ch.DrainedAt) {
		t.Errorf("history: got %+v (err %v), want drained_at %v", hist, err, ch.DrainedAt)
	}
	st, err := c.App(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if !st.DrainedAt.Equal(ch.DrainedAt) || (!st.Draining && time.Now().Before(ch.DrainedAt)) {
		t.Errorf("status: got drained_at %v draining %v, want %v and draining before it", st.DrainedAt, st.Draining, ch.DrainedAt)
	}
	eventually(t, "status says drained", func() bool {
		st, err := c.App(ctx, "app")
		return err == nil && !st.Draining
	})
	if time.Now().Before(ch.DrainedAt) {
		t.Errorf("status said drained before %v", ch.DrainedAt)
	}
}

// A TTL lowered from 8s to 2s across a restart: the swap right after still
// waits out the 8s answers the previous process handed out.
func TestDrainClockTTLLoweredAcrossRestart(t *testing.T) {
	path := writeConfig(t, drainConfig("deploy.test.", 8, dualStackSlots))
	runBeforeRestart(t, path, nil)
	writeFile(t, path, drainConfig("deploy.test.", 2, dualStackSlots))
	cfg := loadConfigAt(t, filepath.Clean(path))
	restarted := time.Now().Truncate(time.Second)
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	ch, err := c.Swap(context.Background(), "app", SwapRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if earliest := restarted.Add(8 * time.Second); ch.DrainedAt.Before(earliest) {
		t.Errorf("drained_at: got %v, want not before %v (the 8s answers served before the restart)", ch.DrainedAt, earliest)
	}
}
