package control

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/zones"
)

// deployment is an HTTP(S) server on loopback standing in for a slot's
// target.
type deployment struct {
	srv  *httptest.Server
	port int
}

func (d deployment) target(t *testing.T) zones.Target {
	t.Helper()
	addr := netip.MustParseAddrPort(d.srv.Listener.Addr().String())
	return zones.Target{Addrs: []netip.Addr{addr.Addr()}}
}

// startDeployment serves h over HTTP, or over TLS with a certificate for
// certName when certName is not "".
func startDeployment(t *testing.T, h http.HandlerFunc, certName string) deployment {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if certName != "" {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{testCert(t, certName)}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	return deployment{srv: srv, port: n}
}

var testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

// testCert returns a certificate for name signed by a test CA that the
// checks trust through SSL_CERT_FILE.
func testCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	if testCA.cert == nil {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "slotdns test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		testCA.cert, _ = x509.ParseCertificate(der)
		testCA.key = key
		testCA.pool = x509.NewCertPool()
		testCA.pool.AddCert(testCA.cert)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, testCA.cert, &key.PublicKey, testCA.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestRunCheckHTTP(t *testing.T) {
	healthy := startDeployment(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "example.com" && !strings.HasPrefix(r.Host, "example.com:") {
			http.Error(w, "unknown host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		w.Write([]byte("ok"))
	}, "")
	failing := startDeployment(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}, "")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hanging := startDeployment(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, "")
	redirect := startDeployment(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	}, "")
	rightCert := startDeployment(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("tls ok")) }, "example.com")
	wrongCert := startDeployment(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("tls ok")) }, "other.example.net")

	tests := []struct {
		name       string
		dep        deployment
		kind       string
		skipVerify bool
		wantPass   bool
		wantDetail string
	}{
		{"healthy", healthy, "http", false, true, "status 200"},
		{"500", failing, "http", false, false, "status 500, want 200"},
		{"hang", hanging, "http", false, false, "no answer within 300ms (timeout)"},
		{"redirect not followed", redirect, "http", false, false, "status 302, want 200"},
		{"certificate for the production name", rightCert, "https", false, true, "status 200"},
		{"certificate for another name", wrongCert, "https", false, false, "certificate"},
		{"another name, verification off", wrongCert, "https", true, true, "status 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckConfig{Name: tt.kind + " /healthz", When: "before", Kind: tt.kind, Path: "/healthz", Port: tt.dep.port,
				Status: []int{200}, Timeout: 300 * time.Millisecond, Interval: 10 * time.Millisecond, InsecureSkipVerify: tt.skipVerify}
			run := checkRun{App: "site", Slot: "staging", Target: tt.dep.target(t), Host: "example.com", tlsRoots: testCA.pool}
			got := runCheck(context.Background(), c, run)
			if got.Pass != tt.wantPass || !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("pass %v, detail %q (error %q); want pass %v, detail containing %q", got.Pass, got.Detail, got.Error, tt.wantPass, tt.wantDetail)
			}
		})
	}
}

func TestRunCheckRetries(t *testing.T) {
	calls := 0
	flaky := startDeployment(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
		}
	}, "")
	c := CheckConfig{Name: "http /", Kind: "http", Path: "/", Port: flaky.port, Status: []int{200},
		Timeout: time.Second, Interval: time.Millisecond, Retries: 2}
	got := runCheck(context.Background(), c, checkRun{Target: flaky.target(t), Host: "example.com"})
	if !got.Pass || got.Attempts != 3 {
		t.Errorf("pass %v after %d attempts (%s); want a pass at attempt 3", got.Pass, got.Attempts, got.Detail)
	}
}

func TestRunCheckCommand(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "check.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$SLOTDNS_APP $SLOTDNS_SLOT $SLOTDNS_FROM $SLOTDNS_TO\"\n[ \"$SLOTDNS_APP\" = site ]\n"), 0o755)
	sleeper := filepath.Join(dir, "sleep.sh")
	os.WriteFile(sleeper, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	tests := []struct {
		name       string
		command    string
		app        string
		wantPass   bool
		wantOutput string
		wantDetail string
	}{
		{"sees the environment", script, "site", true, "site staging 192.0.2.1 192.0.2.2\n", "exit status 0"},
		{"exit 1 fails", script, "other", false, "other staging 192.0.2.1 192.0.2.2\n", "exit status 1"},
		{"timeout kills it", sleeper, "site", false, "", "killed after 200ms (timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckConfig{Name: "command", Kind: "command", Command: []string{tt.command}, Timeout: 200 * time.Millisecond}
			got := runCheck(context.Background(), c, checkRun{App: tt.app, Slot: "staging", From: "192.0.2.1", To: "192.0.2.2"})
			if got.Pass != tt.wantPass || got.Output != tt.wantOutput || got.Detail != tt.wantDetail {
				t.Errorf("pass %v, output %q, detail %q; want %v, %q, %q", got.Pass, got.Output, got.Detail, tt.wantPass, tt.wantOutput, tt.wantDetail)
			}
		})
	}
}

func TestLoadConfigChecks(t *testing.T) {
	cfg := loadTestConfig(t, testConfig+`
[[app.check]]
when    = "before"
http    = "/healthz"
port    = 8080
retries = 3

[[app.check]]
when    = "before"
command = ["./scripts/schema.sh", "--strict"]

[[app.check]]
when     = "after"
https    = "/ready"
status   = [200, 204]
window   = "10s"
interval = "500ms"
`)
	app, _ := cfg.App("site")
	if len(app.Checks) != 3 {
		t.Fatalf("got %d checks, want 3", len(app.Checks))
	}
	h, c, a := app.Checks[0], app.Checks[1], app.Checks[2]
	if h.Name != "http /healthz" || h.Port != 8080 || h.Retries != 3 || h.Timeout != DefaultCheckTimeout || len(h.Status) != 1 || h.Status[0] != 200 || h.Window != 0 {
		t.Errorf("http check: got %+v", h)
	}
	if c.Kind != "command" || c.Command[0] != filepath.Join(filepath.Dir(cfg.Path), "scripts/schema.sh") || c.Command[1] != "--strict" {
		t.Errorf("command check: got %+v, want the program beside the config", c)
	}
	if a.Kind != "https" || a.Port != 443 || a.Window != 10*time.Second || a.Interval != 500*time.Millisecond || len(a.Status) != 2 {
		t.Errorf("after check: got %+v", a)
	}
}

func TestLoadConfigCheckErrors(t *testing.T) {
	tests := []struct {
		name  string
		check string
		want  string
	}{
		{"no kind", "when = \"before\"", ":26: app \"site\": check 1: give exactly one of http"},
		{"bad when", "when = \"during\"\nhttp = \"/\"", ":27: app \"site\": check 1: when \"during\""},
		{"relative path", "when = \"before\"\nhttp = \"healthz\"", ":28: app \"site\": check 1: http \"healthz\": want a path starting with /"},
		{"bad timeout", "when = \"before\"\nhttp = \"/\"\ntimeout = \"soon\"", ":29: app \"site\": check 1: timeout \"soon\""},
		{"window before", "when = \"before\"\nhttp = \"/\"\nwindow = \"1m\"", ":29: app \"site\": check 1: window: only an \"after\" check"},
		{"port of a command", "when = \"before\"\ncommand = [\"true\"]\nport = 1", ":29: app \"site\": check 1: port: a command check has no port"},
		{"bad status", "when = \"after\"\nhttp = \"/\"\nstatus = [42]", ":29: app \"site\": check 1: status 42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, testConfig+"\n[[app.check]]\n"+tt.check+"\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRunCheckEveryAddress(t *testing.T) {
	port := gatePair(t, ok, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "half broken", http.StatusServiceUnavailable)
	}, "")
	c := CheckConfig{Name: "http /", Kind: "http", Path: "/", Port: port, Status: []int{200}, Timeout: time.Second}
	tests := []struct {
		name       string
		target     string
		wantPass   bool
		wantTarget string
	}{
		{"one healthy address", "127.0.0.2", true, "127.0.0.2:" + strconv.Itoa(port)},
		{"a failing address among them", "127.0.0.2, 127.0.0.3", false, "127.0.0.3:" + strconv.Itoa(port)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := zones.ParseTarget(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got := runCheck(context.Background(), c, checkRun{Target: target, Host: "example.com"})
			if got.Pass != tt.wantPass || got.Target != tt.wantTarget {
				t.Errorf("pass %v from %s (%s); want %v from %s", got.Pass, got.Target, got.Detail, tt.wantPass, tt.wantTarget)
			}
		})
	}
}
