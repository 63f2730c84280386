package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"
)

// staleRecords is what a server still serving the answers from before
// the last change of swappedApp answers.
var staleRecords = map[string]string{
	"example.com. A":       "example.com. 25 IN A 198.51.100.20",
	"www.example.com. A":   "www.example.com. 25 IN CNAME green.deploy.test.\ngreen.deploy.test. 60 IN A 198.51.100.20",
	"stage.example.com. A": "stage.example.com. 12 IN CNAME blue.deploy.test.\nblue.deploy.test. 60 IN A 198.51.100.10",
	"qa.example.com. A":    "qa.example.com. 7 IN A 198.51.100.31",
	"qa.example.com. AAAA": "qa.example.com. 7 IN AAAA 2001:db8::31",
}

// swappedApp is siteApp after a change from production green, staging
// blue and qa on .31.
func swappedApp() api.AppStatus {
	app := siteApp()
	app.LastChange = &api.Entry{Seq: 1, Kind: api.KindSwap, Before: map[string]string{
		"production": "green.deploy.test.",
		"staging":    "blue.deploy.test.",
		"qa":         "198.51.100.31, 2001:db8::31",
	}}
	return app
}

func TestVerifyAll(t *testing.T) {
	t.Parallel()
	fresh := startAuth(t, siteRecords)
	stale := startAuth(t, staleRecords)
	other := startAuth(t, with(siteRecords, map[string]string{"www.example.com. A": "www.example.com. 30 IN CNAME red.deploy.test."}))
	dead := testkit.DeadAddr(t)
	servers := []Server{
		{Role: RoleSlotdns, Address: fresh.Addr},
		{Role: RoleSecondary, Address: stale.Addr},
		{Role: RoleExtra, Address: "203.0.113.5:53"}, // never asked
		{Role: RoleSecondary, Address: other.Addr},
		{Role: RoleNS, Name: "ns1.example.com.", Address: dead},
	}
	skipped := []Skipped{{Server: Server{Role: RoleNS, Name: "ns2.example.com.", Address: "192.0.2.2:53"}, Reason: "192.0.2.2 is a documentation address (RFC 5737)"}}

	got, err := VerifyAll(context.Background(), servers, skipped, swappedApp())
	if err != nil {
		t.Fatal(err)
	}
	// Each row: the question, current (previous), then the cells of
	// fresh, stale, other and dead.
	want := []string{
		"example.com. A 198.51.100.10 (): 198.51.100.10 new 30 | 198.51.100.20 other 25 | 198.51.100.10 new 30 | - no answer 0",
		"example.com. AAAA 2001:db8::10 (): 2001:db8::10 new 30 | (none) other 0 | 2001:db8::10 new 30 | - no answer 0",
		"www.example.com. CNAME blue.deploy.test. (green.deploy.test.): blue.deploy.test. new 30 | green.deploy.test. old 25 | red.deploy.test. other 30 | - no answer 0",
		"stage.example.com. CNAME green.deploy.test. (blue.deploy.test.): green.deploy.test. new 30 | blue.deploy.test. old 12 | green.deploy.test. new 30 | - no answer 0",
		"qa.example.com. A 198.51.100.30 (198.51.100.31): 198.51.100.30 new 30 | 198.51.100.31 old 7 | 198.51.100.30 new 30 | - no answer 0",
		"qa.example.com. AAAA 2001:db8::30 (2001:db8::31): 2001:db8::30 new 30 | 2001:db8::31 old 7 | 2001:db8::30 new 30 | - no answer 0",
	}
	if text := matrixText(got); text != strings.Join(want, "\n") {
		t.Errorf("matrix: got\n%s\nwant\n%s", text, strings.Join(want, "\n"))
	}
	if got.OK || got.App != "site" {
		t.Errorf("got app %q ok %v, want site false: stale and other servers answer", got.App, got.OK)
	}
	wantServers := []string{"slotdns " + fresh.Addr, "secondary " + stale.Addr, "secondary " + other.Addr, "ns ns1.example.com. (" + dead + ")"}
	if s := strings.Join(stringsOf(got.Servers), "\n"); s != strings.Join(wantServers, "\n") {
		t.Errorf("servers: got\n%s\nwant\n%s", s, strings.Join(wantServers, "\n"))
	}
	wantSkipped := []string{
		"ns ns2.example.com. (192.0.2.2:53): 192.0.2.2 is a documentation address (RFC 5737)",
		"extra 203.0.113.5:53: 203.0.113.5 is a documentation address (RFC 5737)",
	}
	if s := strings.Join(stringsOf(got.Skipped), "\n"); s != strings.Join(wantSkipped, "\n") {
		t.Errorf("skipped: got\n%s\nwant\n%s", s, strings.Join(wantSkipped, "\n"))
	}
	for _, row := range got.Rows {
		if cell := row.Cells[3]; cell.Server != dead || cell.Error == "" {
			t.Errorf("%s %s at %s: got server %s error %q, want why there is no answer", row.Name, row.Type, dead, cell.Server, cell.Error)
		}
	}
	if len(skipped) != 1 {
		t.Errorf("VerifyAll changed the caller's skipped list: %v", skipped)
	}
}

func matrixText(m Matrix) string {
	var lines []string
	for _, row := range m.Rows {
		var cells []string
		for _, c := range row.Cells {
			cells = append(cells, fmt.Sprintf("%s %s %d", c.Answer, c.State, c.TTL))
		}
		lines = append(lines, fmt.Sprintf("%s %s %s (%s): %s", row.Name, row.Type, row.Current, row.Previous, strings.Join(cells, " | ")))
	}
	return strings.Join(lines, "\n")
}

func TestVerifyAllOK(t *testing.T) {
	t.Parallel()
	fresh := startAuth(t, siteRecords)
	servers := []Server{{Role: RoleSlotdns, Address: fresh.Addr}, {Role: RoleSecondary, Address: testkit.DeadAddr(t)}}
	got, err := VerifyAll(context.Background(), servers, nil, swappedApp())
	if err != nil {
		t.Fatal(err)
	}
	// A server that does not answer does not fail the matrix.
	if !got.OK || len(got.Rows) != len(siteRows) {
		t.Errorf("got ok %v with %d rows, want ok with %d:\n%s", got.OK, len(got.Rows), len(siteRows), matrixText(got))
	}
	if got.Skipped == nil {
		t.Error("skipped: got nil, want an empty list for JSON")
	}
}

func TestMatrixJSON(t *testing.T) {
	t.Parallel()
	m := Matrix{
		App: "site", OK: false,
		Servers: []Server{{Role: RoleSlotdns, Address: "127.0.0.1:5353"}},
		Rows: []MatrixRow{{Name: "www.example.com.", Type: "CNAME", Current: "blue.deploy.test.", Previous: "green.deploy.test.",
			Cells: []Cell{{Server: "127.0.0.1:5353", Answer: "green.deploy.test.", State: StateOld, TTL: 25}}}},
		Skipped: []Skipped{{Server: Server{Role: RoleNS, Name: "ns1.example.com.", Address: "192.0.2.1:53"}, Reason: "192.0.2.1 is a documentation address (RFC 5737)"}},
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"app":"site","ok":false,"servers":[{"role":"slotdns","address":"127.0.0.1:5353"}],` +
		`"rows":[{"name":"www.example.com.","type":"CNAME","current":"blue.deploy.test.","previous":"green.deploy.test.",` +
		`"cells":[{"server":"127.0.0.1:5353","answer":"green.deploy.test.","state":"old","ttl":25}]}],` +
		`"skipped":[{"role":"ns","name":"ns1.example.com.","address":"192.0.2.1:53","reason":"192.0.2.1 is a documentation address (RFC 5737)"}]}`
	if string(data) != want {
		t.Errorf("JSON: got\n%s\nwant\n%s", data, want)
	}
}
