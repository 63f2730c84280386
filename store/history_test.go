package store

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

func TestRollback(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	original := map[string]string{"production": blue, "staging": green}
	swapped := map[string]string{"production": green, "staging": blue}

	if _, err := db.Swap(SwapRequest{App: testApp, Meta: Meta{Actor: "alice"}}); err != nil {
		t.Fatal(err)
	}
	undo, err := db.Rollback(testApp, Meta{Actor: "bob", Reason: "500s"})
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if undo.Kind != "rollback" || undo.Seq != 2 || undo.Actor != "bob" || undo.Reason != "500s" ||
		!maps.Equal(undo.Before, swapped) || !maps.Equal(undo.After, original) || undo.Serial != testSerial+2 {
		t.Errorf("rollback entry: got %+v, want seq 2 by bob from %v to %v, serial %d", undo, swapped, original, testSerial+2)
	}

	// Rolling back the rollback redoes the swap.
	redo, err := db.Rollback(testApp, Meta{Actor: "bob"})
	if err != nil {
		t.Fatalf("second Rollback: %v", err)
	}
	if !maps.Equal(redo.After, swapped) || redo.Seq != 3 {
		t.Errorf("redo entry: got %+v, want seq 3 ending at %v", redo, swapped)
	}
	app, _ := db.App(testApp)
	if !maps.Equal(app.Slots, swapped) || app.Version != 3 {
		t.Errorf("app: got %+v, want slots %v, version 3", app, swapped)
	}
}

func TestRollbackRefusedWhenSlotsChangedSince(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, db *DB)
		wantMsg string
	}{
		{
			name: "slot seeded later",
			change: func(t *testing.T, db *DB) {
				if _, err := db.SeedApp(testApp, testZone, map[string]string{"qa": "10.0.0.1"}); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: `rollback "yourwebapp": conflict: since entry 1 (swap by alice), slot qa was added (now "10.0.0.1")`,
		},
		{
			name: "slot edited outside the store API",
			change: func(t *testing.T, db *DB) {
				if err := db.bolt.Update(func(tx *bbolt.Tx) error {
					a, err := loadApp(tx, testApp)
					if err != nil {
						return err
					}
					a.Slots["staging"] = "test3.cloudapp.net."
					return saveApp(tx, a)
				}); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: `staging changed from "blue-abc.cloudapp.net." to "test3.cloudapp.net."`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			seed(t, db)
			if _, err := db.Swap(SwapRequest{App: testApp, Meta: Meta{Actor: "alice"}}); err != nil {
				t.Fatal(err)
			}
			tt.change(t, db)
			before, _ := db.App(testApp)

			_, err := db.Rollback(testApp, Meta{Actor: "bob"})
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Rollback: got %v, want ErrConflict", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Rollback: got %q, want it to contain %q", err, tt.wantMsg)
			}
			after, _ := db.App(testApp)
			if !maps.Equal(after.Slots, before.Slots) || after.Version != before.Version {
				t.Errorf("app: got %+v, want unchanged %+v", after, before)
			}
			if history, _ := db.History(testApp, 0); len(history) != 1 {
				t.Errorf("history: got %d entries, want 1", len(history))
			}
		})
	}
}

func TestHistoryLimit(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	for range 5 {
		if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		limit    int
		wantSeqs []uint64
	}{
		{limit: 0, wantSeqs: []uint64{1, 2, 3, 4, 5}},
		{limit: -1, wantSeqs: []uint64{1, 2, 3, 4, 5}},
		{limit: 2, wantSeqs: []uint64{4, 5}},
		{limit: 5, wantSeqs: []uint64{1, 2, 3, 4, 5}},
		{limit: 9, wantSeqs: []uint64{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		history, err := db.History(testApp, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, e := range history {
			seqs = append(seqs, e.Seq)
		}
		if !slices.Equal(seqs, tt.wantSeqs) {
			t.Errorf("History(limit %d): got seqs %v, want %v", tt.limit, seqs, tt.wantSeqs)
		}
	}
}

func TestHistoryOfAppWithoutChanges(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	history, err := db.History(testApp, 0)
	if err != nil || len(history) != 0 {
		t.Errorf("History: got %v, %v, want no entries and no error", history, err)
	}
	if _, err := db.History("nosuchapp", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("History of unknown app: got %v, want ErrNotFound", err)
	}
}
