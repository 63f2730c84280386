// Package zones is slotdns's data model and its answer: it parses RFC 1035
// master files, overlays the slot mapping on them, and builds immutable
// snapshots that answer authoritative lookups. It is pure and in memory: it
// reads zone files and nothing else, and knows nothing of sockets or bbolt.
//
// # Building a snapshot
//
// ParseFile reads a zone once, with zones/scan, into the wire form of
// zones/compact: the names and RDATA in a few large slices with a hash
// index, about 70 bytes a record, and no Go value per record. Build
// combines zones with the current slot state into a Snapshot. Every
// snapshot shares the records of a *Zone; a snapshot's view of a zone is
// them under a small overlay of the slots: a hostname target is a CNAME
// (with the slot's TTL), an address list is A/AAAA, and a hostname at the
// apex, where a CNAME cannot be, is an alias served as the target's A/AAAA.
// An alias target in one of the snapshot's zones is resolved there; any
// other comes from Input.Aliases, and Snapshot.AliasTargets names those the
// control plane should resolve. An alias with no addresses makes A, AAAA
// and ANY at the apex fail (ServerFailure) while its other types still
// answer.
//
// A change costs what it changes: Snapshot.With builds only the zones it
// is given, and the zones whose precomputed answers read one of them (an
// apex alias or a slot CNAME into it), or an alias whose addresses changed;
// Snapshot.Built names them. Every other zone's view is shared with the
// snapshot before, so a swap in one of 1,000 zones, or in a zone of a
// million names, builds one overlay.
//
// # Answers
//
// Lookup follows RFC 1034 4.3.2 with RFC 2308 negative answers, RFC 4592
// wildcards and RFC 8482 for ANY:
//
//   - the zone is the longest origin that is a suffix of the name; a name in
//     no zone is NotAuth;
//   - at or below a delegation (NS below the apex) the answer is a referral,
//     except DS at the delegation point, which the parent side answers;
//   - a CNAME answers every type but CNAME itself; targets in our zones are
//     followed (at most 8 links, loops cut), and the end of the chain gives
//     the result, so a chain can come with NoData or NameError (RFC 6604);
//     targets elsewhere are left to the resolver;
//   - ANY gets one synthesized HINFO "RFC8482" "" with the lowest TTL of the
//     name (RFC 8482 4.2), or the CNAME at an alias; never every RRset;
//   - NS and MX answers carry the addresses of their in-zone targets in the
//     additional section; referrals carry glue.
//
// An answer for a slot name says which slot it is (Answer.Slot, an index
// into the zone's ZoneInput.Slots), so that a server can count answers per
// app and slot at no extra cost.
//
// # Transfers
//
// Snapshot.Transfer gives a zone as AXFR sends it (RFC 5936): the SOA
// with the served serial, then every record in RFC 4034 canonical order,
// slot records and apex alias addresses as plain CNAME, A and AAAA, each
// made as it is read. The file's names are sorted once per *Zone, on the
// first transfer; the view's names are merged into them, so a Build does
// not pay for transfers. Snapshot.SlotRecords gives what the slots add
// (and the SOA): two snapshots of a zone file differ only there, so the
// IXFR delta of a swap is the Diff (RFC 1995) of their SlotRecords. A
// reload diffs two whole zones with DiffZone, which walks both in order.
// Zone.ContentDigest identifies what a file serves, so that a change made
// while nothing served it is noticed.
//
// Answers are put together per query from the file's records and the
// view's own nodes: a server keeps the responses it packs, so nothing is
// precomputed per name. Only the slot names' CNAME chains are computed
// when a view is built, to know the zones they read.
//
// The files: parse.go reads master files; target.go the slot targets;
// static.go gives the nodes a lookup reads; snapshot.go has the snapshot
// and With; build.go lays the slots over a zone; lookup.go answers;
// records.go lists records for transfers and diffs them.
package zones
