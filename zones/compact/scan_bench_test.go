package compact_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/zones/compact"
	"github.com/slotdns/slotdns/zones/scan"
)

// BenchmarkLoadMillionRecords reads the text of a zone of 1,000,000
// records (bigzone.sh's mix) with zones/scan straight into a compact
// Zone: the whole of a start's parse and index, with no dns.RR, and the
// memory it leaves.
//
//	go test -run '^$' -bench LoadMillionRecords -benchtime 3x ./zones/compact
func BenchmarkLoadMillionRecords(b *testing.B) {
	const records = 1_000_000
	var text strings.Builder
	text.WriteString("$ORIGIN yourwebapp.com.\n$TTL 3600\n@ SOA ns1 hostmaster ( 1 3600 600 1209600 300 )\n@ NS ns1\nns1 A 192.0.2.53\n")
	for i := range records {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&text, "c%d CNAME h%d\n", i, i+1)
		case 2:
			fmt.Fprintf(&text, "e%d CNAME host%d.example.net.\n", i, i)
		case 5:
			fmt.Fprintf(&text, "h%d TXT \"host %d\"\n", i-4, i-4)
		default:
			fmt.Fprintf(&text, "h%d A 198.51.100.%d\n", i, i%250+1)
		}
	}
	data := []byte(text.String())
	var z *compact.Zone
	for b.Loop() {
		builder := compact.NewBuilder(0)
		err := scan.File(data, "yourwebapp.com.", 3600, func(r *scan.Record) error {
			return builder.Add(r.Owner, r.Type, r.TTL, r.RDATA)
		})
		if err != nil {
			b.Fatal(err)
		}
		z = builder.Build()
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
	b.ReportMetric(float64(z.Bytes())/float64(z.Records()), "bytes/record")
	runtime.KeepAlive(data)
}
