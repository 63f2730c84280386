package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

// shopConfig is a second app in a third zone, with a check.
const shopConfig = `
[[zone]]
origin = "shop.test."
file   = "shop.test.zone"

[zone.dnssec]

[[app]]
name = "shop"
zone = "shop.test."
[app.slots.production]
names  = ["www"]
target = "192.0.2.80"

[[app.check]]
when = "before"
http = "/healthz"
`

// changesConfig is the site with a key file and a secondary, and the shop,
// signed.
var changesConfig = strings.Replace(strings.Replace(testkit.SiteConfig,
	"db ", "tsig_keys = \"tsig.key\"\ndb ", 1),
	"file   = \"example.com.zone\"\n", "file   = \"example.com.zone\"\n\n[[zone.secondary]]\naddress = \"127.0.0.1:5400\"\nkey = \"xfr-key\"\n", 1) +
	shopConfig

func TestChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []string // pairs of old and new text of changesConfig
		tail  string   // appended to it
		want  []string // DIR is the config's folder
	}{
		{name: "identical"},
		{name: "comments and spacing", edits: []string{"ttl  = 30", "ttl = 30 # seconds", "[[app]]", "# the site\n[[app]]"}},
		{name: "listen", edits: []string{`["127.0.0.1:0"]`, `["0.0.0.0:53"]`},
			want: []string{`listen: ["127.0.0.1:0"] -> ["0.0.0.0:53"]`}},
		{name: "db and control", edits: []string{`"slotdns.db"`, `"other.db"`, `"slotdns.sock"`, `"/run/slotdns.sock"`},
			want: []string{`db: "DIR/slotdns.db" -> "DIR/other.db"`, `control: "DIR/slotdns.sock" -> "/run/slotdns.sock"`}},
		{name: "resolver", edits: []string{"db ", "resolver = \"127.0.0.1\"\ndb "},
			want: []string{`resolver: none -> "127.0.0.1:53"`}},
		{name: "logging", edits: []string{"db ", "log_format = \"json\"\nlog_level = \"debug\"\ndb "},
			want: []string{`log_format: "text" -> "json"`, `log_level: "info" -> "debug"`}},
		{name: "alias_max_stale and journal_limit", edits: []string{"db ", "alias_max_stale = \"1h\"\njournal_limit = 50\ndb "},
			want: []string{`alias_max_stale: 24h0m0s -> 1h0m0s`, `journal_limit: 1000 -> 50`}},
		{name: "tsig_keys", edits: []string{`"tsig.key"`, `"keys/tsig.key"`},
			want: []string{`tsig_keys: "DIR/tsig.key" -> "DIR/keys/tsig.key"`}},
		{name: "zone file", edits: []string{`"deploy.test.zone"`, `"zones/deploy.test.zone"`},
			want: []string{`zone "deploy.test.": file "DIR/deploy.test.zone" -> "DIR/zones/deploy.test.zone"`}},
		{name: "secondaries", edits: []string{"key = \"xfr-key\"\n", "\n[[zone.secondary]]\naddress = \"127.0.0.1:5401\"\n"},
			want: []string{`zone "example.com.": secondaries: 127.0.0.1:5400 (key xfr-key.) -> 127.0.0.1:5400, 127.0.0.1:5401`}},
		{name: "dnssec added", edits: []string{"file   = \"deploy.test.zone\"\n", "file   = \"deploy.test.zone\"\n[zone.dnssec]\n"},
			want: []string{`zone "deploy.test.": dnssec: added (key_dir "DIR/keys", algorithm ECDSAP256SHA256, split_keys false, denial nsec, generate_keys false, signature_validity 14d, signature_refresh 7d, signature_jitter 12h)`}},
		{name: "dnssec removed", edits: []string{"[zone.dnssec]\n", ""},
			want: []string{`zone "shop.test.": dnssec: removed (the zone is no longer signed)`}},
		{name: "dnssec keys", edits: []string{"[zone.dnssec]\n", "[zone.dnssec]\nkey_dir = \"/var/lib/slotdns/keys\"\nalgorithm = \"ED25519\"\nsplit_keys = true\ndenial = \"nsec3\"\ngenerate_keys = true\nsignature_validity = \"30d\"\nsignature_refresh = \"10d\"\nsignature_jitter = \"1h\"\n"},
			want: []string{
				`zone "shop.test.": dnssec key_dir "DIR/keys" -> "/var/lib/slotdns/keys"`,
				`zone "shop.test.": dnssec algorithm ECDSAP256SHA256 -> ED25519`,
				`zone "shop.test.": dnssec split_keys false -> true`,
				`zone "shop.test.": dnssec denial nsec -> nsec3`,
				`zone "shop.test.": dnssec generate_keys false -> true`,
				`zone "shop.test.": dnssec signature_validity 14d -> 30d`,
				`zone "shop.test.": dnssec signature_refresh 7d -> 10d`,
				`zone "shop.test.": dnssec signature_jitter 12h -> 1h`,
			}},
		{name: "dnssec defaults written out", edits: []string{"[zone.dnssec]\n", "[zone.dnssec] # signed\nkey_dir = \"keys\"\nalgorithm = \"13\"\ndenial = \"NSEC\"\nsignature_validity = \"336h\"\n"}},
		{name: "zone added", tail: "\n[[zone]]\norigin = \"new.test.\"\nfile = \"new.test.zone\"\n",
			want: []string{`zone "new.test.": added`}},
		{name: "zone and app removed", edits: []string{shopConfig, ""},
			want: []string{`zone "shop.test.": removed`, `app "shop": removed`}},
		{name: "app added", tail: "\n[[app]]\nname = \"blog\"\nzone = \"shop.test.\"\n[app.slots.production]\nnames = [\"blog\"]\ntarget = \"192.0.2.81\"\n",
			want: []string{`app "blog": added`}},
		{name: "app zone", edits: []string{`zone = "shop.test."`, `zone = "deploy.test."`},
			want: []string{`app "shop": zone "shop.test." -> "deploy.test."`, `app "shop": slot "production": names www.shop.test. -> www.deploy.test.`}},
		{name: "ttl", edits: []string{"ttl  = 30", "ttl  = 60"},
			want: []string{`app "site": ttl 30 -> 60`}},
		{name: "slot added", edits: []string{"target = \"green.deploy.test.\"\n", "target = \"green.deploy.test.\"\n[app.slots.qa]\nnames = [\"qa\"]\ntarget = \"192.0.2.9\"\n"},
			want: []string{`app "site": slot "qa" added`}},
		{name: "slot removed", edits: []string{"[app.slots.staging]\nnames  = [\"stage\"]\ntarget = \"green.deploy.test.\"\n", ""},
			want: []string{`app "site": slot "staging" removed`}},
		{name: "slot names and target", edits: []string{`["stage"]`, `["stage", "beta"]`, `"green.deploy.test."`, `"192.0.2.9, 192.0.2.8"`},
			want: []string{
				`app "site": slot "staging": names stage.example.com. -> stage.example.com., beta.example.com.`,
				`app "site": slot "staging": target green.deploy.test. -> 192.0.2.8,192.0.2.9`,
			}},
		{name: "check changed", edits: []string{`http = "/healthz"`, "https = \"/healthz\"\nport = 8443"},
			want: []string{
				`app "shop": check 1 (http /healthz): name "http /healthz" -> "https /healthz"`,
				`app "shop": check 1 (http /healthz): http "/healthz" -> https "/healthz"`,
				`app "shop": check 1 (http /healthz): port 80 -> 8443`,
			}},
		{name: "check added", tail: "\n[[app.check]]\nwhen = \"after\"\ncommand = [\"./x.sh\"]\n",
			want: []string{`app "shop": check 2 (command ./x.sh) added`}},
		{name: "in file order", edits: []string{"ttl  = 30", "ttl  = 60", `["127.0.0.1:0"]`, `["0.0.0.0:53"]`},
			tail: "\n[[zone]]\norigin = \"new.test.\"\nfile = \"new.test.zone\"\n",
			want: []string{`listen: ["127.0.0.1:0"] -> ["0.0.0.0:53"]`, `zone "new.test.": added`, `app "site": ttl 30 -> 60`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			edited := changesConfig
			for i := 0; i+1 < len(tt.edits); i += 2 {
				edited = testkit.Edit(t, edited, tt.edits[i], tt.edits[i+1])
			}
			path := testkit.Site(t, changesConfig)
			dir := filepath.Dir(path)
			newPath := filepath.Join(dir, "new.toml")
			testkit.WriteFile(t, newPath, edited+tt.tail)
			was, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			is, err := Load(newPath)
			if err != nil {
				t.Fatal(err)
			}
			got := Changes(was, is)
			if tt.want == nil && got != nil {
				t.Errorf("got %q, want nil", got)
			}
			text := strings.ReplaceAll(strings.Join(got, "\n"), dir, "DIR")
			if want := strings.Join(tt.want, "\n"); text != want {
				t.Errorf("got:\n%s\nwant:\n%s", text, want)
			}
			// The other way round gives as many phrases.
			if back := Changes(is, was); len(back) != len(got) {
				t.Errorf("back: got %q, want %d phrases", back, len(got))
			}
		})
	}
}
