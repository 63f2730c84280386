package probe

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"
)

func row(name, qtype, served, expected string) Row {
	return Row{Name: name, Type: qtype, Served: served, Expected: expected, OK: served == expected}
}

// siteRows are the rows of Verify against a server serving siteRecords.
var siteRows = []Row{
	row("example.com.", "A", "198.51.100.10", "198.51.100.10"),
	row("example.com.", "AAAA", "2001:db8::10", "2001:db8::10"),
	row("www.example.com.", "CNAME", "blue.deploy.test.", "blue.deploy.test."),
	row("stage.example.com.", "CNAME", "green.deploy.test.", "green.deploy.test."),
	row("qa.example.com.", "A", "198.51.100.30", "198.51.100.30"),
	row("qa.example.com.", "AAAA", "2001:db8::30", "2001:db8::30"),
}

// replaced returns siteRows with the rows of the same name and type as
// those given replaced by them.
func replaced(rows ...Row) []Row {
	out := slices.Clone(siteRows)
	for _, r := range rows {
		for i := range out {
			if out[i].Name == r.Name && out[i].Type == r.Type {
				out[i] = r
			}
		}
	}
	return out
}

func TestVerify(t *testing.T) {
	t.Parallel()
	noAlias := func(app *api.AppStatus) { app.Slots[0].Alias.Addrs = nil }
	tests := []struct {
		name     string
		app      func(*api.AppStatus) // edits siteApp
		records  map[string]string    // edits siteRecords
		truncate []string
		want     []Row
		wantTCP  bool
	}{
		{name: "every answer as stored", want: siteRows},
		{name: "CNAME to another target",
			records: map[string]string{"www.example.com. A": "www.example.com. 30 IN CNAME green.deploy.test.\ngreen.deploy.test. 60 IN A 198.51.100.20"},
			want:    replaced(row("www.example.com.", "CNAME", "green.deploy.test.", "blue.deploy.test."))},
		{name: "CNAME missing",
			records: map[string]string{"stage.example.com. A": ""},
			want:    replaced(row("stage.example.com.", "CNAME", "(none)", "green.deploy.test."))},
		{name: "other addresses",
			records: map[string]string{"qa.example.com. A": "qa.example.com. 30 IN A 198.51.100.31\nqa.example.com. 30 IN A 198.51.100.30"},
			want:    replaced(row("qa.example.com.", "A", "198.51.100.30 198.51.100.31", "198.51.100.30"))},
		{name: "apex alias with other addresses",
			records: map[string]string{"example.com. AAAA": "example.com. 30 IN AAAA 2001:db8::99"},
			want:    replaced(row("example.com.", "AAAA", "2001:db8::99", "2001:db8::10"))},
		{name: "apex alias served as a CNAME",
			records: map[string]string{"example.com. A": "example.com. 30 IN CNAME blue.deploy.test.\nblue.deploy.test. 60 IN A 198.51.100.10"},
			want:    replaced(row("example.com.", "A", "(none)", "198.51.100.10"))},
		{name: "apex alias without addresses answers SERVFAIL", app: noAlias,
			records: map[string]string{"example.com. A": "SERVFAIL"},
			want:    append([]Row{row("example.com.", "A", "SERVFAIL", "SERVFAIL")}, siteRows[2:]...)},
		{name: "apex alias without addresses answers addresses", app: noAlias,
			want: append([]Row{row("example.com.", "A", "198.51.100.10", "SERVFAIL")}, siteRows[2:]...)},
		{name: "refused",
			records: map[string]string{"stage.example.com. A": "REFUSED"},
			want:    replaced(row("stage.example.com.", "CNAME", "REFUSED", "green.deploy.test."))},
		{name: "truncated over UDP, asked again over TCP", truncate: []string{"www.example.com."},
			want: siteRows, wantTCP: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := siteApp()
			if tt.app != nil {
				tt.app(&app)
			}
			srv := startAuth(t, with(siteRecords, tt.records), tt.truncate...)
			got, err := Verify(context.Background(), srv.Addr, app)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Rows, tt.want) {
				t.Errorf("rows: got\n%s\nwant\n%s", rowsText(got.Rows), rowsText(tt.want))
			}
			wantOK := !slices.ContainsFunc(tt.want, func(r Row) bool { return !r.OK })
			if got.OK != wantOK || got.App != "site" || got.Server != srv.Addr {
				t.Errorf("result: got app %q server %q ok %v, want site %s %v", got.App, got.Server, got.OK, srv.Addr, wantOK)
			}
			if tcp := srv.tcp.Load() > 0; tcp != tt.wantTCP {
				t.Errorf("asked over TCP: got %v, want %v", tcp, tt.wantTCP)
			}
		})
	}
}

func rowsText(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.Name + " " + r.Type + " served " + r.Served + " expected " + r.Expected)
		if !r.OK {
			b.WriteString(" DIFFERS")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestVerifyNoAnswer(t *testing.T) {
	t.Parallel()
	app := siteApp()
	app.Slots = app.Slots[1:2] // staging
	dead := testkit.DeadAddr(t)
	got, err := Verify(context.Background(), dead, app)
	if err != nil {
		t.Fatal(err)
	}
	if got.OK || len(got.Rows) != 1 || !strings.HasPrefix(got.Rows[0].Served, "error: ") || got.Rows[0].OK {
		t.Errorf("against %s: got %+v, want one row not OK with the error", dead, got)
	}
}

func TestVerifyBadTarget(t *testing.T) {
	t.Parallel()
	app := siteApp()
	app.Slots[1].Target = "green.deploy.test" // no trailing dot: refused by zones.ParseTarget
	srv := startAuth(t, siteRecords)
	_, err := Verify(context.Background(), srv.Addr, app)
	if err == nil || !strings.HasPrefix(err.Error(), `app site slot staging: target "green.deploy.test": `) {
		t.Errorf("got error %v, want one naming the slot and target", err)
	}
	if _, err := VerifyAll(context.Background(), []Server{{Role: RoleSlotdns, Address: srv.Addr}}, nil, app); err == nil {
		t.Error("VerifyAll: got no error, want the bad target")
	}
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	res := Result{App: "site", Server: "127.0.0.1:5353", OK: true, Rows: []Row{row("www.example.com.", "CNAME", "blue.deploy.test.", "blue.deploy.test.")}}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"app":"site","server":"127.0.0.1:5353","ok":true,"rows":[{"name":"www.example.com.","type":"CNAME","served":"blue.deploy.test.","expected":"blue.deploy.test.","ok":true}]}`
	if string(data) != want {
		t.Errorf("JSON: got\n%s\nwant\n%s", data, want)
	}
}
