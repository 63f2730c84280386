package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestLoadErrors(t *testing.T) {
	t.Parallel()
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
		{"unknown top key", "listn = [\"127.0.0.1:53\"]\n" + base, []string{`slotdns.toml:1: unknown key "listn"; remove it or check its spelling`}},
		{"unknown table", "[listen_on]\nudp = 1\n" + base, []string{`slotdns.toml:1: unknown key "listen_on"`}},
		{"unknown slot key", base + app + "[app.slots.production]\nnames = [\"www\"]\ntarget = \"a.example.net.\"\ntargte = \"x\"\n",
			[]string{`slotdns.toml:12: unknown key "app.slots.production.targte"`}},
		{"unknown key in a second zone", base + base + "orign = \"x.\"\n", []string{`slotdns.toml:7: zone "example.com." is declared twice`, `slotdns.toml:9: unknown key "zone.orign"`}},
		{"wrong type", "listen = 5\n" + base, []string{`slotdns.toml:1: key "listen": incompatible types: the value is an integer, want an array of strings; write it as listen = ["127.0.0.1:53"]`}},
		{"wrong type in an app", base + app + "ttl = \"x\"\n", []string{`slotdns.toml:9: key "app.ttl": incompatible types: the value is a string, want an integer; write it as ttl = 30`}},
		{"a table for an array of tables", "[zone]\norigin = \"example.com.\"\n", []string{`slotdns.toml:1: key "zone": incompatible types`, `write each zone as a [[zone]] table`}},
		{"a slot that is not a table", base + app + "[app.slots]\nproduction = \"192.0.2.1\"\n", []string{`slotdns.toml:10: key "app.slots.production": incompatible types`, `[app.slots.production] with names and target`}},
		{"bad listen", "listen = [\"localhost\"]\n" + base, []string{`slotdns.toml:1: listen "localhost"`}},
		{"bad log format", "log_format = \"xml\"\n" + base, []string{`slotdns.toml:1: log_format "xml"`}},
		{"bad duration", "alias_max_stale = \"soon\"\n" + base, []string{`slotdns.toml:1: alias_max_stale "soon"`}},
		{"zone twice", base + base, []string{`slotdns.toml:7: zone "example.com." is declared twice (first at line 3)`}},
		{"zone without a file", "[[zone]]\norigin = \"example.com.\"\n", []string{`slotdns.toml:1: zone "example.com.": file is missing`}},
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
		{"apex alias without resolver", base + app + "[app.slots.production]\nnames = [\"@\"]\ntarget = \"a.example.net.\"\n",
			[]string{`slotdns.toml:11: app "site": slot "production": target a.example.net. lies outside our zones`, "set resolver"}},
		{"bad ttl", base + app + "ttl = 0\n[app.slots.production]\nnames = [\"www\"]\ntarget = \"192.0.2.1\"\n",
			[]string{`slotdns.toml:9: app "site": ttl 0`}},
		{"several problems", "log_format = \"xml\"\nlog_level = \"loud\"\n" + base, []string{`slotdns.toml:1: log_format`, `slotdns.toml:2: log_level "loud"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(testkit.Site(t, tt.config))
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

// Every key of the wrong type is reported, each at its line, together
// with the problems of the keys that did decode; a key of the wrong type
// brings no second error of its own ("names is empty").
func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	config := `listen = 5
log_format = "xml"
[[zone]]
origin = "example.com."
file = "example.com.zone"
[[app]]
name = "site"
zone = "example.com."
ttl = "30"
[app.slots.production]
names = "www"
target = "blue"
[app.slots.staging]
names = ["stage"]
target = 42
[[app]]
name = 7
zone = "example.com."
ttl = 0
`
	_, err := Load(testkit.Site(t, config))
	got := errorsOf(err)
	want := []string{
		`slotdns.toml:1: key "listen": incompatible types: the value is an integer, want`,
		`slotdns.toml:2: log_format "xml"`,
		`slotdns.toml:9: key "app.ttl": incompatible types: the value is a string, want`,
		`slotdns.toml:11: key "app.slots.production.names": incompatible types`,
		`slotdns.toml:12: app "site": slot "production": target "blue": a hostname needs its trailing dot`,
		`slotdns.toml:15: key "app.slots.staging.target": incompatible types: the value is an integer, want`,
		`slotdns.toml:17: key "app.name": incompatible types: the value is an integer, want a string`,
		`slotdns.toml:17: app "#2" has no slots`,
		`slotdns.toml:19: app "#2": ttl 0: want a number of seconds`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors:\n%s\nwant %d", len(got), strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("error %d: got %q, want it to contain %q", i+1, got[i], want[i])
		}
	}
}

// A hostname target without its trailing dot is refused at its line.
func TestLoadRelativeTarget(t *testing.T) {
	t.Parallel()
	config := testkit.Edit(t, testkit.SiteConfig, `target = "green.deploy.test."`, `target = "green.deploy.test"`)
	_, err := Load(testkit.Site(t, config))
	want := `slotdns.toml:24: app "site": slot "staging": target "green.deploy.test": a hostname needs its trailing dot: write "green.deploy.test."`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}

// Load reads the config file alone: a zone file that is missing or
// broken, or a key file others may read, is LoadZones' or LoadKeys'
// problem.
func TestLoadReadsOnlyTheConfig(t *testing.T) {
	t.Parallel()
	config := testkit.Edit(t, testkit.SiteConfig, `file   = "deploy.test.zone"`, `file   = "missing.zone"`)
	config = testkit.Edit(t, config, "db ", "tsig_keys = \"tsig.key\"\ndb ")
	path := testkit.Site(t, config)
	dir := filepath.Dir(path)
	testkit.WriteFile(t, filepath.Join(dir, "example.com.zone"), "@ IN SOA broken\n")
	testkit.WriteFile(t, filepath.Join(dir, "tsig.key"), testKeyFile) // mode 0644
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if cfg.KeysFile != filepath.Join(dir, "tsig.key") {
		t.Errorf("tsig_keys: got %q, want the file beside the config", cfg.KeysFile)
	}
	if _, err := cfg.LoadKeys(); err == nil || !strings.Contains(err.Error(), "slotdns.toml:2: tsig_keys: ") || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("load keys: got %v, want the key file's mode refused at line 2", err)
	}
	loaded, err := cfg.LoadZones()
	got := errorsOf(err)
	if len(got) != 2 || !strings.Contains(got[0], "example.com.zone:1:") ||
		!strings.Contains(got[1], `slotdns.toml:12: zone "deploy.test.": file `+filepath.Join(dir, "missing.zone")+": no such file or directory; create it") {
		t.Errorf("load zones: got %q, want the broken file at its line and the missing one at the config's", got)
	}
	if len(loaded) != 0 {
		t.Errorf("load zones: got %d zones, want none", len(loaded))
	}
}

func TestLoadSecondaries(t *testing.T) {
	t.Parallel()
	cfg := load(t, secondaryConfig)
	if cfg.JournalLimit != 50 {
		t.Errorf("journal_limit: got %d, want 50", cfg.JournalLimit)
	}
	tests := []struct {
		zone string
		want []Secondary
	}{
		{"example.com.", []Secondary{{Address: "127.0.0.1:5400", Key: "xfr-key.", Line: 10, keyLine: 11}, {Address: "127.0.0.2:53", Line: 14, keyLine: 13}}},
		{"deploy.test.", []Secondary{{Address: "[::1]:5401", Key: "other.key.", Line: 21, keyLine: 22}}},
	}
	for _, tt := range tests {
		z, _ := cfg.Zone(tt.zone)
		if got := z.Secondaries; len(got) != len(tt.want) || got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1] {
			t.Errorf("zone %s secondaries: got %+v, want %+v", tt.zone, got, tt.want)
		}
	}
}

func TestLoadSecondaryErrors(t *testing.T) {
	t.Parallel()
	zone := "[[zone]]\norigin = \"example.com.\"\nfile = \"example.com.zone\"\n"
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"key without a key file", zone + "[[zone.secondary]]\naddress = \"127.0.0.1:53\"\nkey = \"xfr-key\"\n",
			"slotdns.toml:6: zone \"example.com.\": secondary 127.0.0.1:53: key \"xfr-key\", but no tsig_keys file is configured"},
		{"bad address", zone + "[[zone.secondary]]\naddress = \"127.0.0.1:99999\"\n",
			"slotdns.toml:5: zone \"example.com.\": secondary address \"127.0.0.1:99999\": port \"99999\""},
		{"listed twice", zone + "[[zone.secondary]]\naddress = \"127.0.0.1\"\n[[zone.secondary]]\naddress = \"127.0.0.1:53\"\n",
			"slotdns.toml:7: zone \"example.com.\": secondary 127.0.0.1:53 is listed twice"},
		{"second zone's secondary", zone + "[[zone]]\norigin = \"deploy.test.\"\nfile = \"deploy.test.zone\"\n[[zone.secondary]]\naddress = \"\"\n",
			"slotdns.toml:8: zone \"deploy.test.\": secondary address \"\": empty"},
		{"journal limit", "journal_limit = 0\n" + zone, "slotdns.toml:1: journal_limit 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(testkit.Site(t, tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "slotdns.toml")
	_, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(testkit.SiteConfig))
	f.Add([]byte(secondaryConfig))
	f.Add([]byte("listen = [\"127.0.0.1:53\"]\n[[app]]\nname = \"a\"\n[app.slots.x]\nnames = [\"@\"]\n"))
	f.Add([]byte("[[zone]]\norigin = 5\n"))
	f.Add([]byte("a.b.c = 1\n[x]\ny = {z = 1}\n"))
	f.Add([]byte("[app]\nslots = 3\n[[app.check]]\nhttp = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parse("fuzz.toml", data)
		if err == nil && cfg == nil {
			t.Fatal("no config and no error")
		}
		if err != nil {
			for _, e := range errorsOf(err) {
				if !strings.HasPrefix(e, "fuzz.toml") {
					t.Fatalf("error does not name the file: %v", e)
				}
			}
			return
		}
		for _, a := range cfg.Apps {
			if _, ok := cfg.Zone(a.Zone); !ok {
				t.Fatalf("app %q: zone %q is not a zone of the config", a.Name, a.Zone)
			}
		}
	})
}

func TestLoadTop(t *testing.T) {
	t.Parallel()
	path := testkit.Site(t, testkit.Edit(t, testkit.SiteConfig, `control = "slotdns.sock"`, "control = \"other.sock\"\nresolver = \"127.0.0.1:5399\""))
	cfg, err := LoadTop(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(cfg.Control) != "other.sock" || cfg.Resolver != "127.0.0.1:5399" || len(cfg.Zones) != 0 || len(cfg.Apps) != 0 {
		t.Errorf("LoadTop: got control %s, resolver %s, %d zones, %d apps; want the top keys alone", cfg.Control, cfg.Resolver, len(cfg.Zones), len(cfg.Apps))
	}
	// A top-level value that spans lines like a table header is read with
	// the whole file.
	path = testkit.Site(t, "listen = [\n[\"x\"]\n]\n"+testkit.SiteConfig[strings.Index(testkit.SiteConfig, "db"):])
	if _, err := LoadTop(path); err == nil || !strings.Contains(err.Error(), "slotdns.toml:") {
		t.Errorf("LoadTop of a listen of the wrong shape: got %v, want Load's error with its line", err)
	}
}
