package store

import (
	"errors"
	"maps"
	"testing"
)

func TestRollbackTo(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.RollbackTo(testApp, 1, nil, Meta{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("RollbackTo without history: got %v, want ErrNotFound", err)
	}
	if _, err := db.Swap(SwapRequest{App: testApp}); err != nil { // #1: swapped
		t.Fatal(err)
	}
	if _, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: "test3.example."}); err != nil { // #2
		t.Fatal(err)
	}
	swapped := map[string]string{"production": green, "staging": blue}
	tests := []struct {
		name    string
		seq     uint64
		want    map[string]string // nil: refused
		wantErr error
	}{
		{"entry 1", 1, swapped, nil},
		{"entry 1 again", 1, nil, ErrNoChange},
		{"entry 0", 0, nil, ErrNotFound},
		{"past the last entry", 9, nil, ErrNotFound},
		{"entry 2", 2, map[string]string{"production": green, "staging": "test3.example."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := db.RollbackTo(testApp, tt.seq, nil, Meta{Actor: "bob", Reason: "to #1"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != KindRollback || !maps.Equal(e.After, tt.want) {
				t.Errorf("entry: got %+v, want a rollback to %v", e, tt.want)
			}
			app, _ := db.App(testApp)
			if !maps.Equal(app.Slots, tt.want) {
				t.Errorf("slots: got %v, want %v", app.Slots, tt.want)
			}
		})
	}
	if e, err := db.Entry(testApp, 1); err != nil || !maps.Equal(e.After, swapped) {
		t.Errorf("Entry 1: got %+v (%v), want after %v", e, err, swapped)
	}
}

// TestRollbackToExpect pins the conditional commit: a rollback checked from
// one mapping is refused, with nothing written, once the slots moved on.
func TestRollbackToExpect(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.Swap(SwapRequest{App: testApp}); err != nil { // #1
		t.Fatal(err)
	}
	checked, err := db.App(testApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Set(SetRequest{App: testApp, Slot: "staging", Target: "test3.example."}); err != nil { // #2, during the checks
		t.Fatal(err)
	}
	before, _ := db.App(testApp)
	if _, err := db.RollbackTo(testApp, 1, checked.Slots, Meta{Actor: "bob"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("RollbackTo after a change: got %v, want ErrConflict", err)
	}
	after, _ := db.App(testApp)
	if after.Version != before.Version || !maps.Equal(after.Slots, before.Slots) {
		t.Errorf("refused rollback changed the app: got %+v, want %+v", after, before)
	}
	current, _ := db.App(testApp)
	if _, err := db.RollbackTo(testApp, 1, current.Slots, Meta{Actor: "bob"}); err != nil {
		t.Errorf("RollbackTo from the current slots: got %v, want it applied", err)
	}
}
