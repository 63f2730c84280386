// Package pipeline is slotdns's one change pipeline: every change of the
// state takes it, whoever asks for it (the CLI, the API, the server
// itself). A change is a swap, a set, a rollback (plain, to a history
// entry, or automatic after a failed check), an apex alias resolved or
// expired, a reload of the zone files, or the seeding of the config at
// start. Under one write lock, each runs the same steps:
//
//  1. read what it needs in one read transaction of the store;
//  2. apply its rule (rules.go: pure functions of plain values);
//  3. build the next snapshot once, with zones.With: only the zones the
//     change touches, and those that read them;
//  4. derive the IXFR delta of each zone with a new serial and the drain
//     clock of each app from the snapshots before and after;
//  5. commit the apps, serials, history entry (final, drain instant
//     included), journal deltas and drain states in one store.Batch,
//     conditional on the revisions read;
//  6. publish the snapshot, then tell the Sink which zones have new
//     serials, for NOTIFY.
//
// A change costs what it changes: the other zones, and a zone file's
// records, are shared with the snapshot before. A zone rebuilt only
// because it reads a changed one (an apex alias into it) gets a new serial
// when what it serves changed. A database holding apps, slots or zones the
// config does not declare is refused at Open (see Orphan); Rename and
// Forget resolve them.
//
// The files: pipeline.go (the Pipeline, its steps and commit), changes.go
// (swap, set, rollback), alias.go, reload.go, open.go (seeding at start),
// rules.go, input.go (the one place a zone's input is assembled),
// delta.go, drain.go, orphans.go and maintain.go (rename and forget).
package pipeline
