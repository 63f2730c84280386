package store

import (
	"iter"
	"maps"
	"testing"
)

func entries(m map[string]string) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for k, v := range m {
			if !yield([]byte(k), []byte(v)) {
				return
			}
		}
	}
}

// TestSaveSignatures: saving writes what changed, deletes what is no
// longer given, keeps each zone apart, and a deleted zone loses its
// signatures.
func TestSaveSignatures(t *testing.T) {
	db := openNew(t, Options{})
	if got, err := db.Signatures("example.com."); err != nil || len(got) != 0 {
		t.Fatalf("before any: %v, %v", got, err)
	}
	c, err := db.SaveSignatures("example.com.", entries(map[string]string{"a": "1", "b": "2"}))
	if err != nil || c != (SignatureCounts{Written: 2}) {
		t.Fatalf("first save: %+v, %v", c, err)
	}
	if _, err := db.SaveSignatures("example.org.", entries(map[string]string{"a": "9"})); err != nil {
		t.Fatal(err)
	}
	c, err = db.SaveSignatures("example.com.", entries(map[string]string{"a": "1", "c": "3"}))
	if err != nil || c != (SignatureCounts{Kept: 1, Written: 1, Deleted: 1}) {
		t.Fatalf("second save: %+v, %v", c, err)
	}
	got, err := db.Signatures("example.com.")
	if want := map[string][]byte{"a": []byte("1"), "c": []byte("3")}; err != nil || !maps.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("read back %q, %v", got, err)
	}
	if _, err := db.Apply(&Batch{DeleteZones: []string{"example.com."}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Signatures("example.com."); err != nil || len(got) != 0 {
		t.Errorf("after the zone is deleted: %q, %v", got, err)
	}
	if got, err := db.Signatures("example.org."); err != nil || len(got) != 1 {
		t.Errorf("the other zone: %q, %v", got, err)
	}
}
