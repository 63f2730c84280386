package store

import (
	"errors"
	"maps"
	"slices"
	"testing"
)

func TestSeedAppKeepsStoredTargets(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.Swap(SwapRequest{App: testApp}); err != nil {
		t.Fatal(err)
	}

	// A restart seeds again from the config; the swap must survive it.
	added, err := db.SeedApp(testApp, testZone, map[string]string{"production": blue, "staging": green, "qa": "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []string{"qa"}) {
		t.Errorf("added: got %v, want [qa]", added)
	}
	app, _ := db.App(testApp)
	want := map[string]string{"production": green, "staging": blue, "qa": "10.0.0.1"}
	if !maps.Equal(app.Slots, want) || app.Version != 1 {
		t.Errorf("app: got %+v, want slots %v, version 1", app, want)
	}
	if serial, _ := db.ZoneSerial(testZone); serial != testSerial+2 {
		t.Errorf("serial: got %d, want %d (qa added after the swap was served)", serial, testSerial+2)
	}
	if hist, _ := db.History(testApp, 0); len(hist) != 1 {
		t.Errorf("history: got %d entries, want the swap alone (seeding is not a change)", len(hist))
	}
}

// TestSeedAppSerial checks when seeding slots moves the zone's serial: when
// secondaries may hold the zone at its serial without them, once per start,
// and never on a fresh database's first start.
func TestSeedAppSerial(t *testing.T) {
	const other = "example.net."
	qa := map[string]string{"qa": "10.0.0.1"}
	reopen := func(t *testing.T, db *DB) *DB {
		path := db.Path()
		db.Close()
		return openAt(t, path)
	}
	seedApp := func(t *testing.T, db *DB, app, zone string, slots map[string]string) {
		t.Helper()
		if _, err := db.SeedApp(app, zone, slots); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// seed runs on the seeded database (the other zone at serial 7,
		// holding app "other") and returns it or a new handle on its
		// file.
		seed func(t *testing.T, db *DB) *DB
		// wantZone and wantOther are the serials moved past
		// testSerial and 7.
		wantZone, wantOther uint32
	}{
		{"first start adds slots", func(t *testing.T, db *DB) *DB {
			seedApp(t, db, testApp, testZone, qa)
			return db
		}, 0, 0},
		{"restart adds a slot", func(t *testing.T, db *DB) *DB {
			db = reopen(t, db)
			seedApp(t, db, testApp, testZone, qa)
			return db
		}, 1, 0},
		{"restart adds a new app", func(t *testing.T, db *DB) *DB {
			db = reopen(t, db)
			seedApp(t, db, "shop", testZone, map[string]string{"production": blue})
			return db
		}, 1, 0},
		{"restart adds nothing", func(t *testing.T, db *DB) *DB {
			db = reopen(t, db)
			seedApp(t, db, testApp, testZone, map[string]string{"production": green})
			return db
		}, 0, 0},
		{"restart adds slots to two apps: one new serial", func(t *testing.T, db *DB) *DB {
			db = reopen(t, db)
			seedApp(t, db, testApp, testZone, qa)
			seedApp(t, db, "shop", testZone, map[string]string{"production": blue})
			return db
		}, 1, 0},
		{"restart with an edited zone file adds a slot: one new serial", func(t *testing.T, db *DB) *DB {
			db = reopen(t, db)
			if _, err := db.SeedZone(testZone, testSerial, "zone file v2"); err != nil {
				t.Fatal(err)
			}
			seedApp(t, db, testApp, testZone, qa)
			return db
		}, 1, 0},
		{"slot added after a change", func(t *testing.T, db *DB) *DB {
			if _, err := db.BumpSerial(testZone); err != nil {
				t.Fatal(err)
			}
			seedApp(t, db, testApp, testZone, qa)
			return db
		}, 2, 0},
		{"restart moves an app: both zones", func(t *testing.T, db *DB) *DB {
			db = reopen(t, db)
			seedApp(t, db, "other", testZone, nil)
			return db
		}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			seed(t, db)
			if _, err := db.SeedZone(other, 7, testDigest); err != nil {
				t.Fatal(err)
			}
			seedApp(t, db, "other", other, map[string]string{"production": "10.0.0.9"})
			db = tt.seed(t, db)
			if got, _ := db.ZoneSerial(testZone); got != testSerial+tt.wantZone {
				t.Errorf("serial of %s: got %d, want %d", testZone, got, testSerial+tt.wantZone)
			}
			if got, _ := db.ZoneSerial(other); got != 7+tt.wantOther {
				t.Errorf("serial of %s: got %d, want %d", other, got, 7+tt.wantOther)
			}
		})
	}
}

func TestSeedAppMovesZone(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.SeedZone("example.net.", 1, testDigest); err != nil {
		t.Fatal(err)
	}
	added, err := db.SeedApp(testApp, "example.net.", map[string]string{"production": blue})
	if err != nil || len(added) != 0 {
		t.Fatalf("SeedApp: got %v, %v, want nothing added", added, err)
	}
	app, _ := db.App(testApp)
	if app.Zone != "example.net." {
		t.Errorf("zone: got %q, want example.net.", app.Zone)
	}
	e, err := db.Swap(SwapRequest{App: testApp})
	if err != nil {
		t.Fatal(err)
	}
	if e.Zone != "example.net." || e.Serial != 2 {
		t.Errorf("swap after move: got zone %q serial %d, want example.net. 2", e.Zone, e.Serial)
	}
}

func TestApps(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	for _, name := range []string{"zeta", "alpha"} {
		if _, err := db.SeedApp(name, testZone, map[string]string{"production": blue}); err != nil {
			t.Fatal(err)
		}
	}
	apps, err := db.Apps()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range apps {
		names = append(names, a.Name)
	}
	if want := []string{"alpha", testApp, "zeta"}; !slices.Equal(names, want) {
		t.Errorf("Apps: got %v, want %v", names, want)
	}
	if _, err := db.App("nosuchapp"); !errors.Is(err, ErrNotFound) {
		t.Errorf("App of unknown app: got %v, want ErrNotFound", err)
	}
}
