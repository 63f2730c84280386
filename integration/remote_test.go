package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

// TestRemoteCLI runs every command that talks to a server against the
// remote API over TLS, from a folder with no config, as from another
// host.
func TestRemoteCLI(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, true, nil)
	admin := ai.addToken("root", "admin")
	swapper := ai.addToken("ci", "swap", "--app", "yourwebapp")
	reader := ai.addToken("dash", "read")
	ai.start()

	must := func(token string, args ...string) cliResult {
		t.Helper()
		r := ai.remote(token, args...)
		if r.code != 0 {
			t.Fatalf("got exit %d, want 0: %v", r.code, r)
		}
		return r
	}
	if r := must(reader, "status"); !strings.Contains(r.stdout, "serktools-stagetest.cloudapp.test.") {
		t.Fatalf("remote status:\n%s", r.stdout)
	}
	r := must(swapper, "swap", "yourwebapp", "--reason", "release 8")
	if !strings.Contains(r.stdout, "token ci from 127.0.0.1") {
		t.Fatalf("remote swap does not name its actor:\n%s", r.stdout)
	}
	if got := dig(t, ai.port, "www.yourwebapp.com.", "CNAME").cname("www.yourwebapp.com."); !strings.HasPrefix(got, "e7e3f38589d04635a6d0d0aee22bd842") {
		t.Fatalf("after the remote swap, www is %q", got)
	}
	must(swapper, "set", "yourwebapp", "staging", "test3.cloudapp.test.", "--reason", "try test3")
	must(swapper, "rollback", "yourwebapp")
	if r := must(reader, "history", "yourwebapp"); strings.Count(r.stdout, "token ci from 127.0.0.1") != 3 {
		t.Fatalf("history of the remote changes:\n%s", r.stdout)
	}
	// verify asks the server's host on its DNS port.
	must(reader, "verify", "yourwebapp")
	must(admin, "reload")
	must(admin, "backup", "copy.db")
	if info, err := os.Stat(filepath.Join(ai.elsewhere, "copy.db")); err != nil || info.Size() == 0 {
		t.Fatalf("remote backup: %v", err)
	}
	if r := must(admin, "token", "list"); !strings.Contains(r.stdout, "ci") || !strings.Contains(r.stdout, "yourwebapp") {
		t.Fatalf("token list:\n%s", r.stdout)
	}
	added := must(admin, "token", "add", "tmp", "--scope", "read")
	tmp := filepath.Join(ai.elsewhere, "tmp.token")
	testkit.WriteFile(t, tmp, added.stdout)
	must(tmp, "status")
	must(admin, "token", "remove", "tmp")

	// Refusals have their own exit code, and say why.
	for _, c := range []struct {
		token string
		args  []string
		want  string
	}{
		{tmp, []string{"status"}, "wrong or removed token"},
		{reader, []string{"swap", "yourwebapp"}, "needs a token of scope swap"},
		{swapper, []string{"reload"}, "needs a token of scope admin"},
	} {
		r := ai.remote(c.token, c.args...)
		if r.code != 5 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%v: exit %d, want 5 saying %q:\n%s", c.args, r.code, c.want, r.stderr)
		}
	}
	// Commands of this host's files refuse --server.
	if r := ai.remote(admin, "rename", "a", "b"); r.code != 2 || !strings.Contains(r.stderr, "--server does not apply") {
		t.Errorf("remote rename: %v", r)
	}
	// The private CA is needed: without --ca the certificate is refused.
	r = runCLI(t, ai.elsewhere, "--server", ai.url, "--token-file", reader, "status")
	if r.code == 0 || !strings.Contains(r.stderr, "--ca") {
		t.Errorf("status without --ca: %v", r)
	}
}

// TestRemoteIdempotentRetry sends one swap twice with one Idempotency-Key,
// as a release pipeline retrying after a lost reply does: it swaps once.
func TestRemoteIdempotentRetry(t *testing.T) {
	t.Parallel()
	ai := newAPIDemo(t, true, nil)
	token := strings.TrimSpace(testkit.ReadFile(t, ai.addToken("ci", "swap")))
	ai.start()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(testkit.ReadFile(t, ai.caFile)))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var seqs []float64
	for range 2 {
		req, _ := http.NewRequest("POST", ai.url+"/v1/apps/yourwebapp/swap", strings.NewReader(`{"reason":"deploy 9"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", "deploy-9")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ch map[string]any
		json.NewDecoder(resp.Body).Decode(&ch)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("swap: %d %v", resp.StatusCode, ch)
		}
		seqs = append(seqs, ch["seq"].(float64))
	}
	if seqs[0] != 1 || seqs[1] != 1 {
		t.Fatalf("the two attempts replied seq %v, want the first swap twice", seqs)
	}
	if n := len(ai.history("yourwebapp")); n != 1 {
		t.Fatalf("%d history entries, want 1", n)
	}
}
