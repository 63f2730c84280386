package control

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSwapJournal is a swap in a zone of 100,000 names with the
// journal on: the snapshot is built for the journal and for serving, and
// the two record lists are diffed.
func BenchmarkSwapJournal(b *testing.B) {
	path := writeConfig(b, "")
	var zone strings.Builder
	zone.WriteString(testZone)
	for i := range 100_000 {
		fmt.Fprintf(&zone, "host%d IN A 192.0.%d.%d\n", i, i/256%256, i%256)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "example.com.zone"), []byte(zone.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		b.Fatal(err)
	}
	l, err := OpenLocal(cfg, discard())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Swap(context.Background(), "site", SwapRequest{}); err != nil {
			b.Fatal(err)
		}
	}
}
