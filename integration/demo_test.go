package integration

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// TestDemo walks the demo as a user does: dig the names, swap, swap back,
// roll back, set staging, read status/history/verify, restart.
func TestDemo(t *testing.T) {
	t.Parallel()
	in := newDemo(t, nil)
	in.start()

	checkSlotAnswer(t, in, "www.yourwebapp.com.", prodTarget)
	checkSlotAnswer(t, in, "stage.yourwebapp.com.", stageTarget)
	checkApex(t, in, prodTarget)
	checkZoneRecords(t, in)

	s0 := in.serial()
	if s0 < fileSerial {
		t.Errorf("SOA serial: got %d, want at least the zone file's %d", s0, fileSerial)
	}

	r := in.mustSlotdns("swap", "yourwebapp")
	for _, want := range []string{prodTarget, stageTarget, strconv.FormatUint(uint64(s0+1), 10)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("swap output: got\n%s\nwant it to mention %s", r.stdout, want)
		}
	}
	in.wantServed("after swap", stageTarget, prodTarget, s0+1)
	checkSlotAnswer(t, in, "www.yourwebapp.com.", stageTarget)

	in.mustSlotdns("swap", "yourwebapp")
	in.wantServed("after the second swap", prodTarget, stageTarget, s0+2)

	in.mustSlotdns("rollback", "yourwebapp")
	in.wantServed("after rollback", stageTarget, prodTarget, s0+3)

	in.mustSlotdns("set", "yourwebapp", "staging", test3Target)
	in.wantServed("after set staging", stageTarget, test3Target, s0+4)

	if got, want := in.storedSlots("yourwebapp"), map[string]string{"production": stageTarget, "staging": test3Target}; !maps.Equal(got, want) {
		t.Errorf("status --json slots: got %v, want %v", got, want)
	}
	r = in.mustSlotdns("status")
	for _, want := range []string{"yourwebapp", "production", "staging", stageTarget, test3Target} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status: got\n%s\nwant it to mention %s", r.stdout, want)
		}
	}

	entries := in.history("yourwebapp")
	var kinds []string
	for i, e := range entries {
		kinds = append(kinds, e.Kind)
		if e.Seq != uint64(i+1) {
			t.Errorf("history entry %d: got seq %d, want %d", i, e.Seq, i+1)
		}
		if want := s0 + uint32(i) + 1; e.Serial != want {
			t.Errorf("history entry %d: got serial %d, want %d", i, e.Serial, want)
		}
		if e.Actor == "" || e.Time.IsZero() || len(e.Before) == 0 || len(e.After) == 0 {
			t.Errorf("history entry %d: got %+v, want actor, time, before and after", i, e)
		}
	}
	if want := []string{"swap", "swap", "rollback", "set"}; !slices.Equal(kinds, want) {
		t.Errorf("history kinds: got %v, want %v", kinds, want)
	}
	r = in.mustSlotdns("history", "yourwebapp")
	for _, want := range []string{"swap", "rollback", "set", test3Target} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history: got\n%s\nwant it to mention %s", r.stdout, want)
		}
	}

	r = in.mustSlotdns("verify", "yourwebapp")
	for _, want := range []string{"www.yourwebapp.com", "stage.yourwebapp.com", test3Target} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify: got\n%s\nwant it to mention %s", r.stdout, want)
		}
	}
	r = in.mustSlotdns("verify", "--json", "yourwebapp")
	if !json.Valid([]byte(r.stdout)) {
		t.Errorf("verify --json: got invalid JSON\n%v", r)
	}
	for _, args := range [][]string{{"status", "--json"}, {"status", "--json", "yourwebapp"}} {
		if r := in.mustSlotdns(args...); !json.Valid([]byte(r.stdout)) {
			t.Errorf("%s: got invalid JSON\n%v", strings.Join(args, " "), r)
		}
	}

	// A server answering from other state: verify sees the difference.
	other := newDemo(t, nil)
	other.start()
	if r := in.slotdns("verify", "--dns", other.addr(), "yourwebapp"); r.code != 1 {
		t.Errorf("verify against a server with other answers: got exit %d, want 1\n%v", r.code, r)
	}
	other.stop()

	// --expect makes a swap conditional: a retried pipeline cannot swap twice.
	if r := in.slotdns("swap", "--expect", prodTarget, "yourwebapp"); r.code != 3 {
		t.Errorf("swap --expect with the wrong target: got exit %d, want 3 (a conflict)\n%v", r.code, r)
	}
	in.mustSlotdns("swap", "--expect", test3Target, "yourwebapp")
	in.wantServed("after swap --expect", test3Target, stageTarget, s0+5)
}

// TestExitCodes pins 0 ok, 1 failed, 2 usage.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	in := newDemo(t, nil)
	in.start()
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"status"}, 0},
		{[]string{"status", "--json"}, 0},
		{[]string{"--help"}, 0},
		{[]string{"nosuchcommand"}, 2},
		{[]string{"status", "--nosuchflag"}, 2},
		{[]string{"swap"}, 2},
		{[]string{"set", "yourwebapp", "staging"}, 2},
		{[]string{"history"}, 2},
		{[]string{"swap", "nosuchapp"}, 1},
		{[]string{"status", "nosuchapp"}, 1},
		{[]string{"set", "yourwebapp", "nosuchslot", test3Target}, 1},
		{[]string{"swap", "--slot", "staging", "--with", "nosuchslot", "yourwebapp"}, 1},
		{[]string{"history", "nosuchapp"}, 1},
		{[]string{"status", "--config", "nosuchfile.toml"}, 1},
	}
	for _, tt := range tests {
		r := in.slotdns(tt.args...)
		if r.code != tt.code {
			t.Errorf("got exit %d, want %d: %v", r.code, tt.code, r)
		}
		if tt.code != 0 && strings.TrimSpace(r.stderr) == "" {
			t.Errorf("got an empty stderr, want the reason: %v", r)
		}
	}
	in.wantServed("after failed commands", prodTarget, stageTarget, fileSerial)
}

// TestRestart: SIGTERM and start again serves the state as it was left;
// a change made with the server down is applied at start; rollback refuses
// when the app changed since its last history entry.
func TestRestart(t *testing.T) {
	t.Parallel()
	in := newDemo(t, nil)
	in.start()
	in.mustSlotdns("swap", "yourwebapp")
	before := in.served()

	in.stop()
	in.start()
	if got := in.served(); !servedEqual(got, before) {
		t.Errorf("after SIGTERM and start: got %v, want %v", got, before)
	}

	// With no server, the CLI works on the database directly and says so.
	in.stop()
	r := in.mustSlotdns("swap", "yourwebapp")
	if strings.TrimSpace(r.stdout+r.stderr) == "" {
		t.Errorf("swap with no server running: got no output, want it to say so")
	}
	in.start()
	in.wantServed("after an offline swap and start", prodTarget, stageTarget, before.serial+1)

	// A slot added in the config is seeded without a history entry. The
	// zone gained a name, so its serial goes up (secondaries must see it).
	// Rollback still undoes the last swap, and the new slot keeps its
	// target.
	in.stop()
	in.writeConfig(in.readConfig() + "\n[app.slots.qa]\nnames  = [\"qa\"]\ntarget = \"198.51.100.99\"\n")
	in.start()
	if got, want := dig(t, in.port, "qa.yourwebapp.com.", "A").addrs("qa.yourwebapp.com."), []string{"198.51.100.99"}; !slices.Equal(got, want) {
		t.Errorf("qa A after adding the slot: got %v, want %v", got, want)
	}
	in.wantServed("after adding a slot", prodTarget, stageTarget, before.serial+2)
	in.mustSlotdns("rollback", "yourwebapp")
	in.wantServed("after the rollback", stageTarget, prodTarget, before.serial+3)
	if got, want := dig(t, in.port, "qa.yourwebapp.com.", "A").addrs("qa.yourwebapp.com."), []string{"198.51.100.99"}; !slices.Equal(got, want) {
		t.Errorf("qa A after the rollback: got %v, want %v", got, want)
	}
}

// TestCheck: `slotdns check` accepts the demo and names file:line for a
// broken config or zone file; serve refuses to start on either.
func TestCheck(t *testing.T) {
	t.Parallel()
	good := newDemo(t, nil)
	if r := good.slotdns("check"); r.code != 0 {
		t.Errorf("check on the demo: got exit %d, want 0\n%v", r.code, r)
	}
	// --config from elsewhere: relative paths are relative to the config file.
	if r := runCLI(t, t.TempDir(), "check", "--config", good.config); r.code != 0 {
		t.Errorf("check --config from another directory: got exit %d, want 0\n%v", r.code, r)
	}

	tests := []struct {
		name  string
		file  string // relative to the instance
		edit  func(string) string
		where string // file:line the message must name
	}{
		{
			name:  "unknown config key",
			file:  "slotdns.toml",
			edit:  func(s string) string { return "colour = \"blue\"\n" + s },
			where: "slotdns.toml:1:",
		},
		{
			name:  "TOML syntax",
			file:  "slotdns.toml",
			edit:  func(s string) string { return "\n\nlisten = [\n" + s },
			where: "slotdns.toml:",
		},
		{
			name:  "bad address in the zone file",
			file:  "zones/yourwebapp.com.zone",
			edit:  func(s string) string { return s + "bad IN A 999.0.2.1\n" },
			where: "yourwebapp.com.zone:" + strconv.Itoa(lineCount(t, filepath.Join(repoRoot, "zones/yourwebapp.com.zone"))+1) + ":",
		},
		{
			name:  "slot name owning zone-file records",
			file:  "zones/yourwebapp.com.zone",
			edit:  func(s string) string { return s + "www IN A 192.0.2.80\n" },
			where: "yourwebapp.com.zone:" + strconv.Itoa(lineCount(t, filepath.Join(repoRoot, "zones/yourwebapp.com.zone"))+1),
		},
		{
			name:  "address records at an apex that is a slot name",
			file:  "zones/yourwebapp.com.zone",
			edit:  func(s string) string { return s + "@ IN A 192.0.2.80\n" },
			where: "yourwebapp.com.zone:" + strconv.Itoa(lineCount(t, filepath.Join(repoRoot, "zones/yourwebapp.com.zone"))+1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newDemo(t, nil)
			path := filepath.Join(in.dir, tt.file)
			testkit.WriteFile(t, path, tt.edit(testkit.ReadFile(t, path)))
			r := in.slotdns("check")
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, tt.where) {
				t.Errorf("check: got exit %d, want 1 and a message naming %s\n%v", r.code, tt.where, r)
			}
			r = in.slotdns("serve")
			if r.code != 1 || !strings.Contains(r.stderr, tt.where) {
				t.Errorf("serve: got exit %d, want 1 and a message naming %s\n%v", r.code, tt.where, r)
			}
		})
	}
}

func lineCount(t *testing.T, path string) int {
	t.Helper()
	return strings.Count(testkit.ReadFile(t, path), "\n")
}

// checkSlotAnswer: name answers a CNAME to target with the slot TTL, AA set.
func checkSlotAnswer(t *testing.T, in *instance, name, target string) {
	t.Helper()
	a := dig(t, in.port, name, "A")
	if a.status != "NOERROR" || !a.hasFlag("aa") {
		t.Errorf("%s A: got status %s flags %v, want NOERROR with aa\n%s", name, a.status, a.flags, a.output)
	}
	if len(a.answer) == 0 {
		t.Fatalf("%s A: got no answer\n%s", name, a.output)
	}
	c, ok := a.answer[0].(*dns.CNAME)
	if !ok || !strings.EqualFold(c.Hdr.Name, name) || strings.ToLower(c.Target) != target || c.Hdr.Ttl != 30 {
		t.Errorf("%s A: got first answer %v, want %s 30 IN CNAME %s\n%s", name, a.answer[0], name, target, a.output)
	}
}

// checkApex: the apex alias serves the target's A and AAAA with TTL
// min(slot TTL 30, target TTL 60).
func checkApex(t *testing.T, in *instance, target string) {
	t.Helper()
	for _, q := range []struct {
		qtype string
		want  []string
	}{{"A", targetAddrs[target]}, {"AAAA", targetAddrs6[target]}} {
		a := dig(t, in.port, "yourwebapp.com.", q.qtype)
		if got := a.addrs("yourwebapp.com."); a.status != "NOERROR" || !a.hasFlag("aa") || !slices.Equal(got, q.want) {
			t.Errorf("yourwebapp.com %s: got %s %v flags %v, want NOERROR %v with aa\n%s", q.qtype, a.status, got, a.flags, q.want, a.output)
		}
		for _, rr := range a.answer {
			if rr.Header().Ttl != 30 {
				t.Errorf("yourwebapp.com %s: got TTL %d in %v, want 30", q.qtype, rr.Header().Ttl, rr)
			}
		}
	}
}

// checkZoneRecords: the records of the zone file are served as written.
func checkZoneRecords(t *testing.T, in *instance) {
	t.Helper()
	tests := []struct {
		name, qtype string
		want        []string // answer records, zone-file text
		additional  []string // must be among the additional records
	}{
		{"yourwebapp.com.", "NS", []string{
			"yourwebapp.com. 3600 IN NS ns1.yourwebapp.com.",
			"yourwebapp.com. 3600 IN NS ns2.yourwebapp.com.",
		}, []string{"ns1.yourwebapp.com. 3600 IN A 192.0.2.1", "ns2.yourwebapp.com. 3600 IN A 192.0.2.2"}},
		{"yourwebapp.com.", "MX", []string{"yourwebapp.com. 3600 IN MX 10 mail.yourwebapp.com."},
			[]string{"mail.yourwebapp.com. 3600 IN A 192.0.2.25"}},
		{"yourwebapp.com.", "TXT", []string{`yourwebapp.com. 3600 IN TXT "v=spf1 mx -all"`}, nil},
		{"docs.yourwebapp.com.", "A", []string{"docs.yourwebapp.com. 3600 IN A 192.0.2.40"}, nil},
		{"static.yourwebapp.com.", "AAAA", []string{
			"static.yourwebapp.com. 3600 IN CNAME docs.yourwebapp.com.",
			"docs.yourwebapp.com. 3600 IN AAAA 2001:db8:1::40",
		}, nil},
		{"serktools-stagetest.cloudapp.test.", "A", []string{
			"serktools-stagetest.cloudapp.test. 60 IN A 198.51.100.10",
			"serktools-stagetest.cloudapp.test. 60 IN A 198.51.100.11",
		}, nil},
	}
	for _, tt := range tests {
		a := dig(t, in.port, tt.name, tt.qtype)
		got := rrStrings(a.answer)
		want := rrTexts(t, tt.want)
		if a.status != "NOERROR" || !a.hasFlag("aa") || !slices.Equal(got, want) {
			t.Errorf("%s %s: got %s %v flags %v, want NOERROR %v with aa\n%s", tt.name, tt.qtype, a.status, got, a.flags, want, a.output)
		}
		extra := rrStrings(a.additional)
		for _, w := range rrTexts(t, tt.additional) {
			if !slices.Contains(extra, w) {
				t.Errorf("%s %s: got additional %v, want it to hold %s", tt.name, tt.qtype, extra, w)
			}
		}
	}
	soa := dig(t, in.port, "yourwebapp.com.", "SOA")
	if rrs := soa.ofType(dns.TypeSOA); len(rrs) != 1 || rrs[0].(*dns.SOA).Ns != "ns1.yourwebapp.com." {
		t.Errorf("yourwebapp.com SOA: got %v, want one SOA naming ns1.yourwebapp.com.", soa.answer)
	}
	nx := dig(t, in.port, "nosuchname.yourwebapp.com.", "A")
	if nx.status != "NXDOMAIN" || len(nx.authority) != 1 || nx.authority[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("nosuchname A: got %s authority %v, want NXDOMAIN with the SOA", nx.status, nx.authority)
	}
}

// rrStrings is the sorted text form of records, with owner names lowercased.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		rr.Header().Name = strings.ToLower(rr.Header().Name)
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

func rrTexts(t *testing.T, texts []string) []string {
	t.Helper()
	var rrs []dns.RR
	for _, s := range texts {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		rrs = append(rrs, rr)
	}
	return rrStrings(rrs)
}

// wantServed checks the three slot names and the serial as served.
func (in *instance) wantServed(step, www, stage string, serial uint32) {
	in.t.Helper()
	got := in.served()
	want := served{www: www, stage: stage, apex: targetAddrs[www], serial: serial}
	if !servedEqual(got, want) {
		in.t.Errorf("%s: got %v, want %v", step, got, want)
	}
}

func servedEqual(a, b served) bool {
	return a.www == b.www && a.stage == b.stage && slices.Equal(a.apex, b.apex) && a.serial == b.serial
}

// TestVerifyAllSkipsDocumentationAddresses: the demo's NS addresses are
// documentation addresses (192.0.2.1, .2), which may be a real network
// here; verify --all never asks them, and says so.
func TestVerifyAllSkipsDocumentationAddresses(t *testing.T) {
	t.Parallel()
	in := newDemo(t, nil)
	in.start()
	r := in.mustSlotdns("verify", "--all", "yourwebapp")
	for _, want := range []string{
		"[1] slotdns " + in.addr(),
		"skipped ns ns1.yourwebapp.com. (192.0.2.1:53): 192.0.2.1 is a documentation address (RFC 5737)",
		"skipped ns ns2.yourwebapp.com. (192.0.2.2:53): 192.0.2.2 is a documentation address (RFC 5737)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify --all: want %q in\n%s", want, r.stdout)
		}
	}
}
