package integration

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// BenchmarkCLISwap runs the slotdns swap command, as a user does, against
// a server with 1,000 zones and apps, and with one zone of 1,000,000 names
// (SLOTDNS_BENCH_NAMES sets another number), and reports the command's
// own time: the config read, the request on the socket, the server's
// swap, the output. Run it with a fixed count:
//
//	go test -run '^$' -bench CLISwap -benchtime 50x ./integration
func BenchmarkCLISwap(b *testing.B) {
	for _, tc := range []struct {
		name  string
		write func(dir, listen string) string
		app   string
	}{
		{"1000zones", func(dir, listen string) string { return testkit.ManyZones(b, dir, listen, 1000) }, "app500"},
		{"bignames", func(dir, listen string) string { return testkit.BigZone(b, dir, listen, testkit.BenchNames()) }, "big"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			config := tc.write(dir, fmt.Sprintf("listen = [%q]", "127.0.0.1:"+fmt.Sprint(freePort(b))))
			proc := startProcess(b, dir, &testkit.Buffer{}, slotdnsBin, "serve", "--config", config)
			b.Cleanup(func() { proc.signal(syscall.SIGKILL); proc.wait(stopTimeout) })
			socket := filepath.Join(dir, "slotdns.sock")
			deadline := time.Now().Add(5 * time.Minute)
			for {
				if c, err := net.Dial("unix", socket); err == nil {
					c.Close()
					break
				}
				if !proc.running() || time.Now().After(deadline) {
					b.Fatalf("slotdns serve did not start: %s", proc.output())
				}
				time.Sleep(50 * time.Millisecond)
			}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if r := runCLI(b, dir, "--config", config, "swap", tc.app); r.code != 0 {
					b.Fatal(r)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(ms(took[len(took)/2]), "ms-median")
			b.ReportMetric(ms(took[len(took)*9/10]), "ms-p90")
		})
	}
}
