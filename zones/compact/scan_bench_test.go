package compact_test

import (
	"runtime"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
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
	data := testkit.BenchZoneText(records)
	var z *compact.Zone
	for b.Loop() {
		builder := compact.NewBuilder(0)
		err := scan.File(data, "yourwebapp.com.", 3600, func(r *scan.Record) error {
			return builder.Add(r.Owner, r.Type, r.TTL, r.RDATA, uint32(r.Line))
		})
		if err != nil {
			b.Fatal(err)
		}
		z, err = builder.Build()
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/records, "ns/record")
	b.ReportMetric(float64(z.Bytes())/float64(z.Records()), "bytes/record")
	runtime.KeepAlive(data)
}
