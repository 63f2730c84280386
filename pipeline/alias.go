package pipeline

import (
	"maps"
	"slices"

	"github.com/slotdns/slotdns/store"
)

// AliasResolved stores a good resolution of an alias target outside our
// zones and serves it: each zone whose apex then serves other addresses
// gets a new serial, a journal entry and its secondaries a NOTIFY, in the
// same transaction as the record. It returns the zones whose serial moved.
func (p *Pipeline) AliasResolved(rec store.AliasRecord) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec.Addrs = slices.Sorted(slices.Values(rec.Addrs))
	s := newStep(p.now())
	s.aliases = maps.Clone(p.aliases)
	s.writeAliases = []store.AliasRecord{rec}
	s.conds = []store.Cond{{Key: store.AliasKey(rec.Target), Rev: p.aliases[rec.Target].Rev}}
	out, err := p.commit(s)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(out.serials)), nil
}

// RefreshAliases serves the alias addresses as they stand now: addresses
// last confirmed longer than alias_max_stale ago are no longer served, so
// their apexes answer SERVFAIL for A and AAAA, and their zones get a new
// serial. Nothing is committed when nothing changes. It returns the zones
// whose serial moved.
func (p *Pipeline) RefreshAliases() ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := newStep(p.now())
	s.aliases = maps.Clone(p.aliases)
	out, err := p.commit(s)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(out.serials)), nil
}
