package control

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// A reload serves a changed zone file at a new serial and journals it; an
// unchanged one (even with a new file serial) is left alone; a broken one
// keeps serving what it served.
func TestReload(t *testing.T) {
	cfg := loadTestConfig(t, "")
	s, addr, c := startWithClient(t, cfg)
	ctx := context.Background()
	file := filepath.Join(filepath.Dir(cfg.Path), "example.com.zone")
	serial := func() uint32 {
		return query(t, addr, "example.com.", dns.TypeSOA).Answer[0].(*dns.SOA).Serial
	}
	// A swap first, so that reloads are not the zone's first changes.
	if _, err := c.Swap(ctx, "site", SwapRequest{}); err != nil {
		t.Fatal(err)
	}
	start := serial()

	tests := []struct {
		name       string
		zone       string // the new example.com. file
		result     string
		serial     uint32 // served after the reload
		newA       string // answer for new.example.com. A after it
		error      string // a substring of the zone's error
		addedEntry string // a record the journal entry adds
	}{
		{"unchanged", testZone, ReloadUnchanged, start, "", "", ""},
		{"only the file serial", strings.Replace(testZone, "2026010101", "2026010150", 1), ReloadUnchanged, start, "", "", ""},
		{"a new record", testZone + "new     IN A    192.0.2.99\n", ReloadChanged, start + 1, "A 192.0.2.99", "", "new.example.com.\t3600\tIN\tA\t192.0.2.99"},
		{"a file serial ahead", strings.Replace(testZone, "2026010101", "2026020100", 1) + "new     IN A    192.0.2.100\n", ReloadChanged, 2026020100, "A 192.0.2.100", "", "new.example.com.\t3600\tIN\tA\t192.0.2.100"},
		{"broken", testZone + "new     IN A    not-an-address\n", ReloadError, 2026020100, "A 192.0.2.100", "example.com.zone:9:", ""},
		{"a slot name in the file", testZone + "www     IN A    192.0.2.7\n", ReloadError, 2026020100, "A 192.0.2.100", "example.com.zone:9: www.example.com. is a slot name of app \"site\" slot \"production\"", ""},
	}
	for _, tt := range tests {
		if err := os.WriteFile(file, []byte(tt.zone), 0o644); err != nil {
			t.Fatal(err)
		}
		before := serial()
		res, err := c.Reload(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got ZoneReload
		for _, z := range res.Zones {
			if z.Zone == "example.com." {
				got = z
			} else if z.Result != ReloadUnchanged {
				t.Errorf("%s: zone %s: got %s, want unchanged", tt.name, z.Zone, z.Result)
			}
		}
		if got.Result != tt.result || got.Serial != tt.serial || !strings.Contains(got.Error, tt.error) || (tt.error == "") != (got.Error == "") {
			t.Errorf("%s: got %s serial %d error %q, want %s serial %d error %q", tt.name, got.Result, got.Serial, got.Error, tt.result, tt.serial, tt.error)
		}
		if s := serial(); s != tt.serial {
			t.Errorf("%s: served serial: got %d, want %d", tt.name, s, tt.serial)
		}
		if a := answerText(query(t, addr, "new.example.com.", dns.TypeA)); a != tt.newA {
			t.Errorf("%s: new.example.com. A: got %q, want %q", tt.name, a, tt.newA)
		}
		if tt.addedEntry == "" {
			continue
		}
		deltas, ok, err := s.db.Journal("example.com.", before)
		if err != nil || !ok || len(deltas) != 1 {
			t.Errorf("%s: journal from %d: got %d deltas ok %v err %v, want 1", tt.name, before, len(deltas), ok, err)
			continue
		}
		if !slices.Contains(deltas[0].Added, tt.addedEntry) {
			t.Errorf("%s: journal adds %q, want it to hold %q", tt.name, deltas[0].Added, tt.addedEntry)
		}
	}
	last, err := c.Reload(ctx)
	if err != nil || len(last.Failed()) != 1 {
		t.Errorf("Failed: got %v (err %v), want the broken zone", last.Failed(), err)
	}
}

// Without a server there is nothing to reload.
func TestReloadLocal(t *testing.T) {
	cfg := loadTestConfig(t, "")
	l, err := OpenLocal(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Reload(context.Background()); !errors.Is(err, ErrNoServer) {
		t.Errorf("reload without a server: got %v, want ErrNoServer", err)
	}
}
