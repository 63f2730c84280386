package zones

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const minimalZone = `$ORIGIN example.org.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
`

func TestParseFileInclude(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"zones/zone.db": minimalZone + "$INCLUDE inc/a.db\nafter A 192.0.2.9\n",
		// A relative $INCLUDE inside an included file is relative to that
		// file, and its $ORIGIN stays inside it.
		"zones/inc/a.db": "$ORIGIN sub.example.org.\na A 192.0.2.2\n$INCLUDE b.db\n",
		"zones/inc/b.db": "b A 192.0.2.3\n",
	})
	// Run from elsewhere so that paths relative to the working directory
	// would not resolve.
	t.Chdir(t.TempDir())
	z, err := ParseFile("example.org", filepath.Join(dir, "zones/zone.db"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rr := range fileRecords(t, z) {
		got = append(got, rr.Header().Name)
	}
	want := []string{"example.org.", "example.org.", "ns1.example.org.", "a.sub.example.org.", "b.sub.example.org.", "after.example.org."}
	if !slices.Equal(got, want) {
		t.Errorf("owners: got %v, want %v", got, want)
	}
	if z.Origin != "example.org." {
		t.Errorf("origin: got %q, want %q", z.Origin, "example.org.")
	}
	if got := lineOf(z, "after.example.org.", 0); got != 7 {
		t.Errorf("line of after: got %d, want 7", got)
	}
}

func TestParseFileRelativePath(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"zones/zone.db":   minimalZone + "$INCLUDE inc.db\n",
		"zones/inc.db":    "x A 192.0.2.2\n",
		"zones/broken.db": minimalZone + "$INCLUDE missing.db\n",
	})
	t.Chdir(dir)
	if _, err := ParseFile("example.org.", "zones/zone.db"); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile("example.org.", "zones/broken.db")
	want := `zones/broken.db:6: $INCLUDE "missing.db": open zones/missing.db: no such file or directory`
	if err == nil || err.Error() != want {
		t.Errorf("missing include: got %v, want %s", err, want)
	}
}

func TestParseFileLines(t *testing.T) {
	z := parseZone(t, "example.org.", `; a comment
$ORIGIN example.org.
$TTL 300

@ IN SOA ns1 hostmaster (
      1 3600 600
      1209600 300 )
  IN NS ns1            ; a blank owner repeats the previous one
ns1 A 192.0.2.1
    AAAA 2001:db8::1
; between
$GENERATE 1-3 host$ A 192.0.2.$

Mixed.Case A 192.0.2.9
last TXT "no newline at the end"`, nil)
	for name, want := range map[string]int{
		"example.org.":            5,
		"ns1.example.org.":        9,
		"host1.example.org.":      12,
		"host3.example.org.":      12,
		"mixed.case.example.org.": 14,
		"last.example.org.":       15,
	} {
		if got := lineOf(z, name, 0); got != want {
			t.Errorf("line of %s: got %d, want %d", name, got, want)
		}
	}
	if got, want := lineOf(z, "example.org.", dns.TypeNS), 8; got != want {
		t.Errorf("line of the apex NS: got %d, want %d", got, want)
	}
	if got, want := lineOf(z, "ns1.example.org.", dns.TypeAAAA), 10; got != want {
		t.Errorf("line of the ns1 AAAA: got %d, want %d", got, want)
	}
}

func TestParseFileLowercase(t *testing.T) {
	// The same CNAME twice (in any case) is one CNAME, not two.
	z := parseZone(t, "Example.ORG", minimalZone+"WWW CNAME DoCs\nwww CNAME docs\nDOCS A 192.0.2.4\n", nil)
	if z.Origin != "example.org." {
		t.Errorf("origin: got %q, want example.org.", z.Origin)
	}
	cname := z.node("www.example.org.").cname[0].(*dns.CNAME)
	if cname.Hdr.Name != "www.example.org." || cname.Target != "DoCs.example.org." {
		t.Errorf("CNAME: got %s, want the owner lowercased and the target as written", cname)
	}
	s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	runLookups(t, s, []lookupCase{{name: "mixed case CNAME target chased", qname: "www.example.org.", qtype: dns.TypeA, result: Success,
		answer: []string{"www.example.org. 300 IN CNAME DoCs.example.org.", "docs.example.org. 300 IN A 192.0.2.4"}}})
}

func TestParseFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // each a line of the error, without the directory
	}{
		{
			name:  "syntax error",
			files: map[string]string{"zone.db": minimalZone + "www A 192.0.2\n"},
			want:  []string{`zone.db:6: bad A A: "192.0.2"`},
		},
		{
			name: "syntax error in an included file",
			files: map[string]string{
				"zone.db":    minimalZone + "$INCLUDE inc/bad.db\n",
				"inc/bad.db": "ok A 192.0.2.2\nbad MX mail\n",
			},
			want: []string{`inc/bad.db:2: bad MX Pref: "mail"`},
		},
		{
			name:  "unknown type",
			files: map[string]string{"zone.db": minimalZone + "www BOGUS 1\n"},
			want:  []string{`zone.db:6: not a TTL: "BOGUS"`},
		},
		{
			name: "every zone rule, all reported",
			files: map[string]string{"zone.db": `$ORIGIN example.org.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 1209600 300
www SOA ns1 hostmaster 1 3600 600 1209600 300
@ SOA ns1 hostmaster 2 3600 600 1209600 300
a A 192.0.2.1
a CNAME b
c CNAME b
c CNAME d
c TXT "x"
other.net. A 192.0.2.2
ch CH TXT "chaos"
`},
			want: []string{
				`zone.db:4: SOA at www.example.org.: the SOA belongs at the zone apex example.org.`,
				`zone.db:5: second SOA at example.org.: a zone has exactly one SOA (the first is at zone.db:3)`,
				`zone.db:7: CNAME at a.example.org. beside its A record at zone.db:6: a CNAME owner may have no other data (RFC 1034 3.6.2); remove one of them`,
				`zone.db:9: second CNAME at c.example.org.: a name has at most one CNAME (the first is at zone.db:8)`,
				`zone.db:10: TXT at c.example.org. beside its CNAME at zone.db:8: a CNAME owner may have no other data (RFC 1034 3.6.2); remove one of them`,
				`zone.db:11: other.net. A: the name is outside the zone example.org. (check $ORIGIN and trailing dots)`,
				`zone.db:12: ch.example.org. TXT: class CH is not served, only IN`,
				`zone.db:1: zone example.org. has no NS record at its apex; add at least one`,
			},
		},
		{
			name:  "no SOA",
			files: map[string]string{"zone.db": "$ORIGIN example.org.\n@ 300 NS ns1\n"},
			want:  []string{`zone.db:1: zone example.org. has no SOA record at its apex; add one`},
		},
		{
			name:  "CNAME at the apex",
			files: map[string]string{"zone.db": minimalZone + "@ CNAME elsewhere.net.\n"},
			want:  []string{`zone.db:6: CNAME at example.org. beside its SOA record at zone.db:3: a CNAME owner may have no other data (RFC 1034 3.6.2); remove one of them`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := ParseFile("example.org.", filepath.Join(dir, "zone.db"))
			if err == nil {
				t.Fatalf("got no error, want %q", tc.want)
			}
			got := strings.Split(strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""), "\n")
			if !slices.Equal(got, tc.want) {
				t.Errorf("errors:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile("example.org.", filepath.Join(t.TempDir(), "nope.db"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want an error wrapping os.ErrNotExist", err)
	}
}

// FuzzParseFile feeds arbitrary master files to ParseFile and Build: they
// may fail, but not panic, and what parses must build and answer. What
// zones/scan reads, dns.ZoneParser must read too, to the same zone: the
// fast reading never accepts a file the parser refuses.
func FuzzParseFile(f *testing.F) {
	f.Add(minimalZone)
	f.Add(exampleZone)
	f.Add(cloudZone)
	f.Add(minimalZone + "$GENERATE 1-5 h$ A 192.0.2.$\n*.w CNAME h1\nsub NS ns.sub\nns.sub A 192.0.2.9\n")
	f.Add("$ORIGIN example.org.\n@ SOA ( ns1 h 1 2 3 4 5 )\n@ NS ns1\nx CNAME x\n")
	dir := f.TempDir()
	path := filepath.Join(dir, "zone.db")
	f.Fuzz(func(t *testing.T, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if fast, ok := scanFile("example.org.", path, []byte(content)); ok {
			slow, err := parseSlowly("example.org.", path, []byte(content))
			if err != nil {
				t.Fatalf("scan read a file the parser refuses: %v", err)
			}
			d1, _ := fast.ContentDigest()
			d2, _ := slow.ContentDigest()
			if d1 != d2 || fast.SOA.String() != slow.SOA.String() || fast.Len() != slow.Len() {
				t.Fatalf("scan and the parser read other zones: %d records and %d", fast.Len(), slow.Len())
			}
		}
		z, err := ParseFile("example.org.", path)
		if err != nil {
			return
		}
		s, err := Build(Input{Zones: []ZoneInput{{Zone: z, Serial: 1, Slots: []Slot{
			{App: "a", Slot: "p", Names: []string{"example.org.", "www.example.org."}, Target: Target{Host: "www.example.org."}, TTL: 30},
		}}}})
		if err != nil {
			return
		}
		for _, rr := range fileRecords(t, z) {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeCNAME, dns.TypeANY, rr.Header().Rrtype} {
				s.Lookup(rr.Header().Name, qtype)
				s.Lookup("x."+rr.Header().Name, qtype)
			}
		}
	})
}

// TestParseFileBothReadings: a file that zones/scan reads is read alike by
// dns.ZoneParser, for records whose names differ only in case or in how
// a letter is written.
func TestParseFileBothReadings(t *testing.T) {
	content := minimalZone + "x CNAME \\065.example.org.\nx CNAME a.example.org.\nrp RP admin.Example.org. .\nrp RP admin.example.org. .\n"
	path := filepath.Join(writeFiles(t, map[string]string{"zone.db": content}), "zone.db")
	fast, ok := scanFile("example.org.", path, []byte(content))
	if !ok {
		t.Fatal("scan did not read the file")
	}
	slow, err := parseSlowly("example.org.", path, []byte(content))
	if err != nil {
		t.Fatalf("the parser refuses what scan reads: %v", err)
	}
	if fast.Len() != slow.Len() || fast.Len() != 5 {
		t.Errorf("records: scan %d, parser %d, want 5 each", fast.Len(), slow.Len())
	}
}

// TestSameTargetBytes: CNAME targets compare with ASCII letters folded
// and every other byte as it is, whatever UTF-8 would make of it.
func TestSameTargetBytes(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"A.example.", `\097.example.`, true},
		{"\u212a.example.", "k.example.", false}, // the Kelvin sign lowercases to k in Unicode, not in DNS
		{`\255.example.`, `\254.example.`, false},
	} {
		if got := sameTarget(tc.a, tc.b); got != tc.want {
			t.Errorf("sameTarget(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
