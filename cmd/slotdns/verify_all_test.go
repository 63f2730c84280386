package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// staleSecondary serves the answers of example.com. from before the swap
// on a loopback port and returns its address.
func staleSecondary(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	old := map[string][]string{
		"www.example.com.":   {"www.example.com. 25 IN CNAME blue.deploy.test."},
		"stage.example.com.": {"stage.example.com. 25 IN CNAME green.deploy.test."},
		"example.com.":       {"example.com. 25 IN A 198.51.100.10"},
	}
	oldV6 := map[string][]string{
		"example.com.": {"example.com. 25 IN AAAA 2001:db8::10"},
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		if q.Qtype == dns.TypeSOA {
			soa, _ := dns.NewRR("example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2026010101 3600 600 1209600 300")
			m.Answer = append(m.Answer, soa)
		}
		answers := old
		if q.Qtype == dns.TypeAAAA {
			answers = oldV6
		}
		for _, text := range answers[strings.ToLower(q.Name)] {
			rr, _ := dns.NewRR(text)
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestVerifyAllStaleSecondary(t *testing.T) {
	secondary := staleSecondary(t)
	listen := freePort(t)
	config := writeConfig(t, listen)
	withSecondaries(t, config, secondary)
	t.Setenv("SLOTDNS_CONFIG", config)
	serveInBackground(t, config)

	// Before any change every server that answers serves the current
	// answers; ns1.example.com. (192.0.2.1) does not answer.
	got := runCLI(t, "verify", "site", "--all")
	if got.code != 0 {
		t.Errorf("verify --all before a swap: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	for _, want := range []string{"slotdns " + listen, "ns ns1.example.com. (192.0.2.1:53)", "secondary " + secondary, "no answer", "blue.deploy.test. new 30s"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("verify --all before a swap: got\n%s\nwant it to contain %q", got.stdout, want)
		}
	}

	if got := runCLI(t, "swap", "site"); got.code != 0 {
		t.Fatalf("swap: exit %d: %s", got.code, got.stderr)
	}
	got = runCLI(t, "verify", "site", "--all", "--json")
	if got.code != 1 {
		t.Errorf("verify --all with a stale secondary: got exit %d, want 1\n%s", got.code, got.stdout)
	}
	var res matrixResult
	if err := json.Unmarshal([]byte(got.stdout), &res); err != nil {
		t.Fatalf("verify --all --json: %v\n%s", err, got.stdout)
	}
	cells := map[string]string{} // "name type server" -> "answer state"
	for _, row := range res.Rows {
		for _, cell := range row.Cells {
			cells[row.Name+" "+row.Type+" "+cell.Server] = cell.Answer + " " + cell.State
		}
	}
	for key, want := range map[string]string{
		"www.example.com. CNAME " + listen:      "green.deploy.test. new",
		"www.example.com. CNAME " + secondary:   "blue.deploy.test. old",
		"stage.example.com. CNAME " + secondary: "green.deploy.test. old",
		"www.example.com. CNAME 192.0.2.1:53":   "- no answer",
	} {
		if cells[key] != want {
			t.Errorf("%s: got %q, want %q", key, cells[key], want)
		}
	}
}
