package store

// The contract for the IXFR journal (issue 3). The store owner implements it
// in journal.go (replacing these stubs and deleting this file), keeping the
// exported names and signatures.

// Delta is one step of a zone's IXFR journal (RFC 1995): the records that
// went from serial From to serial To, as zone-file text. Removed starts with
// the SOA of From, Added with the SOA of To.
type Delta struct {
	From    uint32   `json:"from"`
	To      uint32   `json:"to"`
	Removed []string `json:"removed"`
	Added   []string `json:"added"`
}

// ZoneState is what a zone's slot answers are made of at one serial: the
// apps in the zone and every stored alias record, as the transaction sees
// them.
type ZoneState struct {
	Zone    string
	Serial  uint32
	Apps    []App
	Aliases map[string]AliasRecord
}

// Journaler computes the Delta of a change from the zone's state before and
// after it. The store calls it inside every Update transaction that bumps a
// zone's serial (Swap, Set, Rollback, SaveAlias, BumpSerial) and writes the
// Delta in that same transaction, so that the journal and the change commit
// together or not at all. An error aborts the change.
type Journaler func(before, after ZoneState) (Delta, error)

// SetJournal installs j and keeps at most limit deltas per zone (oldest
// dropped first; limit <= 0 means 1000). Without a journaler, changes are
// made as before and the journal is cut (IXFR from older serials is then
// answered by AXFR).
func (db *DB) SetJournal(j Journaler, limit int) { panic("unimplemented") }

// ZoneChanged records a change of the zone file itself (an edit picked up by
// a reload): in one transaction it sets the serial to max(serial+1,
// atLeast) in RFC 1982 order, calls delta with the old and new serial, and
// journals what it returns. It returns the new serial.
func (db *DB) ZoneChanged(zone string, atLeast uint32, delta func(from, to uint32) (Delta, error)) (uint32, error) {
	panic("unimplemented")
}

// Journal returns the deltas that lead from serial from to the zone's
// current serial, oldest first; ok is false when the journal cannot answer
// (from is older than the journal keeps, or a change went unjournaled), and
// the caller falls back to a full transfer. from equal to the current serial
// gives no deltas and ok true.
func (db *DB) Journal(zone string, from uint32) (deltas []Delta, ok bool, err error) {
	panic("unimplemented")
}
