package zones

import (
	"net/netip"
	"slices"
	"strings"
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
			again, _ := s.Records("example.org.")
			if &again[0] != &got[0] {
				t.Error("Records computed twice for one snapshot")
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
