package metrics

import (
	"time"

	"github.com/slotdns/slotdns/dnsserver"
)

// Sources are read at scrape time, each on every scrape; a nil one exports
// nothing. They run concurrently with the rest of the program, so each must
// be safe to call from any goroutine, and quick: a scrape waits for them.
type Sources struct {
	DNS         func() dnsserver.Counts // the DNS server's counts
	Apps        func() []AppState
	Zones       func() []ZoneState
	Secondaries func() []SecondaryState
}

// AppState is one app as the control plane has it now. Only DrainRemaining
// is exported (slotdns_drain_remaining_seconds); App names it, and Zone and
// Serial say which zone and serial the state is of.
type AppState struct {
	App, Zone string
	Serial    uint32
	// DrainRemaining is how long until the slot the app last moved away
	// from is drained (resolvers may still hold its answers); 0 when
	// nothing drains.
	DrainRemaining time.Duration
}

// ZoneState is one served zone and the SOA serial it serves.
type ZoneState struct {
	Zone   string
	Serial uint32
}

// SecondaryState is what a secondary of a zone last said of it.
type SecondaryState struct {
	Zone, Address string
	Serial        uint32 // the serial the secondary has
	Lag           int64  // serial steps behind the zone's serial
	Known         bool   // false: it never answered, and nothing is exported
}
