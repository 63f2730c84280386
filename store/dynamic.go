package store

import (
	"fmt"
	"time"
)

// DynamicZone is what DNS UPDATE (RFC 2136) changed of a zone, laid over
// its zone file: the records updates added, and the file's records they
// deleted (where a policy opens the file's records). The whole set is one
// record, written with the zone's new serial in the change that made it,
// so that two updates racing each other conflict rather than lose one.
type DynamicZone struct {
	Zone    string          `json:"-"` // the key
	Rev     Rev             `json:"-"` // the record's revision, as read
	Records []DynamicRecord `json:"records"`
	Removed []DynamicRecord `json:"removed,omitempty"`
}

// Empty reports whether the zone has no dynamic records.
func (dz DynamicZone) Empty() bool { return len(dz.Records) == 0 && len(dz.Removed) == 0 }

// UpdateHistory is the name a zone's history of updates is kept under,
// beside the apps' histories: no app name holds a colon.
func UpdateHistory(zone string) string { return "zone:" + zone }

// DynamicRecord is one record an update added, or took away.
type DynamicRecord struct {
	RR    string    `json:"rr"`    // one line of master file, owner a FQDN
	Actor string    `json:"actor"` // who added it: the TSIG key's name, or the user
	Added time.Time `json:"added"`
}

// DynamicKey names a zone's dynamic records for Batch.If.
func DynamicKey(zone string) Key { return Key{"dynamic", zone} }

func (v boltView) Dynamic(zone string) (DynamicZone, error) {
	dz := DynamicZone{Zone: zone}
	b := v.tx.Bucket(bucketDynamic)
	if b == nil || b.Get([]byte(zone)) == nil {
		return dz, nil
	}
	if err := getJSON(b, []byte(zone), &dz); err != nil {
		return dz, fmt.Errorf("dynamic records of zone %q: %w", zone, err)
	}
	dz.Zone = zone
	dz.Rev = v.rev(DynamicKey(zone), b, []byte(zone))
	return dz, nil
}

func (emptyView) Dynamic(zone string) (DynamicZone, error) { return DynamicZone{Zone: zone}, nil }
