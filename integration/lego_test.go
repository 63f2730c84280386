package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/providers/dns/dnsupdate"
	"github.com/miekg/dns"
)

// legoKeyAuth is a key authorization as an ACME client makes it (RFC
// 8555 section 8.1): a token, a dot and the base64url SHA-256 thumbprint
// (RFC 7638) of a fresh P-256 account key.
func legoKeyAuth(t *testing.T) (token, keyAuth string) {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	jwk := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, enc(point[1:33]), enc(point[33:]))
	thumb := sha256.Sum256([]byte(jwk))
	return token, token + "." + enc(thumb[:])
}

// TestLego: lego's RFC 2136 provider (dnsupdate in lego v5, rfc2136
// before), the DNS-01 client Traefik and many Kubernetes tools run,
// presents and cleans up challenges for apps.yourwebapp.com., its
// wildcard and www.yourwebapp.com. (a CNAME, which lego's zone search
// must step over), signed with hmac-sha256 and with lego's default
// hmac-sha1 under a policy that allows it. Each TXT record holds the
// value dns01 computes for the key authorization, and nothing is left.
//
// Every query lego makes goes to slotdns: the provider's zone search
// asks its nameserver, and the CNAME lookups of dns01.GetChallengeInfo
// ask dns01's default client, whose recursive nameservers (from
// /etc/resolv.conf otherwise) the test sets to slotdns. No propagation
// check runs: that asks the public resolvers.
//
// That slotdns serve refuses an hmac-sha1 key without allow_hmac_sha1,
// naming the line, is TestUpdatePolicyRefused's in config.
func TestLego(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		algorithm string // of the key file; "" takes lego's default
		policy    string
	}{
		{"hmac-sha256", dns.HmacSHA256, updatePolicy},
		{"hmac-sha1", "", updatePolicy + "allow_hmac_sha1 = true\n"},
	} {
		// Not parallel: dns01's default client is lego's global.
		t.Run(tc.name, func(t *testing.T) {
			key := newTSIGKey(t, "acme-key")
			in := newDemo(t, withUpdates(tc.policy))
			fileAlg := strings.TrimSuffix(tc.algorithm, ".")
			if fileAlg == "" {
				fileAlg = "hmac-sha1"
			}
			keyFile := filepath.Join(in.dir, "tsig.key")
			text := fmt.Sprintf("key %q {\n\talgorithm %s;\n\tsecret %q;\n};\n", key.name, fileAlg, key.secret)
			if err := os.WriteFile(keyFile, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(keyFile, 0o600); err != nil {
				t.Fatal(err)
			}
			in.start()
			d := &updateDemo{in: in, key: key}

			prev := dns01.DefaultClient()
			dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{in.addr()}}))
			t.Cleanup(func() { dns01.SetDefaultClient(prev) })

			config := dnsupdate.NewDefaultConfig()
			config.Nameserver = in.addr()
			config.TSIGKey = key.name
			config.TSIGSecret = key.secret
			if tc.algorithm != "" {
				config.TSIGAlgorithm = tc.algorithm
			} else if config.TSIGAlgorithm != dns.HmacSHA1 {
				t.Fatalf("lego's default TSIG algorithm is %q, want %q (is DNSUPDATE_TSIG_ALGORITHM or RFC2136_TSIG_ALGORITHM set?)", config.TSIGAlgorithm, dns.HmacSHA1)
			}
			provider, err := dnsupdate.NewDNSProviderConfig(config)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			// challenge is one authorization: Present is given the
			// identifier (a wildcard's without "*."), as dns01 gives it.
			type challenge struct {
				domain, token, keyAuth, fqdn, value string
			}
			newChallenge := func(domain string) challenge {
				t.Helper()
				token, keyAuth := legoKeyAuth(t)
				info := dns01.GetChallengeInfo(ctx, domain, keyAuth)
				sum := sha256.Sum256([]byte(keyAuth))
				want := base64.RawURLEncoding.EncodeToString(sum[:])
				fqdn := "_acme-challenge." + domain + "."
				if info.Value != want || info.FQDN != fqdn || info.EffectiveFQDN != fqdn {
					t.Fatalf("dns01.GetChallengeInfo(%s): %+v, want value %s at %s", domain, info, want, fqdn)
				}
				return challenge{domain, token, keyAuth, fqdn, info.Value}
			}
			present := func(c challenge) {
				t.Helper()
				if err := provider.Present(ctx, c.domain, c.token, c.keyAuth); err != nil {
					t.Fatalf("Present %s: %v", c.domain, err)
				}
			}
			cleanUp := func(c challenge) {
				t.Helper()
				if err := provider.CleanUp(ctx, c.domain, c.token, c.keyAuth); err != nil {
					t.Fatalf("CleanUp %s: %v", c.domain, err)
				}
			}
			wantTXT := func(step, fqdn, status string, values ...string) {
				t.Helper()
				gotStatus, got := d.txt(fqdn)
				if gotStatus != status || fmt.Sprint(got) != fmt.Sprint(values) {
					t.Fatalf("%s: TXT %s: %s %q, want %s %q", step, fqdn, gotStatus, got, status, values)
				}
			}

			// apps.yourwebapp.com., then its wildcard: the same name,
			// another value. Present replaces what an earlier challenge
			// left there; cleaning up a value that is gone is no error.
			apps := newChallenge("apps.yourwebapp.com")
			present(apps)
			wantTXT("present apps", apps.fqdn, "NOERROR", apps.value)
			records := in.mustSlotdns("records", "yourwebapp.com")
			if !strings.Contains(records.stdout, apps.fqdn) || !strings.Contains(records.stdout, apps.value) {
				t.Errorf("slotdns records after Present:\n%s", records.stdout)
			}
			wildcard := newChallenge("apps.yourwebapp.com") // *.apps.yourwebapp.com
			present(wildcard)
			wantTXT("present *.apps over apps", wildcard.fqdn, "NOERROR", wildcard.value)
			cleanUp(apps)
			wantTXT("clean up apps, already replaced", wildcard.fqdn, "NOERROR", wildcard.value)
			cleanUp(wildcard)
			wantTXT("clean up *.apps", wildcard.fqdn, "NXDOMAIN")

			// www.yourwebapp.com. is a slot name, a CNAME: lego's zone
			// search asks its SOA, gets the CNAME and goes on to the apex.
			www := newChallenge("www.yourwebapp.com")
			present(www)
			wantTXT("present www", www.fqdn, "NOERROR", www.value)
			cleanUp(www)
			wantTXT("clean up www", www.fqdn, "NXDOMAIN")

			records = in.mustSlotdns("records", "yourwebapp.com")
			if !strings.Contains(records.stdout, "no dynamic records") {
				t.Errorf("slotdns records after CleanUp:\n%s", records.stdout)
			}
		})
	}
}
