package control

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	cfg := loadTestConfig(t, "")
	if got, want := cfg.Listen, []string{"127.0.0.1:0"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("listen: got %v, want %v", got, want)
	}
	if !strings.HasSuffix(cfg.DB, "/slotdns.db") || !strings.HasPrefix(cfg.DB, "/") {
		t.Errorf("db: got %q, want a path beside the config", cfg.DB)
	}
	if cfg.AliasMaxStale != 24*time.Hour {
		t.Errorf("alias_max_stale: got %v, want 24h", cfg.AliasMaxStale)
	}
	app, ok := cfg.App("site")
	if !ok {
		t.Fatal("app site missing")
	}
	if app.TTL != 30 || app.Zone != "example.com." {
		t.Errorf("app: got ttl %d zone %q, want 30 example.com.", app.TTL, app.Zone)
	}
	prod, _ := app.Slot("production")
	if got, want := strings.Join(prod.Names, " "), "example.com. www.example.com."; got != want {
		t.Errorf("production names: got %q, want %q", got, want)
	}
	if got, want := prod.Target.String(), "blue.deploy.test."; got != want {
		t.Errorf("production target: got %q, want %q", got, want)
	}
	if apex, ok := app.ApexSlot(); !ok || apex.Name != "production" {
		t.Errorf("apex slot: got %q %v, want production", apex.Name, ok)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg := loadTestConfig(t, `
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
	app, _ := cfg.App("site")
	if app.TTL != DefaultTTL {
		t.Errorf("ttl: got %d, want %d", app.TTL, DefaultTTL)
	}
	if app.Zone != "example.com." {
		t.Errorf("zone: got %q, want example.com.", app.Zone)
	}
}

// The demo config in the repository must load.
func TestLoadDemoConfig(t *testing.T) {
	if _, err := LoadConfig("../slotdns.toml"); err != nil {
		t.Fatalf("demo config: %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	base := `
[[zone]]
origin = "example.com."
file = "example.com.zone"
`
	app := `
[[app]]
name = "site"
zone = "example.com."
`
	tests := []struct {
		name   string
		config string
		want   []string // substrings of the error, in order of appearance
	}{
		{"toml syntax", "listen = [\n\"a\"\n", []string{"slotdns.toml:2:"}},
		{"unknown top key", "listn = [\"127.0.0.1:53\"]\n" + base, []string{`slotdns.toml:1: unknown key "listn"`}},
		{"unknown slot key", base + app + "[app.slots.production]\nnames = [\"www\"]\ntarget = \"a.example.net.\"\ntargte = \"x\"\n",
			[]string{`slotdns.toml:12: unknown key "app.slots.production.targte"`}},
		{"wrong type", "listen = 5\n" + base, []string{`slotdns.toml:1: key "listen": incompatible types`}},
		{"wrong type in an app", base + app + "ttl = \"x\"\n", []string{`slotdns.toml:9: key "app.ttl": incompatible types`}},
		{"bad listen", "listen = [\"localhost\"]\n" + base, []string{`slotdns.toml:1: listen "localhost"`}},
		{"bad log format", "log_format = \"xml\"\n" + base, []string{`slotdns.toml:1: log_format "xml"`}},
		{"bad duration", "alias_max_stale = \"soon\"\n" + base, []string{`slotdns.toml:1: alias_max_stale "soon"`}},
		{"missing zone file", "[[zone]]\norigin = \"example.com.\"\nfile = \"nope.zone\"\n", []string{"nope.zone"}},
		{"zone twice", base + base, []string{`slotdns.toml:7: zone "example.com." is declared twice (first at line 3)`}},
		{"undeclared zone", base + "[[app]]\nname = \"site\"\nzone = \"other.com.\"\n", []string{`slotdns.toml:7: app "site": zone "other.com." is not declared`}},
		{"no slots", base + app, []string{`slotdns.toml:7: app "site" has no slots`}},
		{"app twice", base + app + "[app.slots.p]\nnames=[\"a\"]\ntarget=\"192.0.2.1\"\n" + app + "[app.slots.p]\nnames=[\"b\"]\ntarget=\"192.0.2.1\"\n",
			[]string{`slotdns.toml:14: app "site" is declared twice (first at line 7)`}},
		{"name outside zone", base + app + "[app.slots.production]\nnames = [\"www.other.com.\"]\ntarget = \"192.0.2.1\"\n",
			[]string{`slotdns.toml:10: app "site": slot "production": name "www.other.com.": www.other.com. is outside zone example.com.`}},
		{"name in two slots", base + app + "[app.slots.production]\nnames = [\"www\"]\ntarget = \"192.0.2.1\"\n[app.slots.staging]\nnames = [\"www\"]\ntarget = \"192.0.2.2\"\n",
			[]string{`slotdns.toml:13: app "site": slot "staging": name "www" is already a slot name of "production"`}},
		{"bad target", base + app + "[app.slots.production]\nnames = [\"www\"]\ntarget = \"192.0.2.300\"\n",
			[]string{`slotdns.toml:11: app "site": slot "production": target "192.0.2.300"`}},
		{"missing target", base + app + "[app.slots.production]\nnames = [\"www\"]\n",
			[]string{`slotdns.toml:9: app "site": slot "production": target is missing`}},
		{"slot owns zone records", base + app + "[app.slots.production]\nnames = [\"docs\"]\ntarget = \"192.0.2.1\"\n",
			[]string{`slotdns.toml:10: app "site": slot "production": name docs.example.com. also owns records at `, `example.com.zone:8`}},
		{"apex alias without resolver", base + app + "[app.slots.production]\nnames = [\"@\"]\ntarget = \"a.example.net.\"\n",
			[]string{`slotdns.toml:11: app "site": slot "production": target a.example.net. lies outside our zones`, "set resolver"}},
		{"bad ttl", base + app + "ttl = 0\n[app.slots.production]\nnames = [\"www\"]\ntarget = \"192.0.2.1\"\n",
			[]string{`slotdns.toml:9: app "site": ttl 0`}},
		{"several problems", "log_format = \"xml\"\nlog_level = \"loud\"\n" + base, []string{`slotdns.toml:1: log_format`, `slotdns.toml:2: log_level "loud"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tt.config))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			got := err.Error()
			for _, want := range tt.want {
				i := strings.Index(got, want)
				if i < 0 {
					t.Fatalf("error:\n%s\nwant it to contain %q", got, want)
				}
				got = got[i+len(want):]
			}
		})
	}
}

// An apex alias whose target lies in one of our zones needs no resolver.
func TestLoadConfigApexInOurZones(t *testing.T) {
	cfg := loadTestConfig(t, "")
	if cfg.Resolver != "" {
		t.Fatalf("resolver: got %q, want none", cfg.Resolver)
	}
}

func TestScanKeyLines(t *testing.T) {
	text := `# comment
listen = ["a"]

[[zone]]
origin = "x."
[[zone]]
origin = "y."

[[app]]
name = "a"
[app.slots.production]
names = [
  "www",
]
target = "t."
[[app]]
"name" = "b"
[app.slots.staging]
target = "u."
`
	lines := scanKeyLines([]byte(text))
	tests := map[string]int{
		"listen":                         2,
		"zone[0].origin":                 5,
		"zone[1].origin":                 7,
		"zone.origin":                    5,
		"app[0]":                         9,
		"app[0].slots.production":        11,
		"app[0].slots.production.names":  12,
		"app[0].slots.production.target": 15,
		"app[1].name":                    17,
		"app[1].slots.staging.target":    19,
		"app.slots.staging.target":       19,
	}
	for key, want := range tests {
		if got := lines[key]; got != want {
			t.Errorf("%s: got line %d, want %d", key, got, want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(testConfig))
	f.Add([]byte("listen = [\"127.0.0.1:53\"]\n[[app]]\nname = \"a\"\n[app.slots.x]\nnames = [\"@\"]\n"))
	f.Add([]byte("[[zone]]\norigin = 5\n"))
	f.Add([]byte("a.b.c = 1\n[x]\ny = {z = 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("fuzz.toml", data, false)
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.toml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
