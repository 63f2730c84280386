package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/slotdns/slotdns/api"

	"go.etcd.io/bbolt"
)

// The records of the state. The store keeps them as the caller hands
// them in: targets and journal records are text, and it knows nothing of
// the DNS wire format.

// App is one app's live state.
type App struct {
	Name    string            `json:"name"`
	Zone    string            `json:"zone"`
	Version uint64            `json:"version"` // bumped by every change of its slots
	Slots   map[string]string `json:"slots"`   // slot -> canonical target text
	Updated time.Time         `json:"updated"`
	Rev     Rev               `json:"-"` // the record's revision, as read
}

// Entry is one history record of an app, kept as the control API gives
// it (api.Entry: the same JSON), under the app's name. Seq counts from 1
// per app, without gaps.
type Entry struct {
	App string `json:"-"` // the app whose history it is (the key)
	api.Entry
}

// CheckResult is the outcome of one health check run around a change, as
// a history entry records it.
type CheckResult = api.CheckResult

// DrainState is what the server last served for an app's names and until
// when answers it served earlier may still sit in caches. A restart reads
// it: the answers of the previous process count as retired when the new
// one publishes different answers.
type DrainState struct {
	App string `json:"-"` // the app (the key)
	Rev Rev    `json:"-"` // the record's revision, as read
	// Digest identifies the answers served (records without their TTLs).
	Digest string `json:"digest"`
	// TTL is the longest TTL served with those answers right now.
	TTL uint32 `json:"ttl"`
	// HeldUntil covers the same answers served earlier with a longer TTL:
	// a cache may hold them until then.
	HeldUntil time.Time `json:"held_until,omitzero"`
	// DrainedAt is when the last copy of any answer served before the
	// current one has expired from caches that honour TTLs.
	DrainedAt time.Time `json:"drained_at,omitzero"`
}

// AliasRecord is the last good resolution of an apex alias target that
// lies outside slotdns's zones, kept so that a restart with the resolver
// down still serves it.
type AliasRecord struct {
	Target   string    `json:"target"` // lowercase FQDN
	Addrs    []string  `json:"addrs"`  // sorted text addresses
	TTL      uint32    `json:"ttl"`
	Resolved time.Time `json:"resolved"` // when they were last confirmed
	Rev      Rev       `json:"-"`        // the record's revision, as read
}

// Delta is one step of a zone's IXFR journal (RFC 1995): the records that
// went from serial From to serial To, as zone-file text. Removed starts
// with the SOA of From, Added with the SOA of To.
type Delta struct {
	Zone    string   `json:"-"` // the zone whose journal it is (the key)
	From    uint32   `json:"from"`
	To      uint32   `json:"to"`
	Removed []string `json:"removed"`
	Added   []string `json:"added"`
}

// DefaultJournalLimit is the number of deltas kept per zone when Open is
// given no limit.
const DefaultJournalLimit = 1000

var (
	bucketDrain   = []byte("drain")
	bucketJournal = []byte("journal")
)

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// zoneJournal gives the zone's journal bucket, nil when it has none.
func zoneJournal(tx *bbolt.Tx, zone string) *bbolt.Bucket {
	journal := tx.Bucket(bucketJournal)
	if journal == nil {
		return nil
	}
	return journal.Bucket([]byte(zone))
}

func loadApp(tx *bbolt.Tx, name string) (App, error) {
	apps := tx.Bucket(bucketApps)
	if apps.Get([]byte(name)) == nil {
		return App{}, fmt.Errorf("%w in the database", ErrNotFound)
	}
	var a App
	if err := getJSON(apps, []byte(name), &a); err != nil {
		return App{}, err
	}
	if a.Slots == nil {
		a.Slots = map[string]string{}
	}
	return a, nil
}
