// Package store keeps slotdns's live state: slot targets, app versions,
// zone serials, history, each zone's IXFR journal, the drain clock's state
// and the last good addresses of apex aliases. It knows nothing of the DNS
// wire format: targets, and journal records, are the text callers hand in.
//
// # The contract
//
// Store is what the change pipeline needs of a place to keep state, and
// nothing more: Read runs a function on one consistent View, and Apply
// writes a Batch in one transaction if every record it names is still at
// the revision it was read at (Cond), or not at all (a *ConflictError).
// Every record read carries its revision (Rev), the number of the batch
// that last wrote it: the store stamps everything one batch writes with
// the next revision of a counter of its own.
//
// DB implements it on a bbolt file (the embedded default): a View is one
// bbolt read transaction, a Batch one Update transaction, committed with
// one fsync, revisions kept beside the records in a bucket of their own.
// Empty is the state of a file that does not exist yet.
//
// # How an etcd backend would map
//
// The contract is that of etcd's transactions, so that several primaries
// could share one state later; no such backend is built yet.
//
//   - Records: one key each, JSON values as here, under a prefix per kind:
//     /slotdns/apps/NAME, /slotdns/zones/ORIGIN, /slotdns/drain/APP,
//     /slotdns/aliases/TARGET; history /slotdns/history/APP/%016x (the
//     sequence number, so that key order is sequence order), journal
//     /slotdns/journal/ZONE/%016x.
//   - Rev is the key's ModRevision; revision 0 is a key that does not
//     exist (CreateRevision 0).
//   - Read: one Get of the prefix (or a Txn of Gets), all at one revision
//     (WithRev), so the view is consistent.
//   - Apply: one Txn: If(Compare(ModRevision(key), "=", rev) for each
//     Cond), Then(Delete... for the deletes, Put... for the records, the
//     history entries and the journal deltas, Delete for the journal
//     entries past the limit), and Else nothing. resp.Succeeded false is
//     a *ConflictError; the header's revision is the Rev returned.
//   - A history entry's sequence number is the app's last plus one; every
//     batch that appends one also writes the app under a condition on its
//     revision, so two primaries cannot append the same entry. The journal
//     is appended the same way under the zone's condition.
//   - Watch on /slotdns/ tells a primary of the changes another made, so
//     that it rebuilds the snapshot it serves from them; each batch is one
//     revision, so a watcher sees a change whole.
//
// # The bbolt file
//
// See the layout in db.go. Open refuses a file that is not a whole slotdns
// database (an empty file, another kind of file, pages that fail bbolt's
// consistency check) with an error wrapping ErrDamaged that says what to
// do; Backup writes a consistent copy while the server writes on.
package store
