package update

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// memView is a zone in memory.
type memView map[rrsetKey][]dns.RR

func newView(t *testing.T, records ...string) memView {
	t.Helper()
	v := memView{}
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		k := rrsetKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
		v[k] = append(v[k], rr)
	}
	return v
}

func (v memView) RRset(name string, t uint16) []dns.RR { return v[rrsetKey{name, t}] }
func (v memView) Types(name string) []uint16 {
	var out []uint16
	for k := range v {
		if k.name == name {
			out = append(out, k.typ)
		}
	}
	slices.Sort(out)
	return out
}
func (v memView) Exists(name string) bool {
	for k := range v {
		if k.name == name || strings.HasSuffix(k.name, "."+name) {
			return true
		}
	}
	return false
}

const zone = "example.com."

func testZone(t *testing.T) memView {
	return newView(t,
		"example.com. 3600 IN SOA ns1.example.com. h.example.com. 5 3600 600 86400 300",
		"example.com. 3600 IN NS ns1.example.com.",
		"ns1.example.com. 3600 IN A 192.0.2.1",
		"www.example.com. 300 IN A 192.0.2.10",
		"www.example.com. 300 IN A 192.0.2.11",
		"alias.example.com. 300 IN CNAME www.example.com.",
		"a.deep.example.com. 300 IN TXT \"x\"",
	)
}

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wire packs m and reads it back, as the server receives it.
func wire(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParse(t *testing.T) {
	m := new(dns.Msg)
	m.SetUpdate("Example.COM.")
	m.Insert([]dns.RR{rr(t, "x.example.com. 60 IN TXT \"a\"")})
	req, err := Parse(wire(t, m))
	if err != nil || req.Zone != zone || len(req.Updates) != 1 {
		t.Fatalf("Parse: %+v, %v", req, err)
	}
	q := new(dns.Msg)
	q.SetQuestion(zone, dns.TypeSOA)
	if _, err := Parse(q); err == nil || err.Rcode != dns.RcodeFormatError {
		t.Errorf("a query: got %v, want FORMERR", err)
	}
	m.Question[0].Qtype = dns.TypeA
	if _, err := Parse(m); err == nil || err.Rcode != dns.RcodeFormatError {
		t.Errorf("zone section of type A: got %v, want FORMERR", err)
	}
}

// TestPrerequisites covers the five kinds of RFC 2136 2.4, each holding
// and failing with its rcode.
func TestPrerequisites(t *testing.T) {
	v := testZone(t)
	www := []dns.RR{rr(t, "www.example.com. 0 IN A 192.0.2.10"), rr(t, "www.example.com. 0 IN A 192.0.2.11")}
	for _, tc := range []struct {
		name  string
		build func(m *dns.Msg)
		want  int
	}{
		{"RRset exists (value independent)", func(m *dns.Msg) { m.RRsetUsed([]dns.RR{rr(t, "www.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeSuccess},
		{"RRset exists, it does not", func(m *dns.Msg) { m.RRsetUsed([]dns.RR{rr(t, "www.example.com. 0 IN MX 0 .")}) }, dns.RcodeNXRrset},
		{"RRset exists (value dependent)", func(m *dns.Msg) { m.Used(www) }, dns.RcodeSuccess},
		{"RRset exists (value dependent), other values", func(m *dns.Msg) { m.Used(www[:1]) }, dns.RcodeNXRrset},
		{"RRset does not exist", func(m *dns.Msg) { m.RRsetNotUsed([]dns.RR{rr(t, "www.example.com. 0 IN MX 0 .")}) }, dns.RcodeSuccess},
		{"RRset does not exist, it does", func(m *dns.Msg) { m.RRsetNotUsed([]dns.RR{rr(t, "www.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeYXRrset},
		{"name in use", func(m *dns.Msg) { m.NameUsed([]dns.RR{rr(t, "www.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeSuccess},
		{"name in use: an empty non-terminal", func(m *dns.Msg) { m.NameUsed([]dns.RR{rr(t, "deep.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeSuccess},
		{"name in use, it is not", func(m *dns.Msg) { m.NameUsed([]dns.RR{rr(t, "nope.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeNameError},
		{"name not in use", func(m *dns.Msg) { m.NameNotUsed([]dns.RR{rr(t, "nope.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeSuccess},
		{"name not in use, it is", func(m *dns.Msg) { m.NameNotUsed([]dns.RR{rr(t, "www.example.com. 0 IN A 0.0.0.0")}) }, dns.RcodeYXDomain},
		{"outside the zone", func(m *dns.Msg) { m.NameUsed([]dns.RR{rr(t, "www.example.net. 0 IN A 0.0.0.0")}) }, dns.RcodeNotZone},
		{"with a TTL", func(m *dns.Msg) { m.Answer = append(m.Answer, rr(t, "www.example.com. 60 IN A 192.0.2.10")) }, dns.RcodeFormatError},
	} {
		m := new(dns.Msg)
		m.SetUpdate(zone)
		tc.build(m)
		req, perr := Parse(wire(t, m))
		if perr != nil {
			t.Fatalf("%s: %v", tc.name, perr)
		}
		got := dns.RcodeSuccess
		if err := CheckPrerequisites(req.Zone, req.Prereqs, v); err != nil {
			got = err.Rcode
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, dns.RcodeToString[got], dns.RcodeToString[tc.want])
		}
	}
}

// TestApply covers every kind of update and the RFC's special cases.
func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(m *dns.Msg)
		want  []string // the changed RRsets after, "name type: rdata..." ("-" when gone)
	}{
		{"add an RRset", func(m *dns.Msg) { m.Insert([]dns.RR{rr(t, "_acme-challenge.example.com. 60 IN TXT \"tok\"")}) },
			[]string{`_acme-challenge.example.com. TXT: "tok"/60`}},
		{"add to an RRset: the TTL is the last added", func(m *dns.Msg) { m.Insert([]dns.RR{rr(t, "www.example.com. 60 IN A 192.0.2.12")}) },
			[]string{"www.example.com. A: 192.0.2.10/60 192.0.2.11/60 192.0.2.12/60"}},
		{"add a record it holds: nothing but its TTL", func(m *dns.Msg) { m.Insert([]dns.RR{rr(t, "www.example.com. 300 IN A 192.0.2.10")}) },
			nil},
		{"delete an RR", func(m *dns.Msg) { m.Remove([]dns.RR{rr(t, "www.example.com. 0 IN A 192.0.2.10")}) },
			[]string{"www.example.com. A: 192.0.2.11/300"}},
		{"delete an RRset", func(m *dns.Msg) { m.RemoveRRset([]dns.RR{rr(t, "www.example.com. 0 IN A 0.0.0.0")}) },
			[]string{"www.example.com. A: -"}},
		{"delete a name", func(m *dns.Msg) { m.RemoveName([]dns.RR{rr(t, "alias.example.com. 0 IN A 0.0.0.0")}) },
			[]string{"alias.example.com. CNAME: -"}},
		{"delete the apex: SOA and NS stay", func(m *dns.Msg) { m.RemoveName([]dns.RR{rr(t, "example.com. 0 IN A 0.0.0.0")}) }, nil},
		{"delete the last apex NS: it stays", func(m *dns.Msg) { m.Remove([]dns.RR{rr(t, "example.com. 0 IN NS ns1.example.com.")}) }, nil},
		{"a CNAME beside other data: ignored", func(m *dns.Msg) { m.Insert([]dns.RR{rr(t, "www.example.com. 60 IN CNAME x.example.net.")}) }, nil},
		{"other data beside a CNAME: ignored", func(m *dns.Msg) { m.Insert([]dns.RR{rr(t, "alias.example.com. 60 IN TXT \"x\"")}) }, nil},
		{"a CNAME replaces a CNAME", func(m *dns.Msg) { m.Insert([]dns.RR{rr(t, "alias.example.com. 60 IN CNAME ns1.example.com.")}) },
			[]string{"alias.example.com. CNAME: ns1.example.com./60"}},
		{"an older SOA: ignored", func(m *dns.Msg) {
			m.Insert([]dns.RR{rr(t, "example.com. 3600 IN SOA ns1.example.com. h.example.com. 4 3600 600 86400 300")})
		}, nil},
		{"delete then add, in order", func(m *dns.Msg) {
			m.RemoveRRset([]dns.RR{rr(t, "www.example.com. 0 IN A 0.0.0.0")})
			m.Insert([]dns.RR{rr(t, "www.example.com. 60 IN A 192.0.2.99")})
		}, []string{"www.example.com. A: 192.0.2.99/60"}},
	} {
		m := new(dns.Msg)
		m.SetUpdate(zone)
		tc.build(m)
		req, perr := Parse(wire(t, m))
		if perr != nil {
			t.Fatalf("%s: %v", tc.name, perr)
		}
		if err := Prescan(req.Zone, req.Updates); err != nil {
			t.Fatalf("%s: prescan: %v", tc.name, err)
		}
		var got []string
		for _, c := range Apply(req.Zone, req.Updates, testZone(t)) {
			s := c.Name + " " + dns.TypeToString[c.Type] + ":"
			if c.After == nil {
				s += " -"
			}
			for _, r := range c.After {
				s += " " + strings.SplitN(r.String(), "\t", 5)[4] + "/" + strconv.FormatUint(uint64(r.Header().Ttl), 10)
			}
			got = append(got, s)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestPrescan(t *testing.T) {
	for _, tc := range []struct {
		name string
		rr   dns.RR
		want int
	}{
		{"outside the zone", rr(t, "x.example.net. 60 IN A 192.0.2.1"), dns.RcodeNotZone},
		{"an add of type ANY", &dns.ANY{Hdr: dns.RR_Header{Name: "x.example.com.", Rrtype: dns.TypeANY, Class: dns.ClassINET, Ttl: 60}}, dns.RcodeFormatError},
		{"a deletion with a TTL", &dns.ANY{Hdr: dns.RR_Header{Name: "x.example.com.", Rrtype: dns.TypeA, Class: dns.ClassANY, Ttl: 60}}, dns.RcodeFormatError},
		{"class CH", &dns.ANY{Hdr: dns.RR_Header{Name: "x.example.com.", Rrtype: dns.TypeA, Class: dns.ClassCHAOS}}, dns.RcodeFormatError},
	} {
		if err := Prescan(zone, []dns.RR{tc.rr}); err == nil || err.Rcode != tc.want {
			t.Errorf("%s: got %v, want %s", tc.name, err, dns.RcodeToString[tc.want])
		}
	}
}

func TestPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		yes, no []string
	}{
		{"www", []string{"www.example.com."}, []string{"example.com.", "a.www.example.com.", "www.example.net."}},
		{"@", []string{"example.com."}, []string{"www.example.com."}},
		{"*.apps", []string{"a.apps.example.com.", "b.a.apps.example.com."}, []string{"apps.example.com.", "xapps.example.com."}},
		{"_acme-challenge.*", []string{"_acme-challenge.example.com.", "_acme-challenge.www.example.com."}, []string{"www.example.com.", "_acme-challengex.example.com.", "x._acme-challenge.example.com."}},
	} {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		for _, n := range tc.yes {
			if !p.Matches(n, zone) {
				t.Errorf("%s does not match %s", tc.pattern, n)
			}
		}
		for _, n := range tc.no {
			if p.Matches(n, zone) {
				t.Errorf("%s matches %s", tc.pattern, n)
			}
		}
	}
	for _, bad := range []string{"www.example.com.", "*", "a.*.b", "bad name!"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q): no error", bad)
		}
	}
}
