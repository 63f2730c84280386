package integration

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// xfrDemo is the demo with a real NSD and a real Knot as secondaries of
// yourwebapp.com, sharing one TSIG key with slotdns.
type xfrDemo struct {
	in        *instance
	key       tsigKey
	nsd, knot *secondary
}

// newXFRDemo starts slotdns with NSD and Knot as secondaries that hold the
// key (journalLimit 0: the default), starts both secondaries (after tune,
// when given, has changed them) and waits for their first transfer.
func newXFRDemo(t testing.TB, journalLimit int, tune ...func(*secondary)) *xfrDemo {
	t.Helper()
	d := &xfrDemo{key: newTSIGKey(t, "xfr-key"), nsd: newSecondary(t, "nsd"), knot: newSecondary(t, "knot")}
	d.in = newDemo(t, withSecondaries(journalLimit, d.nsd.entry("xfr-key"), d.knot.entry("xfr-key")))
	writeKeyFile(t, filepath.Join(d.in.dir, "tsig.key"), d.key)
	d.in.start()
	for _, s := range d.secondaries() {
		for _, f := range tune {
			f(s)
		}
		s.configure(d.in.port, d.key)
		s.start()
	}
	s0 := d.in.serial()
	for _, s := range d.secondaries() {
		s.waitServes("initial AXFR", s0, prodTarget)
	}
	return d
}

func (d *xfrDemo) secondaries() []*secondary { return []*secondary{d.nsd, d.knot} }

// restart stops slotdns, calls between (if not nil) and starts it again.
// Should it come back on another port (its old one taken meanwhile), the
// secondaries are pointed at the new one.
func (d *xfrDemo) restart(between func()) {
	d.in.t.Helper()
	port := d.in.port
	d.in.stop()
	if between != nil {
		between()
	}
	d.in.start()
	if d.in.port == port {
		return
	}
	for _, s := range d.secondaries() {
		s.stop()
		s.configure(d.in.port, d.key)
		s.start()
	}
}

// waitAll waits until every secondary serves serial with www -> target.
func (d *xfrDemo) waitAll(step string, serial uint32, target string) {
	d.in.t.Helper()
	for _, s := range d.secondaries() {
		s.waitServes(step, serial, target)
	}
}

// Knot's log lines for a finished incremental transfer, and for a full one
// (asked for or given in answer to IXFR).
var (
	knotIXFR = regexp.MustCompile(`IXFR, incoming, remote \S+, finished`)
	knotAXFR = regexp.MustCompile(`AXFR, incoming, remote \S+, finished`)
)

// secondaryLine matches the line a swap prints for one secondary.
func secondaryLine(addr string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^secondary ` + regexp.QuoteMeta(addr) + `: (serves|still serves) \d+ after \S+$`)
}

// TestSecondaries runs NSD and Knot as secondaries of slotdns: the initial
// AXFR, a swap reaching both by NOTIFY and IXFR (and the swap saying so),
// 20 swaps in a row, --wait-secondaries with a secondary up and down,
// status, and a stopped secondary catching up when it starts again.
func TestSecondaries(t *testing.T) {
	t.Parallel()
	d := newXFRDemo(t, 0)
	in := d.in
	s0 := in.serial()

	r := in.mustSlotdns("swap", "yourwebapp")
	for _, s := range d.secondaries() {
		if !secondaryLine(s.addr()).MatchString(r.stdout) {
			t.Errorf("swap output: got\n%s\nwant a line %q", r.stdout, secondaryLine(s.addr()))
		}
	}
	d.waitAll("after a swap", s0+1, stageTarget)
	if !poll(xfrTimeout, func() bool { return knotIXFR.MatchString(d.knot.logs()) }) {
		t.Errorf("knot took the swap without an IXFR:\n%s", d.knot.logs())
	}
	for _, s := range d.secondaries() {
		checkKdig(t, s, s0+1, stageTarget)
	}

	// 20 swaps as fast as the control API takes them: NOTIFYs coalesce,
	// and each secondary ends on the last serial.
	control := controlClient(in.controlSocket())
	for i := range 20 {
		if err := postSwap(control, "yourwebapp"); err != nil {
			t.Fatalf("swap %d of 20: %v", i+1, err)
		}
	}
	d.waitAll("after 20 more swaps", s0+21, stageTarget)

	r = in.mustSlotdns("swap", "--wait-secondaries", "yourwebapp")
	for _, s := range d.secondaries() {
		want := fmt.Sprintf("secondary %s: serves %d after ", s.addr(), s0+22)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("swap --wait-secondaries: got\n%s\nwant %q", r.stdout, want)
		}
	}
	d.waitAll("after swap --wait-secondaries", s0+22, prodTarget)

	r = in.mustSlotdns("status")
	for _, s := range d.secondaries() {
		if !strings.Contains(r.stdout, s.addr()) {
			t.Errorf("status: got\n%s\nwant a line for secondary %s", r.stdout, s.addr())
		}
	}

	// Knot down: a swap still succeeds and says Knot lags; waiting for it
	// fails naming it; once it is back it catches up.
	d.knot.stop()
	r = in.mustSlotdns("swap", "--json", "yourwebapp")
	checkSwapJSON(t, r.stdout, map[string]bool{d.nsd.addr(): true, d.knot.addr(): false}, s0+23)
	r = in.slotdns("swap", "--wait-secondaries=2s", "yourwebapp")
	if r.code != 1 {
		t.Errorf("swap --wait-secondaries=2s with knot down: got exit %d, want 1\n%v", r.code, r)
	}
	if !strings.Contains(r.stdout+r.stderr, d.knot.addr()) {
		t.Errorf("swap --wait-secondaries=2s with knot down: got\n%v\nwant it to name %s", r, d.knot.addr())
	}
	d.nsd.waitServes("with knot down", s0+24, prodTarget)
	d.knot.start()
	d.knot.waitServes("knot restarted", s0+24, prodTarget)

	// Both restarted after swaps they missed: they catch up by IXFR (the
	// journal holds the changes).
	d.nsd.stop()
	d.knot.stop()
	for i := range 2 {
		if err := postSwap(control, "yourwebapp"); err != nil {
			t.Fatalf("swap %d of 2 with both down: %v", i+1, err)
		}
	}
	knotBefore := len(d.knot.out.String())
	for _, s := range d.secondaries() {
		s.start()
	}
	d.waitAll("both restarted after two swaps", s0+26, prodTarget)
	if !poll(xfrTimeout, func() bool { return knotIXFR.MatchString(d.knot.out.String()[knotBefore:]) }) {
		t.Errorf("knot restarted 2 serials behind caught up without an IXFR:\n%s", d.knot.out.String()[knotBefore:])
	}

	// slotdns restarted: the secondaries keep serving, and the next swap
	// reaches them.
	d.restart(nil)
	in.mustSlotdns("swap", "yourwebapp")
	d.waitAll("swap after a restart of slotdns", s0+27, stageTarget)
}

// checkSwapJSON checks the "secondaries" of `swap --json`: each address
// with whether it served serial.
func checkSwapJSON(t *testing.T, out string, wantOK map[string]bool, serial uint32) {
	t.Helper()
	var got struct {
		Secondaries []struct {
			Address  string `json:"address"`
			Serial   uint32 `json:"serial"`
			ServedAt string `json:"served_at"`
			OK       bool   `json:"ok"`
		} `json:"secondaries"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Errorf("swap --json: %v\n%s", err, out)
		return
	}
	seen := map[string]bool{}
	for _, s := range got.Secondaries {
		seen[s.Address] = true
		want, known := wantOK[s.Address]
		switch {
		case !known:
			t.Errorf("swap --json: got secondary %q, want only %v", s.Address, wantOK)
		case s.OK != want:
			t.Errorf("swap --json: secondary %s: got ok %v, want %v\n%s", s.Address, s.OK, want, out)
		case want && s.Serial != serial:
			t.Errorf("swap --json: secondary %s: got serial %d, want %d", s.Address, s.Serial, serial)
		}
	}
	for addr := range wantOK {
		if !seen[addr] {
			t.Errorf("swap --json: no secondary %s in\n%s", addr, out)
		}
	}
}

// TestSecondaryJournalTruncated keeps 2 changes in the journal: secondaries
// that missed 5 swaps ask for an IXFR the journal cannot answer, get the
// whole zone instead, and serve the last serial.
func TestSecondaryJournalTruncated(t *testing.T) {
	t.Parallel()
	d := newXFRDemo(t, 2)
	in := d.in
	s0 := in.serial()

	for _, s := range d.secondaries() {
		s.stop()
	}
	// Through the control API: the CLI would wait 2s per swap for the
	// secondaries that are down.
	control := controlClient(in.controlSocket())
	for i := range 5 {
		if err := postSwap(control, "yourwebapp"); err != nil {
			t.Fatalf("swap %d of 5: %v", i+1, err)
		}
	}
	knotBefore := len(d.knot.out.String())
	for _, s := range d.secondaries() {
		s.start()
	}
	d.waitAll("after 5 swaps with a journal of 2", s0+5, stageTarget)
	if restarted := d.knot.out.String()[knotBefore:]; !knotAXFR.MatchString(restarted) || knotIXFR.MatchString(restarted) {
		t.Errorf("knot caught up 5 serials with a journal of 2: got\n%s\nwant a full transfer and no IXFR", restarted)
	}

	// And with the journal full, one more swap still goes by IXFR.
	in.mustSlotdns("swap", "yourwebapp")
	d.waitAll("one swap after the fallback", s0+6, prodTarget)
	if !poll(xfrTimeout, func() bool { return knotIXFR.MatchString(d.knot.out.String()[knotBefore:]) }) {
		t.Errorf("knot took a swap after the fallback without an IXFR:\n%s", d.knot.out.String()[knotBefore:])
	}
}

// TestSecondaryTSIG: transfers need the configured key. A secondary with
// the wrong secret and one without a key never load the zone, dig without
// the key or with a wrong one is refused, dig with it gets the zone. A
// secondary whose key no longer matches keeps its old serial.
func TestSecondaryTSIG(t *testing.T) {
	t.Parallel()
	key := newTSIGKey(t, "xfr-key")
	wrong := newTSIGKey(t, "xfr-key")
	nsd, knot := newSecondary(t, "nsd"), newSecondary(t, "knot")
	in := newDemo(t, withSecondaries(0, nsd.entry("xfr-key"), knot.entry("xfr-key")))
	writeKeyFile(t, filepath.Join(in.dir, "tsig.key"), key)
	in.start()
	s0 := in.serial()

	nsd.configure(in.port, wrong)
	knot.configure(in.port, tsigKey{})
	nsd.start()
	knot.start()
	// Wait until each has tried and been refused, then check it has no zone.
	refused := map[*secondary]*regexp.Regexp{
		nsd:  regexp.MustCompile(`(?i)received error code|bad transfer|refused|bad tsig`),
		knot: regexp.MustCompile(`(?i)responded with error|refresh.*failed`),
	}
	for s, re := range refused {
		if !poll(xfrTimeout, func() bool { return re.MatchString(s.logs()) }) {
			t.Errorf("%s: got no refused transfer in its log within %v, want one matching %s\n%s", s, xfrTimeout, re, s.logs())
		}
		if serial, _, ok := s.served(); ok {
			t.Errorf("%s with a bad key: got the zone at serial %d, want none", s, serial)
		}
	}

	// dig from 127.0.0.1, an allowed address: only with the key.
	for _, c := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"no key", nil, false},
		{"wrong secret", []string{"-y", wrong.digArg()}, false},
		{"unknown key name", []string{"-y", tsigKey{name: "other-key", secret: key.secret}.digArg()}, false},
		{"the key", []string{"-y", key.digArg()}, true},
	} {
		records, out := digAXFR(t, in.port, c.args...)
		a := digAnswer{answer: records}
		got := len(a.ofType(dns.TypeSOA)) == 2 && a.cname("www.yourwebapp.com.") == prodTarget
		if got != c.ok {
			t.Errorf("dig AXFR with %s: got the zone %v, want %v\n%s", c.name, got, c.ok, out)
		}
		if !c.ok && (len(records) > 0 || !strings.Contains(out, "Transfer failed")) {
			t.Errorf("dig AXFR with %s: got %d records, want none and \"Transfer failed\"\n%s", c.name, len(records), out)
		}
	}

	// NSD with the right key loads the zone; then its key stops matching
	// (restarted with another secret): a swap's NOTIFY and transfer fail,
	// and it keeps serving the old serial.
	nsd.stop()
	nsd.configure(in.port, key)
	nsd.start()
	nsd.waitServes("nsd with the key", s0, prodTarget)
	nsd.waitZoneFile()
	nsd.stop()
	nsd.configure(in.port, wrong)
	nsd.start()
	nsd.waitServes("nsd restarted with another secret", s0, prodTarget)
	before := strings.Count(nsd.logs(), "\n")
	in.mustSlotdns("swap", "yourwebapp")
	newLines := func() string { return strings.Join(strings.Split(nsd.logs(), "\n")[before:], "\n") }
	if !poll(xfrTimeout, func() bool { return refused[nsd].MatchString(newLines()) }) {
		t.Errorf("%s: got no refused NOTIFY or transfer after the swap within %v\n%s", nsd, xfrTimeout, newLines())
	}
	if serial, www, ok := nsd.served(); !ok || serial != s0 || www != prodTarget {
		t.Errorf("%s with a stale key after a swap: got serial %d, www -> %s (loaded %v), want %d, %s", nsd, serial, www, ok, s0, prodTarget)
	}
}

// TestSecondaryReload edits the zone file: `slotdns reload` and SIGHUP
// bump the serial only when the content changed, and the secondaries get
// the change.
func TestSecondaryReload(t *testing.T) {
	t.Parallel()
	d := newXFRDemo(t, 0)
	in := d.in
	s0 := in.serial()
	zoneFile := filepath.Join(in.dir, "zones", "yourwebapp.com.zone")
	original := testkit.ReadFile(t, zoneFile)

	want := func(step string, serial uint32, name, addr string) {
		t.Helper()
		if got := in.serial(); got != serial {
			t.Fatalf("%s: slotdns serves serial %d, want %d", step, got, serial)
		}
		d.waitAll(step, serial, prodTarget)
		if name == "" {
			return
		}
		for _, s := range d.secondaries() {
			a := digSecondary(t, s, name, "A")
			if got := a.addrs(name); len(got) != 1 || got[0] != addr {
				t.Errorf("%s: %s answers %s A %v, want [%s]\n%s", step, s, name, got, addr, a.output)
			}
		}
	}

	// Nothing changed: nothing happens.
	in.mustSlotdns("reload")
	want("reload of an unchanged file", s0, "", "")

	// A comment only: the content is the same.
	testkit.WriteFile(t, zoneFile, original+"; a comment changes nothing\n")
	in.mustSlotdns("reload")
	want("reload after a comment", s0, "", "")

	// A new record: serial +1, journaled, notified.
	testkit.WriteFile(t, zoneFile, original+"reload1 IN A 192.0.2.71\n")
	in.mustSlotdns("reload")
	want("reload after a new record", s0+1, "reload1.yourwebapp.com.", "192.0.2.71")
	in.mustSlotdns("reload")
	want("reload again", s0+1, "", "")

	// SIGHUP does the same.
	testkit.WriteFile(t, zoneFile, original+"reload1 IN A 192.0.2.72\n")
	in.proc.signal(syscall.SIGHUP)
	if !poll(xfrTimeout, func() bool { return soaSerial(in.addr()) == s0+2 }) {
		t.Fatalf("SIGHUP after an edit: serial %d, want %d", soaSerial(in.addr()), s0+2)
	}
	want("SIGHUP after an edit", s0+2, "reload1.yourwebapp.com.", "192.0.2.72")

	// A file serial above the stored one wins.
	high := s0 + 100
	edited := strings.Replace(original, strconv.Itoa(fileSerial), strconv.FormatUint(uint64(high), 10), 1)
	testkit.WriteFile(t, zoneFile, edited+"reload1 IN A 192.0.2.73\n")
	in.mustSlotdns("reload")
	want("reload with a higher file serial", high, "reload1.yourwebapp.com.", "192.0.2.73")

	// A swap after that continues from there.
	in.mustSlotdns("swap", "yourwebapp")
	for _, s := range d.secondaries() {
		s.waitServes("swap after the reloads", high+1, stageTarget)
	}

	// An edit while slotdns is down counts when it starts.
	d.restart(func() { testkit.WriteFile(t, zoneFile, edited+"reload1 IN A 192.0.2.74\n") })
	if got := in.serial(); got != high+2 {
		t.Fatalf("start after an edit: slotdns serves serial %d, want %d", got, high+2)
	}
	for _, s := range d.secondaries() {
		s.waitServes("start after an edit", high+2, stageTarget)
		if got := digSecondary(t, s, "reload1.yourwebapp.com.", "A").addrs("reload1.yourwebapp.com."); len(got) != 1 || got[0] != "192.0.2.74" {
			t.Errorf("start after an edit: %s answers reload1 A %v, want [192.0.2.74]", s, got)
		}
	}
}

// soaSerial is the SOA serial of yourwebapp.com at addr, or 0.
func soaSerial(addr string) uint32 {
	resp, err := query(addr, "yourwebapp.com.", dns.TypeSOA, time.Second)
	if err != nil || len(resp.Answer) == 0 {
		return 0
	}
	if soa, ok := resp.Answer[0].(*dns.SOA); ok {
		return soa.Serial
	}
	return 0
}

// digSecondary asks a secondary with dig, as its users would.
func digSecondary(t *testing.T, s *secondary, name, qtype string) digAnswer {
	t.Helper()
	return dig(t, s.port, name, qtype)
}

// digAXFR runs `dig AXFR yourwebapp.com` against slotdns and returns the
// records it printed (the TSIG left out) and all its output.
func digAXFR(t *testing.T, port int, extra ...string) ([]dns.RR, string) {
	t.Helper()
	path := requireTool(t, "dig", "apt-get install bind9-dnsutils")
	args := append([]string{"@127.0.0.1", "-p", strconv.Itoa(port), "+time=5", "+tries=1", "yourwebapp.com.", "AXFR"}, extra...)
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var records []dns.RR
	for _, line := range strings.Split(string(out), "\n") {
		// miekg/dns reads no TSIG from text; dig prints the one that
		// signs (or refuses) the transfer last.
		if line == "" || strings.HasPrefix(line, ";") || strings.Contains(line, "\tTSIG\t") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("dig AXFR: line %q: %v", line, err)
		}
		records = append(records, rr)
	}
	return records, string(out)
}

// checkKdig asks a secondary with kdig, as Knot's users do, for the SOA
// and www.
func checkKdig(t *testing.T, s *secondary, serial uint32, target string) {
	t.Helper()
	kdig := requireTool(t, "kdig", "apt-get install knot-dnsutils")
	for _, c := range []struct{ name, qtype, want string }{
		{"yourwebapp.com.", "SOA", " " + strconv.FormatUint(uint64(serial), 10) + " "},
		{"www.yourwebapp.com.", "CNAME", target},
	} {
		out, err := exec.Command(kdig, "@127.0.0.1", "-p", strconv.Itoa(s.port), "+norec", "+short", c.name, c.qtype).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("kdig %s %s at %s: got %q (err %v), want it to hold %q", c.name, c.qtype, s, out, err, c.want)
		}
	}
}

// TestSecondariesAfterRestore: a database restored from a backup serves
// an older serial than NSD and Knot hold, which they would ignore. The
// server finds them ahead at start and serves a serial past theirs, and
// both take the restored answers.
func TestSecondariesAfterRestore(t *testing.T) {
	t.Parallel()
	d := newXFRDemo(t, 0)
	in := d.in
	s0 := in.serial()
	backup := filepath.Join(t.TempDir(), "backup.db")
	in.mustSlotdns("backup", backup)
	in.mustSlotdns("swap", "yourwebapp")
	d.waitAll("after the swap", s0+1, stageTarget)

	d.restart(func() { copyFile(t, backup, filepath.Join(in.dir, "slotdns.db")) })
	d.waitAll("after the restore", s0+2, prodTarget)
	if got := in.serial(); got != s0+2 {
		t.Errorf("slotdns serves serial %d after the restore, want %d", got, s0+2)
	}
}
