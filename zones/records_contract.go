package zones

// The contract for zone transfers (issue 3). The zones owner implements it
// in records.go (replacing these stubs and deleting this file), keeping the
// exported names and signatures.

import "github.com/miekg/dns"

// Records returns every record of zone origin as the snapshot serves it, for
// AXFR: the SOA first (with the served serial), then every other record in
// a stable canonical order (owner in canonical DNS order, then type, then
// rdata), slot records and apex alias addresses included as ordinary
// CNAME/A/AAAA records. ok is false when the snapshot has no such zone. The
// slice is computed at Build and must not be modified.
func (s *Snapshot) Records(origin string) (records []dns.RR, ok bool) { panic("unimplemented") }

// Diff returns the records in old but not in new, and in new but not in old
// (RFC 1995 deltas), comparing whole records (owner, class, type, TTL and
// rdata; owner names case-insensitively). SOA records are compared like any
// other; callers pass both full record lists.
func Diff(old, new []dns.RR) (removed, added []dns.RR) { panic("unimplemented") }
