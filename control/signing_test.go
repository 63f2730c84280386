package control

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

// TestExpireNote: a signed zone whose SOA expire outlasts the
// signatures a secondary may hold is noted; one that does not, or an
// unsigned zone, is not.
func TestExpireNote(t *testing.T) {
	signed := &config.Zone{Origin: "example.com.", File: "zones/example.com.zone", DNSSEC: &config.DNSSEC{Refresh: 7 * 24 * time.Hour}}
	for _, tc := range []struct {
		zone   *config.Zone
		expire uint32
		want   string
	}{
		{signed, 1209600, "SOA expire (14d) is longer than signature_refresh (7d)"},
		{signed, 604800, ""},
		{&config.Zone{Origin: "example.com."}, 1209600, ""},
	} {
		got := expireNote(tc.zone, &dns.SOA{Expire: tc.expire})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("expire %d, signed %v: got %q, want %q", tc.expire, tc.zone.DNSSEC != nil, got, tc.want)
		}
	}
}

// signedSite is the test site with example.com. signed, its keys made at
// the first start.
var signedSite = strings.Replace(testkit.SiteConfig, `file   = "example.com.zone"
`, `file   = "example.com.zone"

[zone.dnssec]
key_dir       = "keys"
generate_keys = true
`, 1)

// zoneSignedLine is the "Zone signed" line a start logs for zone.
func zoneSignedLine(t *testing.T, log, zone string) string {
	t.Helper()
	for line := range strings.Lines(log) {
		if strings.Contains(line, "Zone signed") && strings.Contains(line, "zone="+zone) {
			return line
		}
	}
	t.Fatalf("no \"Zone signed\" line for %s in\n%s", zone, log)
	return ""
}

// TestRestartReusesSignatures: a restart signs nothing anew, its zone
// answering with the very signatures served before, and so does the
// command that works on the database file with no server; a zone file
// that changed is signed for what changed alone.
func TestRestartReusesSignatures(t *testing.T) {
	opts, clk := fakeClock()
	st := startSite(t, signedSite, opts)
	first := zoneSignedLine(t, st.logged.String(), "example.com.")
	if strings.Contains(first, "signatures_made=0 ") || !strings.Contains(first, "signatures_reused=0 ") {
		t.Errorf("first start: %s", first)
	}
	before := st.answer("docs.example.com.", dns.TypeA)
	sigs := func(st *site) string {
		q := new(dns.Msg)
		q.SetQuestion("docs.example.com.", dns.TypeA)
		q.SetEdns0(4096, true)
		m, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, st.addr)
		if err != nil {
			st.t.Fatal(err)
		}
		var out []string
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == dns.TypeRRSIG {
				out = append(out, rr.String())
			}
		}
		if len(out) == 0 {
			st.t.Fatal("no RRSIG for docs.example.com. A")
		}
		return strings.Join(out, "\n")
	}
	servedSigs := sigs(st)

	st.stop()
	clk.Advance(time.Hour)
	st.start()
	if line := zoneSignedLine(t, st.logged.String(), "example.com."); !strings.Contains(line, "signatures_made=0 ") {
		t.Errorf("restart: %s", line)
	}
	if got := sigs(st); got != servedSigs {
		t.Errorf("restart serves other signatures:\n%s\nwant\n%s", got, servedSigs)
	}
	if got := st.answer("docs.example.com.", dns.TypeA); got != before {
		t.Errorf("restart answers %s, want %s", got, before)
	}
	st.stop()

	local, err := OpenLocal(st.cfg, ReadOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	zi, ok := local.p.Snapshot().ZoneInput("example.com.")
	if !ok || zi.Zone.SignaturesMade() != 0 {
		t.Errorf("a command on the database file signed %d RRsets anew, want 0", zi.Zone.SignaturesMade())
	}
	local.Close()

	// docs moves: its A alone is signed again.
	zoneFile := filepath.Join(filepath.Dir(st.path), "example.com.zone")
	if err := os.WriteFile(zoneFile, []byte(strings.Replace(testkit.ExampleZone, "192.0.2.40", "192.0.2.41", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	st.start()
	if line := zoneSignedLine(t, st.logged.String(), "example.com."); !strings.Contains(line, "signatures_made=1 ") {
		t.Errorf("start with docs changed: %s", line)
	}
}
