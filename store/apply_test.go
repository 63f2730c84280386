package store

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
)

// openNew opens a new database under t.TempDir, closed at cleanup.
func openNew(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "slotdns.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustApply(t *testing.T, db *DB, b *Batch) Rev {
	t.Helper()
	rev, err := db.Apply(b)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return rev
}

func read[T any](t *testing.T, db *DB, fn func(View) (T, error)) T {
	t.Helper()
	var out T
	err := db.Read(func(v View) error {
		var err error
		out, err = fn(v)
		return err
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out
}

var siteApp = App{Name: "site", Zone: "example.com.", Version: 1, Slots: map[string]string{"production": "blue.deploy.test.", "staging": "green.deploy.test."}}

func TestApplyStampsRevisions(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{})
	rev := mustApply(t, db, &Batch{
		If:    []Cond{{Key: AppKey("site")}, {Key: ZoneKey("example.com.")}},
		Apps:  []App{siteApp},
		Zones: []Zone{{Origin: "example.com.", Serial: 7, Digest: "d1"}},
	})
	app := read(t, db, func(v View) (App, error) { return v.App("site") })
	zone := read(t, db, func(v View) (Zone, error) { return v.Zone("example.com.") })
	if app.Rev != rev || zone.Rev != rev || rev == 0 {
		t.Errorf("revisions: app %d, zone %d, want both %d (> 0)", app.Rev, zone.Rev, rev)
	}
	if zone.Serial != 7 || zone.Digest != "d1" || zone.Origin != "example.com." || !maps.Equal(app.Slots, siteApp.Slots) {
		t.Errorf("read back: app %+v, zone %+v", app, zone)
	}

	// A second batch moves only what it writes.
	next := siteApp
	next.Version = 2
	rev2 := mustApply(t, db, &Batch{If: []Cond{{Key: AppKey("site"), Rev: rev}}, Apps: []App{next}})
	if rev2 <= rev {
		t.Errorf("second revision %d, want more than %d", rev2, rev)
	}
	if got := read(t, db, func(v View) (Zone, error) { return v.Zone("example.com.") }).Rev; got != rev {
		t.Errorf("zone revision after an app write: got %d, want %d", got, rev)
	}
}

// TestApplyRefusesStaleConditions pins the contract: nothing of a batch
// is written unless every record is where the writer read it.
func TestApplyRefusesStaleConditions(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{})
	rev := mustApply(t, db, &Batch{Apps: []App{siteApp}})
	for _, tc := range []struct {
		name string
		cond Cond
		want string
	}{
		{"moved", Cond{Key: AppKey("site"), Rev: rev + 5}, `app "site" changed meanwhile`},
		{"created", Cond{Key: AppKey("site")}, `app "site" was created meanwhile`},
		{"removed", Cond{Key: AppKey("shop"), Rev: 3}, `app "shop" was removed meanwhile`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Apply(&Batch{
				If:      []Cond{tc.cond},
				Zones:   []Zone{{Origin: "example.com.", Serial: 9}},
				History: []Entry{{App: "site", Entry: api.Entry{Seq: 1, Kind: "swap"}}},
			})
			var ce *ConflictError
			if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply: got %v, want a conflict saying %q", err, tc.want)
			}
			zones := read(t, db, func(v View) ([]Zone, error) { return v.Zones() })
			history := read(t, db, func(v View) ([]Entry, error) { return v.History("site", 0) })
			if len(zones) != 0 || len(history) != 0 {
				t.Errorf("after a refused batch: zones %v, history %v, want none", zones, history)
			}
		})
	}
}

func TestHistoryAndEntries(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{})
	for seq := uint64(1); seq <= 5; seq++ {
		mustApply(t, db, &Batch{History: []Entry{{App: "site", Entry: api.Entry{Seq: seq, Kind: "swap", Reason: strings.Repeat("r", int(seq))}}}})
	}
	last3 := read(t, db, func(v View) ([]Entry, error) { return v.History("site", 3) })
	if len(last3) != 3 || last3[0].Seq != 3 || last3[2].Seq != 5 || last3[0].App != "site" {
		t.Errorf("History limit 3: got %+v", last3)
	}
	if e := read(t, db, func(v View) (Entry, error) { return v.Entry("site", 2) }); e.Reason != "rr" {
		t.Errorf("Entry 2: got %+v", e)
	}
	err := db.Read(func(v View) error { _, err := v.Entry("site", 6); return err })
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "entries 1 to 5") {
		t.Errorf("Entry 6: got %v, want not found naming the range", err)
	}
	if none := read(t, db, func(v View) ([]Entry, error) { return v.History("shop", 0) }); len(none) != 0 {
		t.Errorf("History of an app without changes: got %v", none)
	}
}

func TestJournalChainLimitAndDrop(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{JournalLimit: 3})
	for serial := uint32(10); serial < 15; serial++ {
		mustApply(t, db, &Batch{
			Zones:   []Zone{{Origin: "example.com.", Serial: serial + 1}},
			Journal: []Delta{{Zone: "example.com.", From: serial, To: serial + 1, Added: []string{"x"}}},
		})
	}
	journal := func(from uint32) ([]Delta, bool) {
		t.Helper()
		var deltas []Delta
		var ok bool
		err := db.Read(func(v View) error {
			var err error
			deltas, ok, err = v.Journal("example.com.", from)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return deltas, ok
	}
	if d, ok := journal(12); !ok || len(d) != 3 || d[0].From != 12 || d[2].To != 15 {
		t.Errorf("journal from 12 (the oldest kept): got %+v, %v", d, ok)
	}
	if _, ok := journal(11); ok {
		t.Error("journal from 11: got ok, want a full transfer (beyond the limit of 3)")
	}
	if d, ok := journal(15); !ok || len(d) != 0 {
		t.Errorf("journal from the current serial: got %v, %v, want none and ok", d, ok)
	}
	// A change that is not journaled cuts the chain.
	mustApply(t, db, &Batch{Zones: []Zone{{Origin: "example.com.", Serial: 20}}, DropJournals: []string{"example.com."}})
	if _, ok := journal(14); ok {
		t.Error("journal across an unjournaled change: got ok")
	}
}

func TestDeleteApp(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{})
	rev := mustApply(t, db, &Batch{
		Apps:    []App{siteApp},
		Drains:  []DrainState{{App: "site", Digest: "x", TTL: 30}},
		History: []Entry{{App: "site", Entry: api.Entry{Seq: 1, Kind: "swap"}}},
	})
	renamed := siteApp
	renamed.Name = "shop"
	mustApply(t, db, &Batch{
		If:         []Cond{{Key: AppKey("site"), Rev: rev}, {Key: AppKey("shop")}},
		DeleteApps: []string{"site"},
		Apps:       []App{renamed},
		History:    []Entry{{App: "shop", Entry: api.Entry{Seq: 1, Kind: "swap"}}},
	})
	err := db.Read(func(v View) error { _, err := v.App("site"); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted app: got %v, want not found", err)
	}
	drains := read(t, db, func(v View) (map[string]DrainState, error) { return v.Drains() })
	history := read(t, db, func(v View) ([]Entry, error) { return v.History("site", 0) })
	moved := read(t, db, func(v View) ([]Entry, error) { return v.History("shop", 0) })
	if len(drains) != 0 || len(history) != 0 || len(moved) != 1 {
		t.Errorf("after the rename: drains %v, old history %v, new history %v", drains, history, moved)
	}
}

func TestOpenRefusesDamagedFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    string
	}{
		{"empty file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "the file is empty (0 bytes)"},
		{"not a database", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("slotdns "), 4096), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a slotdns database"},
		{"overwritten pages", func(t *testing.T, path string) {
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for seq := uint64(1); seq <= 200; seq++ {
				if _, err := db.Apply(&Batch{History: []Entry{{App: "site", Entry: api.Entry{Seq: seq, Kind: "swap", Reason: strings.Repeat("x", 300)}}}}); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := f.Stat()
			// Clobber a few pages in the middle, as a bad disk or a stray
			// write would; the meta pages at the start stay intact.
			junk := bytes.Repeat([]byte{0xA5}, 3*4096)
			if _, err := f.WriteAt(junk, info.Size()/2/4096*4096); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}, "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "slotdns.db")
			tc.prepare(t, path)
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open: got nil error")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: got %q, want ErrDamaged saying %q and naming %s", err, tc.want, path)
			}
		})
	}
}

func TestBackupIsADatabase(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{})
	mustApply(t, db, &Batch{Apps: []App{siteApp}, History: []Entry{{App: "site", Entry: api.Entry{Seq: 1, Kind: "swap", Time: time.Unix(1, 0).UTC()}}}})
	var buf bytes.Buffer
	if err := db.Backup(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer restored.Close()
	history := read(t, restored, func(v View) ([]Entry, error) { return v.History("site", 0) })
	if len(history) != 1 || history[0].Kind != "swap" {
		t.Errorf("history in the backup: got %+v", history)
	}
}

func TestStatsCountCommits(t *testing.T) {
	t.Parallel()
	db := openNew(t, Options{})
	before := db.Stats()
	mustApply(t, db, &Batch{Apps: []App{siteApp}, Zones: []Zone{{Origin: "example.com.", Serial: 1}}, History: []Entry{{App: "site", Entry: api.Entry{Seq: 1}}}})
	_ = db.Read(func(View) error { return nil })
	after := db.Stats()
	if after.Commits-before.Commits != 1 || after.Reads-before.Reads != 1 {
		t.Errorf("one Apply and one Read: got %+v then %+v", before, after)
	}
	if _, err := db.Apply(&Batch{If: []Cond{{Key: AppKey("nosuch"), Rev: 1}}}); err == nil {
		t.Fatal("a refused batch: got nil error")
	}
	if got := db.Stats().Commits; got != after.Commits {
		t.Errorf("a refused batch committed: commits %d, want %d", got, after.Commits)
	}
}
