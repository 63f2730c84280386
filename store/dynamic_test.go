package store

import (
	"errors"
	"testing"
	"time"
)

// TestDynamicRecords: a zone's dynamic records are put whole under a
// revision, a writer that read an older revision conflicts, and deleting
// the zone drops them.
func TestDynamicRecords(t *testing.T) {
	db := openNew(t, Options{})
	none := read(t, db, func(v View) (DynamicZone, error) { return v.Dynamic("example.com.") })
	if len(none.Records) != 0 || none.Rev != 0 {
		t.Fatalf("before any update: %+v", none)
	}
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	first := DynamicZone{Zone: "example.com.", Records: []DynamicRecord{{RR: "_acme-challenge.example.com.\t60\tIN\tTXT\t\"token\"", Actor: "acme-key.", Added: at}}}
	mustApply(t, db, &Batch{If: []Cond{{Key: DynamicKey("example.com."), Rev: 0}}, Dynamic: []DynamicZone{first}})
	got := read(t, db, func(v View) (DynamicZone, error) { return v.Dynamic("example.com.") })
	if len(got.Records) != 1 || got.Records[0] != first.Records[0] || got.Rev == 0 {
		t.Fatalf("after an update: %+v", got)
	}
	// A second writer that read the zone before the first wrote.
	_, err := db.Apply(&Batch{If: []Cond{{Key: DynamicKey("example.com."), Rev: 0}}, Dynamic: []DynamicZone{{Zone: "example.com."}}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("a racing update: got %v, want a conflict", err)
	}
	mustApply(t, db, &Batch{DeleteZones: []string{"example.com."}})
	gone := read(t, db, func(v View) (DynamicZone, error) { return v.Dynamic("example.com.") })
	if len(gone.Records) != 0 || gone.Rev != 0 {
		t.Fatalf("after the zone was deleted: %+v", gone)
	}
}
