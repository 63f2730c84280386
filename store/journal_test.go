package store

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// stateLines prints what a journaler is given: "serial N", one line per app
// of the zone and one per alias record, so that a Delta shows the states
// the store handed over.
func stateLines(s ZoneState) []string {
	lines := []string{fmt.Sprintf("%s serial %d", s.Zone, s.Serial)}
	for _, a := range s.Apps {
		var slots []string
		for _, slot := range slices.Sorted(maps.Keys(a.Slots)) {
			slots = append(slots, slot+"="+a.Slots[slot])
		}
		lines = append(lines, fmt.Sprintf("app %s %s", a.Name, strings.Join(slots, " ")))
	}
	for _, target := range slices.Sorted(maps.Keys(s.Aliases)) {
		lines = append(lines, fmt.Sprintf("alias %s %s", target, strings.Join(s.Aliases[target].Addrs, ",")))
	}
	return lines
}

// stateJournaler journals the whole state before and after each change.
func stateJournaler(before, after ZoneState) (Delta, error) {
	return Delta{Removed: stateLines(before), Added: stateLines(after)}, nil
}

// journaledDB is the seeded database with stateJournaler installed after
// one unjournaled bump, so that the journal starts at testSerial+1 and
// testSerial is a serial it cannot answer from. A second app lives in
// another zone, which no delta of testZone may show.
func journaledDB(t *testing.T, limit int) *DB {
	t.Helper()
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.SeedZone("example.net.", 7, testDigest); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SeedApp("other", "example.net.", map[string]string{"production": "10.0.0.9"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BumpSerial(testZone); err != nil {
		t.Fatal(err)
	}
	db.SetJournal(stateJournaler, limit)
	return db
}

// journalFrom calls Journal and fails the test on an error.
func journalFrom(t *testing.T, db *DB, zone string, from uint32) ([]Delta, bool) {
	t.Helper()
	deltas, ok, err := db.Journal(zone, from)
	if err != nil {
		t.Fatalf("Journal(%s, %d): %v", zone, from, err)
	}
	return deltas, ok
}

// TestJournalPerChangeKind pins the states each kind of change hands the
// journaler, and that its delta is stored with the serials of the change.
func TestJournalPerChangeKind(t *testing.T) {
	const s = testSerial + 1
	original := "app yourwebapp production=" + blue + " staging=" + green
	swapped := "app yourwebapp production=" + green + " staging=" + blue
	serial := func(n uint32) string { return fmt.Sprintf("%s serial %d", testZone, n) }
	tests := []struct {
		name   string
		change func(t *testing.T, db *DB)
		want   Delta
	}{
		{
			name: "swap",
			change: func(t *testing.T, db *DB) {
				if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
					t.Fatal(err)
				}
			},
			want: Delta{From: s, To: s + 1, Removed: []string{serial(s), original}, Added: []string{serial(s + 1), swapped}},
		},
		{
			name: "set",
			change: func(t *testing.T, db *DB) {
				if _, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: "10.0.0.1"}); err != nil {
					t.Fatal(err)
				}
			},
			want: Delta{From: s, To: s + 1, Removed: []string{serial(s), original},
				Added: []string{serial(s + 1), "app yourwebapp production=" + blue + " staging=10.0.0.1"}},
		},
		{
			name: "rollback",
			change: func(t *testing.T, db *DB) {
				if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Rollback(testApp, Meta{}); err != nil {
					t.Fatal(err)
				}
			},
			want: Delta{From: s + 1, To: s + 2, Removed: []string{serial(s + 1), swapped}, Added: []string{serial(s + 2), original}},
		},
		{
			name: "alias change",
			change: func(t *testing.T, db *DB) {
				if _, _, err := db.SaveAlias(AliasRecord{Target: "lb.example.net.", Addrs: []string{"192.0.2.7"}}, []string{testZone}); err != nil {
					t.Fatal(err)
				}
			},
			want: Delta{From: s, To: s + 1, Removed: []string{serial(s), original},
				Added: []string{serial(s + 1), original, "alias lb.example.net. 192.0.2.7"}},
		},
		{
			name: "bump",
			change: func(t *testing.T, db *DB) {
				if _, err := db.BumpSerial(testZone); err != nil {
					t.Fatal(err)
				}
			},
			want: Delta{From: s, To: s + 1, Removed: []string{serial(s), original}, Added: []string{serial(s + 1), original}},
		},
		{
			name: "zone file change",
			change: func(t *testing.T, db *DB) {
				got, err := db.ZoneChanged(testZone, 0, testDigest, func(from, to uint32) (Delta, error) {
					return Delta{Removed: []string{serial(from), "www A 192.0.2.1"}, Added: []string{serial(to), "www A 192.0.2.2"}}, nil
				})
				if err != nil || got != s+1 {
					t.Fatalf("ZoneChanged: got %d, %v; want %d", got, err, s+1)
				}
			},
			want: Delta{From: s, To: s + 1, Removed: []string{serial(s), "www A 192.0.2.1"}, Added: []string{serial(s + 1), "www A 192.0.2.2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := journaledDB(t, 0)
			tt.change(t, db)
			deltas, ok := journalFrom(t, db, testZone, tt.want.From)
			if !ok || len(deltas) != 1 || !reflect.DeepEqual(deltas[0], tt.want) {
				t.Errorf("Journal(%d): got %+v, %v; want [%+v], true", tt.want.From, deltas, ok, tt.want)
			}
			if deltas, ok := journalFrom(t, db, "example.net.", 7); !ok || len(deltas) != 0 {
				t.Errorf("journal of the other zone: got %+v, %v; want none, true", deltas, ok)
			}
		})
	}
}

func TestJournalChain(t *testing.T) {
	db := journaledDB(t, 0)
	const base = testSerial + 1
	for range 5 {
		if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name   string
		from   uint32
		ok     bool
		deltas int
	}{
		{"from the start", base, true, 5},
		{"from the middle", base + 3, true, 2},
		{"from the current serial", base + 5, true, 0},
		{"from before the journal", base - 1, false, 0},
		{"from a serial never served", base + 100, false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			deltas, ok := journalFrom(t, db, testZone, tt.from)
			if ok != tt.ok || len(deltas) != tt.deltas {
				t.Fatalf("Journal(%d): got %d deltas, %v; want %d, %v", tt.from, len(deltas), ok, tt.deltas, tt.ok)
			}
			for i, d := range deltas {
				if want := tt.from + uint32(i); d.From != want || d.To != want+1 {
					t.Errorf("delta %d: got %d -> %d, want %d -> %d", i, d.From, d.To, want, want+1)
				}
			}
		})
	}
}

func TestJournalLimit(t *testing.T) {
	const limit = 3
	db := journaledDB(t, limit)
	const base = testSerial + 1
	for range 5 {
		if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
			t.Fatal(err)
		}
	}
	for from := uint32(base); from <= base+5; from++ {
		deltas, ok := journalFrom(t, db, testZone, from)
		kept := from >= base+5-limit
		if ok != kept || kept && len(deltas) != int(base+5-from) {
			t.Errorf("Journal(%d): got %d deltas, %v; want kept %v", from, len(deltas), ok, kept)
		}
	}
	// A lower limit drops the surplus on the next change.
	db.SetJournal(stateJournaler, 1)
	if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
		t.Fatal(err)
	}
	if _, ok := journalFrom(t, db, testZone, base+4); ok {
		t.Errorf("Journal(%d) after lowering the limit to 1: ok, want dropped", base+4)
	}
	if deltas, ok := journalFrom(t, db, testZone, base+5); !ok || len(deltas) != 1 {
		t.Errorf("Journal(%d): got %d deltas, %v; want 1, true", base+5, len(deltas), ok)
	}
}

// TestJournalSerialWrap runs the serial across 2^32 (RFC 1982): the
// journal keeps its order and chain.
func TestJournalSerialWrap(t *testing.T) {
	db := openTestDB(t)
	if _, err := db.SeedZone(testZone, 0xFFFFFFFE, testDigest); err != nil {
		t.Fatal(err)
	}
	db.SetJournal(stateJournaler, 0)
	var serials []uint32
	for range 3 {
		s, err := db.BumpSerial(testZone)
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, s)
	}
	if want := []uint32{0xFFFFFFFF, 0, 1}; !slices.Equal(serials, want) {
		t.Fatalf("serials: got %v, want %v", serials, want)
	}
	deltas, ok := journalFrom(t, db, testZone, 0xFFFFFFFE)
	var steps []string
	for _, d := range deltas {
		steps = append(steps, fmt.Sprintf("%d->%d", d.From, d.To))
	}
	if want := []string{"4294967294->4294967295", "4294967295->0", "0->1"}; !ok || !slices.Equal(steps, want) {
		t.Errorf("Journal(0xFFFFFFFE): got %v, %v; want %v, true", steps, ok, want)
	}
	if deltas, ok := journalFrom(t, db, testZone, 0); !ok || len(deltas) != 1 {
		t.Errorf("Journal(0): got %+v, %v; want one delta", deltas, ok)
	}
}

func TestZoneChangedSerial(t *testing.T) {
	for _, tt := range []struct {
		name          string
		stored, least uint32
		want          uint32
	}{
		{"file serial behind", 100, 50, 101},
		{"file serial equal", 100, 100, 101},
		{"file serial one ahead", 100, 101, 101},
		{"file serial ahead", 100, 2026112601, 2026112601},
		{"across the wrap", 0xFFFFFFF0, 5, 5},
		{"file serial behind across the wrap", 5, 0xFFFFFFF0, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			if _, err := db.SeedZone(testZone, tt.stored, testDigest); err != nil {
				t.Fatal(err)
			}
			var from, to uint32
			got, err := db.ZoneChanged(testZone, tt.least, testDigest, func(f, t uint32) (Delta, error) {
				from, to = f, t
				return Delta{}, nil
			})
			if err != nil || got != tt.want || from != tt.stored || to != tt.want {
				t.Errorf("ZoneChanged: got %d, %v (delta asked for %d -> %d); want %d", got, err, from, to, tt.want)
			}
			if deltas, ok := journalFrom(t, db, testZone, tt.stored); !ok || len(deltas) != 1 || deltas[0].From != tt.stored || deltas[0].To != tt.want {
				t.Errorf("Journal(%d): got %+v, %v", tt.stored, deltas, ok)
			}
		})
	}
}

// TestJournalerErrorAbortsChange checks that a failing journaler leaves
// everything as it was: slots, serial, history, aliases and journal.
func TestJournalerErrorAbortsChange(t *testing.T) {
	errJournal := errors.New("cannot compute")
	tests := []struct {
		name   string
		change func(db *DB) error
	}{
		{"swap", func(db *DB) error { _, err := db.Swap(SwapRequest{App: testApp}); return err }},
		{"set", func(db *DB) error {
			_, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: "10.0.0.1"})
			return err
		}},
		{"rollback", func(db *DB) error { _, err := db.Rollback(testApp, Meta{}); return err }},
		{"alias change", func(db *DB) error {
			_, _, err := db.SaveAlias(AliasRecord{Target: "lb.example.net.", Addrs: []string{"192.0.2.7"}}, []string{testZone})
			return err
		}},
		{"bump", func(db *DB) error { _, err := db.BumpSerial(testZone); return err }},
		{"zone file change", func(db *DB) error {
			_, err := db.ZoneChanged(testZone, 0, testDigest, func(uint32, uint32) (Delta, error) { return Delta{}, errJournal })
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := journaledDB(t, 0)
			if _, err := db.Swap(SwapRequest{App: testApp}); err != nil { // something to roll back
				t.Fatal(err)
			}
			const current = testSerial + 2
			db.SetJournal(func(ZoneState, ZoneState) (Delta, error) { return Delta{}, errJournal }, 0)

			if err := tt.change(db); !errors.Is(err, errJournal) {
				t.Fatalf("change: got %v, want the journaler's error", err)
			}
			if serial, _ := db.ZoneSerial(testZone); serial != current {
				t.Errorf("serial: got %d, want unchanged %d", serial, current)
			}
			if app, _ := db.App(testApp); app.Version != 1 || app.Slots["production"] != green {
				t.Errorf("app: got %+v, want version 1 with production on green", app)
			}
			if history, _ := db.History(testApp, 0); len(history) != 1 {
				t.Errorf("history: got %d entries, want 1", len(history))
			}
			if aliases, _ := db.Aliases(); len(aliases) != 0 {
				t.Errorf("aliases: got %v, want none", aliases)
			}
			if deltas, ok := journalFrom(t, db, testZone, testSerial+1); !ok || len(deltas) != 1 {
				t.Errorf("Journal(%d): got %d deltas, %v; want the one before, true", testSerial+1, len(deltas), ok)
			}
		})
	}
}

// TestJournalCut checks that every change the journal cannot describe
// makes it answer "cannot" (ok false) for serials before it, and that
// journaling resumes after it.
func TestJournalCut(t *testing.T) {
	const base = testSerial + 1
	swap := func(t *testing.T, db *DB) {
		t.Helper()
		if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		cut  func(t *testing.T, db *DB)
		// resumes is the first serial the journal answers from again,
		// after two more swaps.
		resumes uint32
	}{
		{
			name: "change without a journaler",
			cut: func(t *testing.T, db *DB) {
				db.SetJournal(nil, 0)
				swap(t, db)
				db.SetJournal(stateJournaler, 0)
			},
			resumes: base + 2,
		},
		{
			name: "zone file change without a delta",
			cut: func(t *testing.T, db *DB) {
				if _, err := db.ZoneChanged(testZone, 0, testDigest, nil); err != nil {
					t.Fatal(err)
				}
			},
			resumes: base + 2,
		},
		{
			name: "zone seeded with a higher file serial",
			cut: func(t *testing.T, db *DB) {
				if _, err := db.SeedZone(testZone, base+10, testDigest); err != nil {
					t.Fatal(err)
				}
			},
			resumes: base + 10,
		},
		{
			name: "slots added in place",
			cut: func(t *testing.T, db *DB) {
				if _, err := db.SeedApp(testApp, testZone, map[string]string{"qa": "10.0.0.1"}); err != nil {
					t.Fatal(err)
				}
			},
			resumes: base + 2, // a secondary at base+1 may lack qa: that change is not journaled
		},
		{
			name: "app moved in from another zone",
			cut: func(t *testing.T, db *DB) {
				if _, err := db.SeedApp("other", testZone, nil); err != nil {
					t.Fatal(err)
				}
			},
			resumes: base + 2,
		},
		{
			name: "CutJournal",
			cut: func(t *testing.T, db *DB) {
				if err := db.CutJournal(testZone); err != nil {
					t.Fatal(err)
				}
			},
			resumes: base + 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := journaledDB(t, 0)
			swap(t, db)
			tt.cut(t, db)
			swap(t, db)
			swap(t, db)
			current, _ := db.ZoneSerial(testZone)
			if !SerialLess(tt.resumes, current) {
				t.Fatalf("the serial is at %d, not past %d where the journal should resume", current, tt.resumes)
			}
			for from := uint32(base); from != current; from++ {
				deltas, ok := journalFrom(t, db, testZone, from)
				if want := from == tt.resumes; ok != want || ok && len(deltas) != int(current-from) {
					t.Errorf("Journal(%d) with the serial at %d: got %d deltas, %v; want ok %v", from, current, len(deltas), ok, want)
				}
				if from == tt.resumes {
					break
				}
			}
			if _, ok := journalFrom(t, db, testZone, current); !ok {
				t.Errorf("Journal(current %d): not ok", current)
			}
		})
	}
}

func TestJournalUnknownZone(t *testing.T) {
	db := journaledDB(t, 0)
	if _, _, err := db.Journal("nosuch.", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Journal(nosuch.): got %v, want ErrNotFound", err)
	}
	_, err := db.ZoneChanged("nosuch.", 1, testDigest, func(uint32, uint32) (Delta, error) { return Delta{}, nil })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("ZoneChanged(nosuch.): got %v, want ErrNotFound", err)
	}
}

// TestJournalSurvivesReopen checks that the journal is on disk, and that
// a database opened read-only answers from it.
func TestJournalSurvivesReopen(t *testing.T) {
	db := journaledDB(t, 0)
	if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	db.Close()
	ro, err := Open(path, Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if deltas, ok, err := ro.Journal(testZone, testSerial+1); err != nil || !ok || len(deltas) != 1 {
		t.Errorf("Journal after reopen: got %d deltas, %v, %v; want 1, true", len(deltas), ok, err)
	}
}

// TestJournalSeedBeforeServing checks when seeding slots cuts the journal:
// not in a zone that this DB created or raised the serial of and that has
// not changed since (nothing can have been transferred at that serial),
// but in one that was open before, or changed since.
func TestJournalSeedBeforeServing(t *testing.T) {
	addQA := func(t *testing.T, db *DB) {
		t.Helper()
		if _, err := db.SeedApp(testApp, testZone, map[string]string{"qa": "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// prepare runs on the seeded database and returns it, or another
		// handle on its file, before qa is seeded and one swap made.
		prepare func(t *testing.T, db *DB) *DB
		cut     bool
	}{
		{"zone created by this DB", func(t *testing.T, db *DB) *DB { return db }, false},
		{"reopened", func(t *testing.T, db *DB) *DB {
			path := db.Path()
			db.Close()
			return openAt(t, path)
		}, true},
		{"reopened, file serial raised", func(t *testing.T, db *DB) *DB {
			path := db.Path()
			db.Close()
			db = openAt(t, path)
			if _, err := db.SeedZone(testZone, testSerial+5, testDigest); err != nil {
				t.Fatal(err)
			}
			return db
		}, false},
		{"reopened, file serial not raised", func(t *testing.T, db *DB) *DB {
			path := db.Path()
			db.Close()
			db = openAt(t, path)
			if _, err := db.SeedZone(testZone, testSerial, testDigest); err != nil {
				t.Fatal(err)
			}
			return db
		}, true},
		{"changed since", func(t *testing.T, db *DB) *DB {
			if _, err := db.BumpSerial(testZone); err != nil {
				t.Fatal(err)
			}
			return db
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			seed(t, db)
			db = tt.prepare(t, db)
			db.SetJournal(stateJournaler, 0)
			from, _ := db.ZoneSerial(testZone)
			addQA(t, db)
			if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
				t.Fatal(err)
			}
			if _, ok := journalFrom(t, db, testZone, from); ok == tt.cut {
				t.Errorf("Journal(%d) after seeding qa and a swap: ok %v, want %v", from, ok, !tt.cut)
			}
		})
	}
}
