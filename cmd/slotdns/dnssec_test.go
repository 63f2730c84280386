package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/dnssec"
)

// signed gives example.com. of the test site a [zone.dnssec] table with
// keys (none for every default).
func signed(keys ...string) func(string) string {
	return func(c string) string {
		zone := "file   = \"example.com.zone\"\n"
		return strings.Replace(c, zone, zone+"\n[zone.dnssec]\n"+strings.Join(keys, "\n")+"\n", 1)
	}
}

func TestDNSSECKeygenThenDS(t *testing.T) {
	config := site(t, signed())
	dir := filepath.Join(filepath.Dir(config), "keys")
	got := runCLI(t, "--config", config, "dnssec", "keygen", "example.com")
	if got.code != 0 {
		t.Fatalf("keygen: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("key folder: %v %v, want mode 0700", info, err)
	}
	keys, err := dnssec.Load(dir, "example.com.")
	if err != nil || len(keys) != 1 || !keys[0].SEP() || keys[0].DNSKEY.Algorithm != dnssec.ECDSAP256SHA256 {
		t.Fatalf("keys: %v %v, want one ECDSA CSK", keys, err)
	}
	k := keys[0]
	for _, want := range []string{
		"made the CSK of example.com.: ECDSAP256SHA256, tag ",
		"wrote " + filepath.Join(dir, k.BaseName()) + ".key\n",
		"wrote " + filepath.Join(dir, k.BaseName()) + ".private (mode 0600)\n",
		k.DS().String() + "\n",
		"only once slotdns serve serves example.com. signed",
		"dig +dnssec DNSKEY example.com. @127.0.0.1 -p ",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("keygen output lacks %q:\n%s", want, got.stdout)
		}
	}

	got = runCLI(t, "--config", config, "dnssec", "ds", "example.com.")
	if got.code != 0 || !strings.HasPrefix(got.stderr, "; example.com.: ") {
		t.Fatalf("ds: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(got.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("ds: got %d lines, want the DS and the DNSKEY:\n%s", len(lines), got.stdout)
	}
	// The digest's case aside (ToDS gives it in lower case), the DS is Key.DS().
	ds, err := dns.NewRR(lines[0])
	if err != nil || ds.String() != k.DS().String() || !strings.EqualFold(ds.(*dns.DS).Digest, k.DS().Digest) || ds.(*dns.DS).DigestType != dns.SHA256 {
		t.Errorf("ds line %q: %v, want %s", lines[0], err, k.DS())
	}
	key, err := dns.NewRR(lines[1])
	if err != nil || !dns.IsDuplicate(key, k.DNSKEY) {
		t.Errorf("dnskey line %q: %v, want %s", lines[1], err, k.DNSKEY)
	}

	// --json: the same records.
	got = runCLI(t, "--config", config, "dnssec", "ds", "example.com", "--json")
	var records []dsRecord
	if err := json.Unmarshal([]byte(got.stdout), &records); err != nil || got.code != 0 || len(records) != 1 {
		t.Fatalf("ds --json: exit %d, %v\n%s", got.code, err, got.stdout)
	}
	if r := records[0]; r.Tag != k.Tag() || r.Algorithm != 13 || r.DS != k.DS().String() || r.DNSKEY != k.DNSKEY.String() {
		t.Errorf("ds --json: %+v", r)
	}
	if !strings.Contains(got.stdout, `"tag": `) || !strings.Contains(got.stdout, `"dnskey": `) {
		t.Errorf("ds --json keys: %s", got.stdout)
	}

	// A second keygen refuses, and changes nothing.
	got = runCLI(t, "--config", config, "dnssec", "keygen", "example.com")
	if got.code != exitConflict || !strings.Contains(got.stderr, "zone example.com. already has keys in key_dir "+dir+": "+k.BaseName()+" (CSK)") {
		t.Errorf("keygen twice: exit %d\n%s", got.code, got.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("keygen twice: %d files in the key folder, want 2", len(entries))
	}
}

func TestDNSSECKeygenSplit(t *testing.T) {
	config := site(t, signed(`key_dir = "zone-keys"`, `algorithm = "ED25519"`))
	dir := filepath.Join(filepath.Dir(config), "zone-keys")
	got := runCLI(t, "--config", config, "dnssec", "keygen", "example.com", "--split", "--json")
	var res keygenResult
	if err := json.Unmarshal([]byte(got.stdout), &res); err != nil || got.code != 0 {
		t.Fatalf("keygen --split --json: exit %d, %v\n%s%s", got.code, err, got.stdout, got.stderr)
	}
	keys, err := dnssec.Load(dir, "example.com.")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %v %v, want two", keys, err)
	}
	var ksk *dnssec.Key
	for _, k := range keys {
		if k.DNSKEY.Algorithm != dnssec.ED25519 {
			t.Errorf("key %s: algorithm %d, want the config's ED25519", k.BaseName(), k.DNSKEY.Algorithm)
		}
		if k.SEP() {
			ksk = k
		}
	}
	if ksk == nil || keys[0].SEP() == keys[1].SEP() {
		t.Fatalf("keys %s, %s: want a KSK and a ZSK", keys[0].BaseName(), keys[1].BaseName())
	}
	if len(res.Files) != 4 || res.KeyDir != dir || res.Zone != "example.com." || len(res.DS) != 1 || res.DS[0].DS != ksk.DS().String() {
		t.Errorf("keygen --json: %+v", res)
	}
	// ds prints the KSK's alone.
	got = runCLI(t, "--config", config, "dnssec", "ds", "example.com")
	if got.code != 0 || got.stdout != ksk.DS().String()+"\n"+ksk.DNSKEY.String()+"\n" {
		t.Errorf("ds: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}

	// The flags override the config: one ECDSA CSK.
	config = site(t, signed(`algorithm = "ED25519"`, `split_keys = true`))
	got = runCLI(t, "--config", config, "dnssec", "keygen", "example.com", "--algorithm", "ecdsap256sha256", "--split=false")
	keys, err = dnssec.Load(filepath.Join(filepath.Dir(config), "keys"), "example.com.")
	if got.code != 0 || err != nil || len(keys) != 1 || keys[0].DNSKEY.Algorithm != dnssec.ECDSAP256SHA256 || !keys[0].SEP() {
		t.Errorf("keygen --algorithm --split=false: exit %d, %v %v\n%s", got.code, keys, err, got.stderr)
	}
}

func TestDNSSECErrors(t *testing.T) {
	config := site(t, signed())
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"a zone without a table", []string{"dnssec", "keygen", "deploy.test"}, 1,
			"zone deploy.test. is not signed: its [[zone]] at " + filepath.Dir(config) + string(filepath.Separator) + "slotdns.toml:13 has no [zone.dnssec] table; add one below it"},
		{"ds of a zone without a table", []string{"dnssec", "ds", "deploy.test."}, 1, "has no [zone.dnssec] table"},
		{"an undeclared zone", []string{"dnssec", "keygen", "example.net"}, 1, "zone example.net. is not in " + config + " (it declares example.com., deploy.test.)"},
		{"no keys", []string{"dnssec", "ds", "example.com"}, 1,
			"zone example.com. has no keys in key_dir " + filepath.Join(filepath.Dir(config), "keys") + "; make them with slotdns dnssec keygen example.com, or set generate_keys = true"},
		{"no zone", []string{"dnssec", "ds"}, 2, "dnssec ds: want ZONE, got 0 argument(s)"},
		{"two zones", []string{"dnssec", "keygen", "a.", "b."}, 2, "dnssec keygen: want ZONE, got 2 argument(s)"},
		{"a bad algorithm", []string{"dnssec", "keygen", "example.com", "--algorithm", "RSASHA256"}, 2, "--algorithm RSASHA256: want ECDSAP256SHA256 (13) or ED25519 (15)"},
		{"an unknown flag", []string{"dnssec", "ds", "example.com", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"remote", []string{"--server", "https://dns1.example.net:8053", "dnssec", "ds", "example.com"}, 2,
			"dnssec ds needs the config and the key files of the server's machine; --server does not apply"},
		{"remote keygen", []string{"--server", "https://dns1.example.net:8053", "dnssec", "keygen", "example.com"}, 2,
			"dnssec keygen needs the config and the key files of the server's machine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runCLI(t, append([]string{"--config", config}, tc.args...)...)
			if got.code != tc.code || !strings.Contains(got.stderr, tc.stderr) || strings.Contains(got.stderr, "goroutine ") {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant exit %d and %q", got.code, got.stdout, got.stderr, tc.code, tc.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(config), "keys")); err == nil {
		t.Errorf("a refused command created the key folder")
	}

	// --json errors.
	got := runCLI(t, "--config", config, "dnssec", "ds", "example.com", "--json")
	var body struct{ Error, Kind string }
	if err := json.Unmarshal([]byte(got.stdout), &body); err != nil || body.Kind != "not_found" || !strings.Contains(body.Error, "slotdns dnssec keygen example.com") {
		t.Errorf("ds --json with no keys: %q", got.stdout)
	}

	// A key file others may read: ds names it, keygen makes none.
	if got := runCLI(t, "--config", config, "dnssec", "keygen", "example.com"); got.code != 0 {
		t.Fatalf("keygen: %s", got.stderr)
	}
	dir := filepath.Join(filepath.Dir(config), "keys")
	keys, err := dnssec.Load(dir, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(keys[0].File, 0o644)
	for _, args := range [][]string{{"dnssec", "ds", "example.com"}, {"dnssec", "keygen", "example.com"}} {
		got := runCLI(t, append([]string{"--config", config}, args...)...)
		if got.code != 1 || !strings.Contains(got.stderr, "key file "+keys[0].File+" has mode 0644") {
			t.Errorf("%v with a readable key file: exit %d\n%s", args, got.code, got.stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("keygen with a readable key file: %d files, want 2", len(entries))
	}
}

// TestCheckSignedZones: check loads the keys of every signed zone, and
// fails on a zone that has none unless serve is to make them.
func TestCheckSignedZones(t *testing.T) {
	config := site(t, signed())
	dir := filepath.Join(filepath.Dir(config), "keys")
	got := runCLI(t, "--config", config, "check")
	if want := "slotdns.toml:9: zone example.com. is signed, but key_dir " + dir + " holds none of its keys; run slotdns dnssec keygen example.com, or set generate_keys = true"; got.code != 1 || !strings.Contains(got.stderr, want) {
		t.Errorf("check without keys: exit %d, want %q in\n%s", got.code, want, got.stderr)
	}
	generating := site(t, signed("generate_keys = true"))
	got = runCLI(t, "--config", generating, "check")
	if want := "note: zone example.com. has no DNSSEC keys in key_dir " + filepath.Join(filepath.Dir(generating), "keys") + " yet: slotdns serve makes them at start"; got.code != 0 || !strings.Contains(got.stdout, want) {
		t.Errorf("check without keys that serve makes: exit %d, want %q in\n%s%s", got.code, want, got.stdout, got.stderr)
	}

	if got := runCLI(t, "--config", config, "dnssec", "keygen", "example.com", "--split"); got.code != 0 {
		t.Fatalf("keygen: %s", got.stderr)
	}
	keys, err := dnssec.Load(dir, "example.com.")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	got = runCLI(t, "--config", config, "check")
	if want := dir + ": zone example.com. keys ok (2 keys, tags "; got.code != 0 || !strings.Contains(got.stdout, want) || !strings.Contains(got.stdout, "(KSK)") || !strings.Contains(got.stdout, "(ZSK)") {
		t.Errorf("check: exit %d, want %q in\n%s%s", got.code, want, got.stdout, got.stderr)
	}
	got = runCLI(t, "--config", config, "check", "--json")
	var res struct {
		OK     bool
		Signed []struct {
			Zone   string
			KeyDir string `json:"key_dir"`
			Keys   []string
			Tags   []uint16
		}
	}
	if err := json.Unmarshal([]byte(got.stdout), &res); err != nil || !res.OK || len(res.Signed) != 1 || res.Signed[0].Zone != "example.com." ||
		res.Signed[0].KeyDir != dir || len(res.Signed[0].Tags) != 2 || res.Signed[0].Keys[0] != keys[0].BaseName() {
		t.Errorf("check --json: %v\n%s", err, got.stdout)
	}

	// A key that does not load is a problem at the table's line, naming the file.
	os.Chmod(keys[1].File, 0o644)
	got = runCLI(t, "--config", config, "check")
	if want := "slotdns.toml:9: zone example.com.: its DNSSEC keys do not load: key file " + keys[1].File + " has mode 0644"; got.code != 1 || !strings.Contains(got.stderr, want) {
		t.Errorf("check with a readable key file: exit %d, want %q in\n%s", got.code, want, got.stderr)
	}
	// A ZSK alone signs nothing the parent can point at.
	os.Chmod(keys[1].File, 0o600)
	for _, k := range keys {
		if k.SEP() {
			os.Remove(k.File)
			os.Remove(strings.TrimSuffix(k.File, ".private") + ".key")
		}
	}
	got = runCLI(t, "--config", config, "check")
	if got.code != 1 || !strings.Contains(got.stderr, "slotdns.toml:9: zone example.com.: its keys in key_dir "+dir+" (") || !strings.Contains(got.stderr, "(ZSK)) hold no KSK or CSK") {
		t.Errorf("check with a ZSK alone: exit %d\n%s", got.code, got.stderr)
	}
}
