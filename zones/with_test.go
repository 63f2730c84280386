package zones

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// A third zone whose slots and file lead into the other two, so that a
// change of one zone reaches the precomputed answers of another.
const linkZone = `$ORIGIN link.test.
$TTL 120
@      SOA ns1 hostmaster 5 3600 600 1209600 90
@      NS  ns1
ns1    A   192.0.2.3
tocloud CNAME alias.cloudapp.test.
toex   CNAME www.example.org.
`

// multiInput is three zones: example.org. with three slots, cloudapp.test.
// with none, link.test. with an apex alias into example.org., a CNAME
// slot into cloudapp.test. and an address slot. targets and serial vary
// per case.
func multiInput(t testing.TB, z, cloud, link *Zone, targets [5]string, serials [3]uint32) Input {
	return Input{Zones: []ZoneInput{
		{Zone: z, Serial: serials[0], Slots: []Slot{
			{App: "site", Slot: "production", Names: []string{"example.org.", "www.example.org."}, Target: mustTarget(t, targets[0]), TTL: 30},
			{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: mustTarget(t, targets[1]), TTL: 30},
			{App: "site", Slot: "qa", Names: []string{"qa.example.org.", "deep.qa2.example.org."}, Target: mustTarget(t, targets[2]), TTL: 20},
		}},
		{Zone: cloud, Serial: serials[1]},
		{Zone: link, Serial: serials[2], Slots: []Slot{
			{App: "link", Slot: "production", Names: []string{"link.test."}, Target: mustTarget(t, targets[3]), TTL: 40},
			{App: "link", Slot: "staging", Names: []string{"stage.link.test."}, Target: mustTarget(t, targets[4]), TTL: 40},
		}},
	}}
}

// lookupTrace gives every answer of snap to a fixed set of questions, as
// text, for comparing two snapshots.
func lookupTrace(snap *Snapshot) []string {
	names := []string{
		"example.org.", "www.example.org.", "stage.example.org.", "qa.example.org.", "deep.qa2.example.org.", "qa2.example.org.",
		"toslot.example.org.", "toqa.example.org.", "static.example.org.", "chain1.example.org.", "out.example.org.",
		"tosub.example.org.", "x.wild.example.org.", "x.cw.example.org.", "nope.example.org.", "dangling.example.org.",
		"link.test.", "stage.link.test.", "tocloud.link.test.", "toex.link.test.", "nope.link.test.",
		"prod.cloudapp.test.", "alias.cloudapp.test.", "cloudapp.test.",
	}
	var out []string
	for _, name := range names {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeTXT, dns.TypeANY, dns.TypeSOA, dns.TypeNS} {
			a := snap.Lookup(name, qtype)
			out = append(out, fmt.Sprintf("%s %s %v %v | %v | %v", name, dns.TypeToString[qtype], a.Result, rrStrings(a.Answer), rrStrings(a.Ns), rrStrings(a.Extra)))
		}
	}
	for _, origin := range snap.Origins() {
		recs, _ := snap.Records(origin)
		out = append(out, strings.Join(rrStrings(recs), "\n"))
	}
	return out
}

// TestWithMatchesBuild is the contract of With: however a snapshot was
// reached by changes, it answers exactly as a snapshot built from scratch
// from the same input.
func TestWithMatchesBuild(t *testing.T) {
	z := parseZone(t, "example.org.", exampleZone, map[string]string{"inc/extra.db": "included A 192.0.2.80\n"})
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	link := parseZone(t, "link.test.", linkZone, nil)
	choices := []string{"prod.cloudapp.test.", "alias.cloudapp.test.", "stage-host.other.net.", "192.0.2.90, 2001:db8::90", "192.0.2.91",
		"docs.example.org.", "www.example.org.", "example.org.", "stage.link.test.", "ext.example.net."}
	aliasChoices := []map[string]Alias{
		{},
		{"ext.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.7")}, TTL: 10}},
		{"ext.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.8"), netip.MustParseAddr("2001:db8::8")}, TTL: 50}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	targets := [5]string{"prod.cloudapp.test.", "stage-host.other.net.", "192.0.2.90, 2001:db8::90", "www.example.org.", "alias.cloudapp.test."}
	serials := [3]uint32{7, 1, 5}
	aliases := aliasChoices[0]
	full := multiInput(t, z, cloud, link, targets, serials)
	full.Aliases = aliases
	snap, err := Build(full)
	if err != nil {
		t.Fatal(err)
	}
	for step := range 300 {
		// Change one zone's slots and serial, or the aliases.
		var change Input
		changed := -1
		switch k := rng.IntN(4); k {
		case 0, 1, 2:
			zoneIndex := []int{0, 2, 1}[k]
			changed = zoneIndex
			serials[zoneIndex]++
			switch zoneIndex {
			case 0:
				targets[rng.IntN(3)] = choices[rng.IntN(len(choices))]
			case 2:
				targets[3+rng.IntN(2)] = choices[rng.IntN(len(choices))]
			}
		default:
			aliases = aliasChoices[rng.IntN(len(aliasChoices))]
			change.Aliases = aliases
		}
		full = multiInput(t, z, cloud, link, targets, serials)
		full.Aliases = aliases
		if changed >= 0 {
			change.Zones = []ZoneInput{full.Zones[changed]}
		}
		want, wantErr := Build(full)
		next, err := snap.With(change)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("step %d: With error %v, Build error %v", step, err, wantErr)
		}
		if err != nil {
			continue // a slot into a delegation or a loop: refused both ways
		}
		got, wantTrace := lookupTrace(next), lookupTrace(want)
		for i := range got {
			if got[i] != wantTrace[i] {
				t.Fatalf("step %d (targets %v, serials %v, aliases %v): With answers\n  %s\nbut Build answers\n  %s", step, targets, serials, aliases, got[i], wantTrace[i])
			}
		}
		snap = next
	}
}

// TestWithSharesUntouchedZones pins that a change costs what it changes:
// zones it does not reach keep their view, and Built names the rest.
func TestWithSharesUntouchedZones(t *testing.T) {
	z := parseZone(t, "example.org.", exampleZone, map[string]string{"inc/extra.db": "included A 192.0.2.80\n"})
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	link := parseZone(t, "link.test.", linkZone, nil)
	targets := [5]string{"192.0.2.90", "stage-host.other.net.", "192.0.2.91", "www.example.org.", "192.0.2.92"}
	first, err := Build(multiInput(t, z, cloud, link, targets, [3]uint32{1, 1, 1}))
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Built(); !slices.Equal(got, []string{"cloudapp.test.", "example.org.", "link.test."}) {
		t.Errorf("Build: Built() = %v, want every zone", got)
	}

	// link.test. reads example.org. (its apex is an alias of www there);
	// nothing reads link.test.
	targets[4] = "192.0.2.93"
	second, err := first.With(Input{Zones: []ZoneInput{multiInput(t, z, cloud, link, targets, [3]uint32{1, 1, 2}).Zones[2]}})
	if err != nil {
		t.Fatal(err)
	}
	if got := second.Built(); !slices.Equal(got, []string{"link.test."}) {
		t.Errorf("change of link.test.: Built() = %v, want [link.test.]", got)
	}
	for _, origin := range []string{"example.org.", "cloudapp.test."} {
		if second.zones.get(origin) != first.zones.get(origin) {
			t.Errorf("change of link.test.: the view of %s was rebuilt", origin)
		}
	}

	// A change of example.org. reaches link.test.'s apex alias.
	targets[0] = "192.0.2.94"
	third, err := second.With(Input{Zones: []ZoneInput{multiInput(t, z, cloud, link, targets, [3]uint32{2, 1, 2}).Zones[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if got := third.Built(); !slices.Equal(got, []string{"example.org.", "link.test."}) {
		t.Errorf("change of example.org.: Built() = %v, want example.org. and link.test.", got)
	}
	if got := rrStrings(third.Lookup("link.test.", dns.TypeA).Answer); !slices.Equal(got, []string{"link.test.\t30\tIN\tA\t192.0.2.94"}) {
		t.Errorf("link.test. A after the change of www.example.org.: got %v", got)
	}
	if third.zones.get("cloudapp.test.") != first.zones.get("cloudapp.test.") {
		t.Error("change of example.org.: the view of cloudapp.test. was rebuilt")
	}
	// The older snapshots still answer as they did.
	if got := rrStrings(first.Lookup("link.test.", dns.TypeA).Answer); !slices.Equal(got, []string{"link.test.\t30\tIN\tA\t192.0.2.90"}) {
		t.Errorf("first snapshot's link.test. A: got %v", got)
	}
}

func TestWithAliasChangeRebuildsItsUsers(t *testing.T) {
	z := parseZone(t, "example.org.", siteZone, nil)
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	in := Input{
		Zones:   []ZoneInput{{Zone: z, Serial: 9, Slots: []Slot{apexSlot(t, "app.example.net.", 30)}}, {Zone: cloud, Serial: 1}},
		Aliases: map[string]Alias{"app.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.1")}, TTL: 60}},
	}
	first, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := first.AliasUsers("app.example.net."); !slices.Equal(got, []string{"example.org."}) {
		t.Errorf("AliasUsers: got %v", got)
	}
	same, err := first.With(Input{Aliases: map[string]Alias{"app.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.1")}, TTL: 60}, "other.": {}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(same.Built()) != 0 {
		t.Errorf("same addresses: Built() = %v, want none", same.Built())
	}
	moved, err := same.With(Input{Aliases: map[string]Alias{"app.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.2")}, TTL: 60}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := moved.Built(); !slices.Equal(got, []string{"example.org."}) {
		t.Errorf("new addresses: Built() = %v, want [example.org.]", got)
	}
	if got := rrStrings(moved.Lookup("example.org.", dns.TypeA).Answer); !slices.Equal(got, []string{"example.org.\t30\tIN\tA\t203.0.113.2"}) {
		t.Errorf("apex A: got %v", got)
	}
}

func TestSlotRecords(t *testing.T) {
	s := exampleSnapshot(t)
	recs, ok := s.SlotRecords("example.org.")
	if !ok {
		t.Fatal("SlotRecords: no example.org.")
	}
	want := parseRRs(t, []string{
		"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 7 3600 600 1209600 300",
		"example.org. 30 IN A 198.51.100.10",
		"example.org. 30 IN A 198.51.100.11",
		"example.org. 30 IN AAAA 2001:db8:100::10",
		"deep.qa2.example.org. 20 IN A 192.0.2.90",
		"deep.qa2.example.org. 20 IN AAAA 2001:db8::90",
		"qa.example.org. 20 IN A 192.0.2.90",
		"qa.example.org. 20 IN AAAA 2001:db8::90",
		"stage.example.org. 30 IN CNAME stage-host.other.net.",
		"www.example.org. 30 IN CNAME prod.cloudapp.test.",
	})
	if got := rrStrings(recs); !slices.Equal(got, want) {
		t.Errorf("SlotRecords:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if _, ok := s.SlotRecords("nosuch."); ok {
		t.Error("SlotRecords of an unknown zone: got ok")
	}
}

func TestContentDigest(t *testing.T) {
	digest := func(text string, extra ...string) string {
		t.Helper()
		d, err := parseZone(t, "example.org.", text, nil).ContentDigest(extra...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := digest(siteZone)
	reordered := strings.Replace(siteZone, "ns1   A   192.0.2.1\nmx    A   192.0.2.2\n", "mx    A   192.0.2.2\n; a comment\nns1   A   192.0.2.1\n", 1)
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"reordered, with a comment", digest(reordered), true},
		{"another serial", digest(strings.Replace(siteZone, "hostmaster 1 ", "hostmaster 2 ", 1)), true},
		{"a record changed", digest(strings.Replace(siteZone, "192.0.2.2", "192.0.2.3", 1)), false},
		{"another SOA field", digest(strings.Replace(siteZone, " 300\n", " 301\n", 1)), false},
		{"extra lines", digest(siteZone, "slot site production ttl 30 www.example.org."), false},
	} {
		if (tc.got == base) != tc.same {
			t.Errorf("%s: digest equal to the original: %v, want %v", tc.name, tc.got == base, tc.same)
		}
	}
}

// bigInput is one zone of n names with one app, for the benchmarks.
func bigInput(b *testing.B, n int) (*Snapshot, []Slot, *Zone) {
	z := parseZone(b, "example.org.", bigZone(n), nil)
	slots := []Slot{
		{App: "site", Slot: "production", Names: []string{"example.org.", "www.example.org."}, Target: Target{Host: "h1.example.org."}, TTL: 30},
		{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: Target{Host: "blue.example.net."}, TTL: 30},
	}
	s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 1, Slots: slots}}})
	if err != nil {
		b.Fatal(err)
	}
	return s, slots, z
}

// BenchmarkWith is a swap in a zone of 100,000 names: it costs the slot
// overlay, not the zone.
func BenchmarkWith(b *testing.B) {
	s, slots, z := bigInput(b, 100_000)
	b.ReportAllocs()
	serial := uint32(1)
	for b.Loop() {
		serial++
		slots[0].Target, slots[1].Target = slots[1].Target, slots[0].Target
		next, err := s.With(Input{Zones: []ZoneInput{{Zone: z, Serial: serial, Slots: slices.Clone(slots)}}})
		if err != nil {
			b.Fatal(err)
		}
		s = next
	}
}

// BenchmarkWithManyZones is a swap in one of 1,000 and of 10,000 small
// zones: it costs the zone swapped in, not the others.
func BenchmarkWithManyZones(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchWithZones(b, n) })
	}
}

func benchWithZones(b *testing.B, zones int) {
	var in Input
	for i := range zones {
		origin := fmt.Sprintf("site%d.example.", i)
		z := parseZone(b, origin, strings.ReplaceAll(siteZone, "example.org.", origin), nil)
		in.Zones = append(in.Zones, ZoneInput{Zone: z, Serial: 1, Slots: []Slot{
			{App: origin, Slot: "production", Names: []string{"www." + origin}, Target: Target{Host: "blue.example.net."}, TTL: 30},
			{App: origin, Slot: "staging", Names: []string{"stage." + origin}, Target: Target{Host: "green.example.net."}, TTL: 30},
		}})
	}
	s, err := Build(in)
	if err != nil {
		b.Fatal(err)
	}
	zi := in.Zones[zones/2]
	b.ReportAllocs()
	for b.Loop() {
		zi.Serial++
		zi.Slots = []Slot{zi.Slots[1], zi.Slots[0]}
		zi.Slots[0].Names, zi.Slots[1].Names = zi.Slots[1].Names, zi.Slots[0].Names
		next, err := s.With(Input{Zones: []ZoneInput{zi}})
		if err != nil {
			b.Fatal(err)
		}
		s = next
	}
}
