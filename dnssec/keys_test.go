package dnssec

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

var now = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)

func generate(t *testing.T, dir, zone string, alg uint8, flags uint16) *Key {
	t.Helper()
	k, err := Generate(zone, alg, flags, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Write(dir); err != nil {
		t.Fatal(err)
	}
	return k
}

// signs checks that k signs an RRset that its DNSKEY verifies.
func signs(t *testing.T, k *Key) {
	t.Helper()
	a, err := dns.NewRR(k.Zone() + " 300 IN A 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: k.Zone(), Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300},
		Algorithm: k.DNSKEY.Algorithm, KeyTag: k.Tag(), SignerName: k.Zone(),
		Inception: uint32(now.Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
	if err := sig.Sign(k.Signer, []dns.RR{a}); err != nil {
		t.Fatalf("sign with %s: %v", k.BaseName(), err)
	}
	if err := sig.Verify(k.DNSKEY, []dns.RR{a}); err != nil {
		t.Fatalf("verify with %s: %v", k.BaseName(), err)
	}
}

func TestKeysRoundTrip(t *testing.T) {
	for _, alg := range []uint8{ECDSAP256SHA256, ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			dir := t.TempDir()
			csk := generate(t, dir, "Example.COM", alg, FlagsKSK)
			zsk := generate(t, dir, "example.com.", alg, FlagsZSK)
			generate(t, dir, "other.example.", alg, FlagsKSK) // not read for example.com.
			for ext, want := range map[string]os.FileMode{".private": 0o600, ".key": 0o644} {
				st, err := os.Stat(filepath.Join(dir, csk.BaseName()+ext))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != want {
					t.Errorf("%s: mode %04o, want %04o", ext, st.Mode().Perm(), want)
				}
			}
			keys, err := Load(dir, "example.com")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 2 {
				t.Fatalf("Load: %d keys, want 2", len(keys))
			}
			for _, k := range keys {
				want := csk
				if k.Tag() == zsk.Tag() {
					want = zsk
				}
				if k.DNSKEY.String() != want.DNSKEY.String() || !k.Created.Equal(now) || k.SEP() != want.SEP() {
					t.Errorf("read %s created %s, want %s created %s", k.DNSKEY, k.Created, want.DNSKEY, now)
				}
				signs(t, k)
			}
			if err := csk.Write(dir); err == nil || !strings.Contains(err.Error(), "exists already") {
				t.Errorf("a second write: got %v, want an error that the file exists", err)
			}
		})
	}
}

func TestKeysRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir string, k *Key)
		want  string
	}{
		{"loose mode", func(t *testing.T, dir string, k *Key) {
			os.Chmod(filepath.Join(dir, k.BaseName()+".private"), 0o644)
		}, "chmod 600"},
		{"missing public key", func(t *testing.T, dir string, k *Key) {
			os.Remove(filepath.Join(dir, k.BaseName()+".key"))
		}, "public key file"},
		{"a key of another zone", func(t *testing.T, dir string, k *Key) {
			other := generate(t, t.TempDir(), "other.example.", ECDSAP256SHA256, FlagsKSK)
			for _, ext := range []string{".key", ".private"} {
				data, _ := os.ReadFile(other.File[:len(other.File)-len(".private")] + ext)
				testkit.WriteFile(t, filepath.Join(dir, "Kexample.com.+013+00001"+ext), string(data))
			}
			os.Chmod(filepath.Join(dir, "Kexample.com.+013+00001.private"), 0o600)
		}, "is a key of other.example."},
		{"a private key of another key", func(t *testing.T, dir string, k *Key) {
			other := generate(t, t.TempDir(), "example.com.", ECDSAP256SHA256, FlagsKSK)
			data, _ := os.ReadFile(other.File)
			testkit.WriteFile(t, filepath.Join(dir, k.BaseName()+".private"), string(data))
			os.Chmod(filepath.Join(dir, k.BaseName()+".private"), 0o600)
		}, "does not hold the private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k := generate(t, dir, "example.com.", ECDSAP256SHA256, FlagsKSK)
			tc.spoil(t, dir, k)
			_, err := Load(dir, "example.com.")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: got %v, want an error with %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("the error %q does not name the file", err)
			}
		})
	}
	if _, err := Generate("example.com.", dns.RSASHA256, FlagsKSK, now); err == nil || !strings.Contains(err.Error(), "use 13") {
		t.Errorf("Generate with RSASHA256: got %v, want a refusal naming the algorithms", err)
	}
}

// TestKeysWithBIND: a key made by BIND's dnssec-keygen is read as it is,
// with the DS that dnssec-dsfromkey gives; and BIND signs a zone with a
// key made here, which dnssec-verify accepts.
func TestKeysWithBIND(t *testing.T) {
	keygen := testkit.RequireTool(t, "dnssec-keygen", "apt-get install -y bind9-utils")
	dsfromkey := testkit.RequireTool(t, "dnssec-dsfromkey", "apt-get install -y bind9-utils")
	signzone := testkit.RequireTool(t, "dnssec-signzone", "apt-get install -y bind9-utils")
	verify := testkit.RequireTool(t, "dnssec-verify", "apt-get install -y bind9-utils")
	run := func(dir, prog string, args ...string) string {
		t.Helper()
		cmd := exec.Command(prog, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	dsOf := func(dir, keyFile string) string {
		t.Helper()
		ds, err := dns.NewRR(run(dir, dsfromkey, "-2", keyFile))
		if err != nil {
			t.Fatal(err)
		}
		return ds.(*dns.DS).Digest
	}

	for _, alg := range []string{"ECDSAP256SHA256", "ED25519"} {
		t.Run("dnssec-keygen "+alg, func(t *testing.T) {
			dir := t.TempDir()
			base := strings.TrimSpace(run(dir, keygen, "-q", "-a", alg, "-f", "KSK", "example.com"))
			keys, err := Load(dir, "example.com.")
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1 || keys[0].BaseName() != base {
				t.Fatalf("Load: %d keys, want %s", len(keys), base)
			}
			if got, want := keys[0].DS().Digest, dsOf(dir, base+".key"); !strings.EqualFold(got, want) {
				t.Errorf("DS digest %s, dnssec-dsfromkey gives %s", got, want)
			}
			signs(t, keys[0])
		})
	}

	dir := t.TempDir()
	k := generate(t, dir, "example.com.", ECDSAP256SHA256, FlagsKSK)
	if got, want := k.DS().Digest, dsOf(dir, k.BaseName()+".key"); !strings.EqualFold(got, want) {
		t.Errorf("DS digest %s, dnssec-dsfromkey gives %s", got, want)
	}
	testkit.WriteFile(t, filepath.Join(dir, "example.com.zone"), `$ORIGIN example.com.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.80
$INCLUDE `+k.BaseName()+`.key
`)
	run(dir, signzone, "-z", "-K", dir, "-o", "example.com.", "-f", "signed.zone", "example.com.zone", k.BaseName())
	run(dir, verify, "-z", "-o", "example.com.", "signed.zone") // -z: one key signs all (a CSK)
}
