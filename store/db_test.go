package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

const (
	testZone   = "yourwebapp.com."
	testApp    = "yourwebapp"
	testSerial = 2026010101
	testDigest = "zone file v1" // opaque to the store
	blue       = "blue-abc.cloudapp.net."
	green      = "green-def.cloudapp.net."
)

// openTestDB opens a new database under t.TempDir, closed at cleanup.
func openTestDB(t *testing.T) *DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "slotdns.db"))
}

func openAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seed stores the demo zone and app: production on blue, staging on green.
func seed(t *testing.T, db *DB) {
	t.Helper()
	if _, err := db.SeedZone(testZone, testSerial, testDigest); err != nil {
		t.Fatalf("SeedZone: %v", err)
	}
	if _, err := db.SeedApp(testApp, testZone, map[string]string{"production": blue, "staging": green}); err != nil {
		t.Fatalf("SeedApp: %v", err)
	}
}

func TestOpenCreatesFileWithMode0600(t *testing.T) {
	db := openTestDB(t)
	info, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode: got %v, want 0600", got)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slotdns.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, db)
	want, err := db.Swap(SwapRequest{App: testApp, Meta: Meta{Actor: "alice", Reason: "release 7"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path)
	app, err := db.App(testApp)
	if err != nil {
		t.Fatal(err)
	}
	if app.Slots["production"] != green || app.Slots["staging"] != blue || app.Version != 1 {
		t.Errorf("app after reopen: got %+v, want production %s, staging %s, version 1", app, green, blue)
	}
	serial, err := db.ZoneSerial(testZone)
	if err != nil || serial != testSerial+1 {
		t.Errorf("serial after reopen: got %d, %v, want %d", serial, err, testSerial+1)
	}
	history, err := db.History(testApp, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || !entriesEqual(history[0], want) {
		t.Errorf("history after reopen: got %+v, want [%+v]", history, want)
	}
}

func TestOpenLocked(t *testing.T) {
	db := openTestDB(t)
	_, err := Open(db.Path(), Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), db.Path()) {
		t.Errorf("error %q does not name the path %s", err, db.Path())
	}
}

func TestOpenReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slotdns.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, db)
	db.Close()

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open: %v", err)
	}
	defer ro.Close()
	if _, err := ro.App(testApp); err != nil {
		t.Errorf("App on read-only db: %v", err)
	}
	if _, err := ro.Swap(SwapRequest{App: testApp}); err == nil {
		t.Error("Swap on read-only db: got nil error")
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    string
	}{
		{
			name: "not bbolt",
			prepare: func(t *testing.T, path string) {
				junk := []byte(strings.Repeat("this is a zone file, not a database\n", 400))
				if err := os.WriteFile(path, junk, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: "not a slotdns database",
		},
		{
			name: "bbolt without slotdns buckets",
			prepare: func(t *testing.T, path string) {
				withBolt(t, path, func(tx *bbolt.Tx) error {
					_, err := tx.CreateBucket([]byte("something-else"))
					return err
				})
			},
			want: "not a slotdns database",
		},
		{
			name: "newer schema",
			prepare: func(t *testing.T, path string) {
				db := openAt(t, path)
				db.Close()
				withBolt(t, path, func(tx *bbolt.Tx) error {
					return tx.Bucket(bucketMeta).Put(keySchema, []byte("2"))
				})
			},
			want: "schema version 2 is newer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "slotdns.db")
			tt.prepare(t, path)
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open: got nil error")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: got %q, want it to say %q and name %s", err, tt.want, path)
			}
		})
	}
}

// withBolt edits the file at path with bbolt directly.
func withBolt(t *testing.T, path string, fn func(*bbolt.Tx) error) {
	t.Helper()
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if err := bdb.Update(fn); err != nil {
		t.Fatal(err)
	}
}
