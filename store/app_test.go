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
	if serial, _ := db.ZoneSerial(testZone); serial != testSerial+1 {
		t.Errorf("serial: got %d, want %d (seeding is not a change)", serial, testSerial+1)
	}
}

func TestSeedAppMovesZone(t *testing.T) {
	db := openTestDB(t)
	seed(t, db)
	if _, err := db.SeedZone("example.net.", 1); err != nil {
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
