package pipeline

import (
	"fmt"

	"github.com/slotdns/slotdns/internal/serial"
	"github.com/slotdns/slotdns/store"
)

// SerialPast gives zone origin a serial later than seen, when seen, a
// serial one of its secondaries serves, is later than ours. That happens
// when the database went back in time (restored from a backup, or
// removed to start anew): a secondary ignores a NOTIFY of a serial not
// greater than its own, and would keep serving the answers it holds. The
// zone's answers stay as they are; the new serial is journaled like any
// change, so a secondary at an older serial of ours takes an IXFR, and one
// at seen, which we have no journal from, the zone whole. moved is false
// when our serial is not behind seen (RFC 1982).
func (p *Pipeline) SerialPast(origin string, seen uint32) (to uint32, moved bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	zs, ok := p.zones[origin]
	if !ok {
		return 0, false, fmt.Errorf("zone %s %w in the config", origin, store.ErrNotFound)
	}
	if !serial.Less(zs.Serial, seen) {
		return zs.Serial, false, nil
	}
	s := newStep(p.now())
	s.conds = []store.Cond{{Key: store.ZoneKey(origin), Rev: zs.Rev}}
	zs.Serial = NextSerialAtLeast(zs.Serial, seen+1)
	if !serial.Less(seen, zs.Serial) {
		return 0, false, fmt.Errorf("%w: zone %s: serial %d is too far ahead of ours to move past in one step (RFC 1982)", store.ErrConflict, origin, seen)
	}
	s.zones[origin] = zs
	if _, err := p.commit(s); err != nil {
		return 0, false, err
	}
	return zs.Serial, true, nil
}
