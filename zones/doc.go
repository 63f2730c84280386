// Package zones is slotdns's data model and its answer: it parses RFC 1035
// master files, overlays the slot mapping on them, and builds immutable
// snapshots that answer authoritative lookups. It is pure and in memory: it
// reads zone files and nothing else, and knows nothing of sockets or bbolt.
//
// # Building a snapshot
//
// ParseFile reads a zone once; Build combines zones with the current slot
// state into a Snapshot. The lookup tree of a *Zone is prepared by its first
// Build and shared by every later one, so a Build after a swap only lays the
// slots over it: a hostname target is a CNAME (with the slot's TTL), an
// address list is A/AAAA, and a hostname at the apex, where a CNAME cannot
// be, is an alias served as the target's A/AAAA. An alias target in one of
// the snapshot's zones is resolved there; any other comes from
// Input.Aliases, and Snapshot.AliasTargets names those the control plane
// should resolve. An alias with no addresses makes A, AAAA and ANY at the
// apex fail (ServerFailure) while its other types still answer.
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
// # Transfers
//
// Snapshot.Records gives a zone as AXFR sends it (RFC 5936): the SOA with
// the served serial, then every record in RFC 4034 canonical order, slot
// records and apex alias addresses as plain CNAME, A and AAAA. The file's
// records are sorted once per *Zone, on the first call; each snapshot
// merges its slot records into them on its first call, so a Build does not
// pay for transfers. Diff gives the removed and added records of two such
// lists, for IXFR (RFC 1995).
//
// Everything an existing name answers is computed by Build, so Lookup for
// it returns slices of the snapshot without allocating; only wildcard
// synthesis and CNAME chains for uncommon types build answers per query.
package zones
