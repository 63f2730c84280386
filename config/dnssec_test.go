package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// signedZone is a zone whose [zone.dnssec] table starts at line 5, its
// keys from line 6 on.
const signedZone = `
[[zone]]
origin = "example.com."
file   = "example.com.zone"
[zone.dnssec]
`

func loadDNSSEC(t *testing.T, text string) (*Config, string, error) {
	t.Helper()
	dir := testkit.WriteFiles(t, map[string]string{"slotdns.toml": text})
	cfg, err := Load(filepath.Join(dir, "slotdns.toml"))
	return cfg, dir, err
}

func TestDNSSECDefaults(t *testing.T) {
	t.Parallel()
	cfg, dir, err := loadDNSSEC(t, signedZone)
	if err != nil {
		t.Fatal(err)
	}
	want := DNSSEC{
		KeyDir:    filepath.Join(dir, DefaultKeyDir),
		Algorithm: dns.ECDSAP256SHA256,
		Validity:  DefaultSignatureValidity,
		Refresh:   DefaultSignatureRefresh,
		Jitter:    DefaultSignatureJitter,
		Line:      5,
	}
	if got := cfg.Zones[0].DNSSEC; got == nil || *got != want {
		t.Fatalf("an empty [zone.dnssec]: got %+v, want %+v", got, want)
	}
	// An inline table is a table too.
	cfg, _, err = loadDNSSEC(t, strings.Replace(signedZone, "[zone.dnssec]\n", "dnssec = {}\n", 1))
	if err != nil || cfg.Zones[0].DNSSEC == nil || cfg.Zones[0].DNSSEC.Line != 5 {
		t.Fatalf("dnssec = {}: %+v %v", cfg.Zones[0].DNSSEC, err)
	}
	// No table: not signed.
	cfg, _, err = loadDNSSEC(t, strings.Replace(signedZone, "[zone.dnssec]\n", "", 1))
	if err != nil || cfg.Zones[0].DNSSEC != nil {
		t.Fatalf("no [zone.dnssec]: %+v %v", cfg.Zones[0].DNSSEC, err)
	}
}

func TestDNSSECKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys  string
		check func(d *DNSSEC, dir string) bool
	}{
		{`key_dir = "/var/lib/slotdns/keys"`, func(d *DNSSEC, _ string) bool { return d.KeyDir == "/var/lib/slotdns/keys" }},
		{`key_dir = "zones/keys"`, func(d *DNSSEC, dir string) bool { return d.KeyDir == filepath.Join(dir, "zones", "keys") }},
		{`algorithm = "ED25519"`, func(d *DNSSEC, _ string) bool { return d.Algorithm == dns.ED25519 }},
		{`algorithm = "ed25519"`, func(d *DNSSEC, _ string) bool { return d.Algorithm == dns.ED25519 }},
		{`algorithm = "15"`, func(d *DNSSEC, _ string) bool { return d.Algorithm == dns.ED25519 }},
		{`algorithm = "EcdsaP256Sha256"`, func(d *DNSSEC, _ string) bool { return d.Algorithm == dns.ECDSAP256SHA256 }},
		{`algorithm = "13"`, func(d *DNSSEC, _ string) bool { return d.Algorithm == dns.ECDSAP256SHA256 }},
		{`split_keys = true`, func(d *DNSSEC, _ string) bool { return d.Split }},
		{`split_keys = false`, func(d *DNSSEC, _ string) bool { return !d.Split }},
		{`denial = "nsec3"`, func(d *DNSSEC, _ string) bool { return d.NSEC3 }},
		{`denial = "NSEC"`, func(d *DNSSEC, _ string) bool { return !d.NSEC3 }},
		{`generate_keys = true`, func(d *DNSSEC, _ string) bool { return d.GenerateKeys }},
		{`signature_validity = "30d"`, func(d *DNSSEC, _ string) bool { return d.Validity == 30*24*time.Hour }},
		{`signature_validity = "336h"`, func(d *DNSSEC, _ string) bool { return d.Validity == DefaultSignatureValidity }},
		{`signature_refresh = "3d"`, func(d *DNSSEC, _ string) bool { return d.Refresh == 3*24*time.Hour }},
		{`signature_refresh = "36h30m"`, func(d *DNSSEC, _ string) bool { return d.Refresh == 36*time.Hour+30*time.Minute }},
		{`signature_jitter = "0s"`, func(d *DNSSEC, _ string) bool { return d.Jitter == 0 }},
		{`signature_jitter = "1d"`, func(d *DNSSEC, _ string) bool { return d.Jitter == 24*time.Hour }},
		{"signature_validity = \"1h\"\nsignature_refresh = \"30m\"\nsignature_jitter = \"5m\"", func(d *DNSSEC, _ string) bool {
			return d.Validity == time.Hour && d.Refresh == 30*time.Minute && d.Jitter == 5*time.Minute
		}},
	} {
		cfg, dir, err := loadDNSSEC(t, signedZone+tc.keys+"\n")
		if err != nil {
			t.Errorf("%s: %v", tc.keys, err)
			continue
		}
		if d := cfg.Zones[0].DNSSEC; d == nil || !tc.check(d, dir) {
			t.Errorf("%s: got %+v", tc.keys, d)
		}
	}
}

func TestDNSSECErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys string
		want []string // in order, each with its line
	}{
		{`algorithm = "RSASHA256"`, []string{`slotdns.toml:6: zone "example.com.": dnssec algorithm "RSASHA256": want "ECDSAP256SHA256" (13, the default) or "ED25519" (15)`}},
		{`algorithm = "8"`, []string{`slotdns.toml:6: zone "example.com.": dnssec algorithm "8": want "ECDSAP256SHA256"`}},
		{`algorithm = 13`, []string{`slotdns.toml:6: key "zone.dnssec.algorithm": incompatible types: the value is an integer, want a string; write it as algorithm = "ECDSAP256SHA256" or "ED25519"`}},
		{`denial = "nsec5"`, []string{`slotdns.toml:6: zone "example.com.": dnssec denial "nsec5": want "nsec" (the default) or "nsec3"`}},
		{`split_keys = "yes"`, []string{`slotdns.toml:6: key "zone.dnssec.split_keys": incompatible types: the value is a string, want true or false; write it as split_keys = true`}},
		{`generate_keys = 1`, []string{`slotdns.toml:6: key "zone.dnssec.generate_keys": incompatible types`}},
		{`key_dir = ["keys"]`, []string{`slotdns.toml:6: key "zone.dnssec.key_dir": incompatible types: the value is an array of strings, want a string; write it as key_dir = "keys"`}},
		{`keydir = "keys"`, []string{`slotdns.toml:6: unknown key "zone.dnssec.keydir"; remove it or check its spelling`}},
		{`signature_validity = "two weeks"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_validity "two weeks": want a duration in hours or whole days, such as signature_validity = "14d" (or "336h")`}},
		{`signature_validity = 14`, []string{`slotdns.toml:6: key "zone.dnssec.signature_validity": incompatible types: the value is an integer, want a string; write it as signature_validity = "14d"`}},
		{`signature_validity = "1.5d"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_validity "1.5d": want a duration`}},
		{`signature_validity = "59m"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_validity "59m": want at least 1h, such as signature_validity = "14d"`}},
		{`signature_validity = "30000d"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_validity "30000d": want at most 24855d`}},
		{`signature_refresh = "0s"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_refresh "0s": want more than 0, such as signature_refresh = "7d"`}},
		{`signature_refresh = "-1h"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_refresh "-1h": want more than 0`}},
		{`signature_refresh = "14d"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_refresh "14d" must be less than signature_validity 14d (the default), so that signatures are replaced before they expire; e.g. signature_refresh = "7d"`}},
		{`signature_validity = "2d"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_refresh 7d (the default) must be less than signature_validity "2d", so that signatures are replaced before they expire; e.g. signature_refresh = "1d"`}},
		{"signature_validity = \"3h\"\nsignature_refresh = \"4h\"", []string{`slotdns.toml:7: zone "example.com.": dnssec signature_refresh "4h" must be less than signature_validity "3h"`}},
		{`signature_jitter = "-1m"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_jitter "-1m": want 0 or more, such as signature_jitter = "12h"`}},
		{`signature_jitter = "7d"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_jitter "7d" must be less than signature_refresh 7d (the default), so that a signature is replaced before it expires however its expiration is spread; e.g. signature_jitter = "16h"`}},
		{`signature_validity = "174h"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_refresh 7d (the default) plus signature_jitter 12h (the default) must be less than signature_validity "174h"`, `e.g. signature_validity = "15d"`}},
		{`signature_refresh = "6h"`, []string{`slotdns.toml:6: zone "example.com.": dnssec signature_jitter 12h (the default) must be less than signature_refresh "6h"`, `e.g. signature_jitter = "36m"`}},
		{"algorithm = \"dsa\"\ndenial = \"nsec4\"\nsignature_jitter = \"soon\"", []string{`slotdns.toml:6: zone "example.com.": dnssec algorithm "dsa"`, `slotdns.toml:7: zone "example.com.": dnssec denial "nsec4"`, `slotdns.toml:8: zone "example.com.": dnssec signature_jitter "soon"`}},
	} {
		_, _, err := loadDNSSEC(t, signedZone+tc.keys+"\n")
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.keys, tc.want)
			continue
		}
		got := err.Error()
		for _, want := range tc.want {
			i := strings.Index(got, want)
			if i < 0 {
				t.Errorf("%s: error\n%s\nwant it to contain %q", tc.keys, err, want)
				break
			}
			got = got[i+len(want):]
		}
	}
	// A value that is not a table.
	_, _, err := loadDNSSEC(t, strings.Replace(signedZone, "[zone.dnssec]\n", "dnssec = true\n", 1))
	if err == nil || !strings.Contains(err.Error(), `slotdns.toml:5: key "zone.dnssec": incompatible types: the value is a boolean, want a table; write it as a [zone.dnssec] table, empty for every default, or with key_dir, algorithm`) {
		t.Errorf("dnssec = true: %v", err)
	}
	// The table of the second zone is at its own line.
	_, _, err = loadDNSSEC(t, signedZone+strings.Replace(signedZone, "example.com.", "example.net.", 2)+"denial = \"nsec5\"\n")
	if err == nil || !strings.Contains(err.Error(), `slotdns.toml:11: zone "example.net.": dnssec denial "nsec5"`) {
		t.Errorf("second zone: %v", err)
	}
}

// TestDNSSECDocExample: the table of the package doc, every key at its
// default, is the empty table.
func TestDNSSECDocExample(t *testing.T) {
	t.Parallel()
	cfg, dir, err := loadDNSSEC(t, signedZone+`key_dir            = "keys"
algorithm          = "ECDSAP256SHA256"
split_keys         = false
denial             = "nsec"
generate_keys      = false
signature_validity = "14d"
signature_refresh  = "7d"
signature_jitter   = "12h"
`)
	if err != nil {
		t.Fatal(err)
	}
	want := DNSSEC{KeyDir: filepath.Join(dir, DefaultKeyDir), Algorithm: dns.ECDSAP256SHA256,
		Validity: DefaultSignatureValidity, Refresh: DefaultSignatureRefresh, Jitter: DefaultSignatureJitter, Line: 5}
	if got := *cfg.Zones[0].DNSSEC; got != want {
		t.Errorf("got %+v, want the defaults %+v", got, want)
	}
}
