package integration

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// apiInstance is a demo instance whose server also serves the remote API
// on a free loopback port: over TLS with a certificate of the test CA
// (caFile) when tls is set, else plain HTTP.
type apiInstance struct {
	*instance
	url    string // https://127.0.0.1:PORT or http://...
	caFile string // "" without TLS
	// elsewhere is the empty folder the remote CLI runs in.
	elsewhere string
}

func newAPIDemo(t *testing.T, tls bool, edit func(string) string) *apiInstance {
	t.Helper()
	in := newDemo(t, edit)
	port := freePort(t)
	section := fmt.Sprintf("\n[api]\nlisten = \"127.0.0.1:%d\"\n", port)
	ai := &apiInstance{instance: in, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if tls {
		cert, key, ca := testkit.APICertFiles(t, in.dir)
		section += fmt.Sprintf("tls_cert = %q\ntls_key = %q\n", filepath.Base(cert), filepath.Base(key))
		ai.url, ai.caFile = fmt.Sprintf("https://127.0.0.1:%d", port), ca
	}
	in.writeConfig(in.readConfig() + section)
	return ai
}

// start starts the server as instance.start does, then waits until the
// API accepts connections too: it listens after DNS and the control
// socket, and a test's first request must not race it.
func (ai *apiInstance) start() {
	ai.t.Helper()
	ai.instance.start()
	u, err := url.Parse(ai.url)
	if err != nil {
		ai.t.Fatal(err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", u.Host, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) || !ai.proc.running() {
			ai.t.Fatalf("the API at %s: %v", ai.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addToken makes a token with the local CLI and writes it to a file in
// the instance's folder, returning the file.
func (ai *apiInstance) addToken(name, scope string, extra ...string) string {
	ai.t.Helper()
	r := ai.mustSlotdns(append([]string{"token", "add", name, "--scope", scope}, extra...)...)
	token := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(token, "sdt_") {
		ai.t.Fatalf("token add printed %q, want a token", r.stdout)
	}
	file := filepath.Join(ai.dir, name+".token")
	testkit.WriteFile(ai.t, file, token+"\n")
	return file
}

// remote runs the CLI against the remote API with the token in tokenFile,
// in a folder of its own with no config: as on another host.
func (ai *apiInstance) remote(tokenFile string, args ...string) cliResult {
	ai.t.Helper()
	if ai.elsewhere == "" {
		ai.elsewhere = ai.t.TempDir()
	}
	global := []string{"--server", ai.url, "--token-file", tokenFile}
	if ai.caFile != "" {
		global = append(global, "--ca", ai.caFile)
	}
	return runCLI(ai.t, ai.elsewhere, append(global, args...)...)
}
