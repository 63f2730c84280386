package dnsserver

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// needTool is testkit.RequireTool, with the Debian package to install.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	return testkit.RequireTool(t, name, "apt-get install -y "+pkg)
}

func runTool(t *testing.T, path string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out:\n%s", path, strings.Join(args, " "), out)
	}
	_ = err // dig and kdig report a failed transfer in their output
	return string(out)
}

// answerCount counts the records in a dig or kdig listing.
func answerCount(out string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if line != "" && !strings.HasPrefix(line, ";") && len(strings.Fields(line)) >= 4 {
			n++
		}
	}
	return n
}

// TestTransferWithDigAndKdig runs AXFR and IXFR with BIND's dig and Knot's
// kdig against the real snapshot, signed with the key, and checks that
// they are refused without it.
func TestTransferWithDigAndKdig(t *testing.T) {
	t.Parallel()
	snap := testSnapshot(t, "blue.cloudapp.test.")
	records, ok := snap.Records("yourwebapp.com.")
	if !ok {
		t.Fatal("the test snapshot has no yourwebapp.com.")
	}
	serial := records[0].(*dns.SOA).Serial
	s := startServer(t, snap, Config{Transfer: &Transfer{
		Peers: map[string][]Peer{"yourwebapp.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys:  testKeys(),
	}})
	host, port, _ := net.SplitHostPort(s.TCPAddrs()[0].String())
	key := "hmac-sha256:" + strings.TrimSuffix(testKeyName, ".") + ":" + testSecret
	wrongKey := "hmac-sha256:" + strings.TrimSuffix(testKeyName, ".") + ":" + otherSecret
	want := len(records) + 1 // the SOA comes again at the end

	t.Run("dig", func(t *testing.T) {
		dig := needTool(t, "dig", "bind9-dnsutils")
		common := []string{"@" + host, "-p", port, "+nocookie", "+noall", "+answer", "+comments"}
		out := runTool(t, dig, append(common, "-y", key, "yourwebapp.com.", "AXFR")...)
		if got := answerCount(out); got != want || strings.Contains(out, "failed") {
			t.Errorf("dig AXFR: got %d records, want %d:\n%s", got, want, out)
		}
		out = runTool(t, dig, append(common, "-y", key, "yourwebapp.com.", "IXFR="+strconv.Itoa(int(serial)))...)
		if got := answerCount(out); got != 1 {
			t.Errorf("dig IXFR up to date: got %d records, want the SOA only:\n%s", got, out)
		}
		for _, args := range [][]string{{"yourwebapp.com.", "AXFR"}, {"-y", wrongKey, "yourwebapp.com.", "AXFR"}} {
			out = runTool(t, dig, append(common, args...)...)
			if got := answerCount(out); got != 0 {
				t.Errorf("dig %v: got %d records, want none:\n%s", args, got, out)
			}
		}
		out = runTool(t, dig, append(common, "-y", key, "www.yourwebapp.com.", "A")...)
		if !strings.Contains(out, "NOERROR") || !strings.Contains(out, "blue.cloudapp.test.") || strings.Contains(out, "verify") {
			t.Errorf("dig -y www A: got\n%s\nwant the answer, its signature verified", out)
		}
	})

	t.Run("kdig", func(t *testing.T) {
		kdig := needTool(t, "kdig", "knot-dnsutils")
		common := []string{"@" + host, "-p", port, "+noall", "+answer"}
		out := runTool(t, kdig, append(common, "-y", key, "AXFR", "yourwebapp.com.")...)
		if got := answerCount(out); got != want || strings.Contains(out, "ERROR") || strings.Contains(out, "failed") {
			t.Errorf("kdig AXFR: got %d records, want %d:\n%s", got, want, out)
		}
		out = runTool(t, kdig, append(common, "-y", wrongKey, "AXFR", "yourwebapp.com.")...)
		if got := answerCount(out); got != 0 {
			t.Errorf("kdig AXFR with the wrong secret: got %d records, want none:\n%s", got, out)
		}
	})
}

var kdigReceived = regexp.MustCompile(`(\d+) messages`)

// TestLargeAXFRWithKdig has Knot's client check the TSIG chain over many
// messages.
func TestLargeAXFRWithKdig(t *testing.T) {
	t.Parallel()
	kdig := needTool(t, "kdig", "knot-dnsutils")
	zone := testZone(t, 7, 10000)
	_, addr := startXfrServer(t, &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: testKeyName}}},
		Keys: testKeys()}, zone)
	host, port, _ := net.SplitHostPort(addr)
	key := "hmac-sha256:" + strings.TrimSuffix(testKeyName, ".") + ":" + testSecret
	out := runTool(t, kdig, "@"+host, "-p", port, "-y", key, "AXFR", "example.com.", "+noall", "+answer", "+stats")
	if got := answerCount(out); got != len(zone)+1 || strings.Contains(out, "ERROR") {
		t.Errorf("kdig AXFR: got %d records, want %d:\n%.2000s", got, len(zone)+1, out)
	}
	if m := kdigReceived.FindStringSubmatch(out); m == nil || m[1] == "1" {
		t.Errorf("kdig AXFR: got %v messages, want several", m)
	}
}
