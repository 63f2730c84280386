package store

import (
	"fmt"
	"time"
)

// Rollover is the state of a zone's key rollover (see package dnssec):
// which key replaces which, the stage reached, and when the next step
// becomes safe. It is written in the same transaction as the zone
// re-signed for the stage, so that what is served and what the stage
// says never part, whatever the moment of a crash.
type Rollover struct {
	Zone string `json:"-"` // the key
	Rev  Rev    `json:"-"` // the record's revision, as read
	Kind string `json:"kind"`
	// Old and New are the key tags; OldFile and NewFile the .private
	// files, for a tag two keys share.
	Old     uint16    `json:"old"`
	OldFile string    `json:"old_file"`
	New     uint16    `json:"new"`
	NewFile string    `json:"new_file"`
	Stage   string    `json:"stage"`
	Started time.Time `json:"started"` // when the rollover began
	Since   time.Time `json:"since"`   // when the stage began to be served
	// WaitTTL is the TTL the stage's wait comes from: the DNSKEY RRset's,
	// the parent's DS's, or the longest of the zone's signed records.
	WaitTTL uint32 `json:"wait_ttl,omitempty"`
	// SafeAt is when the stage's wait ends, as far as TTLs tell; zero
	// while it waits on the operator (the parent's DS).
	SafeAt time.Time `json:"safe_at,omitzero"`
	// DSConfirmed is when the operator said that the parent serves the
	// new DS; DSTTL is the TTL of the parent's DS records.
	DSConfirmed time.Time `json:"ds_confirmed,omitzero"`
	DSTTL       uint32    `json:"ds_ttl,omitempty"`
}

// RolloverKey names a zone's rollover for Batch.If.
func RolloverKey(zone string) Key { return Key{"rollover", zone} }

func (v boltView) Rollovers() (map[string]Rollover, error) {
	out := map[string]Rollover{}
	b := v.tx.Bucket(bucketRollovers)
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, _ []byte) error {
		var ro Rollover
		if err := getJSON(b, k, &ro); err != nil {
			return fmt.Errorf("key rollover of %q: %w", k, err)
		}
		ro.Zone = string(k)
		ro.Rev = v.rev(RolloverKey(ro.Zone), b, k)
		out[ro.Zone] = ro
		return nil
	})
	return out, err
}

func (emptyView) Rollovers() (map[string]Rollover, error) { return map[string]Rollover{}, nil }
