package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// ZoneReload is what a reload did to one zone.
type ZoneReload struct {
	Zone       string
	Changed    bool   // the file serves other records: a new serial, journaled and NOTIFYed
	Serial     uint32 // the serial served after the reload
	FileSerial uint32
	Removed    int // records no longer served, the SOA aside
	Added      int // records newly served
	Err        error
}

// Reload serves the zone files given (parsed anew by the caller, by
// origin), in one change: a zone whose records changed gets the serial
// max(stored+1, its file's serial), a journal entry of every record
// removed and added, and a NOTIFY; a zone whose file serves the same
// records is left alone, whatever its file's serial; a file that the
// zones refuse (a slot name that now owns records, say) is reported in
// its ZoneReload and its zone keeps serving what it served.
func (p *Pipeline) Reload(files map[string]*zones.Zone) ([]ZoneReload, error) {
	return p.serveFiles(files, false, nil)
}

// Resign serves signed, a zone signed again (its signatures refreshed
// before they expire, see zones.Zone.Sign), as Reload serves a changed
// file: a new serial, journaled and NOTIFYed, for the secondaries to
// take the new signatures by IXFR. Its file's records must be those
// served.
func (p *Pipeline) Resign(signed *zones.Zone) (ZoneReload, error) {
	return p.resign(signed, nil)
}

// ResignRollover is Resign for a step of a key rollover: signed is the
// zone signed with the keys of the stage ro records, and ro is written in
// the same transaction, provided the stored rollover is still at ro.Rev
// (0: there is none), so that two steps never both land.
func (p *Pipeline) ResignRollover(signed *zones.Zone, ro store.Rollover) (ZoneReload, error) {
	return p.resign(signed, &ro)
}

func (p *Pipeline) resign(signed *zones.Zone, ro *store.Rollover) (ZoneReload, error) {
	list, err := p.serveFiles(map[string]*zones.Zone{signed.Origin: signed}, true, ro)
	if err != nil {
		return ZoneReload{}, err
	}
	return list[0], list[0].Err
}

// serveFiles is Reload's change, and Resign's when resign is set: each
// zone then changes whatever its digest says.
func (p *Pipeline) serveFiles(files map[string]*zones.Zone, resign bool, ro *store.Rollover) ([]ZoneReload, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var stored []store.Zone
	if err := p.store.Read(func(v store.View) error {
		var err error
		stored, err = v.Zones()
		return err
	}); err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	byOrigin := map[string]store.Zone{}
	for _, z := range stored {
		byOrigin[z.Origin] = z
	}
	cur := p.current.Load()
	s := newStep(p.now())
	results := map[string]*ZoneReload{}
	for _, origin := range slices.Sorted(maps.Keys(files)) {
		file := files[origin]
		zr := &ZoneReload{Zone: origin, FileSerial: file.SOA.Serial, Serial: p.zones[origin].Serial}
		results[origin] = zr
		zs, ok := byOrigin[origin]
		if !ok || zs.Rev != p.zones[origin].Rev {
			zr.Err = fmt.Errorf("%w: zone %s was changed outside this process; restart slotdns to serve the stored state", store.ErrConflict, origin)
			continue
		}
		digest, err := file.ContentDigest(slotLayout(p.cfg, origin)...)
		if err != nil {
			zr.Err = err
			continue
		}
		if digest == zs.Digest && !resign {
			continue
		}
		zs.Serial, zs.Digest = NextSerialAtLeast(zs.Serial, file.SOA.Serial), digest
		// A file the zones refuse is reported on its own; the others go on.
		one := newStep(s.at)
		one.zones[origin], one.files[origin] = zs, file
		if _, err := p.build(cur, one); err != nil {
			zr.Err = err
			continue
		}
		s.conds = append(s.conds, store.Cond{Key: store.ZoneKey(origin), Rev: zs.Rev})
		s.zones[origin], s.files[origin], s.wholeDiff[origin] = zs, file, true
		if ro != nil && ro.Zone == origin {
			s.conds = append(s.conds, store.Cond{Key: store.RolloverKey(origin), Rev: ro.Rev})
			s.rollovers = append(s.rollovers, *ro)
		}
	}
	out, err := p.commit(s)
	if err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	var list []ZoneReload
	for _, origin := range slices.Sorted(maps.Keys(results)) {
		zr := results[origin]
		if serial, ok := out.serials[origin]; ok {
			zr.Serial = serial
			zr.Changed = true
			zr.Removed, zr.Added = out.deltas[origin][0], out.deltas[origin][1]
		}
		list = append(list, *zr)
	}
	return list, nil
}
