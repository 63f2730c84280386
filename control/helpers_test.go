package control

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testZone = `$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1 hostmaster 2026010101 3600 600 1209600 300
@       IN NS   ns1
ns1     IN A    192.0.2.1
@       IN MX   10 mail
mail    IN A    192.0.2.25
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
test3  IN A   198.51.100.30
`

// testConfig is a config with two zones and one app whose production slot
// serves the apex and www, and staging serves stage.
const testConfig = `listen  = ["127.0.0.1:0"]
db      = "slotdns.db"
control = "slotdns.sock"

[[zone]]
origin = "example.com."
file   = "example.com.zone"

[[zone]]
origin = "deploy.test."
file   = "deploy.test.zone"

[[app]]
name = "site"
zone = "example.com."
ttl  = 30

[app.slots.production]
names  = ["@", "www"]
target = "blue.deploy.test."

[app.slots.staging]
names  = ["stage"]
target = "green.deploy.test."
`

// writeConfig writes the zone files and config (testConfig when config is
// "") into a fresh folder and returns the config's path.
func writeConfig(t testing.TB, config string) string {
	t.Helper()
	dir := t.TempDir()
	if config == "" {
		config = testConfig
	}
	files := map[string]string{
		"example.com.zone": testZone,
		"deploy.test.zone": testDeployZone,
		"slotdns.toml":     config,
	}
	for name, text := range files {
		writeFile(t, filepath.Join(dir, name), text)
	}
	return filepath.Join(dir, "slotdns.toml")
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadTestConfig(t testing.TB, config string) *Config {
	t.Helper()
	return loadConfigAt(t, writeConfig(t, config))
}

// loadConfigAt loads the config at path, as a restart reads it again.
func loadConfigAt(t testing.TB, path string) *Config {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startServer starts a server on cfg and shuts it down at the end of the test.
func startServer(t testing.TB, cfg *Config) *Server {
	t.Helper()
	s, err := Start(cfg, discard())
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// startWithClient starts a server on cfg and returns it, the address its
// DNS answers on, and a client of its control socket closed at the end.
func startWithClient(t testing.TB, cfg *Config) (*Server, string, *Client) {
	t.Helper()
	s := startServer(t, cfg)
	c := NewClient(cfg.Control)
	t.Cleanup(func() { c.Close() })
	return s, s.DNSAddrs()[0].String(), c
}

// runBeforeRestart starts a server on the config at path, hands it to
// during (when not nil) and shuts it down: the process a restart follows.
func runBeforeRestart(t testing.TB, path string, during func(s *Server, cfg *Config)) {
	t.Helper()
	cfg := loadConfigAt(t, path)
	s, err := Start(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	if during != nil {
		during(s, cfg)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// query asks addr over UDP.
func query(t testing.TB, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// answerText gives the answer section's data, one "TYPE data" per record.
func answerText(r *dns.Msg) string {
	var parts []string
	for _, rr := range r.Answer {
		f := strings.Fields(rr.String())
		parts = append(parts, strings.Join(f[3:], " "))
	}
	return strings.Join(parts, "; ")
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
