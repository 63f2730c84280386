package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"

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

// secondaryConfig names the keys of testKeyFile.
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

// writeKeys writes the key file tsig.key with mode perm into dir and
// returns its path.
func writeKeys(t testing.TB, dir, text string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "tsig.key")
	testkit.WriteFile(t, path, text)
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	path := testkit.Site(t, secondaryConfig)
	writeKeys(t, filepath.Dir(path), testKeyFile, 0o600)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cfg.LoadKeys()
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
		if s := fmt.Sprintf("%v %+v %s", k, k, k); strings.Contains(s, testSecret) {
			t.Errorf("key %s prints its secret: %s", tt.name, s)
		}
	}
}

// Without tsig_keys there is nothing to read.
func TestLoadKeysNone(t *testing.T) {
	t.Parallel()
	keys, err := load(t, "").LoadKeys()
	if keys != nil || err != nil {
		t.Errorf("got %v, %v; want nil, nil", keys, err)
	}
}

// A secondary's key that the file does not have is reported at its line,
// with the keys the file has.
func TestLoadKeysUnknownKey(t *testing.T) {
	t.Parallel()
	config := testkit.Edit(t, secondaryConfig, `key     = "other.key"`, `key     = "Nope"`)
	path := testkit.Site(t, config)
	keyPath := writeKeys(t, filepath.Dir(path), testKeyFile, 0o600)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cfg.LoadKeys()
	want := fmt.Sprintf(`slotdns.toml:22: zone "deploy.test.": secondary [::1]:5401: key "nope" is not in %s (it has "other.key" and "xfr-key"); add it there or fix the name`, keyPath)
	if keys != nil || err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("got %v, %v; want an error ending in %q", keys, err, want)
	}
}

func TestLoadKeysErrors(t *testing.T) {
	t.Parallel()
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
			t.Parallel()
			path := testkit.Site(t, "tsig_keys = \"tsig.key\"\n"+testkit.SiteConfig)
			writeKeys(t, filepath.Dir(path), tt.text, tt.perm)
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cfg.LoadKeys()
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), path+":1: tsig_keys: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it at tsig_keys and containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "not*base64") {
				t.Errorf("the error quotes a secret: %q", err)
			}
		})
	}
}

// A key file that is not there is LoadKeys' error, at the tsig_keys line.
func TestLoadKeysMissingFile(t *testing.T) {
	t.Parallel()
	cfg := load(t, "tsig_keys = \"tsig.key\"\n"+testkit.SiteConfig)
	_, err := cfg.LoadKeys()
	if err == nil || !strings.Contains(err.Error(), "slotdns.toml:1: tsig_keys: tsig keys: stat ") || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("got %v, want a missing file at line 1", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// The key parser never panics, and what it accepts is usable.
func FuzzParseTSIGKeys(f *testing.F) {
	f.Add(testKeyFile)
	f.Add("key \"k\" { algorithm hmac-sha1; secret \"YQ==\"; };")
	f.Add("/* */ # \n // \nkey k{algorithm hmac-sha256;secret\"\";};")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := parseKeys("tsig.key", text)
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
