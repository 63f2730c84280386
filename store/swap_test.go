package store

import (
	"errors"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func entriesEqual(a, b Entry) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.Time = b.Time
	return reflect.DeepEqual(a, b)
}

func TestSwapIsOneChange(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)

	got, err := db.Swap(SwapRequest{App: testApp, Meta: Meta{Actor: "alice", Reason: "release 7"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{
		Seq: 1, Kind: "swap", Actor: "alice", Reason: "release 7",
		Before: map[string]string{"production": blue, "staging": green},
		After:  map[string]string{"production": green, "staging": blue},
		Zone:   testZone, Serial: testSerial + 1, Version: 1,
	}
	want.Time = got.Time
	if !entriesEqual(got, want) {
		t.Errorf("entry: got %+v, want %+v", got, want)
	}
	if got.Time.IsZero() {
		t.Error("entry has no time")
	}

	app, err := db.App(testApp)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(app.Slots, want.After) || app.Version != 1 || !app.Updated.Equal(got.Time) {
		t.Errorf("app: got %+v, want slots %v, version 1, updated %v", app, want.After, got.Time)
	}
	if serial, _ := db.ZoneSerial(testZone); serial != testSerial+1 {
		t.Errorf("serial: got %d, want %d", serial, testSerial+1)
	}
	history, _ := db.History(testApp, 0)
	if len(history) != 1 || !entriesEqual(history[0], got) {
		t.Errorf("history: got %+v, want [%+v]", history, got)
	}
}

// TestRefusedMutationsChangeNothing pins that a refused request leaves
// targets, version, serial and history as they were.
func TestRefusedMutationsChangeNothing(t *testing.T) {
	tests := []struct {
		name    string
		do      func(db *DB) error
		wantErr error
		wantMsg string
	}{
		{
			name: "swap expect mismatch",
			do: func(db *DB) error {
				_, err := db.Swap(SwapRequest{App: testApp, Expect: blue})
				return err
			},
			wantErr: ErrConflict,
			wantMsg: `swap "yourwebapp": conflict: staging is "green-def.cloudapp.net.", expected "blue-abc.cloudapp.net."`,
		},
		{
			name: "set expect mismatch",
			do: func(db *DB) error {
				_, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: "test3.cloudapp.net.", Expect: blue})
				return err
			},
			wantErr: ErrConflict,
			wantMsg: `staging is "green-def.cloudapp.net.", expected "blue-abc.cloudapp.net."`,
		},
		{
			name: "swap same target",
			do: func(db *DB) error {
				_, err := db.Swap(SwapRequest{App: testApp, Slot: "staging", With: "qa"})
				return err
			},
			wantErr: ErrSameTarget,
			wantMsg: `staging and qa both point at "green-def.cloudapp.net."`,
		},
		{
			name: "swap slot with itself",
			do: func(db *DB) error {
				_, err := db.Swap(SwapRequest{App: testApp, Slot: "production"})
				return err
			},
			wantMsg: `cannot swap slot "production" with itself`,
		},
		{
			name: "swap unknown slot",
			do: func(db *DB) error {
				_, err := db.Swap(SwapRequest{App: testApp, Slot: "canary"})
				return err
			},
			wantErr: ErrNotFound,
			wantMsg: `swap "yourwebapp": slot "canary" not found (app has slots: production, qa, staging)`,
		},
		{
			name: "swap unknown app",
			do: func(db *DB) error {
				_, err := db.Swap(SwapRequest{App: "nosuchapp"})
				return err
			},
			wantErr: ErrNotFound,
			wantMsg: `swap "nosuchapp": app not found (stored apps: yourwebapp)`,
		},
		{
			name: "set unknown slot",
			do: func(db *DB) error {
				_, err := db.Set(SetRequest{App: testApp, Slot: "canary", Target: blue})
				return err
			},
			wantErr: ErrNotFound,
			wantMsg: `slot "canary" not found`,
		},
		{
			name: "set to the current target",
			do: func(db *DB) error {
				_, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: green})
				return err
			},
			wantErr: ErrNoChange,
			wantMsg: `set "yourwebapp": conflict: nothing to change: staging already points at "green-def.cloudapp.net."`,
		},
		{
			name: "set empty target",
			do: func(db *DB) error {
				_, err := db.Set(SetRequest{App: testApp, Slot: "staging"})
				return err
			},
			wantMsg: "empty target",
		},
		{
			name: "rollback without history",
			do: func(db *DB) error {
				_, err := db.Rollback(testApp, Meta{})
				return err
			},
			wantErr: ErrConflict,
			wantMsg: "nothing to roll back",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			seed(t, db)
			if _, err := db.SeedApp(testApp, testZone, map[string]string{"qa": green}); err != nil {
				t.Fatal(err)
			}
			before, _ := db.App(testApp)

			err := tt.do(db)
			if err == nil {
				t.Fatal("got nil error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error: got %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantMsg)
			}

			after, _ := db.App(testApp)
			if !reflect.DeepEqual(after, before) {
				t.Errorf("app: got %+v, want unchanged %+v", after, before)
			}
			if serial, _ := db.ZoneSerial(testZone); serial != testSerial {
				t.Errorf("serial: got %d, want unchanged %d", serial, testSerial)
			}
			if history, _ := db.History(testApp, 0); len(history) != 0 {
				t.Errorf("history: got %+v, want none", history)
			}
		})
	}
}

func TestSwapAndSetWithExpect(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)

	if _, err := db.Swap(SwapRequest{App: testApp, Expect: green}); err != nil {
		t.Fatalf("swap expecting the current target: %v", err)
	}
	// A retry of the same pipeline step must not swap back.
	if _, err := db.Swap(SwapRequest{App: testApp, Expect: green}); !errors.Is(err, ErrConflict) {
		t.Fatalf("retried swap: got %v, want ErrConflict", err)
	}
	e, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: "test3.cloudapp.net.", Expect: blue, Meta: Meta{Actor: "ci"}})
	if err != nil {
		t.Fatalf("set expecting the current target: %v", err)
	}
	want := map[string]string{"production": green, "staging": "test3.cloudapp.net."}
	if e.Kind != "set" || e.Seq != 2 || e.Version != 2 || e.Serial != testSerial+2 || !maps.Equal(e.After, want) {
		t.Errorf("set entry: got %+v, want kind set, seq 2, version 2, serial %d, after %v", e, testSerial+2, want)
	}
}

func TestSwapOtherSlots(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.SeedApp(testApp, testZone, map[string]string{"qa": "10.0.0.1,10.0.0.2"}); err != nil {
		t.Fatal(err)
	}
	e, err := db.Swap(SwapRequest{App: testApp, Slot: "qa", With: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"production": blue, "staging": "10.0.0.1,10.0.0.2", "qa": green}
	if !maps.Equal(e.After, want) {
		t.Errorf("after: got %v, want %v", e.After, want)
	}
}

// TestConcurrentSwaps pins that concurrent mutations never lose an update:
// bbolt runs one Update at a time, and each reads what the last committed.
func TestConcurrentSwaps(t *testing.T) {
	const swaps = 100
	db := openTestDB(t)
	seed(t, db)

	var wg sync.WaitGroup
	errs := make(chan error, swaps)
	for range swaps {
		wg.Go(func() {
			if _, err := db.Swap(SwapRequest{App: testApp, Meta: Meta{Actor: "load"}}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Swap: %v", err)
	}

	app, _ := db.App(testApp)
	want := map[string]string{"production": blue, "staging": green} // an even count swaps back
	if !maps.Equal(app.Slots, want) || app.Version != swaps {
		t.Errorf("app: got %+v, want slots %v, version %d", app, want, swaps)
	}
	if serial, _ := db.ZoneSerial(testZone); serial != testSerial+swaps {
		t.Errorf("serial: got %d, want %d", serial, testSerial+swaps)
	}
	history, err := db.History(testApp, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkHistory(t, history, swaps)
}

// checkHistory checks that history holds n contiguous entries, each
// starting where the one before ended.
func checkHistory(t *testing.T, history []Entry, n int) {
	t.Helper()
	if len(history) != n {
		t.Fatalf("history: got %d entries, want %d", len(history), n)
	}
	for i, e := range history {
		if e.Seq != uint64(i+1) || e.Version != uint64(i+1) {
			t.Errorf("entry %d: got seq %d, version %d, want %d", i, e.Seq, e.Version, i+1)
		}
		if i > 0 {
			prev := history[i-1]
			if !maps.Equal(e.Before, prev.After) {
				t.Errorf("entry %d: before %v, want the after of entry %d: %v", e.Seq, e.Before, prev.Seq, prev.After)
			}
			if e.Serial != prev.Serial+1 {
				t.Errorf("entry %d: serial %d, want %d", e.Seq, e.Serial, prev.Serial+1)
			}
		}
	}
}

// TestNoChangeIsConflict pins that callers mapping ErrConflict (to HTTP 409,
// exit 1) treat a set to the current target the same way.
func TestNoChangeIsConflict(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	_, err := db.Set(SetRequest{App: testApp, Slot: "production", Target: blue})
	if !errors.Is(err, ErrNoChange) || !errors.Is(err, ErrConflict) {
		t.Errorf("Set to the current target: got %v, want ErrNoChange, also ErrConflict", err)
	}
}
