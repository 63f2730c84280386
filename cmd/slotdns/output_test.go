package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"
)

func TestReorderArgs(t *testing.T) {
	app := newApp(nil, nil)
	for _, tc := range []struct{ in, want string }{
		{"slotdns swap site --reason x --json", "slotdns swap --reason x --json -- site"},
		{"slotdns --config c.toml swap site", "slotdns --config c.toml swap -- site"},
		{"slotdns swap site --config c.toml", "slotdns --config c.toml swap -- site"},
		{"slotdns set site staging t. --expect=u.", "slotdns set --expect=u. -- site staging t."},
		{"slotdns status", "slotdns status"},
		{"slotdns nope a --b", "slotdns nope a --b"},
		{"slotdns swap site --wait-secondaries", "slotdns swap --wait-secondaries= -- site"},
		{"slotdns swap --wait-secondaries site", "slotdns swap --wait-secondaries= -- site"},
		{"slotdns swap site --wait-secondaries 10s --json", "slotdns swap --wait-secondaries=10s --json -- site"},
		{"slotdns forget --zone old.example.", "slotdns forget --zone -- old.example."},
	} {
		if got := strings.Join(reorderArgs(app, strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPrintDrain(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 31, 53, 500e6, time.Local)
	for _, tc := range []struct {
		drainedAt time.Time
		want      string
	}{
		{now.Add(11500 * time.Millisecond), "  draining: old answers expire in 12s (at 14:32:05)\n"},
		{now.Add(-time.Second), "  drained\n"},
		{time.Time{}, "  drained\n"},
	} {
		var b bytes.Buffer
		printDrain(&b, api.AppStatus{DrainedAt: tc.drainedAt}, now)
		if got := b.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestDrainBar(t *testing.T) {
	since := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	at := since.Add(20 * time.Second)
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{since, "draining [..............................]  20s left"},
		{since.Add(10 * time.Second), "draining [###############...............]  10s left"},
		{at, "draining [##############################]   0s left"},
	} {
		if got := drainBar(since, at, tc.now); got != tc.want {
			t.Errorf("at %v: got %q, want %q", tc.now, got, tc.want)
		}
	}
}

// withSecondaries adds secondaries of example.com. at addrs to a config.
func withSecondaries(addrs ...string) func(string) string {
	return func(c string) string {
		zone := "file   = \"example.com.zone\"\n"
		add := zone
		for _, a := range addrs {
			add += "\n[[zone.secondary]]\naddress = \"" + a + "\"\n"
		}
		return strings.Replace(c, zone, add, 1)
	}
}

func TestSecondariesOutput(t *testing.T) {
	follower := testkit.StartSecondary(t, 2026010101, nil)
	stuck := testkit.StartSecondary(t, 2026010101, nil)
	stuck.Follow(false)
	config := site(t, withSecondaries(follower.Addr, stuck.Addr))
	serveInBackground(t, config)
	got := runCLI(t, "--config", config, "swap", "site")
	for _, want := range []string{
		"secondary " + follower.Addr + ": serves 2026010102 after ",
		"secondary " + stuck.Addr + ": still serves 2026010101 after 2s",
	} {
		if got.code != 0 || !strings.Contains(got.stdout, want) {
			t.Errorf("swap: exit %d\n%s\nwant it to contain %q", got.code, got.stdout, want)
		}
	}
	got = runCLI(t, "--config", config, "swap", "site", "--wait-secondaries=300ms", "--json")
	if got.code != 1 || !strings.Contains(got.stdout, "swap of site is done (serial 2026010103), but secondary "+stuck.Addr+" did not serve it within 300ms") {
		t.Errorf("swap --wait-secondaries: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	got = runCLI(t, "--config", config, "status", "site")
	for _, want := range []string{
		"secondary " + follower.Addr + ": serves 2026010103, lag 0; last NOTIFY ",
		"secondary " + stuck.Addr + ": serves 2026010101, lag 2; last NOTIFY ",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("status:\n%s\nwant it to contain %q", got.stdout, want)
		}
	}
	// --wait-secondaries with no server, or a bad duration, change nothing.
	other := site(t, withSecondaries(follower.Addr))
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"swap", "site", "--wait-secondaries=soon"}, 2, "--wait-secondaries=soon: want a duration"},
		{[]string{"swap", "site", "--wait-secondaries"}, 1, "--wait-secondaries: no server runs on "},
	} {
		got := runCLI(t, append([]string{"--config", other}, tc.args...)...)
		if got.code != tc.code || !strings.Contains(got.stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, got.code, got.stderr)
		}
	}
}

func TestReloadCommand(t *testing.T) {
	config := site(t)
	zoneFile := filepath.Join(filepath.Dir(config), "example.com.zone")
	if got := runCLI(t, "--config", config, "reload"); got.code != 0 || !strings.Contains(got.stdout, "nothing to reload") {
		t.Errorf("reload without a server: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	serveInBackground(t, config)
	for _, tc := range []struct {
		name, zone, stdout, stderr string
		code                       int
	}{
		{"unchanged", testkit.ExampleZone, "zone example.com. unchanged (serial 2026010101)", "", 0},
		{"changed", testkit.ExampleZone + "new IN A 192.0.2.99\n", "zone example.com. changed: serial 2026010102 (file serial 2026010101), 0 records removed, 1 added", "", 0},
		{"broken", testkit.ExampleZone + "new IN A nope\n", "zone deploy.test. unchanged", "example.com.zone:9: ", 1},
	} {
		testkit.WriteFile(t, zoneFile, tc.zone)
		got := runCLI(t, "--config", config, "reload")
		if got.code != tc.code || !strings.Contains(got.stdout, tc.stdout) || !strings.Contains(got.stderr, tc.stderr) {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q", tc.name, got.code, got.stdout, got.stderr)
		}
	}
	testkit.WriteFile(t, config, strings.Replace(testkit.ReadFile(t, config), "ttl  = 30", "ttl  = 60", 1))
	got := runCLI(t, "--config", config, "reload", "--json")
	var out struct {
		Server      bool
		NeedRestart []string `json:"need_restart"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &out); err != nil || !out.Server || len(out.NeedRestart) != 1 || !strings.Contains(out.NeedRestart[0], "ttl 30 -> 60") {
		t.Errorf("reload --json: exit %d, %+v (%v)", got.code, out, err)
	}
}

func TestPrintStatusConfigColumn(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	printStatus(&b, api.AppStatus{Name: "site", Stored: true, Slots: []api.SlotStatus{
		{Slot: "production", Target: "blue.", ConfigTarget: "blue."},
		{Slot: "staging", Target: "blue.", ConfigTarget: "green.", Differs: true},
		{Slot: "old", Target: "red."},
	}})
	for _, want := range []string{"blue.   same", "blue.   differs: green.", "red.    not in config, not served"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}

// TestPrintDNSSECStatus: status prints a signed zone's keys, signatures,
// rollover and expected DS with how to compare it, and without a server
// says that the signatures are its to tell.
func TestPrintDNSSECStatus(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.Local)
	d := &api.DNSSECStatus{Zone: "example.com.", Denial: "nsec3",
		Keys: []api.DNSSECKey{
			{Tag: 9997, Algorithm: "ECDSAP256SHA256", Role: "CSK", Use: "published, signs all, in CDS", File: "keys/Kexample.com.+013+09997.private", Created: now.Add(-48 * time.Hour)},
			{Tag: 62499, Algorithm: "ECDSAP256SHA256", Role: "CSK", Use: "published, signs keys", File: "keys/Kexample.com.+013+62499.private", Created: now},
		},
		OldestExpires: now.Add(13*24*time.Hour + 12*time.Hour), NextResign: now.Add(6*24*time.Hour + 12*time.Hour), SignaturesMade: 3,
		Rollover: &api.Rollover{Kind: "csk", Old: 9997, New: 62499, Stage: "published", Next: "ds", Since: now, SafeAt: now.Add(5 * time.Minute),
			Waiting: "DNSKEY RRsets without key 62499 to leave caches (DNSKEY TTL 300s)"},
		DS:      []string{"example.com.\t3600\tIN\tDS\t9997 13 2 EF37"},
		CheckDS: `dig +short DS example.com @"$(dig +short NS com. | head -n 1)", against slotdns dnssec ds example.com`,
	}
	var b bytes.Buffer
	printDNSSECStatus(&b, d, now)
	got := b.String()
	for _, want := range []string{
		"  dnssec: signed, denial nsec3\n",
		"    9997   ECDSAP256SHA256  CSK   published, signs all, in CDS  " + formatTime(now.Add(-48*time.Hour)) + "  keys/Kexample.com.+013+09997.private\n",
		"    62499  ECDSAP256SHA256  CSK   published, signs keys         ",
		"signatures: oldest expires " + formatTime(d.OldestExpires) + " (in 13d12h), next re-sign " + formatTime(d.NextResign) + " (in 6d12h); the last signing made 3\n",
		"key rollover: csk, key 9997 to key 62499, stage published since " + formatTime(now) + "; next ds, safe at " + formatTime(d.Rollover.SafeAt) + " (in 5m), waiting for DNSKEY RRsets",
		"    DS the parent should serve:\n      example.com.\t3600\tIN\tDS\t9997 13 2 EF37\n",
		"cannot see the parent's DS; compare: dig +short DS example.com @\"$(dig +short NS com. | head -n 1)\", against slotdns dnssec ds example.com\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	d.OldestExpires, d.NextResign, d.SignaturesMade, d.Rollover = time.Time{}, time.Time{}, 0, nil
	b.Reset()
	printDNSSECStatus(&b, d, now)
	if got := b.String(); !strings.Contains(got, "signatures: known to the server alone") || strings.Contains(got, "rollover") {
		t.Errorf("without a server: got\n%s", got)
	}
	b.Reset()
	printDNSSECStatus(&b, nil, now)
	if b.Len() != 0 {
		t.Errorf("unsigned: got %q, want nothing", b.String())
	}
}
