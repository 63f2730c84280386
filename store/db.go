package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Layout of the bbolt file, schema version 1. Every value is JSON.
//
//	meta     "schema" -> 1
//	apps     <app>    -> App
//	zones    <origin> -> zoneState
//	history  <app>/   -> nested bucket: big-endian uint64 seq -> Entry
//	aliases  <target> -> AliasRecord
//	journal  <zone>/  -> nested bucket: big-endian uint64 seq -> Delta (see journal.go)
var (
	bucketMeta    = []byte("meta")
	bucketApps    = []byte("apps")
	bucketZones   = []byte("zones")
	bucketHistory = []byte("history")
	bucketAliases = []byte("aliases")

	keySchema = []byte("schema")
)

// schemaVersion is the layout this code reads and writes. A file with a
// newer version is refused rather than misread.
const schemaVersion = 1

const defaultLockTimeout = time.Second

var (
	ErrNotFound   = errors.New("not found")                  // no such app, slot or zone
	ErrConflict   = errors.New("conflict")                   // --expect did not match, or rollback refused
	ErrSameTarget = errors.New("slots have the same target") // a swap of two slots with one target
	ErrLocked     = errors.New("database is locked by another process")
	// ErrNoChange refuses a set that would leave the slot as it is, so that
	// history records only real changes. It is a kind of ErrConflict: the
	// request does not fit the current state.
	ErrNoChange = fmt.Errorf("%w: nothing to change", ErrConflict)
)

// DB is an open slotdns database.
type DB struct {
	bolt    *bbolt.DB
	path    string
	journal journalPointer // what SetJournal installed; nil: changes cut the journal
	unservedZones
}

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock; 0 means a short default
	// (1s), after which Open fails with ErrLocked.
	Timeout  time.Duration
	ReadOnly bool
}

// Open opens (creating if needed) the database at path.
func Open(path string, opts Options) (*DB, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w (after waiting %s; is a slotdns server using it?)", path, ErrLocked, timeout)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("open %s: not a slotdns database (%w); point db at another file", path, err)
	case errors.As(err, new(*fs.PathError)):
		return nil, fmt.Errorf("open database: %w", err) // it names the path already
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{bolt: bdb, path: path}
	if opts.ReadOnly {
		err = bdb.View(db.checkSchema)
	} else {
		err = bdb.Update(db.initSchema)
	}
	if err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

// initSchema creates the buckets of a new file, or checks the schema of an
// existing one.
func (db *DB) initSchema(tx *bbolt.Tx) error {
	if tx.Bucket(bucketMeta) != nil {
		return db.checkSchema(tx)
	}
	// A bbolt file with buckets but no meta bucket belongs to something else.
	if name, _ := tx.Cursor().First(); name != nil {
		return fmt.Errorf("open %s: not a slotdns database (it has no %q bucket); point db at another file", db.path, bucketMeta)
	}
	for _, name := range [][]byte{bucketMeta, bucketApps, bucketZones, bucketHistory, bucketAliases, bucketJournal} {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("open %s: create bucket %q: %w", db.path, name, err)
		}
	}
	return putJSON(tx.Bucket(bucketMeta), keySchema, schemaVersion)
}

func (db *DB) checkSchema(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return fmt.Errorf("open %s: not a slotdns database (it has no %q bucket); point db at another file", db.path, bucketMeta)
	}
	var version int
	if err := getJSON(meta, keySchema, &version); err != nil {
		return fmt.Errorf("open %s: read schema version: %w", db.path, err)
	}
	if version > schemaVersion {
		return fmt.Errorf("open %s: schema version %d is newer than this slotdns understands (%d); upgrade slotdns", db.path, version, schemaVersion)
	}
	if version < 1 {
		return fmt.Errorf("open %s: invalid schema version %d", db.path, version)
	}
	return nil
}

// Close closes the database, waiting for running transactions.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file path.
func (db *DB) Path() string { return db.path }

// getJSON decodes the value at key into v; ErrNotFound when it is absent.
// Decoding copies, so nothing in v points into bbolt's memory after the tx.
func getJSON(b *bbolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return fmt.Errorf("key %q: %w", key, ErrNotFound)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %q: %w", key, err)
	}
	return nil
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, data)
}

// now is the time stamped on changes: UTC, without the monotonic reading, so
// an Entry compares equal to itself after a JSON round trip.
func now() time.Time { return time.Now().UTC().Round(0) }
