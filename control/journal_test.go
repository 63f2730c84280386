package control

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// A swap is journaled with the records it removed and added, each list
// starting with its SOA; the DNS server's adapter reads them back.
func TestJournalSwap(t *testing.T) {
	cfg := loadTestConfig(t, "")
	l, err := OpenLocal(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The second of two swaps: its delta undoes the first.
	first, err := l.Swap(context.Background(), "site", SwapRequest{})
	if err != nil {
		t.Fatal(err)
	}
	before := first.Serial
	ch, err := l.Swap(context.Background(), "site", SwapRequest{})
	if err != nil {
		t.Fatal(err)
	}
	deltas, ok, err := l.db.Journal("example.com.", before)
	if err != nil || !ok || len(deltas) != 1 {
		t.Fatalf("journal from %d: got %d deltas, ok %v, err %v; want 1 delta", before, len(deltas), ok, err)
	}
	d := deltas[0]
	if d.From != before || d.To != ch.Serial {
		t.Errorf("delta: got %d -> %d, want %d -> %d", d.From, d.To, before, ch.Serial)
	}
	tests := []struct {
		list  string
		got   []string
		first uint32 // the SOA serial it starts with
		want  []string
	}{
		{"removed", d.Removed, before, []string{
			"www.example.com.\t30\tIN\tCNAME\tgreen.deploy.test.",
			"stage.example.com.\t30\tIN\tCNAME\tblue.deploy.test.",
			"example.com.\t30\tIN\tA\t198.51.100.20",
		}},
		{"added", d.Added, ch.Serial, []string{
			"www.example.com.\t30\tIN\tCNAME\tblue.deploy.test.",
			"stage.example.com.\t30\tIN\tCNAME\tgreen.deploy.test.",
			"example.com.\t30\tIN\tA\t198.51.100.10",
			"example.com.\t30\tIN\tAAAA\t2001:db8::10",
		}},
	}
	for _, tt := range tests {
		if len(tt.got) == 0 {
			t.Errorf("%s: empty", tt.list)
			continue
		}
		soa, err := dns.NewRR(tt.got[0])
		if err != nil || soa.Header().Rrtype != dns.TypeSOA || soa.(*dns.SOA).Serial != tt.first {
			t.Errorf("%s: got first %q, want the SOA with serial %d", tt.list, tt.got[0], tt.first)
		}
		for _, rr := range tt.want {
			if !slices.Contains(tt.got, rr) {
				t.Errorf("%s: got %q, want it to hold %q", tt.list, strings.Join(tt.got, " | "), rr)
			}
		}
		if len(tt.got) != len(tt.want)+1 {
			t.Errorf("%s: got %d records, want the SOA and %d", tt.list, len(tt.got), len(tt.want))
		}
	}

	ixfr, ok := l.transferJournal("example.com.", before)
	if !ok || len(ixfr) != 1 {
		t.Fatalf("transfer journal: got %d deltas, ok %v, want 1", len(ixfr), ok)
	}
	if got := ixfr[0].Added[0]; got.Header().Rrtype != dns.TypeSOA || got.(*dns.SOA).Serial != ch.Serial {
		t.Errorf("transfer journal: got first added %v, want the new SOA", got)
	}
	if _, ok := l.transferJournal("example.com.", first.Serial-100); ok {
		t.Errorf("transfer journal from a serial it never had: got ok, want a full transfer")
	}
}
