package zones

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const layerZone = `$ORIGIN example.com.
$TTL 3600
@       SOA  ns1 hostmaster 1 3600 600 86400 300
@       NS   ns1
ns1     A    127.0.0.1
mail    A    127.0.0.25
mail    TXT  "file"
alias   CNAME mail
sub     NS   ns.sub
ns.sub  A    127.0.0.53
`

func mustRRs(t *testing.T, lines ...string) []dns.RR {
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

func TestWithLayer(t *testing.T) {
	file := parseZone(t, "example.com.", layerZone, nil)
	layer := Layer{
		Added: mustRRs(t,
			`_acme-challenge.WWW.example.com. 60 IN TXT "token"`,
			`mail.example.com. 120 IN TXT "dynamic"`,
			`alias.example.com. 60 IN TXT "beside a CNAME"`,
		),
		Removed: mustRRs(t, `mail.example.com. 0 IN A 127.0.0.25`),
	}
	z, overlaps, err := file.WithLayer(layer)
	if err != nil {
		t.Fatal(err)
	}
	if got := rrStrings(z.RRset("_acme-challenge.www.example.com.", dns.TypeTXT)); !slices.Equal(got, []string{"_acme-challenge.www.example.com.\t60\tIN\tTXT\t\"token\""}) {
		t.Errorf("added TXT: %q", got)
	}
	if !z.Exists("www.example.com.") || len(z.Types("www.example.com.")) != 0 {
		t.Errorf("www, the empty non-terminal above the challenge: exists %v, types %v", z.Exists("www.example.com."), z.Types("www.example.com."))
	}
	// The TXT both hold takes the layer's TTL; the removed A is gone.
	if got := rrStrings(z.RRset("mail.example.com.", dns.TypeTXT)); !slices.Equal(got, []string{"mail.example.com.\t120\tIN\tTXT\t\"dynamic\"", "mail.example.com.\t120\tIN\tTXT\t\"file\""}) {
		t.Errorf("merged TXT: %q", got)
	}
	if got := z.RRset("mail.example.com.", dns.TypeA); got != nil {
		t.Errorf("removed A still served: %v", got)
	}
	// A TXT beside the file's CNAME cannot stand: the file wins.
	if got := z.Types("alias.example.com."); !slices.Equal(got, []uint16{dns.TypeCNAME}) {
		t.Errorf("alias types: %v", got)
	}
	want := []Overlap{{Name: "alias.example.com.", Shadowed: true}, {Name: "mail.example.com."}}
	slices.SortFunc(overlaps, func(a, b Overlap) int { return strings.Compare(a.Name, b.Name) })
	if !slices.Equal(overlaps, want) {
		t.Errorf("overlaps %v, want %v", overlaps, want)
	}
	// The file is left as it was.
	if len(file.RRset("mail.example.com.", dns.TypeA)) != 1 || file.Exists("_acme-challenge.www.example.com.") {
		t.Error("WithLayer changed the file's zone")
	}
	if same, _, err := file.WithLayer(Layer{}); err != nil || same != file {
		t.Errorf("an empty layer: %p %v, want the file itself", same, err)
	}
}

func TestWithLayerRefuses(t *testing.T) {
	file := parseZone(t, "example.com.", layerZone, nil)
	for _, line := range []string{
		`www.example.org. 60 IN A 127.0.0.1`,
		`www.example.com. 60 IN SOA ns1.example.com. h.example.com. 1 1 1 1 1`,
		`example.com. 60 IN DNSKEY 257 3 13 AAAA`,
	} {
		if _, _, err := file.WithLayer(Layer{Added: mustRRs(t, line)}); err == nil || !strings.Contains(err.Error(), "zone example.com.") {
			t.Errorf("%s: err %v", line, err)
		}
	}
	// A layer that leaves the apex without NS breaks the zone's rules.
	_, _, err := file.WithLayer(Layer{Removed: mustRRs(t, `example.com. 0 IN NS ns1.example.com.`)})
	if err == nil || !strings.Contains(err.Error(), "slotdns records rm") {
		t.Errorf("apex NS removed: %v", err)
	}
}

func TestOwns(t *testing.T) {
	file := parseZone(t, "example.com.", layerZone, nil)
	for name, want := range map[string]bool{
		"example.com.":                      true,
		"mail.example.com.":                 true,
		"sub.example.com.":                  true,
		"deep.below.sub.example.com.":       true, // below the delegation
		"www.example.com.":                  false,
		"_acme-challenge.example.com.":      false,
		"x.mail.example.com.":               false,
		"ns.example.com.":                   false,
		"_acme-challenge.sub2.example.com.": false,
	} {
		if got := file.Owns(name); got != want {
			t.Errorf("Owns(%s) = %v, want %v", name, got, want)
		}
	}
}
