package zones

import (
	"testing"

	"github.com/miekg/dns"
)

const exampleZone = `$ORIGIN example.org.
$TTL 3600
@        IN SOA ns1 hostmaster ( 2024010101 3600 600 1209600
                                 300 ) ; negative TTL 300
@        NS    ns1
@        NS    ns2.other.net.
@        MX    10 mail
@        MX    20 mail.other.net.
@        TXT   "v=spf1 mx -all"
ns1      A     192.0.2.1
mail     A     192.0.2.25
mail     AAAA  2001:db8::25
docs     A     192.0.2.40
docs     TXT   "docs"
static   CNAME docs
chain1   CNAME chain2
chain2   CNAME docs
loop1    CNAME loop2
loop2    CNAME loop1
out      CNAME www.other.net.
toslot   CNAME www
toqa     CNAME qa
a.b.c    A     192.0.2.50
sub      NS    ns.sub
sub      NS    ns.other.net.
sub      DS    12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
ns.sub   A     192.0.2.60
*.wild   A     192.0.2.70
*.wild   TXT   "wild"
exists.wild A  192.0.2.71
*.cw     CNAME docs
dangling CNAME nothing
tosub    CNAME www.sub
short 60 A     192.0.2.41
short    TXT   "short"
$INCLUDE inc/extra.db
`

const cloudZone = `$ORIGIN cloudapp.test.
$TTL 60
@     SOA ns1 hostmaster 1 3600 600 1209600 60
@     NS  ns1
ns1   A   192.0.2.53
prod  A   198.51.100.10
prod  A   198.51.100.11
prod  AAAA 2001:db8:100::10
alias CNAME prod
v4only A  198.51.100.20
`

// exampleSnapshot serves example.org. (production "@" and "www" on a
// hostname in cloudapp.test., staging on a hostname elsewhere, qa on
// addresses) and cloudapp.test.
func exampleSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	z := parseZone(t, "example.org.", exampleZone, map[string]string{
		"inc/extra.db": "included A 192.0.2.80\n",
	})
	cloud := parseZone(t, "cloudapp.test.", cloudZone, nil)
	s, err := Build(Input{Zones: []ZoneInput{
		{Zone: z, Serial: 7, Slots: []Slot{
			{App: "site", Slot: "production", Names: []string{"example.org.", "www.example.org."}, Target: mustTarget(t, "prod.cloudapp.test."), TTL: 30},
			{App: "site", Slot: "staging", Names: []string{"stage.example.org."}, Target: mustTarget(t, "stage-host.other.net."), TTL: 30},
			{App: "site", Slot: "qa", Names: []string{"qa.example.org.", "deep.qa2.example.org."}, Target: mustTarget(t, "192.0.2.90, 2001:db8::90"), TTL: 20},
		}},
		{Zone: cloud, Serial: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const negSOA = "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 7 3600 600 1209600 300"

func TestLookup(t *testing.T) {
	s := exampleSnapshot(t)
	prodA := []string{"prod.cloudapp.test. 60 IN A 198.51.100.10", "prod.cloudapp.test. 60 IN A 198.51.100.11"}
	runLookups(t, s, []lookupCase{
		// The slot overlay.
		{name: "slot hostname is a CNAME chased into our other zone", qname: "www.example.org.", qtype: dns.TypeA, result: Success,
			answer: append([]string{"www.example.org. 30 IN CNAME prod.cloudapp.test."}, prodA...)},
		{name: "slot CNAME asked for CNAME", qname: "www.example.org.", qtype: dns.TypeCNAME, result: Success,
			answer: []string{"www.example.org. 30 IN CNAME prod.cloudapp.test."}},
		{name: "slot CNAME to a target in no zone is left to the resolver", qname: "stage.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"stage.example.org. 30 IN CNAME stage-host.other.net."}},
		{name: "slot addresses A", qname: "qa.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"qa.example.org. 20 IN A 192.0.2.90"}},
		{name: "slot addresses AAAA", qname: "qa.example.org.", qtype: dns.TypeAAAA, result: Success,
			answer: []string{"qa.example.org. 20 IN AAAA 2001:db8::90"}},
		{name: "slot addresses no data of another type", qname: "qa.example.org.", qtype: dns.TypeMX, result: NoData,
			ns: []string{negSOA}},
		{name: "slot name makes an empty non-terminal", qname: "qa2.example.org.", qtype: dns.TypeA, result: NoData,
			ns: []string{negSOA}},
		{name: "static CNAME to a slot name", qname: "toslot.example.org.", qtype: dns.TypeA, result: Success,
			answer: append([]string{"toslot.example.org. 3600 IN CNAME www.example.org.", "www.example.org. 30 IN CNAME prod.cloudapp.test."}, prodA...)},
		{name: "static CNAME to an address slot", qname: "toqa.example.org.", qtype: dns.TypeAAAA, result: Success,
			answer: []string{"toqa.example.org. 3600 IN CNAME qa.example.org.", "qa.example.org. 20 IN AAAA 2001:db8::90"}},

		// The apex.
		{name: "apex alias in zone, TTL min(slot 30, target 60)", qname: "example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"example.org. 30 IN A 198.51.100.10", "example.org. 30 IN A 198.51.100.11"}},
		{name: "apex alias AAAA", qname: "example.org.", qtype: dns.TypeAAAA, result: Success,
			answer: []string{"example.org. 30 IN AAAA 2001:db8:100::10"}},
		{name: "apex SOA carries the serial", qname: "example.org.", qtype: dns.TypeSOA, result: Success,
			answer: []string{"example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 7 3600 600 1209600 300"}},
		{name: "apex NS with in-zone addresses", qname: "example.org.", qtype: dns.TypeNS, result: Success,
			answer: []string{"example.org. 3600 IN NS ns1.example.org.", "example.org. 3600 IN NS ns2.other.net."},
			extra:  []string{"ns1.example.org. 3600 IN A 192.0.2.1"}},
		{name: "apex MX with in-zone addresses", qname: "example.org.", qtype: dns.TypeMX, result: Success,
			answer: []string{"example.org. 3600 IN MX 10 mail.example.org.", "example.org. 3600 IN MX 20 mail.other.net."},
			extra:  []string{"mail.example.org. 3600 IN A 192.0.2.25", "mail.example.org. 3600 IN AAAA 2001:db8::25"}},
		{name: "apex TXT", qname: "example.org.", qtype: dns.TypeTXT, result: Success,
			answer: []string{`example.org. 3600 IN TXT "v=spf1 mx -all"`}},
		{name: "apex no data", qname: "example.org.", qtype: dns.TypeSRV, result: NoData, ns: []string{negSOA}},

		// Negative answers.
		{name: "no such name", qname: "nope.example.org.", qtype: dns.TypeA, result: NameError, ns: []string{negSOA}},
		{name: "no such name below a name", qname: "x.docs.example.org.", qtype: dns.TypeA, result: NameError, ns: []string{negSOA}},
		{name: "no data", qname: "docs.example.org.", qtype: dns.TypeMX, result: NoData, ns: []string{negSOA}},
		{name: "empty non-terminal", qname: "b.c.example.org.", qtype: dns.TypeA, result: NoData, ns: []string{negSOA}},
		{name: "empty non-terminal two up", qname: "c.example.org.", qtype: dns.TypeTXT, result: NoData, ns: []string{negSOA}},
		{name: "below an empty non-terminal", qname: "x.b.c.example.org.", qtype: dns.TypeA, result: NameError, ns: []string{negSOA}},
		{name: "name in no zone", qname: "www.other.net.", qtype: dns.TypeA, result: NotAuth},
		{name: "parent of a zone is in no zone", qname: "org.", qtype: dns.TypeNS, result: NotAuth},

		// CNAME.
		{name: "static CNAME chased", qname: "static.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"static.example.org. 3600 IN CNAME docs.example.org.", "docs.example.org. 3600 IN A 192.0.2.40"}},
		{name: "static CNAME chased for another type", qname: "static.example.org.", qtype: dns.TypeTXT, result: Success,
			answer: []string{"static.example.org. 3600 IN CNAME docs.example.org.", `docs.example.org. 3600 IN TXT "docs"`}},
		{name: "CNAME to a name without that type", qname: "static.example.org.", qtype: dns.TypeMX, result: NoData,
			answer: []string{"static.example.org. 3600 IN CNAME docs.example.org."}, ns: []string{negSOA}},
		{name: "CNAME to a name without AAAA", qname: "static.example.org.", qtype: dns.TypeAAAA, result: NoData,
			answer: []string{"static.example.org. 3600 IN CNAME docs.example.org."}, ns: []string{negSOA}},
		{name: "CNAME asked for CNAME is not chased", qname: "static.example.org.", qtype: dns.TypeCNAME, result: Success,
			answer: []string{"static.example.org. 3600 IN CNAME docs.example.org."}},
		{name: "CNAME chain", qname: "chain1.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"chain1.example.org. 3600 IN CNAME chain2.example.org.", "chain2.example.org. 3600 IN CNAME docs.example.org.", "docs.example.org. 3600 IN A 192.0.2.40"}},
		{name: "CNAME loop ends", qname: "loop1.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"loop1.example.org. 3600 IN CNAME loop2.example.org.", "loop2.example.org. 3600 IN CNAME loop1.example.org."}},
		{name: "CNAME loop ends for an uncommon type", qname: "loop2.example.org.", qtype: dns.TypeSRV, result: Success,
			answer: []string{"loop1.example.org. 3600 IN CNAME loop2.example.org.", "loop2.example.org. 3600 IN CNAME loop1.example.org."}},
		{name: "CNAME out of our zones", qname: "out.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"out.example.org. 3600 IN CNAME www.other.net."}},
		{name: "CNAME to no name", qname: "dangling.example.org.", qtype: dns.TypeA, result: NameError,
			answer: []string{"dangling.example.org. 3600 IN CNAME nothing.example.org."}, ns: []string{negSOA}},
		{name: "CNAME into a delegation is left to the resolver", qname: "tosub.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"tosub.example.org. 3600 IN CNAME www.sub.example.org."}},
		{name: "CNAME in the other zone", qname: "alias.cloudapp.test.", qtype: dns.TypeAAAA, result: Success,
			answer: []string{"alias.cloudapp.test. 60 IN CNAME prod.cloudapp.test.", "prod.cloudapp.test. 60 IN AAAA 2001:db8:100::10"}},

		// Delegation.
		{name: "referral at the delegation", qname: "sub.example.org.", qtype: dns.TypeA, result: Delegation,
			ns:    []string{"sub.example.org. 3600 IN NS ns.sub.example.org.", "sub.example.org. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.org. 3600 IN A 192.0.2.60"}},
		{name: "referral for NS at the delegation", qname: "sub.example.org.", qtype: dns.TypeNS, result: Delegation,
			ns:    []string{"sub.example.org. 3600 IN NS ns.sub.example.org.", "sub.example.org. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.org. 3600 IN A 192.0.2.60"}},
		{name: "referral below the delegation", qname: "www.sub.example.org.", qtype: dns.TypeA, result: Delegation,
			ns:    []string{"sub.example.org. 3600 IN NS ns.sub.example.org.", "sub.example.org. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.org. 3600 IN A 192.0.2.60"}},
		{name: "glue is not an answer", qname: "ns.sub.example.org.", qtype: dns.TypeA, result: Delegation,
			ns:    []string{"sub.example.org. 3600 IN NS ns.sub.example.org.", "sub.example.org. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.org. 3600 IN A 192.0.2.60"}},
		{name: "DS at the delegation from the parent", qname: "sub.example.org.", qtype: dns.TypeDS, result: Success,
			answer: []string{"sub.example.org. 3600 IN DS 12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE"}},
		{name: "DS below the delegation is referred", qname: "x.sub.example.org.", qtype: dns.TypeDS, result: Delegation,
			ns:    []string{"sub.example.org. 3600 IN NS ns.sub.example.org.", "sub.example.org. 3600 IN NS ns.other.net."},
			extra: []string{"ns.sub.example.org. 3600 IN A 192.0.2.60"}},
		{name: "DS at an apex with no parent here", qname: "example.org.", qtype: dns.TypeDS, result: NoData, ns: []string{negSOA}},

		// Wildcards (RFC 4592).
		{name: "wildcard synthesizes the query name", qname: "foo.wild.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"foo.wild.example.org. 3600 IN A 192.0.2.70"}},
		{name: "wildcard two labels down", qname: "a.b.wild.example.org.", qtype: dns.TypeTXT, result: Success,
			answer: []string{`a.b.wild.example.org. 3600 IN TXT "wild"`}},
		{name: "wildcard no data", qname: "foo.wild.example.org.", qtype: dns.TypeMX, result: NoData, ns: []string{negSOA}},
		{name: "existing name is not synthesized", qname: "exists.wild.example.org.", qtype: dns.TypeTXT, result: NoData, ns: []string{negSOA}},
		{name: "no wildcard match below an existing name", qname: "x.exists.wild.example.org.", qtype: dns.TypeA, result: NameError, ns: []string{negSOA}},
		{name: "the wildcard itself", qname: "*.wild.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"*.wild.example.org. 3600 IN A 192.0.2.70"}},
		{name: "wildcard CNAME synthesized and chased", qname: "x.cw.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"x.cw.example.org. 3600 IN CNAME docs.example.org.", "docs.example.org. 3600 IN A 192.0.2.40"}},
		{name: "wildcard ANY", qname: "foo.wild.example.org.", qtype: dns.TypeANY, result: Success,
			answer: []string{`foo.wild.example.org. 3600 IN HINFO "RFC8482" ""`}},

		// ANY (RFC 8482): one synthesized HINFO with the lowest TTL.
		{name: "ANY at a name", qname: "short.example.org.", qtype: dns.TypeANY, result: Success,
			answer: []string{`short.example.org. 60 IN HINFO "RFC8482" ""`}},
		{name: "ANY at the apex alias", qname: "example.org.", qtype: dns.TypeANY, result: Success,
			answer: []string{`example.org. 30 IN HINFO "RFC8482" ""`}},
		{name: "ANY at a CNAME gives the CNAME", qname: "static.example.org.", qtype: dns.TypeANY, result: Success,
			answer: []string{"static.example.org. 3600 IN CNAME docs.example.org."}},
		{name: "ANY at an empty non-terminal", qname: "c.example.org.", qtype: dns.TypeANY, result: NoData, ns: []string{negSOA}},
		{name: "ANY at no name", qname: "nope.example.org.", qtype: dns.TypeANY, result: NameError, ns: []string{negSOA}},

		// $INCLUDE and the second zone.
		{name: "record from an included file", qname: "included.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"included.example.org. 3600 IN A 192.0.2.80"}},
		{name: "longest suffix picks the other zone", qname: "prod.cloudapp.test.", qtype: dns.TypeA, result: Success,
			answer: prodA},
		{name: "other zone has its own negative SOA", qname: "nope.cloudapp.test.", qtype: dns.TypeA, result: NameError,
			ns: []string{"cloudapp.test. 60 IN SOA ns1.cloudapp.test. hostmaster.cloudapp.test. 1 3600 600 1209600 60"}},
	})
}

func TestLookupZoneField(t *testing.T) {
	s := exampleSnapshot(t)
	for _, tc := range []struct{ qname, want string }{
		{"www.example.org.", "example.org."},
		{"prod.cloudapp.test.", "cloudapp.test."},
		{"nope.cloudapp.test.", "cloudapp.test."},
		{"www.other.net.", ""},
	} {
		if got := s.Lookup(tc.qname, dns.TypeA).Zone; got != tc.want {
			t.Errorf("%s zone: got %q, want %q", tc.qname, got, tc.want)
		}
	}
	if got, ok := s.Serial("example.org."); !ok || got != 7 {
		t.Errorf("serial example.org.: got %d %v, want 7 true", got, ok)
	}
	if _, ok := s.Serial("other.net."); ok {
		t.Errorf("serial other.net.: got a zone, want none")
	}
	if got := s.NumZones(); got != len(s.Origins()) || got != 2 {
		t.Errorf("zones: got %d, want 2, as Origins lists", got)
	}
}

// TestLookupSlotField checks that an answer names the slot that owns the
// query name, whatever the type and result, and no slot for other names.
func TestLookupSlotField(t *testing.T) {
	s := exampleSnapshot(t)
	for _, tc := range []struct {
		qname string
		qtype uint16
		want  int // 1 + the slot's index in the zone's input; 0: none
	}{
		{"example.org.", dns.TypeA, 1},             // an apex alias
		{"example.org.", dns.TypeMX, 1},            // the file's records at a slot name
		{"www.example.org.", dns.TypeA, 1},         // a chain computed when built
		{"www.example.org.", dns.TypeTXT, 1},       // a chain followed per query
		{"stage.example.org.", dns.TypeA, 2},       // a CNAME out of our zones
		{"qa.example.org.", dns.TypeA, 3},          // addresses
		{"qa.example.org.", dns.TypeMX, 3},         // NoData
		{"deep.qa2.example.org.", dns.TypeAAAA, 3}, // a second name of the slot
		{"toslot.example.org.", dns.TypeA, 0},      // a file CNAME into a slot name
		{"qa2.example.org.", dns.TypeA, 0},         // the empty non-terminal above one
		{"prod.cloudapp.test.", dns.TypeA, 0},      // the target, in another zone
		{"nope.example.org.", dns.TypeA, 0},        // NXDOMAIN
		{"www.other.net.", dns.TypeA, 0},           // not ours
	} {
		if got := s.Lookup(tc.qname, tc.qtype).Slot; got != tc.want {
			t.Errorf("%s %s slot: got %d, want %d", tc.qname, dns.TypeToString[tc.qtype], got, tc.want)
		}
	}
	in, _ := s.ZoneInput("example.org.")
	if got := in.Slots[s.Lookup("stage.example.org.", dns.TypeA).Slot-1].Slot; got != "staging" {
		t.Errorf("stage.example.org. slot: got %q, want staging", got)
	}
}

// TestSlotLookupDoesNotAllocate pins the answers a view keeps: the slot
// names answer from its own slices, and a name in no zone costs nothing.
// The zone file's names are unpacked per query, for the server to cache.
func TestSlotLookupDoesNotAllocate(t *testing.T) {
	s := exampleSnapshot(t)
	for _, q := range []struct {
		qname string
		qtype uint16
	}{
		{"www.example.org.", dns.TypeA},
		{"www.example.org.", dns.TypeAAAA},
		{"stage.example.org.", dns.TypeA},
		{"qa.example.org.", dns.TypeA},
		{"example.org.", dns.TypeA},
		{"www.other.net.", dns.TypeA},
	} {
		if n := testing.AllocsPerRun(100, func() { s.Lookup(q.qname, q.qtype) }); n != 0 {
			t.Errorf("%s %s: got %v allocations, want 0", q.qname, dns.TypeToString[q.qtype], n)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	s := exampleSnapshot(b)
	for _, q := range []struct {
		name  string
		qname string
		qtype uint16
	}{
		{"www_A", "www.example.org.", dns.TypeA},
		{"apex_MX", "example.org.", dns.TypeMX},
		{"NXDOMAIN", "nope.example.org.", dns.TypeA},
		{"wildcard", "foo.wild.example.org.", dns.TypeA},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Lookup(q.qname, q.qtype)
			}
		})
	}
}

func TestParentAndChildZones(t *testing.T) {
	parent := parseZone(t, "example.org.", siteZone+`child NS ns1.child
child DS 12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
ns1.child A 192.0.2.53
link CNAME www.child
`, nil)
	child := parseZone(t, "child.example.org.", `$ORIGIN child.example.org.
@ 300 SOA ns1 hostmaster 1 3600 600 1209600 60
@ 300 NS ns1
ns1 300 A 192.0.2.53
`, nil)
	s, err := Build(Input{Zones: []ZoneInput{
		{Zone: parent, Serial: 1},
		{Zone: child, Serial: 2, Slots: []Slot{{App: "c", Slot: "p", Names: []string{"www.child.example.org.", "*.wild.child.example.org."}, Target: mustTarget(t, "192.0.2.77"), TTL: 30}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	childNeg := "child.example.org. 60 IN SOA ns1.child.example.org. hostmaster.child.example.org. 2 3600 600 1209600 60"
	runLookups(t, s, []lookupCase{
		{name: "DS of the child from the parent", qname: "child.example.org.", qtype: dns.TypeDS, result: Success,
			answer: []string{"child.example.org. 3600 IN DS 12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE"}},
		{name: "NS of the child from the child", qname: "child.example.org.", qtype: dns.TypeNS, result: Success,
			answer: []string{"child.example.org. 300 IN NS ns1.child.example.org."},
			extra:  []string{"ns1.child.example.org. 300 IN A 192.0.2.53"}},
		{name: "slot in the child", qname: "www.child.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"www.child.example.org. 30 IN A 192.0.2.77"}},
		{name: "parent CNAME chased into the child", qname: "link.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"link.example.org. 3600 IN CNAME www.child.example.org.", "www.child.example.org. 30 IN A 192.0.2.77"}},
		{name: "wildcard slot name", qname: "x.wild.child.example.org.", qtype: dns.TypeA, result: Success,
			answer: []string{"x.wild.child.example.org. 30 IN A 192.0.2.77"}},
		{name: "empty non-terminal above a wildcard slot name", qname: "wild.child.example.org.", qtype: dns.TypeA, result: NoData,
			ns: []string{childNeg}},
	})
}
