package config

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// load loads config (testkit.SiteConfig when "") in a new test site.
func load(t testing.TB, config string) *Config {
	t.Helper()
	cfg, err := Load(testkit.Site(t, config))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

// errorsOf lists the single errors of err, each as text.
func errorsOf(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range Problems(err) {
		out = append(out, e.Error())
	}
	return out
}

func TestLoad(t *testing.T) {
	t.Parallel()
	cfg := load(t, "")
	if got, want := cfg.Listen, []string{"127.0.0.1:0"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("listen: got %v, want %v", got, want)
	}
	if !strings.HasSuffix(cfg.DB, "/slotdns.db") || !strings.HasPrefix(cfg.DB, "/") {
		t.Errorf("db: got %q, want a path beside the config", cfg.DB)
	}
	if cfg.AliasMaxStale != 24*time.Hour {
		t.Errorf("alias_max_stale: got %v, want 24h", cfg.AliasMaxStale)
	}
	if cfg.JournalLimit != DefaultJournalLimit {
		t.Errorf("journal_limit: got %d, want %d", cfg.JournalLimit, DefaultJournalLimit)
	}
	z, ok := cfg.Zone("example.com.")
	if !ok || !strings.HasSuffix(z.File, "/example.com.zone") || z.Line != 6 {
		t.Errorf("zone example.com.: got %+v (%v), want its file beside the config, at line 6", z, ok)
	}
	app, ok := cfg.App("site")
	if !ok {
		t.Fatal("app site missing")
	}
	if app.TTL != 30 || app.Zone != "example.com." || app.Line != 14 {
		t.Errorf("app: got ttl %d zone %q line %d, want 30 example.com. 14", app.TTL, app.Zone, app.Line)
	}
	prod, _ := app.Slot("production")
	if got, want := strings.Join(prod.Names, " "), "example.com. www.example.com."; got != want {
		t.Errorf("production names: got %q, want %q", got, want)
	}
	if got, want := prod.Target.String(), "blue.deploy.test."; got != want {
		t.Errorf("production target: got %q, want %q", got, want)
	}
	if prod.Line != 18 {
		t.Errorf("production line: got %d, want 18", prod.Line)
	}
	if apex, ok := app.ApexSlot(); !ok || apex.Name != "production" {
		t.Errorf("apex slot: got %q %v, want production", apex.Name, ok)
	}
	if got := []string{app.Slots[0].Name, app.Slots[1].Name}; got[0] != "production" || got[1] != "staging" {
		t.Errorf("slots: got %v, want them sorted by name", got)
	}
	// An apex alias whose target lies in one of our zones needs no resolver.
	if cfg.Resolver != "" {
		t.Errorf("resolver: got %q, want none", cfg.Resolver)
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	cfg := load(t, `
[[zone]]
origin = "example.com"
file = "example.com.zone"

[[app]]
name = "site"
zone = "example.com"
[app.slots.production]
names = ["www"]
target = "192.0.2.7, 2001:db8::7"
`)
	if got := cfg.Listen; len(got) != 1 || got[0] != DefaultListen {
		t.Errorf("listen: got %v, want [%s]", got, DefaultListen)
	}
	if !strings.HasSuffix(cfg.Control, "/"+DefaultControl) {
		t.Errorf("control: got %q, want %s beside the config", cfg.Control, DefaultControl)
	}
	if cfg.KeysFile != "" || cfg.Resolver != "" || cfg.LogFormat != "text" {
		t.Errorf("got tsig_keys %q, resolver %q, log_format %q; want none, none, text", cfg.KeysFile, cfg.Resolver, cfg.LogFormat)
	}
	app, _ := cfg.App("site")
	if app.TTL != DefaultTTL {
		t.Errorf("ttl: got %d, want %d", app.TTL, DefaultTTL)
	}
	if app.Zone != "example.com." {
		t.Errorf("zone: got %q, want example.com.", app.Zone)
	}
}

// The demo config in the repository must load, and so must its zones.
func TestLoadDemoConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Load("../slotdns.toml")
	if err != nil {
		t.Fatalf("demo config: %v", err)
	}
	loaded, err := cfg.LoadZones()
	if err != nil {
		t.Fatalf("demo zones: %v", err)
	}
	if err := cfg.Check(loaded); err != nil {
		t.Fatalf("demo check: %v", err)
	}
}

func TestAppsIn(t *testing.T) {
	t.Parallel()
	config := testkit.SiteConfig + `
[[app]]
name = "docs"
zone = "deploy.test."
[app.slots.production]
names = ["docs"]
target = "192.0.2.8"

[[app]]
name = "blog"
zone = "example.com."
[app.slots.production]
names = ["blog"]
target = "192.0.2.9"
`
	cfg := load(t, config)
	hand := &Config{Zones: cfg.Zones, Apps: cfg.Apps} // not indexed: searched in full
	tests := []struct {
		zone string
		want string
	}{
		{"example.com.", "site blog"},
		{"deploy.test.", "docs"},
		{"other.test.", ""},
	}
	for _, tt := range tests {
		for _, c := range []*Config{cfg, hand} {
			var got []string
			for _, a := range c.AppsIn(tt.zone) {
				got = append(got, a.Name)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("apps in %s (indexed %v): got %v, want %q", tt.zone, c.idx != nil, got, tt.want)
			}
		}
	}
	if a, ok := cfg.App("blog"); !ok || a != &cfg.Apps[2] {
		t.Errorf("app blog: got %v %v, want the third app", a, ok)
	}
	if _, ok := cfg.App("nope"); ok {
		t.Error("app nope: found")
	}
	if _, ok := hand.Zone("deploy.test."); !ok {
		t.Error("zone deploy.test. of a config built by hand: not found")
	}
}

func TestInOurZones(t *testing.T) {
	t.Parallel()
	cfg := load(t, "")
	for name, want := range map[string]bool{
		"example.com.":      true,
		"www.example.com.":  true,
		"blue.deploy.test.": true,
		"example.net.":      false,
		"badexample.com.":   false,
	} {
		if got := cfg.InOurZones(name); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	cfg := load(t, testkit.Edit(t, testkit.SiteConfig, "listen", "log_format = \"json\"\nlog_level = \"warn\"\nlisten"))
	var buf bytes.Buffer
	log := cfg.NewLogger(&buf)
	log.Info("Not shown")
	log.Warn("Shown", "app", "site")
	if got := buf.String(); strings.Contains(got, "Not shown") || !strings.HasPrefix(got, "{") || !strings.Contains(got, `"app":"site"`) {
		t.Errorf("log: got %q, want one JSON line at warn", got)
	}
}
