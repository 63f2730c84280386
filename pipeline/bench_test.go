package pipeline

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"
)

// The benchmarks of a swap as the server runs it: the read, the rule, the
// build of the next snapshot, the deltas, the drain state and the one
// commit with its fsync, and the publish. Each reports the median and
// 90th percentile of its swaps beside the mean that ns/op is.

// BenchmarkSwapManyZones swaps one app among 1,000 apps, each in its own
// zone.
func BenchmarkSwapManyZones(b *testing.B) {
	benchSwaps(b, testkit.ManyZones(b, b.TempDir(), `listen = ["127.0.0.1:0"]`, 1000), "app500")
}

// BenchmarkSwapTenThousandZones swaps one app among 10,000 apps, each in
// its own zone; open-s is the time from reading the config to serving.
func BenchmarkSwapTenThousandZones(b *testing.B) {
	benchSwaps(b, testkit.ManyZones(b, b.TempDir(), `listen = ["127.0.0.1:0"]`, 10000), "app5000")
}

// BenchmarkSwapMillionNames swaps the app of one zone of 1,000,000 names
// (SLOTDNS_BENCH_NAMES sets another number), generated at run time.
func BenchmarkSwapMillionNames(b *testing.B) {
	benchSwaps(b, testkit.BigZone(b, b.TempDir(), `listen = ["127.0.0.1:0"]`, testkit.BenchNames()), "big")
}

func benchSwaps(b *testing.B, path, app string) {
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	p, db := openForBench(b, cfg)
	defer db.Close()
	opened := time.Since(start)
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := p.Swap(app, "staging", "production", "", Meta{Actor: "bench"}); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "p90-ms")
	b.ReportMetric(opened.Seconds(), "open-s")
}

// BenchmarkOpenMillionNames parses and serves one zone of 1,000,000 names
// (SLOTDNS_BENCH_NAMES sets another number), as a start does: the zone
// file, the digest, the first snapshot and the database. Run it with
// -cpuprofile and -memprofile to see where a start goes.
//
//	go test -run '^$' -bench OpenMillionNames -benchtime 1x ./pipeline
func BenchmarkOpenMillionNames(b *testing.B) {
	path := testkit.BigZone(b, b.TempDir(), `listen = ["127.0.0.1:0"]`, testkit.BenchNames())
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, db := openForBench(b, cfg)
		db.Close()
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap")
}

// openForBench opens the pipeline of cfg as a start does: the zone
// files, the database and the first snapshot.
func openForBench(b *testing.B, cfg *config.Config) (*Pipeline, *store.DB) {
	files, err := cfg.LoadZones()
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := Open(db, cfg, files, Options{})
	if err != nil {
		db.Close()
		b.Fatal(err)
	}
	return p, db
}
