package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/store"
)

// The benchmarks of a swap as the server runs it: the read, the rule, the
// build of the next snapshot, the deltas, the drain state and the one
// commit with its fsync, and the publish. Each reports the median and
// 90th percentile of its swaps beside the mean that ns/op is.

// BenchmarkSwapManyZones swaps one app among 1,000 apps, each in its own
// zone.
func BenchmarkSwapManyZones(b *testing.B) {
	dir := b.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "listen = [\"127.0.0.1:0\"]\n")
	for i := range 1000 {
		origin := fmt.Sprintf("site%d.example.", i)
		writeZone(b, filepath.Join(dir, origin+"zone"), origin, 20)
		fmt.Fprintf(&cfg, "[[zone]]\norigin = %q\nfile = %q\n", origin, origin+"zone")
	}
	for i := range 1000 {
		fmt.Fprintf(&cfg, "[[app]]\nname = \"app%d\"\nzone = \"site%d.example.\"\n[app.slots.production]\nnames = [\"@\", \"www\"]\ntarget = \"192.0.2.%d\"\n[app.slots.staging]\nnames = [\"stage\"]\ntarget = \"203.0.113.%d\"\n", i, i, i%250+1, i%250+1)
	}
	benchSwaps(b, dir, cfg.String(), "app500")
}

// BenchmarkSwapMillionNames swaps the app of one zone of 1,000,000 names
// (SLOTDNS_BENCH_NAMES sets another number), generated at run time.
func BenchmarkSwapMillionNames(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SLOTDNS_BENCH_NAMES")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	writeZone(b, filepath.Join(dir, "big.example.zone"), "big.example.", n)
	cfg := "listen = [\"127.0.0.1:0\"]\n[[zone]]\norigin = \"big.example.\"\nfile = \"big.example.zone\"\n" +
		"[[app]]\nname = \"big\"\nzone = \"big.example.\"\n[app.slots.production]\nnames = [\"@\", \"www\"]\ntarget = \"192.0.2.1\"\n" +
		"[app.slots.staging]\nnames = [\"stage\"]\ntarget = \"203.0.113.1\"\n"
	benchSwaps(b, dir, cfg, "big")
}

// writeZone writes a zone of n names: addresses, text, mail and CNAMEs in
// and out of the zone.
func writeZone(b *testing.B, path, origin string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n@ MX 10 mail\nmail A 192.0.2.25\n", origin)
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(f, "c%d CNAME h%d\n", i, i+1)
		case 1:
			fmt.Fprintf(f, "h%d A 198.51.100.%d\nh%d TXT \"host %d\"\n", i, i%250+1, i, i)
		case 2:
			fmt.Fprintf(f, "e%d CNAME host%d.example.net.\n", i, i)
		default:
			fmt.Fprintf(f, "h%d A 198.51.100.%d\n", i, i%250+1)
		}
	}
}

func benchSwaps(b *testing.B, dir, cfgText, app string) {
	path := filepath.Join(dir, "slotdns.toml")
	if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	files, err := cfg.LoadZones()
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	p, err := Open(db, cfg, files, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("zones parsed and served in %s", time.Since(start).Round(time.Millisecond))
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
}
