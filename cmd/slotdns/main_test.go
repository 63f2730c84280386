package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const testZone = `$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1 hostmaster 2026010101 3600 600 1209600 300
@       IN NS   ns1
ns1     IN A    192.0.2.1
docs    IN A    192.0.2.40
`

const testDeployZone = `$ORIGIN deploy.test.
$TTL 60
@      IN SOA ns1 hostmaster 1 3600 600 1209600 60
@      IN NS  ns1
ns1    IN A   192.0.2.53
blue   IN A   198.51.100.10
blue   IN AAAA 2001:db8::10
green  IN A   198.51.100.20
`

const testConfig = `listen  = ["%s"]

[[zone]]
origin = "example.com."
file   = "example.com.zone"

[[zone]]
origin = "deploy.test."
file   = "deploy.test.zone"

[[app]]
name = "site"
zone = "example.com."

[app.slots.production]
names  = ["@", "www"]
target = "blue.deploy.test."

[app.slots.staging]
names  = ["stage"]
target = "green.deploy.test."
`

// writeConfig writes a config listening on listen, with its zone files, and
// returns its path.
func writeConfig(t *testing.T, listen string) string {
	t.Helper()
	return writeConfigDir(t, map[string]string{
		"example.com.zone": testZone,
		"deploy.test.zone": testDeployZone,
		"slotdns.toml":     fmt.Sprintf(testConfig, listen),
	})
}

// writeConfigDir writes files, by name, into a fresh folder and returns the
// path of the slotdns.toml among them.
func writeConfigDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		writeFile(t, filepath.Join(dir, name), text)
	}
	return filepath.Join(dir, "slotdns.toml")
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"slotdns"}, args...), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

func TestExitCodes(t *testing.T) {
	config := writeConfig(t, "127.0.0.1:5353")
	broken := filepath.Join(filepath.Dir(config), "broken.toml")
	writeFile(t, broken, "[[zone]]\norigin = \"example.com.\"\nfile = \"example.com.zone\"\nlisen = 1\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}{
		{"check", []string{"--config", config, "check"}, 0, "zone example.com. ok", ""},
		{"check after the command", []string{"check", "--config", config}, 0, "ok", ""},
		{"check a broken config", []string{"--config", broken, "check"}, 1, "", "broken.toml:4: unknown key \"zone.lisen\""},
		{"no command", []string{"--config", config}, 2, "", "no command"},
		{"unknown command", []string{"--config", config, "swpa"}, 2, "", `unknown command "swpa"`},
		{"unknown flag", []string{"--config", config, "swap", "site", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{"unknown global flag", []string{"--bogus", "status"}, 2, "", "flag provided but not defined"},
		{"missing app", []string{"--config", config, "swap"}, 2, "", "want APP"},
		{"too many arguments", []string{"--config", config, "set", "site", "staging"}, 2, "", "want APP SLOT TARGET"},
		{"negative limit", []string{"--config", config, "history", "site", "--limit", "-1"}, 2, "", "--limit -1"},
		{"missing config", []string{"--config", config + ".nope", "status"}, 1, "", "read config"},
		{"unknown app", []string{"--config", config, "swap", "nope"}, 1, "", `app "nope": not found`},
		{"bad target", []string{"--config", config, "set", "site", "staging", "not a host!"}, 1, "", `target "not a host!"`},
		{"nothing to roll back", []string{"--config", config, "rollback", "site"}, 1, "", "nothing to roll back"},
		{"help of a command", []string{"swap", "--help"}, 0, "slotdns swap yourwebapp", ""},
		{"help command", []string{"help", "set"}, 0, "slotdns set yourwebapp staging", ""},
		{"help of an unknown command", []string{"help", "nope"}, 2, "", "No help topic for 'nope'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, tt.args...)
			if got.code != tt.code {
				t.Errorf("exit code: got %d, want %d\nstdout: %s\nstderr: %s", got.code, tt.code, got.stdout, got.stderr)
			}
			if !strings.Contains(got.stdout, tt.stdout) {
				t.Errorf("stdout: got %q, want it to contain %q", got.stdout, tt.stdout)
			}
			if !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("stderr: got %q, want it to contain %q", got.stderr, tt.stderr)
			}
		})
	}
}

// jsonKeys decodes out and checks that it has every key.
func jsonKeys(t *testing.T, what, out string, keys ...string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("%s: not a JSON object: %v\n%s", what, err, out)
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: got %s, want key %q", what, out, k)
		}
	}
	return obj
}

func TestJSONWithoutServer(t *testing.T) {
	config := writeConfig(t, "127.0.0.1:5353")
	t.Setenv("SLOTDNS_CONFIG", config)

	got := runCLI(t, "swap", "site", "--reason", "release 42", "--json")
	if got.code != 0 {
		t.Fatalf("swap: exit %d: %s", got.code, got.stderr)
	}
	if want := "no server on "; !strings.Contains(got.stderr, want) || !strings.Contains(got.stderr, "directly; the server applies it at start") {
		t.Errorf("stderr: got %q, want the no-server note", got.stderr)
	}
	swap := jsonKeys(t, "swap", got.stdout, "app", "seq", "time", "kind", "actor", "reason", "before", "after", "zone", "serial", "ttl", "drained_at")
	// The longest TTL of what the slot names own: their 30s CNAMEs (the
	// 60s records the CNAMEs lead to belong to the deployments' names).
	if swap["reason"] != "release 42" || swap["ttl"] != float64(30) {
		t.Errorf("swap: got reason %v ttl %v, want \"release 42\" and 30", swap["reason"], swap["ttl"])
	}

	got = runCLI(t, "status", "site", "--json")
	status := jsonKeys(t, "status APP", got.stdout, "name", "zone", "serial", "version", "ttl", "slots", "last_change")
	slots := status["slots"].([]any)
	if len(slots) != 2 {
		t.Fatalf("status slots: got %d, want 2", len(slots))
	}
	prod := slots[0].(map[string]any)
	for _, k := range []string{"slot", "names", "target", "ttl", "config_target", "differs_from_config", "alias"} {
		if _, ok := prod[k]; !ok {
			t.Errorf("status slot: got %v, want key %q", prod, k)
		}
	}
	if prod["target"] != "green.deploy.test." || prod["differs_from_config"] != true {
		t.Errorf("production: got %v, want green.deploy.test. differing from config", prod)
	}

	got = runCLI(t, "status", "--json")
	var all []map[string]any
	if err := json.Unmarshal([]byte(got.stdout), &all); err != nil || len(all) != 1 {
		t.Fatalf("status: got %s (%v), want an array of one app", got.stdout, err)
	}

	got = runCLI(t, "set", "site", "staging", "192.0.2.7", "--json")
	jsonKeys(t, "set", got.stdout, "before", "after", "serial", "drained_at")

	got = runCLI(t, "rollback", "site", "--json", "--reason", "oops")
	rb := jsonKeys(t, "rollback", got.stdout, "kind", "before", "after", "serial")
	if rb["kind"] != "rollback" {
		t.Errorf("rollback kind: got %v, want rollback", rb["kind"])
	}

	got = runCLI(t, "history", "site", "--json")
	var hist []map[string]any
	if err := json.Unmarshal([]byte(got.stdout), &hist); err != nil || len(hist) != 3 {
		t.Fatalf("history: got %s (%v), want 3 entries", got.stdout, err)
	}
	for i, e := range hist {
		if e["seq"] != float64(i+1) {
			t.Errorf("history entry %d: got seq %v, want %d", i, e["seq"], i+1)
		}
	}
	got = runCLI(t, "history", "site", "--limit", "1", "--json")
	if err := json.Unmarshal([]byte(got.stdout), &hist); err != nil || len(hist) != 1 {
		t.Fatalf("history --limit 1: got %s (%v), want 1 entry", got.stdout, err)
	}

	got = runCLI(t, "check", "--json")
	check := jsonKeys(t, "check", got.stdout, "ok", "config", "zones", "apps", "problems")
	if check["ok"] != true {
		t.Errorf("check: got %v, want ok", check)
	}
}

// freePort finds a port free for UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) string {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}

func TestServeSwapVerify(t *testing.T) {
	listen := freePort(t)
	config := writeConfig(t, listen)
	t.Setenv("SLOTDNS_CONFIG", config)
	serveInBackground(t, config)

	got := runCLI(t, "swap", "site")
	if got.code != 0 {
		t.Fatalf("swap: exit %d: %s", got.code, got.stderr)
	}
	if got.stderr != "" {
		t.Errorf("swap through the server: got stderr %q, want none", got.stderr)
	}
	for _, want := range []string{"production", "green.deploy.test.", "serial of example.com. is now 2026010102", "caches expire the old answer by ", "(TTL 30s)"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("swap output: got\n%s\nwant it to contain %q", got.stdout, want)
		}
	}

	got = runCLI(t, "verify", "site", "--json")
	if got.code != 0 {
		t.Fatalf("verify: exit %d: %s\n%s", got.code, got.stderr, got.stdout)
	}
	var v struct {
		OK   bool `json:"ok"`
		Rows []struct {
			Name, Type, Served, Expected string
			OK                           bool
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &v); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range v.Rows {
		rows = append(rows, fmt.Sprintf("%s %s %s %v", r.Name, r.Type, r.Served, r.OK))
	}
	want := []string{
		"example.com. A 198.51.100.20 true",
		"www.example.com. CNAME green.deploy.test. true",
		"stage.example.com. CNAME blue.deploy.test. true",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("verify rows: got\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}

	// A server that answers otherwise fails verification.
	wrong := startRefuser(t)
	got = runCLI(t, "verify", "site", "--server", wrong)
	if got.code != 1 || !strings.Contains(got.stdout, "DIFFERS") {
		t.Errorf("verify against a wrong server: got exit %d\n%s, want 1 and DIFFERS", got.code, got.stdout)
	}
}

// startRefuser starts a DNS server that answers REFUSED to everything.
func startRefuser(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeRefused)
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestReorderArgs(t *testing.T) {
	app := newApp(nil, nil)
	tests := []struct{ in, want string }{
		{"slotdns swap site --reason x --json", "slotdns swap --reason x --json -- site"},
		{"slotdns --config c.toml swap site", "slotdns --config c.toml swap -- site"},
		{"slotdns swap site --config c.toml", "slotdns --config c.toml swap -- site"},
		{"slotdns set site staging t. --expect=u.", "slotdns set --expect=u. -- site staging t."},
		{"slotdns status", "slotdns status"},
		{"slotdns nope a --b", "slotdns nope a --b"},
		{"slotdns swap site --wait-secondaries", "slotdns swap --wait-secondaries= -- site"},
		{"slotdns swap --wait-secondaries site", "slotdns swap --wait-secondaries= -- site"},
		{"slotdns swap site --wait-secondaries 10s --json", "slotdns swap --wait-secondaries=10s --json -- site"},
		{"slotdns rollback site --wait-secondaries=2m", "slotdns rollback --wait-secondaries=2m -- site"},
	}
	for _, tt := range tests {
		got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.in, got, tt.want)
		}
	}
}
