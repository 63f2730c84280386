// Package update is the protocol of DNS UPDATE (RFC 2136), apart from
// the server that receives it and the store that keeps its records:
//
//   - Parse reads an UPDATE message into its zone, prerequisites and
//     updates, with the rcode of what is malformed;
//   - Prescan checks the update section (RFC 2136 3.4.1) before anything
//     is looked up;
//   - CheckPrerequisites evaluates the five kinds of prerequisite (RFC
//     2136 2.4, 3.2) against what the zone serves;
//   - Apply gives the RRsets the updates leave (RFC 2136 3.4.2), all or
//     nothing, for the change pipeline to commit as one transaction;
//   - Pattern is the name part of a key's policy: which names a key may
//     change.
//
// Everything here is pure: it takes the zone's records through View and
// returns what to change, so that the caller decides what is protected
// (slot names, the zone file's records) and commits the change.
package update
