package control

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// updateConfig is the test site with xfr-key allowed TXT and A records
// at _acme-challenge names, below apps, www and mail, and docs-key the
// file's docs name, opened by file_records.
func updateConfig(t *testing.T) string {
	return "tsig_keys = \"tsig.key\"\n" + testkit.Edit(t, testkit.SiteConfig, "file   = \"example.com.zone\"\n",
		"file   = \"example.com.zone\"\n\n[[zone.secondary]]\naddress = \"127.0.0.1:9\"\nkey = \"xfr-key\"\n\n[[zone.update]]\nkey = \"xfr-key\"\nnames = [\"_acme-challenge.*\", \"*.apps\", \"www\", \"mail\"]\ntypes = [\"TXT\", \"A\"]\n\n"+
			"[[zone.update]]\nkey = \"docs-key\"\nnames = [\"docs\"]\ntypes = [\"TXT\", \"A\"]\nfile_records = true\n")
}

func startUpdateSite(t *testing.T) *site {
	return startUpdateSiteWith(t, "", Options{})
}

// startUpdateSiteWith is startUpdateSite with more config after the
// test site's (an [api] table, say) and opts.
func startUpdateSiteWith(t *testing.T, more string, opts Options) *site {
	path := testkit.Site(t, updateConfig(t)+more)
	keys := filepath.Join(filepath.Dir(path), "tsig.key")
	testkit.WriteFile(t, keys, "key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \""+testSecret+"\";\n};\n"+
		"key \"docs-key\" {\n\talgorithm hmac-sha256;\n\tsecret \""+testSecret+"\";\n};\n")
	if err := os.Chmod(keys, 0o600); err != nil {
		t.Fatal(err)
	}
	st := &site{t: t, path: path, opts: opts}
	st.start()
	return st
}

// sendUpdate sends an UPDATE of example.com. signed with xfr-key (or
// unsigned when key is ""), over net, and gives the rcode.
func sendUpdate(t *testing.T, addr, net, key string, build func(m *dns.Msg)) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	build(m)
	c := &dns.Client{Net: net, Timeout: 3 * time.Second}
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		c.TsigSecret = map[string]string{key: testSecret}
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("update over %s: %v", net, err)
	}
	return r.Rcode
}

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// An update adds, replaces and deletes records, over UDP and TCP, each
// in one change with a new serial, a history entry and a journal entry;
// the records survive a restart.
func TestUpdateApplies(t *testing.T) {
	t.Parallel()
	st := startUpdateSite(t)
	serial0 := soaSerial(t, st.addr)
	acme := "_acme-challenge.www.example.com."
	if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) {
		m.Insert(rrs(t, acme+` 60 IN TXT "token-1"`))
	}); rc != dns.RcodeSuccess {
		t.Fatalf("add: %s", dns.RcodeToString[rc])
	}
	if got := st.answer(acme, dns.TypeTXT); got != `TXT "token-1"` {
		t.Errorf("after the add: %q", got)
	}
	serial1 := soaSerial(t, st.addr)
	if serial1 == serial0 {
		t.Errorf("the serial stayed %d", serial1)
	}
	// A second token beside the first, over TCP, with a prerequisite.
	if rc := sendUpdate(t, st.addr, "tcp", "xfr-key.", func(m *dns.Msg) {
		m.RRsetUsed(rrs(t, acme+` 0 IN TXT ""`))
		m.Insert(rrs(t, acme+` 60 IN TXT "token-2"`))
	}); rc != dns.RcodeSuccess {
		t.Fatalf("second add: %s", dns.RcodeToString[rc])
	}
	if got := st.answer(acme, dns.TypeTXT); got != `TXT "token-1"; TXT "token-2"` {
		t.Errorf("after the second add: %q", got)
	}
	// A prerequisite that fails changes nothing.
	if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) {
		m.NameNotUsed(rrs(t, acme+` 0 IN A 127.0.0.1`))
		m.RemoveRRset(rrs(t, acme+` 0 IN TXT ""`))
	}); rc != dns.RcodeYXDomain {
		t.Errorf("NameNotUsed of a name in use: %s, want YXDOMAIN", dns.RcodeToString[rc])
	}
	// docs is the file's, opened by file_records: its A goes, a TXT comes.
	if rc := sendUpdate(t, st.addr, "udp", "docs-key.", func(m *dns.Msg) {
		m.Remove(rrs(t, `docs.example.com. 0 IN A 192.0.2.40`))
		m.Insert(rrs(t, `docs.example.com. 300 IN TXT "moved"`))
	}); rc != dns.RcodeSuccess {
		t.Fatalf("file record: %s", dns.RcodeToString[rc])
	}
	if got := st.answer("docs.example.com.", dns.TypeA); got != "" {
		t.Errorf("docs A after its removal: %q", got)
	}
	recs, err := st.c.Records(context.Background(), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Records) != 4 || recs.Records[0].Actor != "xfr-key." || !recs.Records[2].Removed || recs.Records[2].Name != "docs.example.com." || recs.Records[2].Actor != "docs-key." {
		t.Errorf("records: %+v", recs.Records)
	}
	hist, err := st.c.History(context.Background(), "zone:example.com.", 0)
	if err != nil || len(hist) != 3 || hist[0].Actor != "xfr-key." || hist[0].Kind != "update" || hist[2].Serial != soaSerial(t, st.addr) {
		t.Fatalf("history: %+v %v", hist, err)
	}
	if got := hist[0].After[acme+" TXT"]; got != `60 "token-1"` {
		t.Errorf("history after: %q", got)
	}
	// An IXFR from the first serial carries the changes.
	m := new(dns.Msg)
	m.SetIxfr("example.com.", serial0, "ns1.example.com.", "hostmaster.example.com.")
	_, added := ixfrDelta(t, transfer(t, st.addr, m), serial0, soaSerial(t, st.addr))
	if got := fmt.Sprint(added); !strings.Contains(got, `"token-2"`) || !strings.Contains(got, `"moved"`) {
		t.Errorf("IXFR from %d lacks the updates: %s", serial0, got)
	}

	before := soaSerial(t, st.addr)
	st.stop()
	st.start()
	if got := soaSerial(t, st.addr); got != before {
		t.Errorf("a restart moved the serial %d -> %d: the stored digest misses the dynamic records", before, got)
	}
	if got := st.answer(acme, dns.TypeTXT); got != `TXT "token-1"; TXT "token-2"` {
		t.Errorf("after a restart: %q", got)
	}
	if got := st.answer("docs.example.com.", dns.TypeTXT); got != `TXT "moved"` {
		t.Errorf("docs TXT after a restart: %q", got)
	}
	serial := soaSerial(t, st.addr)
	// records rm puts the file's docs A back and drops the TXT.
	res, err := st.c.RemoveRecords(context.Background(), "example.com", api.RemoveRecordsRequest{Name: "docs"})
	if err != nil || len(res.Removed) != 2 || res.Serial == serial {
		t.Fatalf("records rm: %+v %v", res, err)
	}
	if got := st.answer("docs.example.com.", dns.TypeA); got != "A 192.0.2.40" {
		t.Errorf("docs A after records rm: %q", got)
	}
	// Deleting the challenge RRset leaves no dynamic record but docs'.
	if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) {
		m.RemoveRRset(rrs(t, acme+` 0 IN TXT ""`))
	}); rc != dns.RcodeSuccess {
		t.Fatalf("delete: %s", dns.RcodeToString[rc])
	}
	if r := testkit.Query(t, st.addr, acme, dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Errorf("after the delete: %s %q", dns.RcodeToString[r.Rcode], testkit.AnswerText(r))
	}
	if recs, _ := st.c.Records(context.Background(), "example.com."); len(recs.Records) != 0 {
		t.Errorf("records left: %+v", recs.Records)
	}
}

// What no policy gives, the slot names, the apex and the file's names
// are refused, and nothing changes.
// emptyUpdate sends an UPDATE of zone with no records, signed with
// xfr-key. miekg/dns reads every NOTAUTH as a TSIG failure (ErrAuth),
// whatever its TSIG: the answer's rcode is what counts.
func emptyUpdate(addr, zone string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetUpdate(zone)
	m.SetTsig("xfr-key.", dns.HmacSHA256, 300, time.Now().Unix())
	r, _, err := (&dns.Client{TsigSecret: map[string]string{"xfr-key.": testSecret}}).Exchange(m, addr)
	return r, err
}

func TestUpdateRefuses(t *testing.T) {
	t.Parallel()
	st := startUpdateSite(t)
	serial := soaSerial(t, st.addr)
	for _, tc := range []struct {
		name  string
		key   string
		build func(m *dns.Msg)
		want  int
	}{
		{"unsigned", "", func(m *dns.Msg) { m.Insert(rrs(t, `_acme-challenge.example.com. 60 IN TXT "x"`)) }, dns.RcodeRefused},
		{"type outside the policy", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `_acme-challenge.example.com. 60 IN AAAA ::1`)) }, dns.RcodeRefused},
		{"name outside the policy", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `other.example.com. 60 IN TXT "x"`)) }, dns.RcodeRefused},
		{"slot name", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `www.example.com. 60 IN A 127.0.0.9`)) }, dns.RcodeRefused},
		{"file name", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `mail.example.com. 60 IN TXT "x"`)) }, dns.RcodeRefused},
		{"one bad record spoils all", "xfr-key.", func(m *dns.Msg) {
			m.Insert(rrs(t, `_acme-challenge.example.com. 60 IN TXT "x"`, `mail.example.com. 60 IN A 127.0.0.9`))
		}, dns.RcodeRefused},
		{"outside the zone", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `_acme-challenge.example.org. 60 IN TXT "x"`)) }, dns.RcodeNotZone},
	} {
		if rc := sendUpdate(t, st.addr, "udp", tc.key, tc.build); rc != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, dns.RcodeToString[rc], dns.RcodeToString[tc.want])
		}
	}
	// A zone not served here is NOTAUTH, and so is a name inside a zone
	// served that is not its apex (RFC 2136 section 3.1.1).
	for _, zone := range []string{"example.org.", "www.example.com."} {
		if r, err := emptyUpdate(st.addr, zone); r == nil || r.Rcode != dns.RcodeNotAuth {
			t.Errorf("update of zone %s: %v %v, want NOTAUTH", zone, r, err)
		}
	}
	if got := soaSerial(t, st.addr); got != serial {
		t.Errorf("refused updates changed the serial: %d -> %d", serial, got)
	}
	if got := st.answer("_acme-challenge.example.com.", dns.TypeTXT); got != "" {
		t.Errorf("a refused update is served: %q", got)
	}
	// Each signed refusal is logged once, with its reason.
	logged := st.logged.String()
	for _, why := range []string{"may not change _acme-challenge.example.com. AAAA", "may not change other.example.com. TXT",
		"it changes only by slotdns swap and set", "is the zone file's", "zone example.org. is not served here",
		"zone www.example.com. is not served here"} {
		if !strings.Contains(logged, why) {
			t.Errorf("no refusal logged with %q:\n%s", why, logged)
		}
	}
	if n := strings.Count(logged, "Update refused"); n != 8 {
		t.Errorf("%d refusals logged, want one for each of the 8 signed ones:\n%s", n, logged)
	}
}

func soaSerial(t *testing.T, addr string) uint32 {
	t.Helper()
	r := testkit.Query(t, addr, "example.com.", dns.TypeSOA)
	if len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("SOA: %v", r)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

// In a signed zone the records an update adds are signed, and the NSEC
// chain covers their names: every signature of the zone after the
// update verifies, and the new TXT has one.
func TestUpdateSignedZone(t *testing.T) {
	t.Parallel()
	path := testkit.Site(t, signedSiteConfig(t, updateConfig(t)))
	keys := filepath.Join(filepath.Dir(path), "tsig.key")
	testkit.WriteFile(t, keys, "key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \""+testSecret+"\";\n};\nkey \"docs-key\" {\n\talgorithm hmac-sha256;\n\tsecret \""+testSecret+"\";\n};\n")
	if err := os.Chmod(keys, 0o600); err != nil {
		t.Fatal(err)
	}
	st := &site{t: t, path: path}
	st.start()
	acme := "_acme-challenge.example.com."
	if rc := sendUpdate(t, st.addr, "tcp", "xfr-key.", func(m *dns.Msg) {
		m.Insert(rrs(t, acme+` 60 IN TXT "signed-token"`))
	}); rc != dns.RcodeSuccess {
		t.Fatalf("add: %s", dns.RcodeToString[rc])
	}
	zone := transfer(t, st.addr, axfr("example.com."))
	sigs := rrsigs(zone)
	if len(sigs) == 0 {
		t.Fatal("no signatures in the transfer")
	}
	var txtSigned, nsecAt bool
	for id := range sigs {
		txtSigned = txtSigned || strings.HasPrefix(id, acme+" TXT ")
		nsecAt = nsecAt || strings.HasPrefix(id, acme+" NSEC ")
	}
	if !txtSigned || !nsecAt {
		t.Errorf("after the update: TXT signed %v, NSEC at the new name signed %v", txtSigned, nsecAt)
	}
	signKeys, err := dnssec.Load(st.cfg.Zones[0].DNSSEC.KeyDir, "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	verifySigs(t, "after the update", sigs, rrsets(zone), signKeys, time.Now())
	// A restart serves the same signed record without signing it anew.
	st.stop()
	st.start()
	if got := st.answer(acme, dns.TypeTXT); got != `TXT "signed-token"` {
		t.Errorf("after a restart: %q", got)
	}
	if line := zoneSignedLine(t, st.logged.String(), "example.com."); !strings.Contains(line, "signatures_made=0 ") {
		t.Errorf("restart after an update: %s", line)
	}
}

// When the zone file later gains a name that updates wrote, the file
// wins: both are served where they can stand together, the file's alone
// where they cannot; the name is refused to updates from then on, and
// reload and check name it.
func TestZoneFileGainsDynamicName(t *testing.T) {
	t.Parallel()
	st := startUpdateSite(t)
	for _, rr := range []string{`_acme-challenge.example.com. 60 IN TXT "dynamic"`, `x.apps.example.com. 60 IN A 127.0.0.7`} {
		if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, rr)) }); rc != dns.RcodeSuccess {
			t.Fatalf("add %s: %s", rr, dns.RcodeToString[rc])
		}
	}
	zoneFile := filepath.Join(filepath.Dir(st.path), "example.com.zone")
	testkit.WriteFile(t, zoneFile, testkit.ExampleZone+"_acme-challenge IN TXT \"file\"\nx.apps IN CNAME docs\n")
	if _, err := st.c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.answer("_acme-challenge.example.com.", dns.TypeTXT); got != `TXT "file"; TXT "dynamic"` {
		t.Errorf("both TXT: %q", got)
	}
	if got := st.answer("x.apps.example.com.", dns.TypeA); !strings.HasPrefix(got, "CNAME docs.example.com.") {
		t.Errorf("x.apps: %q, want the file's CNAME", got)
	}
	logged := st.logged.String()
	for _, want := range []string{"zone example.com.: _acme-challenge.example.com.: the zone file " + zoneFile + " and dynamic records both hold records there", "x.apps.example.com.: the zone file " + zoneFile + " and dynamic records cannot stand together"} {
		if !strings.Contains(logged, want) {
			t.Errorf("reload logged no %q:\n%s", want, logged)
		}
	}
	if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) {
		m.RemoveRRset(rrs(t, `_acme-challenge.example.com. 0 IN TXT ""`))
	}); rc != dns.RcodeRefused {
		t.Errorf("update of a name the file now holds: %s, want REFUSED", dns.RcodeToString[rc])
	}
	st.stop()
	report := Check(st.cfg)
	if notes := strings.Join(report.Notes, "\n"); !strings.Contains(notes, "slotdns records rm example.com. x.apps.example.com.") || !strings.Contains(notes, "_acme-challenge.example.com.") {
		t.Errorf("check notes:\n%s", notes)
	}
	if len(report.Problems) != 0 {
		t.Errorf("check problems: %v", report.Problems)
	}
}

// Dynamic records that no longer parse stop the start with an error
// naming the zone and the record: serving the file without them would
// hide them, and the next update would drop them.
func TestDamagedDynamicRecords(t *testing.T) {
	t.Parallel()
	st := startUpdateSite(t)
	st.stop()
	db, err := store.Open(st.cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Apply(&store.Batch{Dynamic: []store.DynamicZone{{Zone: "example.com.", Records: []store.DynamicRecord{{RR: "_acme-challenge.example.com. 60 IN TXT"}, {RR: "not a record"}}}}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(st.cfg, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), `zone example.com.: dynamic record 2 ("not a record")`) || !strings.Contains(err.Error(), "restore the database") {
		t.Fatalf("start: %v", err)
	}
	if report := Check(st.cfg); !strings.Contains(strings.Join(report.Problems, "\n"), "dynamic record 2") {
		t.Errorf("check: %v", report.Problems)
	}
}

// TestUpdateMetrics: slotdns_updates_total counts each update under its
// zone and rcode, and one for a zone not served under "other", so that
// what clients send cannot add series.
func TestUpdateMetrics(t *testing.T) {
	t.Parallel()
	cert, key, _ := testkit.APICertFiles(t, t.TempDir())
	st := startUpdateSiteWith(t, "\n[api]\nlisten = \"127.0.0.1:0\"\ntls_cert = \""+cert+"\"\ntls_key = \""+key+"\"\n", Options{TLSRoots: testkit.CA()})
	rs := &remoteSite{site: st, url: "https://" + st.s.APIAddr().String()}
	c := rs.httpClient()
	before := scrapeMetrics(t, c, rs.url+"/metrics")

	if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `_acme-challenge.example.com. 60 IN TXT "x"`)) }); rc != dns.RcodeSuccess {
		t.Fatalf("update: %s", dns.RcodeToString[rc])
	}
	if rc := sendUpdate(t, st.addr, "udp", "xfr-key.", func(m *dns.Msg) { m.Insert(rrs(t, `other.example.com. 60 IN TXT "x"`)) }); rc != dns.RcodeRefused {
		t.Fatalf("update outside the policy: %s", dns.RcodeToString[rc])
	}
	if r, _ := emptyUpdate(st.addr, "nothere.test."); r == nil || r.Rcode != dns.RcodeNotAuth {
		t.Fatalf("update of a zone not served: %v", r)
	}

	after := scrapeMetrics(t, c, rs.url+"/metrics")
	for _, labels := range [][]string{
		{"zone=example.com.", "rcode=NOERROR"},
		{"zone=example.com.", "rcode=REFUSED"},
		{"zone=other", "rcode=NOTAUTH"},
	} {
		if got := value(after, "slotdns_updates_total", labels...) - value(before, "slotdns_updates_total", labels...); got != 1 {
			t.Errorf("slotdns_updates_total%v moved by %v, want 1", labels, got)
		}
	}
}
