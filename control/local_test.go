package control

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"
)

func loadSite(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Load(testkit.Site(t, text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestReadingNeverWrites: status, history and verify with no server read
// the database and never write it, nor create it.
func TestReadingNeverWrites(t *testing.T) {
	t.Parallel()
	cfg := loadSite(t, "")
	ctl, _, direct, err := Connect(cfg.Path, ReadOnly, nil)
	if err != nil || !direct {
		t.Fatalf("Connect: got direct %v, %v", direct, err)
	}
	app, err := ctl.App(context.Background(), "site")
	if err != nil || app.Stored || app.Slots[0].Target != "blue.deploy.test." || app.Serial != 2026010101 {
		t.Errorf("status with no database: got %+v, %v; want the config's targets, not stored", app, err)
	}
	if app.DNSSEC != nil {
		t.Errorf("status of an unsigned zone: got dnssec %+v", *app.DNSSEC)
	}
	ctl.Close()
	if _, err := os.Stat(cfg.DB); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reading created the database: %v", err)
	}
	// With a database, in which a slot is now missing from the config.
	w, err := OpenLocal(cfg, Change, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Swap(context.Background(), "site", api.SwapRequest{}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	before := testkit.ReadFile(t, cfg.DB)
	cfg.Apps[0].Slots = cfg.Apps[0].Slots[:1] // production only
	r, err := OpenLocal(cfg, ReadOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if hist, err := r.History(context.Background(), "site", 0); err != nil || len(hist) != 1 {
		t.Errorf("history: got %v, %v", hist, err)
	}
	if w := r.Warnings(); len(w) != 1 || !strings.Contains(w[0], `slot "staging" of app "site" is in`) {
		t.Errorf("warnings: got %q, want the orphan slot", w)
	}
	if after := testkit.ReadFile(t, cfg.DB); after != before {
		t.Error("reading changed the database file")
	}
}

func TestDirectChangeThenServe(t *testing.T) {
	t.Parallel()
	cfg := loadSite(t, "")
	ctl, _, direct, err := Connect(cfg.Path, Change, nil)
	if err != nil || !direct {
		t.Fatalf("Connect: got direct %v, %v", direct, err)
	}
	if _, err := ctl.Set(context.Background(), "site", "staging", api.SetRequest{Target: "192.0.2.77"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Reload(context.Background()); !errors.Is(err, api.ErrNoServer) {
		t.Errorf("reload with no server: got %v", err)
	}
	ctl.Close()
	st := &site{t: t, path: cfg.Path}
	st.start()
	if got := st.answer("stage.example.com.", 1); got != "A 192.0.2.77" {
		t.Errorf("stage served after the direct change: got %q", got)
	}
	// With the server up, Connect gives its client, and the offline
	// commands refuse.
	if ctl, _, direct, err := Connect(cfg.Path, Change, nil); err != nil || direct {
		t.Errorf("Connect with a server: got direct %v, %v", direct, err)
	} else {
		ctl.Close()
	}
	if err := Forget(cfg, "site", false); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("forget with a server up: got %v", err)
	}
}

func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	st.swap(api.SwapRequest{Reason: "before the backup"})
	var buf bytes.Buffer
	if err := st.c.Backup(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	st.swap(api.SwapRequest{Reason: "after the backup"})
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer db.Close()
	var hist []store.Entry
	db.Read(func(v store.View) error { hist, err = v.History("site", 0); return err })
	if len(hist) != 1 || hist[0].Reason != "before the backup" {
		t.Errorf("history in the backup: got %+v, want the first swap alone", hist)
	}
}
