package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Layout of the bbolt file, schema version 1. Every value is JSON but the
// revisions and the signatures.
//
//	meta     "schema" -> 1, "revision" -> big-endian uint64, the last revision stamped
//	revs     "<kind>/<name>" -> big-endian uint64, the revision of that record
//	apps     <app>    -> App
//	zones    <origin> -> Zone
//	history  <app>/   -> nested bucket: big-endian uint64 seq -> Entry
//	aliases  <target> -> AliasRecord
//	drain    <app>    -> DrainState
//	journal  <zone>/  -> nested bucket: big-endian uint64 sequence -> Delta
//	rollovers <zone>  -> Rollover
//	dynamic  <zone>   -> DynamicZone
//	signatures <zone>/ -> nested bucket: <owner wire name><type> -> the RRset's
//	                      RRSIGs, as package zones gives them (not JSON; see
//	                      signatures.go)
//
// Buckets added after the first version (revs, drain, journal, rollovers,
// signatures) are created on first use, so that older files need no
// migration. A record without a revision (written before revisions were
// kept) reads as revision 1.
var (
	bucketMeta    = []byte("meta")
	bucketRevs    = []byte("revs")
	bucketApps    = []byte("apps")
	bucketZones   = []byte("zones")
	bucketHistory = []byte("history")
	bucketAliases = []byte("aliases")
	// bucketRollovers is created on first use.
	bucketRollovers = []byte("rollovers")
	// bucketDynamic is created on first use.
	bucketDynamic = []byte("dynamic")

	keySchema   = []byte("schema")
	keyRevision = []byte("revision")
)

// schemaVersion is the layout this code reads and writes. A file with a
// newer version is refused rather than misread.
const schemaVersion = 1

const defaultLockTimeout = time.Second

// DB is an open slotdns database on a bbolt file. It implements Store.
type DB struct {
	bolt           *bbolt.DB
	path           string
	limit          int // journal deltas kept per zone
	reads, commits atomic.Uint64
}

var _ Store = (*DB)(nil)

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock; 0 means a short default
	// (1s), after which Open fails with ErrLocked.
	Timeout time.Duration
	// ReadOnly opens the file for reading only, sharing it with other
	// readers; a file that does not exist is then an error wrapping
	// fs.ErrNotExist.
	ReadOnly bool
	// JournalLimit is the number of deltas kept per zone (oldest dropped
	// first); 0 means DefaultJournalLimit.
	JournalLimit int
}

// Open opens (creating if needed) the database at path. It refuses, with
// an error wrapping ErrDamaged that says what to do, a file that is not a
// whole slotdns database: an empty file, another kind of file, or one
// whose pages fail bbolt's consistency check.
func Open(path string, opts Options) (*DB, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultLockTimeout
	}
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Size() == 0 {
		return nil, fmt.Errorf("open %s: the file is empty (0 bytes), %w: it is not a slotdns database; restore it from a backup (slotdns backup), or remove it to start with no state", path, ErrDamaged)
	}
	bdb, err := openBolt(path, timeout, opts.ReadOnly)
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w (after waiting %s; is a slotdns server using it?)", path, ErrLocked, timeout)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, fmt.Errorf("open %s: not a slotdns database (%w: %v); point db at another file, or restore it from a backup", path, ErrDamaged, err)
	case errors.As(err, new(*fs.PathError)):
		return nil, fmt.Errorf("open database: %w", err) // it names the path already
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	limit := opts.JournalLimit
	if limit <= 0 {
		limit = DefaultJournalLimit
	}
	db := &DB{bolt: bdb, path: path, limit: limit}
	if err := db.check(); err != nil {
		bdb.Close()
		return nil, err
	}
	err = db.view(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil && !opts.ReadOnly {
			return errNoSchema
		}
		return db.checkSchema(tx)
	})
	if errors.Is(err, errNoSchema) {
		err = db.update(db.initSchema)
	}
	if err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

// openBolt opens the file, turning a panic of bbolt on a mangled first
// page into an error.
func openBolt(path string, timeout time.Duration, readOnly bool) (bdb *bbolt.DB, err error) {
	before := openFiles()
	defer func() {
		if r := recover(); r != nil {
			unlockLeaked(path, before)
			err = fmt.Errorf("%w: %v", bolterrors.ErrInvalid, r)
		}
	}()
	return bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, ReadOnly: readOnly})
}

// check runs bbolt's consistency check over every page, so that a file
// with overwritten pages is refused at open rather than failing (or
// panicking) later in the middle of serving.
func (db *DB) check() error {
	return db.view(func(tx *bbolt.Tx) error {
		var problems []error
		for err := range tx.Check() {
			problems = append(problems, err)
			if len(problems) == 3 {
				break
			}
		}
		if len(problems) == 0 {
			return nil
		}
		return fmt.Errorf("open %s: the file is %w (%v); restore it from a backup (slotdns backup), or remove it to start with no state", db.path, ErrDamaged, errors.Join(problems...))
	})
}

// view and update run a bbolt transaction, turning a panic of bbolt on a
// damaged page into an error wrapping ErrDamaged, and count it.
func (db *DB) view(fn func(*bbolt.Tx) error) (err error) {
	db.reads.Add(1)
	defer db.recoverDamage(&err)
	return db.bolt.View(fn)
}

func (db *DB) update(fn func(*bbolt.Tx) error) (err error) {
	defer db.recoverDamage(&err)
	if err = db.bolt.Update(fn); err == nil {
		db.commits.Add(1)
	}
	return err
}

func (db *DB) recoverDamage(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s is %w: %v; stop slotdns and restore it from a backup", db.path, ErrDamaged, r)
	}
}

// errNoSchema is a file without slotdns's buckets yet: a new one.
var errNoSchema = errors.New("no schema")

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
	for _, name := range [][]byte{bucketMeta, bucketRevs, bucketApps, bucketZones, bucketHistory, bucketAliases, bucketJournal, bucketDrain} {
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
	for _, name := range [][]byte{bucketApps, bucketZones, bucketHistory, bucketAliases} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("open %s: the %q bucket is missing: %w; restore it from a backup", db.path, name, ErrDamaged)
		}
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

// Stats counts the transactions since Open.
func (db *DB) Stats() Stats { return Stats{Reads: db.reads.Load(), Commits: db.commits.Load()} }

// Backup writes a consistent copy of the whole database to w, in one read
// transaction: writers go on meanwhile. The copy is a database file that
// Open reads as it is.
func (db *DB) Backup(w io.Writer) error {
	err := db.view(func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("back up %s: %w", db.path, err)
	}
	return nil
}

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
