package compact

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func wireName(t testing.TB, name string) []byte {
	t.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestLookup: records added in any order, owners in any case, come back
// grouped by name and type, in the order given, without duplicates; a
// name not added is not found.
func TestLookup(t *testing.T) {
	lines := []string{
		"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 300",
		"example.com. 3600 IN NS ns1.example.com.",
		"WWW.example.com. 60 IN A 192.0.2.1",
		"mail.example.com. 300 IN A 192.0.2.25",
		"www.example.com. 60 IN A 192.0.2.2",
		"example.com. 3600 IN MX 10 Mail.Example.com.",
		"www.example.com. 60 IN AAAA 2001:db8::1",
		"www.EXAMPLE.com. 60 IN A 192.0.2.1", // a duplicate
		"txt.example.com. 60 IN TXT \"a b\" \"c\"",
		"www.example.com. 120 IN A 192.0.2.3",
		"alias.example.com. 60 IN CNAME www.example.com.",
	}
	b := NewBuilder(0)
	for _, l := range lines {
		if err := b.AddRR(mustRR(t, l), 0); err != nil {
			t.Fatal(err)
		}
	}
	z, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if z.Names() != 5 || z.Records() != 10 {
		t.Fatalf("%d names and %d records, want 5 and 10", z.Names(), z.Records())
	}
	want := map[string]map[uint16][]string{
		"example.com.": {
			dns.TypeSOA: {lines[0]},
			dns.TypeNS:  {lines[1]},
			dns.TypeMX:  {lines[5]},
		},
		"www.example.com.": {
			dns.TypeA:    {"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 60 IN A 192.0.2.2", "www.example.com. 120 IN A 192.0.2.3"},
			dns.TypeAAAA: {lines[6]},
		},
		"mail.example.com.":  {dns.TypeA: {lines[3]}},
		"txt.example.com.":   {dns.TypeTXT: {lines[8]}},
		"alias.example.com.": {dns.TypeCNAME: {lines[10]}},
	}
	for name, sets := range want {
		n, ok := z.Lookup(wireName(t, name))
		if !ok {
			t.Fatalf("%s: not found", name)
		}
		var types []uint16
		n.Types(func(typ uint16) bool { types = append(types, typ); return true })
		if len(types) != len(sets) {
			t.Errorf("%s: types %v, want %d of them", name, types, len(sets))
		}
		for typ, rrs := range sets {
			got, err := n.Set(typ).RRs(name)
			if err != nil {
				t.Fatal(err)
			}
			var gotText []string
			for _, rr := range got {
				gotText = append(gotText, strings.ReplaceAll(rr.String(), "\t", " "))
			}
			var wantText []string
			for _, s := range rrs {
				wantText = append(wantText, strings.ReplaceAll(mustRR(t, s).String(), "\t", " "))
			}
			if !slices.Equal(gotText, wantText) {
				t.Errorf("%s %s:\ngot  %q\nwant %q", name, dns.TypeToString[typ], gotText, wantText)
			}
		}
		if n.Set(dns.TypeSRV).Len() != 0 {
			t.Errorf("%s: an SRV set where there is none", name)
		}
	}
	// The MX target keeps the file's case.
	mx, _ := z.Lookup(wireName(t, "example.com."))
	mx.Set(dns.TypeMX).Each(func(_ uint32, rdata []byte) bool {
		if !bytes.Contains(rdata, []byte("Mail")) {
			t.Errorf("MX RDATA %q lost the file's case", rdata)
		}
		return true
	})
	for _, name := range []string{"nothere.example.com.", "com.", "ww.example.com."} {
		if _, ok := z.Lookup(wireName(t, name)); ok {
			t.Errorf("%s: found, want not", name)
		}
	}
}

// FuzzBuilder adds records of any owner, type and RDATA, and checks every
// name against a map that kept the same records.
func FuzzBuilder(f *testing.F) {
	f.Add([]byte("\x03www\x07example\x03com\x00\x00\x01\x04\xc0\x00\x02\x01"), uint8(3))
	f.Add([]byte("\x01a\x00\x00\x10\x03abc\x01A\x00\x00\x10\x03abc"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, spread uint8) {
		// data: records of owner (a wire name), type (2 bytes), RDATA
		// length (1 byte) and RDATA, until it runs out.
		type key struct {
			name string
			typ  uint16
		}
		model := map[key][]string{}
		names := map[string]bool{}
		b := NewBuilder(int(spread))
		for len(data) > 0 {
			end, err := skipName(data, 0)
			if err != nil || end > 255 || end+3 > len(data) {
				break
			}
			owner := asciiLower(data[:end])
			typ := uint16(data[end])<<8 | uint16(data[end+1])
			l := int(data[end+2])
			if end+3+l > len(data) {
				break
			}
			rdata := data[end+3 : end+3+l]
			if err := b.Add(data[:end], typ, 60, rdata, 0); err != nil {
				t.Fatal(err)
			}
			k := key{string(owner), typ}
			if !slices.Contains(model[k], string(rdata)) {
				model[k] = append(model[k], string(rdata))
			}
			names[string(owner)] = true
			data = data[end+3+l:]
		}
		z, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		if z.Names() != len(names) {
			t.Fatalf("%d names, want %d", z.Names(), len(names))
		}
		for k, want := range model {
			n, ok := z.Lookup([]byte(k.name))
			if !ok {
				t.Fatalf("%q not found", k.name)
			}
			var got []string
			n.Set(k.typ).Each(func(_ uint32, rdata []byte) bool { got = append(got, string(rdata)); return true })
			if !slices.Equal(got, want) {
				t.Fatalf("%q type %d: %q, want %q", k.name, k.typ, got, want)
			}
		}
	})
}

// BenchmarkMillionRecords builds a zone of 1,000,000 records of the mix
// integration/bench/bigzone.sh generates, and reports its bytes per
// record (the Zone's slices, and the heap in use after a GC), the build's
// time per record, then times a lookup.
//
//	go test -run '^$' -bench MillionRecords/build -benchtime 1x ./zones/compact
//	go test -run '^$' -bench MillionRecords/lookup ./zones/compact
//
// canonical is a build and then the first canonical order (subtract
// build's time).
func BenchmarkMillionRecords(b *testing.B) {
	const records = 1_000_000
	var rrs []dns.RR
	zp := dns.NewZoneParser(bytes.NewReader(testkit.BenchZoneText(records)), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		b.Fatal(err)
	}
	var z *Zone
	build := func(b *testing.B) {
		builder := NewBuilder(records)
		for _, rr := range rrs {
			if err := builder.AddRR(rr, 0); err != nil {
				b.Fatal(err)
			}
		}
		var err error
		if z, err = builder.Build(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			build(b)
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(z.Bytes())/records, "slice-bytes/record")
			b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/records, "heap-bytes/record")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
	})
	b.Run("canonical", func(b *testing.B) {
		for b.Loop() {
			build(b)
			n := 0
			for range z.Canonical() {
				n++
			}
			if n != z.Names() {
				b.Fatalf("%d names in order, want %d", n, z.Names())
			}
		}
	})
	b.Run("lookup", func(b *testing.B) {
		if z == nil {
			build(b)
		}
		name := wireName(b, "h999999.yourwebapp.com.")
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := z.Lookup(name); !ok {
				b.Fatal("not found")
			}
		}
	})
	runtime.KeepAlive(rrs)
}

// asciiLower lowercases A to Z alone, as DNS names compare (RFC 4343).
func asciiLower(b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}

// labelsFromRight is a name's labels, lowercase, the rightmost first.
func labelsFromRight(name []byte) [][]byte {
	var labels [][]byte
	for off := 0; name[off] != 0; off += 1 + int(name[off]) {
		labels = append(labels, asciiLower(name[off+1:off+1+int(name[off])]))
	}
	slices.Reverse(labels)
	return labels
}

// canonicalLess is RFC 4034 section 6.1 as written: compare the labels
// from the right as octet strings; a name that runs out first sorts
// first.
func canonicalLess(a, b []byte) int {
	la, lb := labelsFromRight(a), labelsFromRight(b)
	for i := range min(len(la), len(lb)) {
		if c := bytes.Compare(la[i], lb[i]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

// TestCanonical: RFC 4034's own example, in any order added, comes back
// in its order; and names with a zero octet or a shared prefix sort as
// the RFC says.
func TestCanonical(t *testing.T) {
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
	}
	b := NewBuilder(0)
	for _, i := range []int{5, 2, 8, 0, 7, 1, 4, 6, 3} {
		if err := b.AddRR(mustRR(t, want[i]+" 60 IN TXT \"x\""), 0); err != nil {
			t.Fatal(err)
		}
	}
	z, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := range z.Canonical() {
		name, _, err := dns.UnpackDomainName(n.Name(), 0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	var wantLower []string
	for _, w := range want {
		name, _, _ := dns.UnpackDomainName(asciiLower(wireName(t, w)), 0)
		wantLower = append(wantLower, name)
	}
	if !slices.Equal(got, wantLower) {
		t.Fatalf("canonical order:\ngot  %q\nwant %q", got, wantLower)
	}
}

// FuzzCanonical: for any names, the order agrees with RFC 4034 as
// written.
func FuzzCanonical(f *testing.F) {
	f.Add([]byte("\x01a\x00\x02a\x00\x00\x01b\x01a\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder(0)
		for len(data) > 0 {
			end, err := skipName(data, 0)
			if err != nil || end > 255 {
				break
			}
			b.Add(data[:end], 1, 60, nil, 0)
			data = data[end:]
		}
		z, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		var prev []byte
		for n := range z.Canonical() {
			if prev != nil && canonicalLess(prev, n.Name()) >= 0 {
				t.Fatalf("%q before %q", prev, n.Name())
			}
			if prev != nil && (Compare(prev, n.Name()) != -1 || Compare(n.Name(), prev) != 1) {
				t.Fatalf("Compare(%q, %q) disagrees with the canonical order", prev, n.Name())
			}
			if Compare(n.Name(), n.Name()) != 0 {
				t.Fatalf("Compare(%q, itself) != 0", n.Name())
			}
			prev = n.Name()
		}
	})
}

// TestDuplicates: records that differ only in the case of the names they
// hold are one record (RFC 2181 5, RFC 4343), for the types whose names
// sit at a fixed place and for those with names among other data, in
// small sets and in sets large enough to be keyed; other data keeps its
// case.
func TestDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  int
	}{
		{"RP", []string{"a.test. 60 IN RP admin.Example.org. txt.example.org.", "a.test. 60 IN RP admin.example.org. TXT.example.org."}, 1},
		{"NAPTR", []string{`a.test. 60 IN NAPTR 100 10 "u" "E2U+sip" "" Sip.Example.org.`, `a.test. 60 IN NAPTR 100 10 "u" "E2U+sip" "" sip.example.org.`}, 1},
		{"NAPTR regexp keeps its case", []string{`a.test. 60 IN NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:A@b!" .`, `a.test. 60 IN NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:a@b!" .`}, 2},
		{"MX", []string{"a.test. 60 IN MX 10 Mail.test.", "a.test. 60 IN MX 10 mail.test."}, 1},
		{"TXT keeps its case", []string{`a.test. 60 IN TXT "A"`, `a.test. 60 IN TXT "a"`}, 2},
	} {
		for _, copies := range []int{1, 20} { // 20 copies of each: a keyed set
			b := NewBuilder(0)
			for i := range copies {
				for _, l := range tc.lines {
					if err := b.AddRR(mustRR(t, l), 0); err != nil {
						t.Fatal(err)
					}
				}
				if copies > 1 { // the first again with another TTL, which is no part of RDATA
					if err := b.AddRR(mustRR(t, strings.Replace(tc.lines[0], " 60 ", fmt.Sprintf(" %d ", 60+i), 1)), 0); err != nil {
						t.Fatal(err)
					}
				}
			}
			z, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if got := z.Records(); got != tc.want {
				t.Errorf("%s, %d copies: %d records, want %d", tc.name, copies, got, tc.want)
			}
		}
	}
}

// TestSetTooLarge: an RRset of more than a message can carry is an error,
// not a counter that wraps.
func TestSetTooLarge(t *testing.T) {
	b := NewBuilder(0)
	owner := []byte("\x01a\x04test\x00")
	for i := range 0x10000 {
		if err := b.Add(owner, dns.TypeA, 60, []byte{10, byte(i >> 16), byte(i >> 8), byte(i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Build(); !errors.Is(err, ErrSetTooLarge) {
		t.Errorf("Build of 65,536 A records at one name: got %v, want ErrSetTooLarge", err)
	}
}
