package scan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// viaZoneParser is what dns.ZoneParser reads from text, each record as
// "owner-wire type ttl rdata-wire" in hex, so that both sides compare
// byte for byte.
func viaZoneParser(text, origin string) ([]string, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	zp.SetDefaultTTL(3600)
	var out []string
	buf := make([]byte, 0x10000+512)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if rr.Header().Class != dns.ClassINET {
			return nil, errors.New("not IN")
		}
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			return nil, err
		}
		nameEnd, _ := wireNameEnd(buf)
		if end <= nameEnd+10 {
			return nil, errors.New("a record without its data")
		}
		out = append(out, fmt.Sprintf("%x %d %d %x", buf[:nameEnd], rr.Header().Rrtype, rr.Header().Ttl, buf[nameEnd+10:end]))
	}
	return out, zp.Err()
}

func viaScan(text, origin string) ([]string, error) {
	var out []string
	err := File([]byte(text), origin, 3600, func(r *Record) error {
		out = append(out, fmt.Sprintf("%x %d %d %x", r.Owner, r.Type, r.TTL, r.RDATA))
		return nil
	})
	return out, err
}

// sameAsZoneParser checks the package's promise: when the scan succeeds,
// it gives what dns.ZoneParser gives, record for record.
func sameAsZoneParser(t *testing.T, text, origin string) (scanned bool) {
	t.Helper()
	got, err := viaScan(text, origin)
	if err != nil {
		return false
	}
	want, werr := viaZoneParser(text, origin)
	if werr != nil {
		t.Fatalf("scan took what dns.ZoneParser refuses (%v):\n%s", werr, text)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scan and dns.ZoneParser differ on:\n%s\nscan:\n%s\nZoneParser:\n%s", text, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return true
}

const sample = `$ORIGIN example.com.
$TTL 300
@   IN SOA ns1 hostmaster ( 2024010101 ; serial
        3600 600 1209600 300 )
    IN NS  ns1
    NS ns2.example.net.
ns1 A 192.0.2.1
ns1 AAAA 2001:db8::1
www 60 IN CNAME web
web IN 120 A 192.0.2.2
    A 192.0.2.3
@ MX 10 mail
mail A 192.0.2.25
_sip._tcp SRV 10 20 5060 sip
txt TXT "hello world" "second"
esc TXT "a \"quoted\" word"
bare TXT unquoted
sub.Example.COM. A 192.0.2.9
rel.sub A 192.0.2.10
caa CAA 0 issue "letsencrypt.org"
$ORIGIN other.example.com.
x A 192.0.2.11
$TTL 3600
y 5 A 192.0.2.12
z A 192.0.2.13
`

// TestSample: a file with the usual forms, the parentheses of an SOA, a
// blank owner, TTLs before and after the class, an escaped quote, a
// type the fast path does not know, and a second $ORIGIN, scans as
// dns.ZoneParser parses it.
func TestSample(t *testing.T) {
	if !sameAsZoneParser(t, sample, "example.com.") {
		_, err := viaScan(sample, "example.com.")
		t.Fatalf("the sample did not scan: %v", err)
	}
}

// TestLastTTL: without $TTL, a record with no TTL takes the last one a
// record gave, as dns.ZoneParser has it.
func TestLastTTL(t *testing.T) {
	text := "$ORIGIN example.com.\n@ SOA ns1 h 1 2 3 4 5\na 60 A 192.0.2.1\nb A 192.0.2.2\nc 90 TXT \"x\"\nd CAA 0 issue \"ca\"\ne A 192.0.2.3\n"
	if !sameAsZoneParser(t, text, "example.com.") {
		t.Fatal("did not scan")
	}
}

// TestUnsupported: $INCLUDE and $GENERATE are the parser's.
func TestUnsupported(t *testing.T) {
	for _, text := range []string{"$INCLUDE other.zone\n", "$GENERATE 1-3 h$ A 192.0.2.$\n"} {
		if _, err := viaScan(text, "example.com."); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", text, err)
		}
	}
}

// TestErrorsGiveTheLine: an entry that does not parse is an *Error with
// its line.
func TestErrorsGiveTheLine(t *testing.T) {
	_, err := viaScan("$ORIGIN example.com.\na A 192.0.2.1\nb A 999.0.0.1\n", "example.com.")
	var se *Error
	if !errors.As(err, &se) || se.Line != 3 {
		t.Fatalf("got %v, want an *Error at line 3", err)
	}
}

// FuzzScan: whatever the text, a scan that succeeds gives exactly what
// dns.ZoneParser gives.
func FuzzScan(f *testing.F) {
	f.Add(sample)
	f.Add("a A 192.0.2.1\n  A 192.0.2.2\n")
	f.Add("a 1 IN TXT \"x\" ; c\nb IN 2 MX 1 @\n")
	f.Add("@ SOA a b (1 2\n3 4 5)\n")
	f.Fuzz(func(t *testing.T, text string) {
		sameAsZoneParser(t, text, "example.com.")
	})
}

// BenchmarkMillionRecords scans a zone of 1,000,000 records, beside
// dns.ZoneParser reading the same text, and reports the time per record.
//
//	go test -run '^$' -bench MillionRecords -benchtime 3x ./zones/scan
func BenchmarkMillionRecords(b *testing.B) {
	const n = 1_000_000
	text := testkit.BenchZoneText(n)
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			count := 0
			if err := File(text, "yourwebapp.com.", 3600, func(*Record) error { count++; return nil }); err != nil {
				b.Fatal(err)
			}
			if count != n+3 {
				b.Fatalf("%d records, want %d", count, n+3)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
	})
	b.Run("ZoneParser", func(b *testing.B) {
		for b.Loop() {
			zp := dns.NewZoneParser(strings.NewReader(string(text)), "yourwebapp.com.", "")
			for _, ok := zp.Next(); ok; _, ok = zp.Next() {
			}
			if err := zp.Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
	})
}

// TestBigZoneTakesTheFastPath: the records of the big zone's mix are
// packed here, not handed to the parser (the SOA in parentheses is).
func TestBigZoneTakesTheFastPath(t *testing.T) {
	before := delegated.Load()
	if !sameAsZoneParser(t, string(testkit.BenchZoneText(1000)), "yourwebapp.com.") {
		t.Fatal("did not scan")
	}
	if got := delegated.Load() - before; got != 1 {
		t.Fatalf("%d entries went to the parser, want 1 (the SOA)", got)
	}
}
