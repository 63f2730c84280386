package control

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/slotdns/slotdns/dnsserver"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// journal is the store's Journaler: it computes the IXFR delta of a change
// from the records served before it and the records the state after it
// serves. The store calls it inside the change's transaction, from the
// goroutine that holds s.mu, so it reads the service's state without
// locking (and must not lock).
func (s *service) journal(before, after store.ZoneState) (store.Delta, error) {
	old, err := s.servedRecords(before)
	if err != nil {
		return store.Delta{}, err
	}
	snap, err := zones.Build(s.stateInput(after))
	if err != nil {
		return store.Delta{}, fmt.Errorf("journal %s serial %d: %w", after.Zone, after.Serial, err)
	}
	recs, ok := snap.Records(after.Zone)
	if !ok {
		return store.Delta{}, fmt.Errorf("journal %s: not a configured zone", after.Zone)
	}
	// A change of state leaves the zone file's records as they are: only
	// the rest (SOA, slot and alias records) is diffed.
	file := s.fileRecords(after.Zone)
	return makeDelta(before.Serial, after.Serial, withoutRecords(old, file), withoutRecords(recs, file)), nil
}

// fileRecords is the set of the records of the zone's file as loaded, kept
// until a reload replaces the file. The caller holds s.mu.
func (s *service) fileRecords(zone string) map[dns.RR]bool {
	zc, ok := s.cfg.Zone(zone)
	if !ok || zc.Zone == nil {
		return nil
	}
	if cached, ok := s.fileSets[zone]; ok && cached.zone == zc.Zone {
		return cached.set
	}
	set := make(map[dns.RR]bool, len(zc.Zone.Records))
	for _, rr := range zc.Zone.Records {
		if rr.Header().Rrtype != dns.TypeSOA {
			set[rr] = true
		}
	}
	if s.fileSets == nil {
		s.fileSets = map[string]fileRecordSet{}
	}
	s.fileSets[zone] = fileRecordSet{zone: zc.Zone, set: set}
	return set
}

type fileRecordSet struct {
	zone *zones.Zone
	set  map[dns.RR]bool // by identity: the very records a snapshot serves
}

// withoutRecords leaves out of rrs the records in set (by identity).
func withoutRecords(rrs []dns.RR, set map[dns.RR]bool) []dns.RR {
	if len(set) == 0 {
		return rrs
	}
	out := make([]dns.RR, 0, min(len(rrs), 64))
	for _, rr := range rrs {
		if !set[rr] {
			out = append(out, rr)
		}
	}
	return out
}

// servedRecords returns the zone's records at st: those of the published
// snapshot when it serves st's serial (it is what secondaries have
// transferred), else those built from st.
func (s *service) servedRecords(st store.ZoneState) ([]dns.RR, error) {
	if snap := s.current.Load(); snap != nil {
		if serial, ok := snap.Serial(st.Zone); ok && serial == st.Serial {
			recs, _ := snap.Records(st.Zone)
			return recs, nil
		}
	}
	snap, err := zones.Build(s.stateInput(st))
	if err != nil {
		return nil, fmt.Errorf("journal %s serial %d: %w", st.Zone, st.Serial, err)
	}
	recs, ok := snap.Records(st.Zone)
	if !ok {
		return nil, fmt.Errorf("journal %s: not a configured zone", st.Zone)
	}
	return recs, nil
}

// stateInput is the input last published with zone st.Zone replaced by st:
// its serial, its apps' targets and every alias record.
func (s *service) stateInput(st store.ZoneState) zones.Input {
	in := zones.Input{Zones: slices.Clone(s.lastInput.Zones)}
	in.Aliases = servedAliases(st.Aliases, s.now(), s.cfg.AliasMaxStale)
	stored := map[string]store.App{}
	for _, app := range st.Apps {
		stored[app.Name] = app
	}
	for i, zi := range in.Zones {
		if zi.Zone == nil || zi.Zone.Origin != st.Zone {
			continue
		}
		zi.Serial = st.Serial
		zi.Slots = nil
		for _, app := range s.cfg.Apps {
			if app.Zone != st.Zone {
				continue
			}
			for _, slot := range app.Slots {
				t := slot.Target
				if text, ok := stored[app.Name].Slots[slot.Name]; ok {
					if live, err := zones.ParseTarget(text); err == nil {
						t = live
					}
				}
				zi.Slots = append(zi.Slots, zones.Slot{App: app.Name, Slot: slot.Name, Names: slot.Names, Target: t, TTL: app.TTL})
			}
		}
		in.Zones[i] = zi
	}
	return in
}

// makeDelta turns two record lists into a journal delta, each list
// starting with its SOA as RFC 1995 wants.
func makeDelta(from, to uint32, old, new []dns.RR) store.Delta {
	removed, added := diffRecords(old, new)
	return store.Delta{From: from, To: to, Removed: soaFirst(removed), Added: soaFirst(added)}
}

// diffRecords is zones.Diff on copies: packing a record to compare it
// writes its header, and the records of a published snapshot are being
// read by queries.
func diffRecords(old, new []dns.RR) (removed, added []dns.RR) {
	return zones.Diff(copyRecords(old), copyRecords(new))
}

func copyRecords(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
	}
	return out
}

func soaFirst(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			out = append([]string{rr.String()}, out...)
		} else {
			out = append(out, rr.String())
		}
	}
	return out
}

// transferJournal adapts the store's journal to the DNS server: text
// records parsed back. Anything it cannot read makes the server fall back
// to AXFR.
func (s *service) transferJournal(zone string, from uint32) ([]dnsserver.Delta, bool) {
	deltas, ok, err := s.db.Journal(zone, from)
	if err != nil {
		s.log.Warn("IXFR journal unreadable; answering with a full transfer", "zone", zone, "from", from, "err", err)
		return nil, false
	}
	if !ok {
		return nil, false
	}
	out := make([]dnsserver.Delta, 0, len(deltas))
	for _, d := range deltas {
		removed, err1 := parseRecords(d.Removed)
		added, err2 := parseRecords(d.Added)
		if err1 != nil || err2 != nil {
			s.log.Warn("IXFR journal entry unreadable; answering with a full transfer", "zone", zone, "from", d.From, "to", d.To, "err", firstErr(err1, err2))
			return nil, false
		}
		out = append(out, dnsserver.Delta{Removed: removed, Added: added})
	}
	return out, true
}

func parseRecords(texts []string) ([]dns.RR, error) {
	out := make([]dns.RR, 0, len(texts))
	for _, text := range texts {
		rr, err := dns.NewRR(text)
		if err != nil {
			return nil, err
		}
		if rr != nil {
			out = append(out, rr)
		}
	}
	return out, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// transferConfig is what the DNS server needs to answer AXFR and IXFR:
// the secondaries of each zone (their host names resolved), the keys and
// the journal.
func (s *service) transferConfig(resolve func(host string) ([]netip.Addr, error)) (*dnsserver.Transfer, error) {
	t := &dnsserver.Transfer{Peers: map[string][]dnsserver.Peer{}, Keys: s.cfg.Keys, Journal: s.transferJournal}
	for _, zc := range s.cfg.Zones {
		for _, sec := range zc.Secondaries {
			addrs, err := secondaryAddrs(sec.Address, resolve)
			if err != nil {
				return nil, fmt.Errorf("zone %s: secondary %s: %w; write its IP address in %s", zc.Origin, sec.Address, err, s.cfg.Path)
			}
			for _, a := range addrs {
				t.Peers[zc.Origin] = append(t.Peers[zc.Origin], dnsserver.Peer{Addr: a, Key: sec.Key})
			}
		}
	}
	return t, nil
}
