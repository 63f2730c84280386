package zones

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const siteZone = `$ORIGIN example.org.
$TTL 3600
@     SOA ns1 hostmaster 1 3600 600 1209600 300
@     NS  ns1
@     MX  10 @
@     MX  20 mx
ns1   A   192.0.2.1
mx    A   192.0.2.2
`

const siteNeg = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 9 3600 600 1209600 300"

func buildSite(t *testing.T, zone string, aliases map[string]Alias, slots ...Slot) (*Snapshot, error) {
	t.Helper()
	z := parseZone(t, "example.org.", zone, nil)
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	return Build(Input{
		Zones:   []ZoneInput{{Zone: z, Serial: 9, Slots: slots}, {Zone: cloud, Serial: 1}},
		Aliases: aliases,
	})
}

func apexSlot(t *testing.T, target string, ttl uint32) Slot {
	return Slot{App: "site", Slot: "production", Names: []string{"example.org."}, Target: mustTarget(t, target), TTL: ttl}
}

func TestApexAlias(t *testing.T) {
	ext := map[string]Alias{
		"ext.example.net.":  {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("2001:db8:5::5")}, TTL: 10},
		"far.example.net.":  {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.6")}, TTL: 300},
		"gone.example.net.": {TTL: 60},
	}
	mxAt := []string{"example.org. 3600 IN MX 10 example.org.", "example.org. 3600 IN MX 20 mx.example.org."}
	for _, tc := range []struct {
		name  string
		slot  Slot
		cases []lookupCase
	}{
		{
			name: "in zone, through a CNAME, TTL of the target",
			slot: apexSlot(t, "alias.cloudapp.test.", 300),
			cases: []lookupCase{
				{name: "A", qname: "example.org.", qtype: dns.TypeA, result: Success,
					answer: []string{"example.org. 60 IN A 198.51.100.10", "example.org. 60 IN A 198.51.100.11"}},
				{name: "AAAA", qname: "example.org.", qtype: dns.TypeAAAA, result: Success,
					answer: []string{"example.org. 60 IN AAAA 2001:db8:100::10"}},
				{name: "MX gets the alias addresses in additional", qname: "example.org.", qtype: dns.TypeMX, result: Success,
					answer: mxAt,
					extra:  []string{"example.org. 60 IN A 198.51.100.10", "example.org. 60 IN A 198.51.100.11", "example.org. 60 IN AAAA 2001:db8:100::10", "mx.example.org. 3600 IN A 192.0.2.2"}},
			},
		},
		{
			name: "in zone, v4 only",
			slot: apexSlot(t, "v4only.cloudapp.test.", 30),
			cases: []lookupCase{
				{name: "A", qname: "example.org.", qtype: dns.TypeA, result: Success, answer: []string{"example.org. 30 IN A 198.51.100.20"}},
				{name: "AAAA is no data", qname: "example.org.", qtype: dns.TypeAAAA, result: NoData, ns: []string{siteNeg}},
			},
		},
		{
			name: "out of zone via Aliases, TTL of the resolver",
			slot: apexSlot(t, "ext.example.net.", 30),
			cases: []lookupCase{
				{name: "A", qname: "example.org.", qtype: dns.TypeA, result: Success, answer: []string{"example.org. 10 IN A 203.0.113.5"}},
				{name: "AAAA", qname: "example.org.", qtype: dns.TypeAAAA, result: Success, answer: []string{"example.org. 10 IN AAAA 2001:db8:5::5"}},
			},
		},
		{
			name: "out of zone via Aliases, TTL of the slot",
			slot: apexSlot(t, "far.example.net.", 30),
			cases: []lookupCase{
				{name: "A", qname: "example.org.", qtype: dns.TypeA, result: Success, answer: []string{"example.org. 30 IN A 203.0.113.6"}},
			},
		},
		{
			name: "no addresses",
			slot: apexSlot(t, "gone.example.net.", 30),
			cases: []lookupCase{
				{name: "A fails", qname: "example.org.", qtype: dns.TypeA, result: ServerFailure},
				{name: "AAAA fails", qname: "example.org.", qtype: dns.TypeAAAA, result: ServerFailure},
				{name: "ANY fails", qname: "example.org.", qtype: dns.TypeANY, result: ServerFailure},
				{name: "MX still answers", qname: "example.org.", qtype: dns.TypeMX, result: Success,
					answer: mxAt, extra: []string{"mx.example.org. 3600 IN A 192.0.2.2"}},
				{name: "SOA still answers", qname: "example.org.", qtype: dns.TypeSOA, result: Success,
					answer: []string{"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 9 3600 600 1209600 300"}},
				{name: "other names answer", qname: "mx.example.org.", qtype: dns.TypeA, result: Success,
					answer: []string{"mx.example.org. 3600 IN A 192.0.2.2"}},
			},
		},
		{
			name: "unknown to Aliases",
			slot: apexSlot(t, "unknown.example.net.", 30),
			cases: []lookupCase{
				{name: "A fails", qname: "example.org.", qtype: dns.TypeA, result: ServerFailure},
			},
		},
		{
			name: "in zone, no such name",
			slot: apexSlot(t, "nope.cloudapp.test.", 30),
			cases: []lookupCase{
				{name: "A fails", qname: "example.org.", qtype: dns.TypeA, result: ServerFailure},
			},
		},
		{
			name: "addresses at the apex",
			slot: apexSlot(t, "192.0.2.7,2001:db8::7,192.0.2.8", 20),
			cases: []lookupCase{
				{name: "A", qname: "example.org.", qtype: dns.TypeA, result: Success,
					answer: []string{"example.org. 20 IN A 192.0.2.7", "example.org. 20 IN A 192.0.2.8"}},
				{name: "AAAA", qname: "example.org.", qtype: dns.TypeAAAA, result: Success,
					answer: []string{"example.org. 20 IN AAAA 2001:db8::7"}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := buildSite(t, siteZone, ext, tc.slot)
			if err != nil {
				t.Fatal(err)
			}
			runLookups(t, s, tc.cases)
		})
	}
}

func TestApexAliasOfAnotherApexAlias(t *testing.T) {
	z := parseZone(t, "example.org.", siteZone, nil)
	other := parseZone(t, "example.com.", strings.ReplaceAll(siteZone, "example.org.", "example.com."), nil)
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	s, err := Build(Input{Zones: []ZoneInput{
		// example.org.'s apex follows www.example.com., a CNAME to
		// example.com.'s apex, itself an alias: resolved in that order
		// whatever the order of the zones.
		{Zone: z, Serial: 1, Slots: []Slot{apexSlot(t, "www.example.com.", 30)}},
		{Zone: other, Serial: 1, Slots: []Slot{
			{App: "other", Slot: "production", Names: []string{"example.com."}, Target: mustTarget(t, "prod.cloudapp.test."), TTL: 20},
			{App: "other", Slot: "www", Names: []string{"www.example.com."}, Target: mustTarget(t, "example.com."), TTL: 40},
		}},
		{Zone: cloud, Serial: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	runLookups(t, s, []lookupCase{
		{name: "alias through an alias", qname: "example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"example.org. 20 IN A 198.51.100.10", "example.org. 20 IN A 198.51.100.11"}},
	})

	// Two apexes aliased to each other have no addresses.
	z2 := parseZone(t, "example.com.", strings.ReplaceAll(siteZone, "example.org.", "example.com."), nil)
	s, err = Build(Input{Zones: []ZoneInput{
		{Zone: z, Serial: 1, Slots: []Slot{apexSlot(t, "example.com.", 30)}},
		{Zone: z2, Serial: 1, Slots: []Slot{{App: "other", Slot: "p", Names: []string{"example.com."}, Target: mustTarget(t, "example.org."), TTL: 30}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	runLookups(t, s, []lookupCase{
		{name: "alias loop fails", qname: "example.org.", qtype: dns.TypeA, result: ServerFailure},
		{name: "alias loop fails on the other side", qname: "example.com.", qtype: dns.TypeA, result: ServerFailure},
	})
}

// TestApexAliasChainAnyOrder: apex aliases that lead to each other,
// through a wildcard CNAME, resolve the same whatever the order of the
// zones.
func TestApexAliasChainAnyOrder(t *testing.T) {
	zone := func(origin, extra string) *Zone {
		return parseZone(t, origin, strings.ReplaceAll(siteZone, "example.org.", origin)+extra, nil)
	}
	inputs := []ZoneInput{
		// a.test.'s apex follows x.b.test., which b.test.'s wildcard
		// sends to c.test.'s apex, an alias of prod.cloudapp.test.
		{Zone: zone("a.test.", ""), Serial: 1, Slots: []Slot{{App: "a", Slot: "p", Names: []string{"a.test."}, Target: mustTarget(t, "x.b.test."), TTL: 30}}},
		{Zone: zone("b.test.", "* CNAME c.test.\n"), Serial: 1},
		{Zone: zone("c.test.", ""), Serial: 1, Slots: []Slot{{App: "c", Slot: "p", Names: []string{"c.test."}, Target: mustTarget(t, "prod.cloudapp.test."), TTL: 20}}},
		{Zone: parseZone(t, "cloudapp.test.", cloudZone, nil), Serial: 1},
	}
	want := []string{"a.test. 20 IN A 198.51.100.10", "a.test. 20 IN A 198.51.100.11"}
	for _, order := range [][]int{{0, 1, 2, 3}, {2, 1, 0, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}} {
		var in Input
		for _, i := range order {
			in.Zones = append(in.Zones, inputs[i])
		}
		s, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := rrStrings(s.Lookup("a.test.", dns.TypeA).Answer); !slices.Equal(got, parseRRs(t, want)) {
			t.Errorf("zones in order %v: a.test. A got %v, want %v", order, got, want)
		}
	}
}

func TestAliasTargets(t *testing.T) {
	s, err := buildSite(t, siteZone+"ext CNAME chained.example.net.\n", nil,
		apexSlot(t, "ext.example.org.", 30))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.AliasTargets(); len(got) != 1 || got[0] != "chained.example.net." {
		t.Errorf("alias targets: got %v, want [chained.example.net.]", got)
	}
	runLookups(t, s, []lookupCase{{name: "unresolved", qname: "example.org.", qtype: dns.TypeA, result: ServerFailure}})

	s, err = buildSite(t, siteZone+"ext CNAME chained.example.net.\n",
		map[string]Alias{"chained.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.9")}, TTL: 100}},
		apexSlot(t, "ext.example.org.", 30))
	if err != nil {
		t.Fatal(err)
	}
	runLookups(t, s, []lookupCase{{name: "resolved", qname: "example.org.", qtype: dns.TypeA, result: Success,
		answer: []string{"example.org. 30 IN A 203.0.113.9"}}})
}

func TestBuildConflicts(t *testing.T) {
	zone := siteZone + `www   A   192.0.2.3
@     A   192.0.2.4
sub   NS  ns.other.net.
`
	for _, tc := range []struct {
		name string
		slot Slot
		want *ConflictError
		text string // a part of the message, when not a conflict
	}{
		{
			name: "name with records",
			slot: Slot{App: "site", Slot: "staging", Names: []string{"www.example.org."}, Target: mustTarget(t, "a.example.net."), TTL: 30},
			want: &ConflictError{Line: 9, Name: "www.example.org.", App: "site", Slot: "staging"},
		},
		{
			name: "apex with addresses",
			slot: apexSlot(t, "a.example.net.", 30),
			want: &ConflictError{Line: 10, Name: "example.org.", App: "site", Slot: "production"},
		},
		{
			name: "mail server name",
			slot: Slot{App: "site", Slot: "qa", Names: []string{"mx.example.org."}, Target: mustTarget(t, "192.0.2.9"), TTL: 30},
			want: &ConflictError{Line: 8, Name: "mx.example.org.", App: "site", Slot: "qa"},
		},
		{
			name: "outside the zone",
			slot: Slot{App: "site", Slot: "qa", Names: []string{"www.example.net."}, Target: mustTarget(t, "192.0.2.9"), TTL: 30},
			text: `app "site" slot "qa": name www.example.net. is outside zone example.org.`,
		},
		{
			name: "below a delegation",
			slot: Slot{App: "site", Slot: "qa", Names: []string{"x.sub.example.org."}, Target: mustTarget(t, "192.0.2.9"), TTL: 30},
			text: `app "site" slot "qa": name x.sub.example.org. lies in the delegation sub.example.org.`,
		},
		{
			name: "at a delegation",
			slot: Slot{App: "site", Slot: "qa", Names: []string{"sub.example.org."}, Target: mustTarget(t, "192.0.2.9"), TTL: 30},
			want: &ConflictError{Line: 11, Name: "sub.example.org.", App: "site", Slot: "qa"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"zone.db": zone})
			path := filepath.Join(dir, "zone.db")
			z, err := ParseFile("example.org.", path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 1, Slots: []Slot{tc.slot}}}})
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tc.want == nil {
				if !strings.Contains(err.Error(), tc.text) {
					t.Errorf("error: got %q, want it to contain %q", err, tc.text)
				}
				return
			}
			tc.want.File = path
			var got *ConflictError
			if !errors.As(err, &got) {
				t.Fatalf("error: got %v, want a *ConflictError", err)
			}
			if *got != *tc.want {
				t.Errorf("conflict: got %+v, want %+v", *got, *tc.want)
			}
			wantText := fmt.Sprintf("%s:%d: %s has records in the zone file and is also a name of app %q slot %q; remove the records or the slot name",
				path, tc.want.Line, tc.want.Name, tc.want.App, tc.want.Slot)
			if err.Error() != wantText {
				t.Errorf("message:\ngot  %s\nwant %s", err, wantText)
			}
		})
	}
}

func TestBuildApexKeepsFileData(t *testing.T) {
	// At the apex only addresses conflict: SOA, NS, MX and TXT stay.
	s, err := buildSite(t, siteZone+"@ TXT \"hello\"\n", nil, apexSlot(t, "192.0.2.7", 30))
	if err != nil {
		t.Fatal(err)
	}
	runLookups(t, s, []lookupCase{
		{name: "TXT", qname: "example.org.", qtype: dns.TypeTXT, result: Success, answer: []string{`example.org. 3600 IN TXT "hello"`}},
		{name: "A", qname: "example.org.", qtype: dns.TypeA, result: Success, answer: []string{"example.org. 30 IN A 192.0.2.7"}},
	})
}

func TestBuildSlotErrors(t *testing.T) {
	z := parseZone(t, "example.org.", siteZone, nil)
	child := parseZone(t, "child.example.org.", strings.ReplaceAll(siteZone, "example.org.", "child.example.org."), nil)
	_, err := Build(Input{Zones: []ZoneInput{
		{Zone: z, Serial: 1, Slots: []Slot{
			{App: "site", Slot: "production", Names: []string{"www.child.example.org."}, Target: mustTarget(t, "192.0.2.1"), TTL: 30},
			{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, TTL: 30},
		}},
		{Zone: child, Serial: 1},
	}})
	for _, want := range []string{
		`app "site" slot "production": name www.child.example.org. lies in zone child.example.org., not in zone example.org.; give it to that zone`,
		`app "site" slot "staging": no target; give a hostname or IP addresses`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %v, want it to contain %q", err, want)
		}
	}
}

func TestBuildSameNameTwice(t *testing.T) {
	_, err := buildSite(t, siteZone, nil,
		Slot{App: "site", Slot: "production", Names: []string{"www.example.org."}, Target: mustTarget(t, "a.example.net."), TTL: 30},
		Slot{App: "site", Slot: "staging", Names: []string{"WWW.example.org"}, Target: mustTarget(t, "b.example.net."), TTL: 30},
	)
	if err == nil || !strings.Contains(err.Error(), `app "site" slot "staging": name www.example.org. is already a slot name`) {
		t.Errorf("error: got %v, want the name named as taken", err)
	}
}

func TestChaseAdditionalFromSlot(t *testing.T) {
	// The chain mail -> mx.example.org. is fixed by the file, but the MX
	// target is a slot name: its addresses come from each snapshot.
	z := parseZone(t, "example.org.", siteZone+"mail CNAME holder\nholder MX 10 qa\n", nil)
	for _, ip := range []string{"192.0.2.7", "192.0.2.8"} {
		s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 1, Slots: []Slot{
			{App: "site", Slot: "qa", Names: []string{"qa.example.org."}, Target: mustTarget(t, ip), TTL: 30},
		}}}})
		if err != nil {
			t.Fatal(err)
		}
		runLookups(t, s, []lookupCase{{name: "MX through a CNAME " + ip, qname: "mail.example.org.", qtype: dns.TypeMX, result: Success,
			answer: []string{"mail.example.org. 3600 IN CNAME holder.example.org.", "holder.example.org. 3600 IN MX 10 qa.example.org."},
			extra:  []string{"qa.example.org. 30 IN A " + ip}}})
	}
}

// TestBuildReuse pins that snapshots built from the same *Zone do not
// share what differs between them: a swap leaves older snapshots intact.
func TestBuildReuse(t *testing.T) {
	z := parseZone(t, "example.org.", siteZone+"toapex CNAME @\n", nil)
	build := func(target string, serial uint32) *Snapshot {
		s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: serial, Slots: []Slot{
			apexSlot(t, target, 30),
			{App: "site", Slot: "staging", Names: []string{"www.example.org."}, Target: mustTarget(t, target), TTL: 30},
		}}}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := build("192.0.2.7", 1)
	second := build("192.0.2.8", 2)
	for _, tc := range []struct {
		s    *Snapshot
		ip   string
		soa  uint32
		name string
	}{{first, "192.0.2.7", 1, "first"}, {second, "192.0.2.8", 2, "second"}} {
		runLookups(t, tc.s, []lookupCase{
			{name: tc.name + " apex", qname: "example.org.", qtype: dns.TypeA, result: Success,
				answer: []string{"example.org. 30 IN A " + tc.ip}},
			{name: tc.name + " www", qname: "www.example.org.", qtype: dns.TypeA, result: Success,
				answer: []string{"www.example.org. 30 IN A " + tc.ip}},
			{name: tc.name + " CNAME to the apex", qname: "toapex.example.org.", qtype: dns.TypeA, result: Success,
				answer: []string{"toapex.example.org. 3600 IN CNAME example.org.", "example.org. 30 IN A " + tc.ip}},
			{name: tc.name + " no data", qname: "www.example.org.", qtype: dns.TypeTXT, result: NoData,
				ns: []string{fmt.Sprintf("example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. %d 3600 600 1209600 300", tc.soa)}},
		})
	}
}

// bigZone is a zone of n names: addresses, a few CNAMEs in and out of the
// zone, MX and TXT.
func bigZone(n int) string {
	var b strings.Builder
	b.WriteString(siteZone)
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "c%d CNAME h%d\n", i, i+1)
		case 1:
			fmt.Fprintf(&b, "h%d A 192.0.2.%d\nh%d TXT \"host %d\"\n", i, i%250+1, i, i)
		case 2:
			fmt.Fprintf(&b, "e%d.dept CNAME host%d.example.net.\n", i, i)
		default:
			fmt.Fprintf(&b, "h%d A 192.0.2.%d\nh%d AAAA 2001:db8::%x:%x\n", i, i%250+1, i, i>>16, i&0xffff)
		}
	}
	return b.String()
}

func BenchmarkBuild(b *testing.B) {
	z := parseZone(b, "example.org.", bigZone(1000), nil)
	slots := []Slot{
		{App: "site", Slot: "production", Names: []string{"example.org.", "www.example.org."}, Target: Target{Host: "h1.example.org."}, TTL: 30},
		{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: Target{Host: "blue.example.net."}, TTL: 30},
		{App: "site", Slot: "qa", Names: []string{"qa.example.org."}, Target: Target{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.200")}}, TTL: 30},
	}
	b.ReportAllocs()
	serial := uint32(0)
	for b.Loop() {
		serial++
		slots[0].Target, slots[1].Target = slots[1].Target, slots[0].Target
		if _, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: serial, Slots: slots}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBuildWhileLookingUp runs lookups on a published snapshot while new
// ones are built from the same zones, for the race detector: a Build must
// not write to anything an earlier snapshot shares.
func TestBuildWhileLookingUp(t *testing.T) {
	z := parseZone(t, "example.org.", exampleZone, map[string]string{"inc/extra.db": "included A 192.0.2.80\n"})
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	build := func(i int) *Snapshot {
		targets := []string{"prod.cloudapp.test.", "192.0.2.9"}
		s, err := Build(Input{Zones: []ZoneInput{
			{Zone: z, Serial: uint32(i), Slots: []Slot{
				{App: "site", Slot: "production", Names: []string{"example.org.", "www.example.org."}, Target: mustTarget(t, targets[i%2]), TTL: 30},
				{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: mustTarget(t, targets[(i+1)%2]), TTL: 30},
			}},
			{Zone: cloud, Serial: 1},
		}})
		if err != nil {
			t.Error(err)
		}
		return s
	}
	first := build(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			for _, q := range []string{"www.example.org.", "example.org.", "stage.example.org.", "toslot.example.org.", "x.cw.example.org."} {
				first.Lookup(q, dns.TypeA)
			}
		}
	}()
	for i := 1; i < 50; i++ {
		build(i)
	}
	<-done
	runLookups(t, first, []lookupCase{{name: "first snapshot unchanged", qname: "stage.example.org.", qtype: dns.TypeA, result: Success,
		answer: []string{"stage.example.org. 30 IN A 192.0.2.9"}}})
}

// TestLongChainAcrossZonesAnyOrder: a CNAME chain that enters another of
// our zones and runs on past maxChase links is cut at the same place
// whatever the order of the zones: a chain reached along another is
// chased with the links left, never from its owner's precomputed answer.
func TestLongChainAcrossZonesAnyOrder(t *testing.T) {
	var chain strings.Builder
	for i := range maxChase + 4 {
		fmt.Fprintf(&chain, "c%d CNAME c%d\n", i, i+1)
	}
	fmt.Fprintf(&chain, "c%d A 198.51.100.7\n", maxChase+4)
	a := parseZone(t, "a.test.", strings.ReplaceAll(siteZone, "example.org.", "a.test.")+"x CNAME c0.b.test.\n", nil)
	b := parseZone(t, "b.test.", strings.ReplaceAll(siteZone, "example.org.", "b.test.")+chain.String(), nil)
	var answers [][]string
	for _, order := range [][]*Zone{{a, b}, {b, a}} {
		s, err := Build(Input{Zones: []ZoneInput{{Zone: order[0], Serial: 1}, {Zone: order[1], Serial: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		got := s.Lookup("x.a.test.", dns.TypeA).Answer
		if len(got) > maxChase+1 {
			t.Errorf("x.a.test. A: %d records, want the chain cut at %d links", len(got), maxChase+1)
		}
		answers = append(answers, rrStrings(got))
	}
	if !slices.Equal(answers[0], answers[1]) {
		t.Errorf("the answer depends on the order of the zones:\n%v\n%v", answers[0], answers[1])
	}
}
