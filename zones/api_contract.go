package zones

// This file fixes the API other packages build against. The zones owner
// replaces the stub bodies (and may move the declarations into the files
// they belong in: zone.go, target.go, snapshot.go, lookup.go) but keeps the
// exported names and signatures.

import (
	"net/netip"

	"github.com/miekg/dns"
)

// Zone is one parsed master file: the static records of a zone.
type Zone struct {
	Origin  string   // lowercase FQDN, e.g. "yourwebapp.com."
	File    string   // path it was read from, for messages
	SOA     *dns.SOA // the apex SOA
	Records []dns.RR // every record of the file, owner names lowercased
	// Lines maps a lowercase owner name to the first file line that gave it
	// records, so that a conflict can name the place.
	Lines map[string]int
}

// ParseFile reads the master file at path for origin ($ORIGIN, $TTL and
// $INCLUDE relative to the file). Every error has the form
// "file:line: what is wrong"; several are joined with errors.Join.
func ParseFile(origin, path string) (*Zone, error) { panic("unimplemented") }

// Target is what a slot points at: a hostname (served as CNAME, or as an
// apex alias) or a list of IP addresses (served as A/AAAA). Exactly one of
// Host and Addrs is set.
type Target struct {
	Host  string       // lowercase FQDN with the trailing dot
	Addrs []netip.Addr // sorted, unique
}

// ParseTarget accepts "host.example." (a missing trailing dot is added) or
// one or more IP addresses separated by commas or spaces.
func ParseTarget(s string) (Target, error) { panic("unimplemented") }

// String gives the canonical text form ParseTarget accepts: the FQDN, or the
// addresses joined by ",".
func (t Target) String() string { panic("unimplemented") }

// IsHost reports whether the target is a hostname.
func (t Target) IsHost() bool { return t.Host != "" }

// Slot is one slot's current state as the snapshot serves it.
type Slot struct {
	App    string
	Slot   string
	Names  []string // owner FQDNs, lowercase
	Target Target
	TTL    uint32 // TTL of every answer for this slot
}

// Alias is the resolved address set of an apex alias target that lies
// outside every zone of the snapshot (resolved by the control plane).
type Alias struct {
	Addrs []netip.Addr
	TTL   uint32 // the smallest TTL the resolver gave
}

// ZoneInput is one zone's part of a snapshot.
type ZoneInput struct {
	Zone   *Zone
	Serial uint32 // the SOA serial to serve
	Slots  []Slot
}

// Input is everything a snapshot is built from, as plain values.
type Input struct {
	Zones []ZoneInput
	// Aliases holds resolved addresses keyed by lowercase target FQDN, for
	// apex aliases whose target is in none of the zones.
	Aliases map[string]Alias
}

// Snapshot is an immutable, fully computed view of every zone served.
// It is safe for concurrent use; nothing in it changes after Build.
type Snapshot struct{}

// Build computes a snapshot. It fails when a slot name also owns records in
// the zone file (a *ConflictError naming the file and line), or when a slot
// name lies outside its zone.
func Build(in Input) (*Snapshot, error) { panic("unimplemented") }

// Result says what kind of answer a lookup found; the server maps it to an
// rcode and the AA bit.
type Result int

const (
	Success       Result = iota // NOERROR with data, AA
	NoData                      // NOERROR, SOA in Ns, AA
	NameError                   // NXDOMAIN, SOA in Ns, AA
	Delegation                  // NOERROR referral: NS in Ns, glue in Extra, no AA
	ServerFailure               // SERVFAIL (apex alias with no addresses ever)
	NotAuth                     // the name is in no zone: REFUSED, no AA
)

// Answer is the result of one lookup. Its slices belong to the snapshot and
// must not be modified.
type Answer struct {
	Result Result
	Zone   string // the origin that matched, "" for NotAuth
	Answer []dns.RR
	Ns     []dns.RR
	Extra  []dns.RR
}

// Lookup answers qname (lowercase FQDN) and qtype authoritatively.
func (s *Snapshot) Lookup(qname string, qtype uint16) Answer { panic("unimplemented") }

// Serial returns the SOA serial served for origin, and false when the
// snapshot has no such zone.
func (s *Snapshot) Serial(origin string) (uint32, bool) { panic("unimplemented") }
