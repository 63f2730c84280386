package store

import (
	"errors"
	"testing"
)

func TestSerialLess(t *testing.T) {
	tests := []struct {
		a, b uint32
		want bool
	}{
		{a: 1, b: 2, want: true},
		{a: 2, b: 1, want: false},
		{a: 7, b: 7, want: false},
		{a: 0xFFFFFFFF, b: 0, want: true}, // wrapped: 0 follows 2^32-1
		{a: 0, b: 0xFFFFFFFF, want: false},
		{a: 0xFFFFFFF0, b: 5, want: true},
		{a: 0, b: 1<<31 - 1, want: true}, // the farthest b still ahead of a
		{a: 1<<31 - 1, b: 0, want: false},
		{a: 0, b: 1 << 31, want: false}, // 2^31 apart: undefined, neither is less
		{a: 1 << 31, b: 0, want: false},
		{a: 2026010101, b: 2026010102, want: true},
	}
	for _, tt := range tests {
		if got := SerialLess(tt.a, tt.b); got != tt.want {
			t.Errorf("SerialLess(%d, %d): got %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSeedZone(t *testing.T) {
	tests := []struct {
		name       string
		stored     *uint32 // nil: zone not stored yet
		fileSerial uint32
		digest     string // testDigest when empty
		want       uint32
		cut        bool // the journal from the stored serial is gone
	}{
		{name: "new zone takes the file serial", fileSerial: 2026010101, want: 2026010101},
		{name: "stored serial ahead of file", stored: ptr(2026010150), fileSerial: 2026010101, want: 2026010150},
		{name: "file edited with a higher serial", stored: ptr(2026010150), fileSerial: 2026020101, want: 2026020101, cut: true},
		{name: "equal", stored: ptr(42), fileSerial: 42, want: 42},
		{name: "stored wrapped past zero is ahead", stored: ptr(3), fileSerial: 0xFFFFFFF0, want: 3},
		{name: "file wrapped past zero is ahead", stored: ptr(0xFFFFFFF0), fileSerial: 3, want: 3, cut: true},
		{name: "larger number but behind in RFC 1982", stored: ptr(1), fileSerial: 0x90000000, want: 1},
		{name: "content changed, same file serial", stored: ptr(42), fileSerial: 42, digest: "zone file v2", want: 43, cut: true},
		{name: "content changed, file serial behind", stored: ptr(2026010150), fileSerial: 2026010101, digest: "zone file v2", want: 2026010151, cut: true},
		{name: "content changed, file serial one ahead", stored: ptr(42), fileSerial: 43, digest: "zone file v2", want: 43, cut: true},
		{name: "content changed, file serial ahead", stored: ptr(42), fileSerial: 2026010101, digest: "zone file v2", want: 2026010101, cut: true},
		{name: "content changed at the top of the serial space", stored: ptr(0xFFFFFFFF), fileSerial: 0xFFFFFFFF, digest: "zone file v2", want: 0, cut: true},
		{name: "content changed, file 2^31 ahead (no order)", stored: ptr(1), fileSerial: 1<<31 + 2, digest: "zone file v2", want: 2, cut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			digest := tt.digest
			if digest == "" {
				digest = testDigest
			}
			if tt.stored != nil {
				// The stored serial is reached by a journaled change, as
				// a secondary one serial behind would ask for it, and the
				// database is opened again, as after a restart.
				if _, err := db.SeedZone(testZone, *tt.stored-1, testDigest); err != nil {
					t.Fatal(err)
				}
				if _, err := db.ZoneChanged(testZone, *tt.stored, testDigest, func(uint32, uint32) (Delta, error) { return Delta{}, nil }); err != nil {
					t.Fatal(err)
				}
				path := db.Path()
				db.Close()
				db = openAt(t, path)
			}
			got, err := db.SeedZone(testZone, tt.fileSerial, digest)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SeedZone: got %d, want %d", got, tt.want)
			}
			if stored, _ := db.ZoneSerial(testZone); stored != tt.want {
				t.Errorf("ZoneSerial: got %d, want %d", stored, tt.want)
			}
			if tt.stored != nil {
				if _, ok := journalFrom(t, db, testZone, *tt.stored-1); ok == tt.cut {
					t.Errorf("Journal(%d): got ok %v, want %v", *tt.stored-1, ok, !tt.cut)
				}
			}
		})
	}
}

func ptr(v uint32) *uint32 { return &v }

func TestSerialWrapsAround(t *testing.T) {
	db := openTestDB(t)
	if _, err := db.SeedZone(testZone, 0xFFFFFFFF, testDigest); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SeedApp(testApp, testZone, map[string]string{"production": blue, "staging": green}); err != nil {
		t.Fatal(err)
	}
	got, err := db.BumpSerial(testZone)
	if err != nil {
		t.Fatal(err)
	}
	if got != 0 {
		t.Errorf("BumpSerial after 0xFFFFFFFF: got %d, want 0", got)
	}
	if !SerialLess(0xFFFFFFFF, got) {
		t.Errorf("SerialLess(0xFFFFFFFF, %d): got false, want true", got)
	}

	// A swap bumps the serial the same way.
	e, err := db.Swap(SwapRequest{App: testApp})
	if err != nil {
		t.Fatal(err)
	}
	if e.Serial != 1 {
		t.Errorf("swap serial: got %d, want 1", e.Serial)
	}
}

func TestUnknownZone(t *testing.T) {
	db := openTestDB(t)
	if _, err := db.ZoneSerial("nosuch."); !errors.Is(err, ErrNotFound) {
		t.Errorf("ZoneSerial: got %v, want ErrNotFound", err)
	}
	if _, err := db.BumpSerial("nosuch."); !errors.Is(err, ErrNotFound) {
		t.Errorf("BumpSerial: got %v, want ErrNotFound", err)
	}
	if _, err := db.SeedApp(testApp, "nosuch.", map[string]string{"production": blue}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SeedApp in an unseeded zone: got %v, want ErrNotFound", err)
	}
}

// TestSeedZoneDigest checks that the digest SeedZone compares is the one
// kept by the last SeedZone or ZoneChanged, and that a zone stored without
// one (by an earlier slotdns) gets a new serial once.
func TestSeedZoneDigest(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, db *DB)
		digest  string // seeded after a restart at file serial 42
		want    uint32
	}{
		{"stored without a digest", func(t *testing.T, db *DB) {
			if _, err := db.SeedZone(testZone, 42, ""); err != nil {
				t.Fatal(err)
			}
		}, testDigest, 43},
		{"reload kept the new digest", func(t *testing.T, db *DB) {
			if _, err := db.SeedZone(testZone, 42, testDigest); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ZoneChanged(testZone, 0, "zone file v2", nil); err != nil {
				t.Fatal(err)
			}
		}, "zone file v2", 43},
		{"reload, then the file reverted while stopped", func(t *testing.T, db *DB) {
			if _, err := db.SeedZone(testZone, 42, testDigest); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ZoneChanged(testZone, 0, "zone file v2", nil); err != nil {
				t.Fatal(err)
			}
		}, testDigest, 44},
		{"seeded twice with a new digest: one new serial", func(t *testing.T, db *DB) {
			if _, err := db.SeedZone(testZone, 42, testDigest); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SeedZone(testZone, 42, "zone file v2"); err != nil {
				t.Fatal(err)
			}
		}, "zone file v2", 43},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTestDB(t)
			tt.prepare(t, db)
			path := db.Path()
			db.Close()
			db = openAt(t, path)
			got, err := db.SeedZone(testZone, 42, tt.digest)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SeedZone after a restart: got %d, want %d", got, tt.want)
			}
		})
	}
}
