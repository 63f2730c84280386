package pipeline

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// TestRenamedAppIsRefusedUntilRenamed is the new user's case: renaming an
// app in the config must not silently reseed production from the config.
func TestRenamedAppIsRefusedUntilRenamed(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	if _, err := s.p.Swap("site", "staging", "production", "", Meta{}); err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	testkit.WriteFile(t, s.path, testkit.Edit(t, testkit.SiteConfig, `name = "site"`, `name = "shop"`))
	cfg, err := config.Load(s.path)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := cfg.LoadZones()
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(db, cfg, files, Options{})
	var oe *OrphanError
	if !errors.As(err, &oe) || !errors.Is(err, ErrOrphans) || !strings.Contains(err.Error(), `app "site" is in the database but not in`) || !strings.Contains(err.Error(), "slotdns rename site NEW") {
		t.Fatalf("Open with the app renamed: got %v", err)
	}
	if err := Rename(db, cfg, "site", "shop"); err != nil {
		t.Fatal(err)
	}
	p, err := Open(db, cfg, files, Options{})
	if err != nil {
		t.Fatalf("Open after the rename: %v", err)
	}
	if got := strings.Join(rrStrings(p.Snapshot().Lookup("www.example.com.", dns.TypeCNAME).Answer), ""); got != "www.example.com. 30 CNAME green.deploy.test." {
		t.Errorf("www after the rename: got %q, want the swapped target kept", got)
	}
	var hist []store.Entry
	db.Read(func(v store.View) error { hist, _ = v.History("shop", 0); return nil })
	if len(hist) != 1 {
		t.Errorf("history under the new name: got %d entries, want 1", len(hist))
	}
}

func TestForgetAndReadOnlyOrphans(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	s.db.Close()
	// The staging slot is removed from the config.
	testkit.WriteFile(t, s.path, testkit.Edit(t, testkit.SiteConfig, "[app.slots.staging]\nnames  = [\"stage\"]\ntarget = \"green.deploy.test.\"\n", ""))
	cfg, err := config.Load(s.path)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := cfg.LoadZones()
	ro, err := store.Open(cfg.DB, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(ro, cfg, files, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open with an orphan: %v", err)
	}
	if o := p.Orphans(); len(o) != 1 || o[0].String() != `slot "staging" of app "site"` {
		t.Errorf("orphans: got %v", o)
	}
	if got := ro.Stats().Commits; got != 0 {
		t.Errorf("a read-only Open committed %d times", got)
	}
	ro.Close()
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Forget(db, cfg, "site/staging", false); err != nil {
		t.Fatal(err)
	}
	if err := Forget(db, cfg, "site/production", false); !errors.Is(err, ErrInvalid) {
		t.Errorf("forget a configured slot: got %v, want refused", err)
	}
	if _, err := Open(db, cfg, files, Options{}); err != nil {
		t.Errorf("Open after forgetting the slot: %v", err)
	}
}

// TestForgetZoneOfAMovedApp: an app the config moved to another zone
// does not hold back forgetting the zone it was in.
func TestForgetZoneOfAMovedApp(t *testing.T) {
	t.Parallel()
	s := openSite(t, "")
	s.db.Close()
	dir := filepath.Dir(s.path)
	testkit.WriteFile(t, filepath.Join(dir, "example.org.zone"), strings.Replace(testkit.ExampleZone, "example.com.", "example.org.", 1))
	moved := strings.ReplaceAll(testkit.SiteConfig, "example.com.", "example.org.")
	testkit.WriteFile(t, s.path, moved)
	cfg, err := config.Load(s.path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := cfg.LoadZones()
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orphans *OrphanError
	if _, err := Open(db, cfg, files, Options{}); !errors.As(err, &orphans) || len(orphans.Orphans) != 1 || !strings.Contains(orphans.Orphans[0].String(), "example.com.") {
		t.Fatalf("Open with the old zone stored: got %v, want it named as an orphan", err)
	}
	if err := Forget(db, cfg, "example.com.", true); err != nil {
		t.Fatalf("forget --zone of the app's old zone: %v", err)
	}
	p, err := Open(db, cfg, files, Options{})
	if err != nil {
		t.Fatalf("Open after forgetting the zone: %v", err)
	}
	if app, _ := p.App("site"); app.Zone != "example.org." || app.Slots["production"] != "blue.deploy.test." {
		t.Errorf("the moved app: got %+v, want it in example.org. with its targets", app)
	}
	if got := p.Snapshot().Lookup("www.example.org.", dns.TypeCNAME).Answer; len(got) != 1 {
		t.Errorf("www.example.org.: got %v", got)
	}
}
