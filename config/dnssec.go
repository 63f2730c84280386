package config

import "time"

// Defaults of a [zone.dnssec] table: Knot's and BIND's order of magnitude,
// signatures valid for two weeks and refreshed at their half-life.
const (
	DefaultSignatureValidity = 14 * 24 * time.Hour
	DefaultSignatureRefresh  = 7 * 24 * time.Hour
	DefaultSignatureJitter   = 12 * time.Hour
	DefaultKeyDir            = "keys"
)

// DNSSEC is a zone's [zone.dnssec] table: the zone is signed by slotdns
// with the keys found in KeyDir.
type DNSSEC struct {
	KeyDir    string // resolved folder of the key files (BIND's K<zone>+<alg>+<tag> format)
	Algorithm uint8  // dns.ECDSAP256SHA256 (default) or dns.ED25519, for keys made by slotdns
	Split     bool   // keys made by slotdns are a KSK and a ZSK rather than one CSK
	NSEC3     bool   // denial with NSEC3 (RFC 9276 parameters) rather than NSEC
	// GenerateKeys makes the keys on start when KeyDir has none for the
	// zone. Off by default: keys that vanish must not be silently
	// replaced, since the parent's DS points at them.
	GenerateKeys bool
	Validity     time.Duration // how long a signature is valid from its inception
	Refresh      time.Duration // a signature is replaced when less than this remains
	Jitter       time.Duration // expirations are spread over this much, so re-signing spreads too
	Line         int           // the line of [zone.dnssec]
}
