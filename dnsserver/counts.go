package dnsserver

// Counts is what a server counted since it started (with Config.Count),
// summed over its readers at the time of the call. The zones and slots in
// it are those of the snapshot published then; zone "" is every query for
// a name in no zone served here (or with no name at all).
type Counts struct {
	// Requests counts the queries answered, by zone, query type
	// (qtypeNames), protocol ("udp", "tcp") and rcode (rcodeNames); a
	// zone transfer is one request, however many messages it takes. Only
	// the label sets that occurred are present.
	Requests map[RequestKey]uint64
	// Dropped counts the packets that got no response (not a query, or
	// not even a header), by protocol; both protocols are present.
	Dropped map[string]uint64
	// Truncated counts the answers sent over UDP with TC set, by zone;
	// every zone of the snapshot is present.
	Truncated map[string]uint64
	// SlotAnswers counts the answers looked up for a slot's names (data,
	// NODATA or SERVFAIL; not a FORMERR or BADVERS, which come before any
	// lookup), by app and slot; every slot of the snapshot is present.
	SlotAnswers map[SlotKey]uint64
	// Transfers counts AXFR and IXFR requests by zone, type ("AXFR",
	// "IXFR") and result: "ok" when the zone (or its SOA alone) was
	// sent, "refused" when it was not, for this client (no secondary of
	// the zone, a missing or failed TSIG) or at all (a zone not served
	// here). Only the label sets that occurred are present.
	Transfers map[TransferKey]uint64
	// TSIGFailures counts the signed requests whose TSIG failed, by
	// reason: "bad_key" (a key unknown here or of another algorithm),
	// "bad_signature", "bad_time" (outside the fudge), "bad_truncation"
	// (a MAC shorter than ours) and "malformed"; every reason is present.
	TSIGFailures map[string]uint64
	// RRL counts the UDP responses over the rate limit that were
	// "slipped" (sent truncated) or "dropped"; nil without rate limiting.
	RRL map[string]uint64
	// Cookies counts the queries with a COOKIE option by what it held
	// (cookieResults): "client_only", "valid" (a server cookie of ours),
	// "invalid" (a server cookie we did not make, or too old: answered
	// with a fresh one) and "malformed" (FORMERR); nil when cookies are
	// not answered.
	Cookies map[string]uint64
	// TCPConnections counts the TCP connections "accepted", "refused"
	// (their source had all it may have, or every one was busy) and
	// "evicted" (the idlest, to make room); TCPOpen is how many are open.
	TCPConnections map[string]uint64
	TCPOpen        int
}

// RequestKey is the labels of one count of Counts.Requests.
type RequestKey struct {
	Zone, Qtype, Protocol, Rcode string
}

// SlotKey names an app's slot.
type SlotKey struct {
	App, Slot string
}

// TransferKey is the labels of one count of Counts.Transfers.
type TransferKey struct {
	Zone, Type, Result string
}

// Counts sums what the readers counted. Without Config.Count it is the
// zero Counts. It allocates the maps it returns, and is meant for a scrape
// every few seconds, not for every query.
func (s *Server) Counts() Counts {
	if s.ids == nil {
		return Counts{}
	}
	var rrl map[string]uint64
	if s.rrl != nil {
		rrl = map[string]uint64{"slipped": s.rrl.slipped.Load(), "dropped": s.rrl.dropped.Load()}
	}
	// The labels come from the state published now; the ids of zones and
	// slots it does not serve are left out.
	current := s.state.Load().ids
	zoneNames, slotNames, pairs := s.ids.names()
	c := Counts{
		Requests:     map[RequestKey]uint64{},
		Dropped:      map[string]uint64{},
		Truncated:    map[string]uint64{},
		SlotAnswers:  map[SlotKey]uint64{},
		Transfers:    map[TransferKey]uint64{},
		TSIGFailures: map[string]uint64{},
		RRL:          rrl,
	}
	if s.cfg.Cookies != nil {
		c.Cookies = map[string]uint64{}
		for _, r := range cookieResults[1:] {
			c.Cookies[r] = 0
		}
	}
	c.TCPOpen, c.TCPConnections = s.tcpGate.counts()
	zoneServed := make([]bool, len(zoneNames))
	zoneServed[0] = true
	slotServed := make([]bool, len(slotNames))
	for _, z := range current.zones {
		zoneServed[z.id] = true
		c.Truncated[zoneNames[z.id]] = 0
		for _, pair := range z.slots {
			slot := pairs[pair].slot
			slotServed[slot] = true
			c.SlotAnswers[slotNames[slot]] = 0
		}
	}
	for _, p := range protocolNames {
		c.Dropped[p] = 0
	}
	for _, r := range tsigReasons[1:] {
		c.TSIGFailures[r] = 0
	}

	for _, sh := range s.shards.all() {
		proto := protocolNames[sh.protocol]
		c.Dropped[proto] += sh.other[otherDropped].Load()
		for i, r := range tsigReasons[1:] {
			c.TSIGFailures[r] += sh.other[1+i].Load()
		}
		if c.Cookies != nil {
			for i, r := range cookieResults[1:] {
				c.Cookies[r] += sh.cookies[1+i].Load()
			}
		}
		sh.requests.each(func(id int, b *block) {
			pair := id / numQtypes
			if pair >= len(pairs) {
				return // of a snapshot published after current
			}
			zone, slot := pairs[pair].zone, pairs[pair].slot
			for rcode := range b {
				n := b[rcode].Load()
				if n == 0 {
					continue
				}
				if zoneServed[zone] {
					c.Requests[RequestKey{zoneNames[zone], qtypeNames[id%numQtypes], proto, rcodeNames[rcode]}] += n
				}
				if slot != 0 && slotServed[slot] {
					c.SlotAnswers[slotNames[slot]] += n
				}
			}
		})
		sh.zones.each(func(zone int, b *block) {
			if zone >= len(zoneNames) || !zoneServed[zone] {
				return
			}
			if n := b[zoneTruncated].Load(); n > 0 {
				c.Truncated[zoneNames[zone]] += n
			}
			for typ, typeName := range transferTypeNames {
				for result, resultName := range transferResultNames {
					if n := b[zoneTransfers+2*typ+result].Load(); n > 0 {
						c.Transfers[TransferKey{zoneNames[zone], typeName, resultName}] += n
					}
				}
			}
		})
	}
	return c
}
