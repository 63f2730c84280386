package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestDrainStateSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slotdns.db")
	db := openAt(t, path)
	seed(t, db)
	if _, ok, err := db.DrainState(testApp); err != nil || ok {
		t.Fatalf("DrainState of a new file: got ok %v, err %v; want none", ok, err)
	}
	want := DrainState{Digest: "abc", TTL: 8, DrainedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := db.SaveDrainState(testApp, want); err != nil {
		t.Fatal(err)
	}
	e, err := db.Swap(SwapRequest{App: testApp})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetDrainedAt(testApp, e.Seq, want.DrainedAt); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDrainedAt(testApp, e.Seq+1, want.DrainedAt); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetDrainedAt of a missing entry: got %v, want ErrNotFound", err)
	}
	db.Close()

	db = openAt(t, path)
	got, ok, err := db.DrainState(testApp)
	if err != nil || !ok || got != want {
		t.Errorf("DrainState after reopen: got %+v (ok %v, err %v), want %+v", got, ok, err, want)
	}
	hist, err := db.History(testApp, 1)
	if err != nil || len(hist) != 1 || !hist[0].DrainedAt.Equal(want.DrainedAt) {
		t.Errorf("history after reopen: got %+v (err %v), want drained_at %v", hist, err, want.DrainedAt)
	}
}
