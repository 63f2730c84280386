package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// TestResolversWithCookies puts two real resolvers in front of slotdns,
// with cookies answered and rate limiting on for every source, loopback
// included. BIND's named sends a client cookie to the servers it asks,
// keeps the server cookie it gets and sends it back: slotdns must count
// those as valid, never as invalid or malformed. Unbound, as Debian ships
// it, sends no cookie upstream (its cookies are for its own clients);
// whatever it sends must be valid too. Both resolve www and stage, and
// the new targets after a swap.
func TestResolversWithCookies(t *testing.T) {
	t.Parallel()
	named := requireTool(t, "named", "apt-get install bind9")
	unbound := requireTool(t, "unbound", "apt-get install unbound")
	ai := newAPIDemo(t, false, func(config string) string {
		return withTTL(1)(config) + "\n[rrl]\nexempt = []\n"
	})
	scraper := strings.TrimSpace(testkit.ReadFile(t, ai.addToken("scraper", "read")))
	ai.start()
	cookies := func() map[string]int {
		t.Helper()
		return cookieCounts(t, ai.url, scraper)
	}

	for _, resolver := range []struct {
		name      string
		start     func() int
		mustCount bool // the resolver sends cookies: they must show
	}{
		{"named", func() int { return startNamed(t, named, ai.port) }, true},
		{"unbound", func() int { return startUnbound(t, unbound, ai.port) }, false},
	} {
		before := cookies()
		port := resolver.start()
		resolveSlots(t, resolver.name, port, "before the swap", prodTarget, stageTarget)
		ai.mustSlotdns("swap", "yourwebapp")
		resolveSlots(t, resolver.name, port, "after the swap", stageTarget, prodTarget)
		ai.mustSlotdns("swap", "yourwebapp")
		resolveSlots(t, resolver.name, port, "after swapping back", prodTarget, stageTarget)

		after := cookies()
		got := map[string]int{}
		for result, n := range after {
			got[result] = n - before[result]
		}
		t.Logf("%s: cookies slotdns saw: %v", resolver.name, got)
		if got["invalid"] != 0 || got["malformed"] != 0 {
			t.Errorf("%s: slotdns counted %d invalid and %d malformed cookies, want none", resolver.name, got["invalid"], got["malformed"])
		}
		if resolver.mustCount && (got["client_only"] == 0 || got["valid"] == 0) {
			t.Errorf("%s: slotdns counted %v: want a first contact (client_only) and the server cookie returned (valid)", resolver.name, got)
		}
	}
}

// resolveSlots waits until the resolver at port gives www and stage the
// targets wanted, with their addresses, over several TTLs of 1 s.
func resolveSlots(t *testing.T, resolver string, port int, step, www, stage string) {
	t.Helper()
	resolve := func(name string) (string, []string, error) {
		a, err := tryDig(t, port, name, "A", "+rec")
		if err != nil {
			return "", nil, err
		}
		if a.status != "NOERROR" {
			return "", nil, fmt.Errorf("%s A through %s: got %s", name, resolver, a.status)
		}
		target := a.cname(name)
		return target, a.addrs(target), nil
	}
	var last string
	ok := poll(15*time.Second, func() bool {
		wwwGot, wwwAddrs, err1 := resolve("www.yourwebapp.com.")
		stageGot, stageAddrs, err2 := resolve("stage.yourwebapp.com.")
		last = fmt.Sprintf("www -> %s %v, stage -> %s %v (errors: %v, %v)", wwwGot, wwwAddrs, stageGot, stageAddrs, err1, err2)
		return err1 == nil && err2 == nil && wwwGot == www && stageGot == stage &&
			slices.Equal(wwwAddrs, targetAddrs[www]) && slices.Equal(stageAddrs, targetAddrs[stage])
	})
	if !ok {
		t.Fatalf("%s %s: got %s, want www -> %s, stage -> %s", resolver, step, last, www, stage)
	}
}

var cookieMetric = regexp.MustCompile(`(?m)^slotdns_cookie_queries_total\{result="([a-z_]+)"\} (\d+)$`)

// cookieCounts scrapes the server's /metrics for its cookie counts.
func cookieCounts(t *testing.T, url, token string) map[string]int {
	t.Helper()
	req, err := http.NewRequest("GET", url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s, %v\n%s", resp.Status, err, body)
	}
	counts := map[string]int{}
	for _, m := range cookieMetric.FindAllStringSubmatch(string(body), -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(counts) == 0 {
		t.Fatalf("/metrics has no slotdns_cookie_queries_total:\n%s", body)
	}
	return counts
}

// startNamed runs BIND's named in the foreground as a resolver on a free
// loopback port, forwarding the demo's zones to slotdnsPort, and returns
// its port. Its root hint is a loopback address nobody answers on, so it
// never sends a packet off the machine.
func startNamed(t *testing.T, named string, slotdnsPort int) int {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	hint := filepath.Join(dir, "root.hint")
	testkit.WriteFile(t, hint, ".  3600000 NS a.root.test.\na.root.test. 3600000 A 127.255.255.254\n")
	conf := filepath.Join(dir, "named.conf")
	text := fmt.Sprintf(`options {
	directory %[1]q;
	pid-file %[2]q;
	listen-on port %[3]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion yes;
	allow-query { 127.0.0.1; };
	dnssec-validation no;
	max-cache-ttl 1;
	max-ncache-ttl 1;
	send-cookie yes;
	qname-minimization off;
	notify no;
};
zone "." { type hint; file %[4]q; };
zone "yourwebapp.com" { type forward; forward only; forwarders { 127.0.0.1 port %[5]d; }; };
zone "cloudapp.test" { type forward; forward only; forwarders { 127.0.0.1 port %[5]d; }; };
`, dir, filepath.Join(dir, "named.pid"), port, hint, slotdnsPort)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("named-checkconf", conf).CombinedOutput(); err != nil {
		t.Fatalf("named-checkconf %s: %v\n%s", conf, err, out)
	}
	// -g: foreground, logging to stderr; -4: IPv4 only; no -u, so it
	// stays the user the test runs as.
	runResolver(t, "named", port, dir, named, "-g", "-4", "-c", conf)
	return port
}
