package store

import (
	"errors"
	"maps"
	"reflect"
	"testing"
	"time"
)

func TestSaveAlias(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.SeedZone("example.net.", 100, testDigest); err != nil {
		t.Fatal(err)
	}
	zones := []string{testZone, "example.net.", testZone}
	resolved := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rec := AliasRecord{Target: blue, Addrs: []string{"192.0.2.2", "192.0.2.1"}, TTL: 60, Resolved: resolved}

	steps := []struct {
		name        string
		addrs       []string
		wantChanged bool
		wantSerials map[string]uint32
	}{
		{name: "first resolution", addrs: []string{"192.0.2.2", "192.0.2.1"}, wantChanged: true,
			wantSerials: map[string]uint32{testZone: testSerial + 1, "example.net.": 101}},
		{name: "same addresses in another order", addrs: []string{"192.0.2.1", "192.0.2.2"}},
		{name: "addresses changed", addrs: []string{"192.0.2.3"}, wantChanged: true,
			wantSerials: map[string]uint32{testZone: testSerial + 2, "example.net.": 102}},
	}
	for _, step := range steps {
		rec.Addrs = step.addrs
		rec.Resolved = rec.Resolved.Add(time.Minute)
		changed, serials, err := db.SaveAlias(rec, zones)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if changed != step.wantChanged || !maps.Equal(serials, step.wantSerials) {
			t.Errorf("%s: got changed %v, serials %v, want %v, %v", step.name, changed, serials, step.wantChanged, step.wantSerials)
		}
	}

	aliases, err := db.Aliases()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]AliasRecord{blue: {Target: blue, Addrs: []string{"192.0.2.3"}, TTL: 60, Resolved: rec.Resolved}}
	if !reflect.DeepEqual(aliases, want) {
		t.Errorf("Aliases: got %+v, want %+v", aliases, want)
	}
}

func TestSaveAliasUnknownZoneChangesNothing(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	_, _, err := db.SaveAlias(AliasRecord{Target: blue, Addrs: []string{"192.0.2.1"}}, []string{testZone, "nosuch."})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("SaveAlias: got %v, want ErrNotFound", err)
	}
	if aliases, _ := db.Aliases(); len(aliases) != 0 {
		t.Errorf("Aliases: got %v, want none", aliases)
	}
	if serial, _ := db.ZoneSerial(testZone); serial != testSerial {
		t.Errorf("serial: got %d, want unchanged %d", serial, testSerial)
	}
}
