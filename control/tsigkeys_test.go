package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// testSecret is a 32-byte secret as tsig-keygen writes it.
const testSecret = "ivT2/UfEAo3S2vDkWyADbhrIbfl5MGh7dPhxJOKzpbI="

const testKeyFile = `# written by tsig-keygen
key "xfr-key" {
	algorithm hmac-sha256;
	secret "` + testSecret + `";
};
/* a second key,
   for the other secondary */
key other.key. { algorithm HMAC-SHA512; secret "` + testSecret + `"; }; // trailing
`

// writeKeys writes a key file with mode perm beside path's folder and
// returns its path.
func writeKeys(t testing.TB, dir, text string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "tsig.key")
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask may have cut bits
		t.Fatal(err)
	}
	return path
}

func TestLoadTSIGKeys(t *testing.T) {
	path := writeKeys(t, t.TempDir(), testKeyFile, 0o600)
	keys, err := LoadTSIGKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, algorithm string
	}{
		{"xfr-key.", dns.HmacSHA256},
		{"other.key.", dns.HmacSHA512},
	}
	if len(keys) != len(tests) {
		t.Errorf("keys: got %d, want %d", len(keys), len(tests))
	}
	for _, tt := range tests {
		k := keys[tt.name]
		if k.Name != tt.name || k.Algorithm != tt.algorithm || k.Secret != testSecret {
			t.Errorf("key %s: got name %q algorithm %q (secret ok %v), want %s", tt.name, k.Name, k.Algorithm, k.Secret == testSecret, tt.algorithm)
		}
	}
}

func TestLoadTSIGKeysErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		perm os.FileMode
		want string // a substring of the error
	}{
		{"readable by others", testKeyFile, 0o644, "mode 0644 lets group or others read the secrets; run: chmod 600"},
		{"readable by group", testKeyFile, 0o640, "chmod 600"},
		{"bad base64", "key \"k\" {\n algorithm hmac-sha256;\n secret \"not*base64\";\n};\n", 0o600, "tsig.key:3: key \"k\": the secret is not valid base64"},
		{"unknown algorithm", "key \"k\" {\n algorithm hmac-md4;\n secret \"" + testSecret + "\";\n};\n", 0o600, "tsig.key:2: key \"k\": algorithm \"hmac-md4\" is not supported"},
		{"no secret", "key \"k\" {\n algorithm hmac-sha256;\n};\n", 0o600, "tsig.key:1: key \"k\" has no secret"},
		{"missing semicolon", "key \"k\" {\n algorithm hmac-sha256\n secret \"" + testSecret + "\";\n};\n", 0o600, "tsig.key:3: got \"secret\", want \";\""},
		{"unknown statement", "key \"k\" {\n algorithm hmac-sha256;\n secrte \"x\";\n};\n", 0o600, "tsig.key:3: key \"k\": unknown statement \"secrte\""},
		{"twice", testKeyFile + testKeyFile, 0o600, "tsig.key:10: key \"xfr-key.\" is defined twice (first at line 2)"},
		{"open comment", "/* never closed\nkey \"k\" {};", 0o600, "tsig.key:1: comment /* is never closed"},
		{"truncated", "key \"k\" {\n algorithm hmac-sha256;\n", 0o600, "tsig.key:2: the file ends where"},
		{"empty", "# nothing\n", 0o600, "no key blocks; write one with: tsig-keygen"},
		{"not a key block", "server 192.0.2.1 { };\n", 0o600, "tsig.key:1: got \"server\", want a key block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeys(t, t.TempDir(), tt.text, tt.perm)
			_, err := LoadTSIGKeys(path)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "not*base64") {
				t.Errorf("the error quotes a secret: %q", err)
			}
		})
	}
}

const secondaryConfig = `listen = ["127.0.0.1:0"]
tsig_keys = "tsig.key"
journal_limit = 50

[[zone]]
origin = "example.com."
file   = "example.com.zone"

[[zone.secondary]]
address = "127.0.0.1:5400"
key     = "xfr-key"

[[zone.secondary]]
address = "127.0.0.2"

[[zone]]
origin = "deploy.test."
file   = "deploy.test.zone"

[[zone.secondary]]
address = "[::1]:5401"
key     = "other.key"
`

func TestLoadConfigSecondaries(t *testing.T) {
	path := writeConfig(t, secondaryConfig)
	writeKeys(t, filepath.Dir(path), testKeyFile, 0o600)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.JournalLimit != 50 {
		t.Errorf("journal_limit: got %d, want 50", cfg.JournalLimit)
	}
	if len(cfg.Keys) != 2 || cfg.Keys["xfr-key."].Secret != testSecret {
		t.Errorf("keys: got %d keys, want xfr-key. and other.key.", len(cfg.Keys))
	}
	tests := []struct {
		zone string
		want []SecondaryConfig
	}{
		{"example.com.", []SecondaryConfig{{"127.0.0.1:5400", "xfr-key."}, {"127.0.0.2:53", ""}}},
		{"deploy.test.", []SecondaryConfig{{"[::1]:5401", "other.key."}}},
	}
	for _, tt := range tests {
		zc, _ := cfg.Zone(tt.zone)
		if got := zc.Secondaries; len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
			t.Errorf("zone %s secondaries: got %v, want %v", tt.zone, got, tt.want)
		}
	}
	if def := loadTestConfig(t, ""); def.JournalLimit != DefaultJournalLimit {
		t.Errorf("journal_limit default: got %d, want %d", def.JournalLimit, DefaultJournalLimit)
	}
}

func TestLoadConfigSecondaryErrors(t *testing.T) {
	zone := "[[zone]]\norigin = \"example.com.\"\nfile = \"example.com.zone\"\n"
	tests := []struct {
		name   string
		config string
		keys   string // key file text; "" writes none
		perm   os.FileMode
		want   string
	}{
		{"unknown key", "tsig_keys = \"tsig.key\"\n" + zone + "[[zone.secondary]]\naddress = \"127.0.0.1:53\"\nkey = \"nope\"\n", testKeyFile, 0o600,
			"slotdns.toml:7: zone \"example.com.\": secondary 127.0.0.1:53: key \"nope\" is not in"},
		{"key without a key file", zone + "[[zone.secondary]]\naddress = \"127.0.0.1:53\"\nkey = \"xfr-key\"\n", "", 0,
			"slotdns.toml:6: zone \"example.com.\": secondary 127.0.0.1:53: key \"xfr-key\", but no tsig_keys file is configured"},
		{"bad address", zone + "[[zone.secondary]]\naddress = \"127.0.0.1:99999\"\n", "", 0,
			"slotdns.toml:5: zone \"example.com.\": secondary address \"127.0.0.1:99999\": port \"99999\""},
		{"second zone's secondary", zone + "[[zone]]\norigin = \"deploy.test.\"\nfile = \"deploy.test.zone\"\n[[zone.secondary]]\naddress = \"\"\n", "", 0,
			"slotdns.toml:8: zone \"deploy.test.\": secondary address \"\": empty"},
		{"key file readable by others", "tsig_keys = \"tsig.key\"\n" + zone, testKeyFile, 0o644,
			"slotdns.toml:1: tsig_keys: "},
		{"journal limit", "journal_limit = 0\n" + zone, "", 0, "slotdns.toml:1: journal_limit 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.config)
			if tt.keys != "" {
				writeKeys(t, filepath.Dir(path), tt.keys, tt.perm)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// The key parser never panics, and what it accepts is usable.
func FuzzParseTSIGKeys(f *testing.F) {
	f.Add(testKeyFile)
	f.Add("key \"k\" { algorithm hmac-sha1; secret \"YQ==\"; };")
	f.Add("/* */ # \n // \nkey k{algorithm hmac-sha256;secret\"\";};")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := parseTSIGKeys("tsig.key", text)
		if err != nil {
			return
		}
		for name, k := range keys {
			if name != k.Name || !dns.IsFqdn(name) || k.Algorithm == "" || k.Secret == "" {
				t.Errorf("accepted %q as %+v", text, k)
			}
		}
	})
}
