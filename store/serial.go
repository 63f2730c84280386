package store

import (
	"fmt"
	"sort"
	"strings"

	"go.etcd.io/bbolt"
)

// zoneState is the stored state of one zone.
type zoneState struct {
	Serial uint32 `json:"serial"`
	// Digest identifies the content served at Serial that does not come
	// from the store (the zone file's records, say), as the caller
	// computed it; the store only compares it. See SeedZone.
	Digest string `json:"digest,omitempty"`
	// JournalCut says the zone's content changed at this serial without a
	// journal entry (see cutJournal): the next change is not journaled.
	JournalCut bool `json:"journal_cut,omitempty"`
}

// SerialLess reports whether a < b in RFC 1982 serial number arithmetic.
// When a and b are exactly 2^31 apart the order is undefined and it
// reports false both ways.
func SerialLess(a, b uint32) bool {
	d := b - a // wraps modulo 2^32
	return d != 0 && d < 1<<31
}

// SeedZone records the zone at start and returns the serial to serve.
// digest is an opaque string that changes when the content the caller
// serves beside the store's state changes (a digest of the zone file's
// records, say); the store compares it with the one it kept.
//
//   - A zone not yet stored takes fileSerial and digest.
//   - Same digest: the serial becomes max(stored, fileSerial) in RFC 1982
//     order.
//   - Another digest: the content changed while nothing served it, so the
//     serial becomes max(stored+1, fileSerial), and secondaries holding the
//     stored serial learn that they are behind. A zone stored without a
//     digest (by an earlier slotdns) counts as changed once.
//
// A serial moved this way is not journaled: the zone's journal is cut
// (IXFR from an older serial is answered by AXFR).
func (db *DB) SeedZone(zone string, fileSerial uint32, digest string) (uint32, error) {
	serial := fileSerial
	raised := false
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		zones := tx.Bucket(bucketZones)
		if zones.Get([]byte(zone)) == nil {
			raised = true
			return putJSON(zones, []byte(zone), zoneState{Serial: serial, Digest: digest})
		}
		var stored zoneState
		if err := getJSON(zones, []byte(zone), &stored); err != nil {
			return err
		}
		serial = stored.Serial
		if stored.Digest != digest {
			serial++ // wraps as RFC 1982 allows
		}
		if SerialLess(serial, fileSerial) {
			serial = fileSerial
		}
		if serial == stored.Serial {
			return nil // same content (another digest always moves the serial)
		}
		stored.Serial, stored.Digest = serial, digest
		if err := putJSON(zones, []byte(zone), stored); err != nil {
			return err
		}
		raised = true
		return dropJournal(tx, zone)
	})
	if err != nil {
		return 0, fmt.Errorf("seed zone %q: %w", zone, err)
	}
	if raised {
		db.markUnserved(zone)
	}
	return serial, nil
}

// ZoneSerial returns the stored serial of zone.
func (db *DB) ZoneSerial(zone string) (uint32, error) {
	var st zoneState
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		st, err = loadZone(tx, zone)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("zone serial: %w", err)
	}
	return st.Serial, nil
}

// BumpSerial increments the zone's serial (RFC 1982) in its own
// transaction, for zone changes that are not app mutations (an apex alias
// whose resolved addresses changed), and journals it. It returns the new
// serial.
func (db *DB) BumpSerial(zone string) (uint32, error) {
	var serial uint32
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		jc, err := db.beginJournal(tx, zone)
		if err != nil {
			return err
		}
		if serial, err = bumpSerial(tx, zone); err != nil {
			return err
		}
		return jc.finish(tx)
	})
	if err != nil {
		return 0, fmt.Errorf("bump serial: %w", err)
	}
	return serial, nil
}

// bumpSerial adds one to the zone's serial, wrapping at 2^32 as RFC 1982
// allows, and returns the new serial.
func bumpSerial(tx *bbolt.Tx, zone string) (uint32, error) {
	st, err := loadZone(tx, zone)
	if err != nil {
		return 0, err
	}
	st.Serial++
	if err := putJSON(tx.Bucket(bucketZones), []byte(zone), st); err != nil {
		return 0, err
	}
	return st.Serial, nil
}

func loadZone(tx *bbolt.Tx, zone string) (zoneState, error) {
	zones := tx.Bucket(bucketZones)
	if zones.Get([]byte(zone)) == nil {
		return zoneState{}, fmt.Errorf("zone %q %w (stored zones: %s; SeedZone adds one)", zone, ErrNotFound, keyList(zones))
	}
	var st zoneState
	err := getJSON(zones, []byte(zone), &st)
	return st, err
}

// keyList names the keys of b for error messages, "none" when it is empty.
func keyList(b *bbolt.Bucket) string {
	var keys []string
	b.ForEach(func(k, _ []byte) error {
		keys = append(keys, string(k)) // string() copies out of the mmap
		return nil
	})
	return listOrNone(keys)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
