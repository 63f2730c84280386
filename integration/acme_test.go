package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// TestCertbotWildcard gets a certificate end to end, as an operator
// does once the zone is delegated to slotdns: certbot's dns-rfc2136
// plugin asks Pebble (an ACME server for tests) for apps.yourwebapp.com
// and its wildcard, presents both DNS-01 challenges to slotdns by
// TSIG-signed UPDATE (two TXT records at one _acme-challenge name),
// Pebble checks them by asking slotdns, and certbot removes them again.
//
// The certificate names both, no TXT is left, slotdns records lists
// nothing and the zone's history holds the four changes under the key's
// name. The plugin finds the zone with TSIG-signed SOA queries, whose
// answers it takes only with AA.
func TestCertbotWildcard(t *testing.T) {
	t.Parallel()
	certbot := requireTool(t, "certbot", "apt-get install certbot python3-certbot-dns-rfc2136")
	pebble := requireTool(t, "pebble", "apt-get install pebble")
	requireCertbotPlugin(t, certbot)

	d := newUpdateDemo(t, "")
	acme := startPebble(t, pebble, d.in.addr())

	dir := t.TempDir()
	credentials := filepath.Join(dir, "rfc2136.ini")
	testkit.WriteFile(t, credentials, fmt.Sprintf(
		"dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = %d\ndns_rfc2136_name = %s.\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n",
		d.in.port, d.key.name, d.key.secret))
	if err := os.Chmod(credentials, 0o600); err != nil { // certbot warns of a key others can read
		t.Fatal(err)
	}

	domains := []string{"apps.yourwebapp.com", "*.apps.yourwebapp.com"}
	args := []string{"certonly", "--non-interactive", "--agree-tos", "--register-unsafely-without-email",
		"--server", acme.directory,
		"--authenticator", "dns-rfc2136",
		"--dns-rfc2136-credentials", credentials,
		"--dns-rfc2136-propagation-seconds", "1",
		"--config-dir", filepath.Join(dir, "config"),
		"--work-dir", filepath.Join(dir, "work"),
		"--logs-dir", filepath.Join(dir, "logs"),
		"--cert-name", "apps",
	}
	for _, name := range domains {
		args = append(args, "-d", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, certbot, args...)
	cmd.Dir = dir
	// The ACME server's certificate is signed by the test CA; certbot's
	// HTTP client (python-requests) trusts what this bundle names.
	cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+acme.caFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "logs", "letsencrypt.log"))
		t.Fatalf("certbot: %v\n%s\ncertbot's log:\n%s\npebble:\n%s\nslotdns:\n%s", err, out, tail(string(log), 6000), acme.proc.output(), d.in.proc.output())
	}

	cert := readCertificate(t, filepath.Join(dir, "config", "live", "apps", "cert.pem"))
	names := slices.Clone(cert.DNSNames)
	slices.Sort(names)
	want := slices.Clone(domains)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("certificate names %q, want %q", names, want)
	}

	d.waitTXT("_acme-challenge.apps.yourwebapp.com.")
	if records := d.in.mustSlotdns("records", "yourwebapp.com"); !strings.Contains(records.stdout, "no dynamic records") {
		t.Errorf("slotdns records after certbot cleaned up:\n%s", records.stdout)
	}
	hist := d.in.mustSlotdns("records", "--history", "yourwebapp.com")
	if n := strings.Count(hist.stdout, "acme-key.  update"); n != 4 {
		t.Errorf("slotdns records --history names acme-key. %d times, want the two adds and the two deletes:\n%s", n, hist.stdout)
	}
}

// requireCertbotPlugin skips (fails under SLOTDNS_REQUIRE_INTEROP=1)
// unless certbot lists the dns-rfc2136 authenticator, which Debian
// packages apart from certbot.
func requireCertbotPlugin(t *testing.T, certbot string) {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command(certbot, "plugins", "--authenticators",
		"--config-dir", filepath.Join(dir, "config"), "--work-dir", filepath.Join(dir, "work"), "--logs-dir", filepath.Join(dir, "logs")).CombinedOutput()
	if err == nil && strings.Contains(string(out), "dns-rfc2136") {
		return
	}
	const install = "apt-get install python3-certbot-dns-rfc2136"
	if os.Getenv("SLOTDNS_REQUIRE_INTEROP") == "1" {
		t.Fatalf("certbot has no dns-rfc2136 plugin and SLOTDNS_REQUIRE_INTEROP=1: %s\n%s", install, out)
	}
	t.Skipf("certbot has no dns-rfc2136 plugin: %s", install)
}

// acmeServer is a running Pebble: its directory URL and the file of the
// CA that signed its HTTPS certificate.
type acmeServer struct {
	directory string
	caFile    string
	proc      *process
}

// startPebble runs Pebble on loopback, checking DNS-01 challenges by
// asking dnsServer, and waits until its directory answers. Pebble's
// random wait before each validation and its random refusal of nonces
// are off: the test is about slotdns, not about a client's retries.
func startPebble(t *testing.T, pebble, dnsServer string) *acmeServer {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, caFile := testkit.APICertFiles(t, dir)
	port := freePort(t)
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":                  net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		"managementListenAddress":        net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       freePort(t),
		"tlsPort":                        freePort(t),
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
	}}
	text, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "pebble.json")
	testkit.WriteFile(t, configFile, string(text))

	out := &testkit.Buffer{}
	p := startProcessEnv(t, dir, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, out,
		pebble, "-config", configFile, "-dnsserver", dnsServer)
	t.Cleanup(func() {
		p.signal(os.Kill)
		p.wait(5 * time.Second)
	})

	a := &acmeServer{directory: fmt.Sprintf("https://127.0.0.1:%d/dir", port), caFile: caFile, proc: p}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(testkit.ReadFile(t, caFile)))
	ready := poll(10*time.Second, func() bool {
		conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{RootCAs: pool})
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
	if !ready {
		t.Fatalf("pebble did not listen on 127.0.0.1:%d within 10s:\n%s", port, out)
	}
	return a
}

// readCertificate parses the first certificate of a PEM file.
func readCertificate(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(testkit.ReadFile(t, path)))
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
