package zones

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// writeFiles puts files (relative path -> content) under a fresh
// directory and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// parseZone writes content as a zone file (with any extra files beside
// it) and parses it.
func parseZone(t testing.TB, origin, content string, extra map[string]string) *Zone {
	t.Helper()
	files := map[string]string{"zone.db": content}
	for k, v := range extra {
		files[k] = v
	}
	dir := writeFiles(t, files)
	z, err := ParseFile(origin, filepath.Join(dir, "zone.db"))
	if err != nil {
		t.Fatalf("parse %s: %v", origin, err)
	}
	return z
}

func mustTarget(t testing.TB, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// rrStrings gives records as sorted zone-file text, for comparing.
func rrStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

// parseRRs turns zone-file text into the same sorted form.
func parseRRs(t testing.TB, lines []string) []string {
	t.Helper()
	rrs := make([]dns.RR, 0, len(lines))
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("test record %q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return rrStrings(rrs)
}

// lookupCase is one query and its whole expected answer, in CoreDNS's
// table shape.
type lookupCase struct {
	name   string
	qname  string
	qtype  uint16
	result Result
	answer []string
	ns     []string
	extra  []string
}

func runLookups(t *testing.T, s *Snapshot, cases []lookupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Lookup(tc.qname, tc.qtype)
			q := tc.qname + " " + dns.TypeToString[tc.qtype]
			if got.Result != tc.result {
				t.Errorf("%s result: got %v, want %v", q, got.Result, tc.result)
			}
			for _, sec := range []struct {
				name      string
				got, want []string
			}{
				{"answer", rrStrings(got.Answer), parseRRs(t, tc.answer)},
				{"ns", rrStrings(got.Ns), parseRRs(t, tc.ns)},
				{"extra", rrStrings(got.Extra), parseRRs(t, tc.extra)},
			} {
				if !slices.Equal(sec.got, sec.want) {
					t.Errorf("%s %s:\ngot  %s\nwant %s", q, sec.name, strings.Join(sec.got, "\n     "), strings.Join(sec.want, "\n     "))
				}
			}
		})
	}
}

// fileRecords gives the zone file's records, the names in the order the
// file gave them first, each name's RRsets in the order of their types.
func fileRecords(t testing.TB, z *Zone) []dns.RR {
	t.Helper()
	var out []dns.RR
	for n := range z.recs.All() {
		name, _, err := dns.UnpackDomainName(n.Name(), 0)
		if err != nil {
			t.Fatal(err)
		}
		n.Sets(func(s compact.Set) bool {
			rrs, err := s.RRs(name)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rrs...)
			return true
		})
	}
	return out
}

// lineOf gives the line of the first record of type typ at name (of any
// type when typ is 0), and 0 when there is none.
func lineOf(z *Zone, name string, typ uint16) int {
	n := z.node(name)
	if n == nil {
		return 0
	}
	line := 0
	n.file.Sets(func(s compact.Set) bool {
		if typ == 0 || s.Type() == typ {
			if l := z.places.place(s.Tag()).line; line == 0 || l < line {
				line = l
			}
		}
		return true
	})
	return line
}
