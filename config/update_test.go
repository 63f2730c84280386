package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// updateZone is a zone with one [[zone.update]] table at line 6, its
// keys from line 7 on.
const updateZone = `tsig_keys = "tsig.key"

[[zone]]
origin = "example.com."
file   = "example.com.zone"
[[zone.update]]
`

const updateKeys = `key "acme-key" {
	algorithm hmac-sha256;
	secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
};
key "lego-key" {
	algorithm hmac-sha1;
	secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=";
};
`

func loadUpdate(t *testing.T, keys string) (*Config, error) {
	t.Helper()
	dir := testkit.WriteFiles(t, map[string]string{"slotdns.toml": updateZone + keys + "\n"})
	if err := os.WriteFile(filepath.Join(dir, "tsig.key"), []byte(updateKeys), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(filepath.Join(dir, "slotdns.toml"))
	if err != nil {
		return nil, err
	}
	_, err = cfg.LoadKeys()
	return cfg, err
}

func TestUpdatePolicy(t *testing.T) {
	t.Parallel()
	cfg, err := loadUpdate(t, "key = \"acme-key\"\nnames = [\"_acme-challenge.*\", \"*.apps\"]\ntypes = [\"TXT\", \"a\"]")
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.Zones[0].Updates
	if len(u) != 1 || u[0].Key != "acme-key." || len(u[0].Names) != 2 || len(u[0].Types) != 2 || u[0].Line != 6 || u[0].FileRecords {
		t.Fatalf("got %+v", u)
	}
	for _, tc := range []struct {
		name string
		t    uint16
		want bool
	}{
		{"_acme-challenge.www.example.com.", dns.TypeTXT, true},
		{"_acme-challenge.example.com.", dns.TypeTXT, true},
		{"x.apps.example.com.", dns.TypeA, true},
		{"x.apps.example.com.", dns.TypeAAAA, false},
		{"www.example.com.", dns.TypeTXT, false},
	} {
		if got := u[0].Allows(tc.name, tc.t, "example.com."); got != tc.want {
			t.Errorf("%s %s: got %v, want %v", tc.name, dns.TypeToString[tc.t], got, tc.want)
		}
	}
}

func TestUpdatePolicyRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys string
		want string
	}{
		{"names = [\"x\"]\ntypes = [\"TXT\"]", `slotdns.toml:6: zone "example.com.": update: key is missing`},
		{"key = \"acme-key\"\ntypes = [\"TXT\"]", `zone "example.com.": update: names is missing`},
		{"key = \"acme-key\"\nnames = [\"x\"]", `zone "example.com.": update: types is missing`},
		{"key = \"acme-key\"\nnames = [\"a.*.b\"]\ntypes = [\"TXT\"]", `slotdns.toml:8: zone "example.com.": update: name pattern "a.*.b"`},
		{"key = \"acme-key\"\nnames = [\"x\"]\ntypes = [\"SOA\"]", `slotdns.toml:9: zone "example.com.": update: type SOA is the zone's own`},
		{"key = \"acme-key\"\nnames = [\"x\"]\ntypes = [\"BOGUS\"]", `type "BOGUS" is not a type of records`},
		{"key = \"other-key\"\nnames = [\"x\"]\ntypes = [\"TXT\"]", `slotdns.toml:7: zone "example.com.": update: key "other-key" is not in`},
		{"key = \"lego-key\"\nnames = [\"x\"]\ntypes = [\"TXT\"]", `slotdns.toml:7: zone "example.com.": update: key "lego-key" is hmac-sha1; make it hmac-sha256`},
		{"key = \"acme-key\"\nnames = [\"x\"]\ntypes = [\"TXT\"]\nbogus = 1", `unknown key "zone.update.bogus"`},
	} {
		_, err := loadUpdate(t, tc.keys)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.keys, err, tc.want)
		}
	}
	if _, err := loadUpdate(t, "key = \"lego-key\"\nnames = [\"x\"]\ntypes = [\"TXT\"]\nallow_hmac_sha1 = true"); err != nil {
		t.Errorf("hmac-sha1 allowed: %v", err)
	}
}
