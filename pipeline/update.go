package pipeline

import (
	"fmt"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// Kinds of the history entries of a zone's dynamic records.
const (
	KindUpdate        = "update"     // a DNS UPDATE (RFC 2136)
	KindRecordsRemove = "records rm" // slotdns records rm
)

// ZoneUpdate is one change of a zone's dynamic records.
type ZoneUpdate struct {
	// Zone is what the zone serves after the change: its file with the
	// new dynamic records laid over it, signed when the zone is.
	Zone *zones.Zone
	// Dynamic is the dynamic records to store, with the revision they
	// were read at: the change lands only if no other changed them since.
	Dynamic store.DynamicZone
	Kind    string
	Actor   string // the TSIG key's name, or the user
	Reason  string
	// Before and After are the RRsets the change touched, "name TYPE"
	// to their records' data, for the history entry.
	Before, After map[string]string
}

// UpdateZone serves u.Zone and stores u.Dynamic in one change: a new
// serial, a journal entry of every record removed and added, a history
// entry of the zone's updates, and a NOTIFY.
func (p *Pipeline) UpdateZone(u ZoneUpdate) (store.Entry, error) {
	origin := u.Zone.Origin
	p.mu.Lock()
	defer p.mu.Unlock()
	var zs store.Zone
	var last uint64
	err := p.store.Read(func(v store.View) error {
		var err error
		if zs, err = v.Zone(origin); err != nil {
			return err
		}
		e, ok, err := v.LastEntry(store.UpdateHistory(origin))
		if ok {
			last = e.Seq
		}
		return err
	})
	if err != nil {
		return store.Entry{}, fmt.Errorf("%s of zone %s: %w", u.Kind, origin, err)
	}
	if known := p.zones[origin]; known.Rev != zs.Rev {
		return store.Entry{}, fmt.Errorf("%w: zone %s was changed outside this process; restart slotdns to serve the stored state", store.ErrConflict, origin)
	}
	digest, err := u.Zone.ContentDigest(slotLayout(p.cfg, origin)...)
	if err != nil {
		return store.Entry{}, err
	}
	s := newStep(p.now())
	s.conds = append(s.conds, store.Cond{Key: store.ZoneKey(origin), Rev: zs.Rev}, store.Cond{Key: store.DynamicKey(origin), Rev: u.Dynamic.Rev})
	zs.Serial, zs.Digest = NextSerial(zs.Serial), digest
	s.zones[origin], s.files[origin], s.wholeDiff[origin] = zs, u.Zone, true
	s.dynamic = []store.DynamicZone{u.Dynamic}
	s.entries = []store.Entry{{App: store.UpdateHistory(origin), Entry: api.Entry{
		Seq: last + 1, Time: s.at, Kind: u.Kind, Actor: u.Actor, Reason: u.Reason,
		Before: u.Before, After: u.After, Zone: origin,
	}}}
	out, err := p.commit(s)
	if err != nil {
		return store.Entry{}, fmt.Errorf("%s of zone %s: %w", u.Kind, origin, err)
	}
	e := out.entries[0]
	p.log.Info("Zone updated", "zone", origin, "kind", u.Kind, "actor", u.Actor, "seq", e.Seq, "serial", e.Serial,
		"removed", out.deltas[origin][0], "added", out.deltas[origin][1])
	return e, nil
}
