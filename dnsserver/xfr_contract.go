package dnsserver

// The contract for zone transfers (issue 3). The dnsserver owner implements
// it in xfr.go, tsig.go, acl.go (replacing this file), keeping the exported
// names; Config gains the Transfer field below.

import (
	"net/netip"

	"github.com/miekg/dns"
)

// TSIGKey is one shared secret, as `tsig-keygen` writes it.
type TSIGKey struct {
	Name      string // FQDN, lowercase, e.g. "xfr-key."
	Algorithm string // miekg/dns name, e.g. dns.HmacSHA256
	Secret    string // base64
}

// Peer is a secondary allowed to transfer a zone: queries from Addr (the
// address of the secondary; any port) may AXFR/IXFR, signed with Key when
// Key is not "".
type Peer struct {
	Addr netip.Addr
	Key  string // a TSIGKey.Name, or ""
}

// Delta is one IXFR step: Removed starts with the old SOA, Added with the
// new SOA (RFC 1995).
type Delta struct {
	Removed []dns.RR
	Added   []dns.RR
}

// Transfer configures AXFR/IXFR. With a nil Transfer every transfer is
// REFUSED.
type Transfer struct {
	Peers map[string][]Peer  // zone origin -> who may transfer it
	Keys  map[string]TSIGKey // by Name
	// Journal returns the deltas from serial from to the zone's current
	// serial; ok false makes the server answer IXFR with a full AXFR.
	Journal func(zone string, from uint32) (deltas []Delta, ok bool)
}
