package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestLoadZones(t *testing.T) {
	t.Parallel()
	cfg := load(t, "")
	loaded, err := cfg.LoadZones()
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 2 || loaded["example.com."].SOA.Serial != 2026010101 || loaded["deploy.test."].Origin != "deploy.test." {
		t.Errorf("got %v, want example.com. (serial 2026010101) and deploy.test.", loaded)
	}
	if err := cfg.Check(loaded); err != nil {
		t.Errorf("check: %v", err)
	}
}

// Every zone file is read, and the ones that load are returned beside
// the errors of the others.
func TestLoadZonesEveryError(t *testing.T) {
	t.Parallel()
	config := testkit.SiteConfig + "\n[[zone]]\norigin = \"third.test.\"\nfile = \"third.test.zone\"\n"
	path := testkit.Site(t, config)
	dir := filepath.Dir(path)
	testkit.WriteFile(t, filepath.Join(dir, "example.com.zone"), testkit.ExampleZone+"www IN A 192.0.2.300\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := cfg.LoadZones()
	got := errorsOf(err)
	if len(got) != 2 || !strings.HasPrefix(got[0], filepath.Join(dir, "example.com.zone")+":9: ") ||
		!strings.HasPrefix(got[1], path+`:28: zone "third.test.": file `+filepath.Join(dir, "third.test.zone")+": no such file or directory") {
		t.Errorf("got %q, want example.com.zone:9 and the missing third.test.zone at line 28", got)
	}
	if len(loaded) != 1 || loaded["deploy.test."] == nil {
		t.Errorf("loaded: got %v, want deploy.test. alone", loaded)
	}
	// The zones that did not load are skipped.
	if err := cfg.Check(loaded); err != nil {
		t.Errorf("check: %v", err)
	}
}

// A slot name that owns zone-file records is reported at the slot's
// names, naming the record's place.
func TestCheckConflict(t *testing.T) {
	t.Parallel()
	config := testkit.Edit(t, testkit.SiteConfig, `names  = ["stage"]`, `names  = ["stage", "docs", "mail"]`)
	cfg := load(t, config)
	loaded, err := cfg.LoadZones()
	if err != nil {
		t.Fatal(err)
	}
	got := errorsOf(cfg.Check(loaded))
	zoneFile := filepath.Join(filepath.Dir(cfg.Path), "example.com.zone")
	want := []string{
		cfg.Path + `:23: app "site": slot "staging": name docs.example.com. also owns records at ` + zoneFile + `:8; a slot name may not own zone-file records: remove them from the zone file or the name from the slot`,
		cfg.Path + `:23: app "site": slot "staging": name mail.example.com. also owns records at ` + zoneFile + `:7;`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %d errors", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d: got %q, want %q", i+1, got[i], want[i])
		}
	}
}
