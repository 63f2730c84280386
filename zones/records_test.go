package zones

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// recordTexts gives records as zone-file text, in their order.
func recordTexts(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

// normalized parses and prints zone-file text so that it compares with
// recordTexts, keeping the order.
func normalized(t *testing.T, lines []string) []string {
	t.Helper()
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("test record %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	return out
}

func TestRecords(t *testing.T) {
	ext := map[string]Alias{"ext.example.net.": {Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("2001:db8:5::5")}, TTL: 10}}
	soa := "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 9 3600 600 1209600 300"
	file := []string{
		"example.org. 3600 IN NS ns1.example.org.",
		"example.org. 3600 IN MX 10 example.org.",
		"example.org. 3600 IN MX 20 mx.example.org.",
	}
	fileBelow := []string{
		"mx.example.org. 3600 IN A 192.0.2.2",
		"ns1.example.org. 3600 IN A 192.0.2.1",
	}
	www := func(t *testing.T) Slot {
		return Slot{App: "site", Slot: "production", Names: []string{"www.example.org.", "a.b.example.org."}, Target: mustTarget(t, "prod.cloudapp.test."), TTL: 30}
	}
	for _, tc := range []struct {
		name  string
		slots func(t *testing.T) []Slot
		want  []string
	}{
		{
			name:  "file only",
			slots: func(*testing.T) []Slot { return nil },
			want:  slices.Concat([]string{soa}, file, fileBelow),
		},
		{
			name: "apex alias in zone, CNAME and address slots",
			slots: func(t *testing.T) []Slot {
				return []Slot{
					apexSlot(t, "alias.cloudapp.test.", 300),
					www(t),
					{App: "site", Slot: "qa", Names: []string{"qa.example.org."}, Target: mustTarget(t, "2001:db8::90, 192.0.2.90"), TTL: 20},
				}
			},
			want: slices.Concat([]string{soa,
				"example.org. 60 IN A 198.51.100.10",
				"example.org. 60 IN A 198.51.100.11",
				file[0], file[1], file[2],
				"example.org. 60 IN AAAA 2001:db8:100::10",
				"a.b.example.org. 30 IN CNAME prod.cloudapp.test.",
			}, fileBelow, []string{
				"qa.example.org. 20 IN A 192.0.2.90",
				"qa.example.org. 20 IN AAAA 2001:db8::90",
				"www.example.org. 30 IN CNAME prod.cloudapp.test.",
			}),
		},
		{
			name:  "apex alias via Aliases, TTL of the alias",
			slots: func(t *testing.T) []Slot { return []Slot{apexSlot(t, "ext.example.net.", 30)} },
			want: slices.Concat([]string{soa,
				"example.org. 10 IN A 203.0.113.5",
				file[0], file[1], file[2],
				"example.org. 10 IN AAAA 2001:db8:5::5",
			}, fileBelow),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := buildSite(t, siteZone, ext, tc.slots(t)...)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Records("Example.ORG")
			if !ok {
				t.Fatal("Records: no zone example.org.")
			}
			if want := normalized(t, tc.want); !slices.Equal(recordTexts(got), want) {
				t.Errorf("Records:\ngot  %s\nwant %s", strings.Join(recordTexts(got), "\n     "), strings.Join(want, "\n     "))
			}
		})
	}
}

func TestRecordsNoZone(t *testing.T) {
	s, err := buildSite(t, siteZone, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Records("example.com."); ok || got != nil {
		t.Errorf("Records(example.com.): got %v, %v; want nil, false", got, ok)
	}
}

// TestCanonicalOwnerOrder sorts the names of RFC 4034 6.1's example.
func TestCanonicalOwnerOrder(t *testing.T) {
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	got[2], got[5] = got[5], got[2]
	p := newPacker()
	key := func(name string) []byte {
		return canonicalKey(nil, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(192, 0, 2, 1)}, p)
	}
	slices.SortStableFunc(got, func(a, b string) int { return bytes.Compare(key(a), key(b)) })
	if !slices.Equal(got, want) {
		t.Errorf("order:\ngot  %v\nwant %v", got, want)
	}
}

// TestRecordsOrderAndDuplicates checks the order within a name (type, then
// rdata as octets: 192.0.2.9 before 192.0.2.10) and that a record the file
// gives twice is transferred once.
func TestRecordsOrderAndDuplicates(t *testing.T) {
	z := parseZone(t, "example.org.", `$ORIGIN example.org.
$TTL 300
@    SOA ns1 hostmaster 1 3600 600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
h    TXT "b"
h    TXT "a"
h    MX  10 mx.example.net.
h    A   192.0.2.10
h    A   192.0.2.9
h    A   192.0.2.9
H.sub A  192.0.2.3
sub  NS  ns.sub
ns.sub A 192.0.2.4
`, nil)
	s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 42}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Records("example.org.")
	want := normalized(t, []string{
		"example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 42 3600 600 1209600 300",
		"example.org. 300 IN NS ns1.example.org.",
		"h.example.org. 300 IN A 192.0.2.9",
		"h.example.org. 300 IN A 192.0.2.10",
		"h.example.org. 300 IN MX 10 mx.example.net.",
		`h.example.org. 300 IN TXT "a"`,
		`h.example.org. 300 IN TXT "b"`,
		"ns1.example.org. 300 IN A 192.0.2.1",
		"sub.example.org. 300 IN NS ns.sub.example.org.",
		"h.sub.example.org. 300 IN A 192.0.2.3",
		"ns.sub.example.org. 300 IN A 192.0.2.4",
	})
	if !slices.Equal(recordTexts(got), want) {
		t.Errorf("Records:\ngot  %s\nwant %s", strings.Join(recordTexts(got), "\n     "), strings.Join(want, "\n     "))
	}
}

// TestRecordsOfASwap diffs the records of two snapshots, before and after
// a swap: the SOA and the slots' CNAMEs change, nothing else.
func TestRecordsOfASwap(t *testing.T) {
	slots := func(prod, stage string) []Slot {
		return []Slot{
			{App: "site", Slot: "production", Names: []string{"www.example.org."}, Target: mustTarget(t, prod), TTL: 30},
			{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: mustTarget(t, stage), TTL: 30},
		}
	}
	z := parseZone(t, "example.org.", siteZone, nil)
	before, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 9, Slots: slots("blue.example.net.", "green.example.net.")}}})
	if err != nil {
		t.Fatal(err)
	}
	after, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 10, Slots: slots("green.example.net.", "blue.example.net.")}}})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := before.Records("example.org.")
	cur, _ := after.Records("example.org.")
	removed, added := Diff(old, cur)
	wantRemoved := normalized(t, []string{
		"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 9 3600 600 1209600 300",
		"stage.example.org. 30 IN CNAME green.example.net.",
		"www.example.org. 30 IN CNAME blue.example.net.",
	})
	wantAdded := normalized(t, []string{
		"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 10 3600 600 1209600 300",
		"stage.example.org. 30 IN CNAME blue.example.net.",
		"www.example.org. 30 IN CNAME green.example.net.",
	})
	if !slices.Equal(recordTexts(removed), wantRemoved) || !slices.Equal(recordTexts(added), wantAdded) {
		t.Errorf("Diff:\nremoved %s\nwant    %s\nadded   %s\nwant    %s",
			strings.Join(recordTexts(removed), "\n        "), strings.Join(wantRemoved, "\n        "),
			strings.Join(recordTexts(added), "\n        "), strings.Join(wantAdded, "\n        "))
	}
}

func TestDiff(t *testing.T) {
	soa1 := "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 1209600 300"
	soa2 := "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2 3600 600 1209600 300"
	for _, tt := range []struct {
		name                   string
		old, new               []string
		wantRemoved, wantAdded []string
	}{
		{name: "identical", old: []string{soa1, "www.example.org. 30 IN A 192.0.2.1"}, new: []string{soa1, "www.example.org. 30 IN A 192.0.2.1"}},
		{name: "both empty"},
		{name: "owner case does not matter", old: []string{"WWW.Example.org. 30 IN A 192.0.2.1"}, new: []string{"www.example.org. 30 IN A 192.0.2.1"}},
		{
			name: "TTL matters", old: []string{"www.example.org. 30 IN A 192.0.2.1"}, new: []string{"www.example.org. 60 IN A 192.0.2.1"},
			wantRemoved: []string{"www.example.org. 30 IN A 192.0.2.1"}, wantAdded: []string{"www.example.org. 60 IN A 192.0.2.1"},
		},
		{
			name:        "SOA like any record, order of the input kept",
			old:         []string{soa1, "b.example.org. 30 IN A 192.0.2.2", "a.example.org. 30 IN A 192.0.2.1", "c.example.org. 30 IN A 192.0.2.3"},
			new:         []string{soa2, "c.example.org. 30 IN A 192.0.2.3", "d.example.org. 30 IN AAAA 2001:db8::1", "e.example.org. 30 IN A 192.0.2.5"},
			wantRemoved: []string{soa1, "b.example.org. 30 IN A 192.0.2.2", "a.example.org. 30 IN A 192.0.2.1"},
			wantAdded:   []string{soa2, "d.example.org. 30 IN AAAA 2001:db8::1", "e.example.org. 30 IN A 192.0.2.5"},
		},
		{
			name:        "a repeated record is reported once",
			old:         []string{"a.example.org. 30 IN A 192.0.2.1", "a.example.org. 30 IN A 192.0.2.1"},
			new:         []string{"b.example.org. 30 IN A 192.0.2.2", "b.example.org. 30 IN A 192.0.2.2"},
			wantRemoved: []string{"a.example.org. 30 IN A 192.0.2.1"},
			wantAdded:   []string{"b.example.org. 30 IN A 192.0.2.2"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parse := func(lines []string) []dns.RR {
				var rrs []dns.RR
				for _, l := range lines {
					rr, err := dns.NewRR(l)
					if err != nil {
						t.Fatal(err)
					}
					rrs = append(rrs, rr)
				}
				return rrs
			}
			removed, added := Diff(parse(tt.old), parse(tt.new))
			if got, want := recordTexts(removed), normalized(t, tt.wantRemoved); !slices.Equal(got, want) {
				t.Errorf("removed: got %v, want %v", got, want)
			}
			if got, want := recordTexts(added), normalized(t, tt.wantAdded); !slices.Equal(got, want) {
				t.Errorf("added: got %v, want %v", got, want)
			}
		})
	}
}

// BenchmarkRecords measures a 100,000-name zone: a Build after a swap, the
// sorting of the file's records (once per *Zone), and Build with the first
// Records of the snapshot (what an AXFR after a swap pays).
func BenchmarkRecords(b *testing.B) {
	z := parseZone(b, "example.org.", bigZone(100_000), nil)
	slots := []Slot{
		{App: "site", Slot: "production", Names: []string{"example.org.", "www.example.org."}, Target: Target{Host: "h1.example.org."}, TTL: 30},
		{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: Target{Host: "blue.example.net."}, TTL: 30},
		{App: "site", Slot: "qa", Names: []string{"qa.example.org."}, Target: Target{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.200")}}, TTL: 30},
	}
	build := func(serial uint32) *Snapshot {
		slots[0].Target, slots[1].Target = slots[1].Target, slots[0].Target
		s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: serial, Slots: slots}}})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	first := build(1)
	records, _ := first.Records("example.org.") // sorts the file's names once
	b.Logf("%d records", len(records))
	b.Run("Build", func(b *testing.B) {
		b.ReportAllocs()
		serial := uint32(1)
		for b.Loop() {
			serial++
			build(serial)
		}
	})
	b.Run("BuildAndRecords", func(b *testing.B) {
		b.ReportAllocs()
		serial := uint32(1)
		for b.Loop() {
			serial++
			// The apex alias swaps between an in-zone and an unresolved
			// target: one A record more or less.
			if rrs, ok := build(serial).Records("example.org."); !ok || len(rrs) < len(records)-1 {
				b.Fatalf("Records: %d, %v; want about %d", len(rrs), ok, len(records))
			}
		}
	})
}

// TestRecordsConcurrent calls Records and Diff from several goroutines on
// snapshots that share a *Zone, while their records are read, for the race
// detector: the file's part is sorted once, each snapshot's records
// computed once, and no record written to.
func TestRecordsConcurrent(t *testing.T) {
	z := parseZone(t, "example.org.", bigZone(200), nil)
	var snaps []*Snapshot
	for i := range 3 {
		s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: uint32(i), Slots: []Slot{
			{App: "site", Slot: "production", Names: []string{"www.example.org."}, Target: mustTarget(t, fmt.Sprintf("192.0.2.%d", i+1)), TTL: 30},
		}}}})
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	var wg sync.WaitGroup
	got := make([][]dns.RR, 12)
	for i := range got {
		wg.Go(func() { got[i], _ = snaps[i%len(snaps)].Records("example.org.") })
		// What a server and a journaler do meanwhile: copy served
		// records, and diff two snapshots.
		wg.Go(func() {
			for _, rr := range snaps[i%len(snaps)].Lookup("www.example.org.", dns.TypeA).Answer {
				dns.Copy(rr)
			}
		})
		wg.Go(func() {
			a, _ := snaps[i%len(snaps)].Records("example.org.")
			b, _ := snaps[(i+1)%len(snaps)].Records("example.org.")
			Diff(a, b)
		})
	}
	wg.Wait()
	for i, rrs := range got {
		want, _ := snaps[i%len(snaps)].Records("example.org.")
		if !slices.Equal(recordTexts(rrs), recordTexts(want)) {
			t.Errorf("call %d: got other records (%d) than the snapshot's (%d)", i, len(rrs), len(want))
		}
		if serial := rrs[0].(*dns.SOA).Serial; serial != uint32(i%len(snaps)) {
			t.Errorf("call %d: SOA serial %d, want %d", i, serial, i%len(snaps))
		}
	}
}

// TestDiffZone: walking two zones side by side gives what Diff gives for
// their whole record lists, for a reload that removes, adds, changes a
// TTL and moves a slot at once.
func TestDiffZone(t *testing.T) {
	before := siteZone + "old A 192.0.2.7\nkeep TXT \"same\"\nttl A 192.0.2.8\nb.deep.sub A 192.0.2.9\n"
	after := siteZone + "new A 192.0.2.17\nkeep TXT \"same\"\nttl 60 A 192.0.2.8\nZ.deep.sub AAAA 2001:db8::9\n"
	a, err := buildSite(t, before, nil, Slot{App: "site", Slot: "production", Names: []string{"www.example.org."}, Target: mustTarget(t, "192.0.2.30"), TTL: 30})
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildSite(t, after, nil, Slot{App: "site", Slot: "production", Names: []string{"www.example.org."}, Target: mustTarget(t, "blue.cloudapp.test."), TTL: 30})
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := a.Records("example.org.")
	rb, _ := b.Records("example.org.")
	wantRemoved, wantAdded := Diff(ra, rb)
	removed, added := DiffZone(a, b, "example.org.")
	if got, want := rrStrings(removed), rrStrings(wantRemoved); !slices.Equal(got, want) {
		t.Errorf("removed:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if got, want := rrStrings(added), rrStrings(wantAdded); !slices.Equal(got, want) {
		t.Errorf("added:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if len(removed) != 4 || len(added) != 4 { // a name, a TTL, a deep name, the slot; one serial
		t.Errorf("got %d removed and %d added, want 4 and 4", len(removed), len(added))
	}
	if r, ad := DiffZone(a, a, "example.org."); len(r)+len(ad) != 0 {
		t.Errorf("a zone against itself: %d removed, %d added, want none", len(r), len(ad))
	}
}
