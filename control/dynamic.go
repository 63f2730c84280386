package control

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/update"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// layerDynamic lays the stored dynamic records of each zone over its
// file, in place in files, and gives the files as parsed (what updates
// are checked against) and the names where file and updates overlap.
// Records that no longer parse are an error naming the zone and record:
// serving the file alone would hide them, and the next update would drop
// them.
func layerDynamic(db store.Store, files map[string]*zones.Zone) (parsed map[string]*zones.Zone, overlaps map[string][]zones.Overlap, err error) {
	parsed, overlaps = maps.Clone(files), map[string][]zones.Overlap{}
	err = db.Read(func(v store.View) error {
		for _, origin := range slices.Sorted(maps.Keys(files)) {
			dz, err := v.Dynamic(origin)
			if err != nil {
				return err
			}
			layer, err := layerOf(dz)
			if err != nil {
				return err
			}
			layered, ov, err := files[origin].WithLayer(layer)
			if err != nil {
				return err
			}
			files[origin], overlaps[origin] = layered, ov
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dynamic records: %w; restore the database from a backup made with slotdns backup", err)
	}
	return parsed, overlaps, nil
}

// layerOf parses the stored dynamic records of a zone.
func layerOf(dz store.DynamicZone) (zones.Layer, error) {
	var l zones.Layer
	for _, list := range []struct {
		recs []store.DynamicRecord
		to   *[]dns.RR
		what string
	}{{dz.Records, &l.Added, "record"}, {dz.Removed, &l.Removed, "removal"}} {
		for i, r := range list.recs {
			rr, err := dns.NewRR(r.RR)
			if err == nil && rr == nil {
				err = fmt.Errorf("no record")
			}
			if err != nil {
				return l, fmt.Errorf("zone %s: dynamic %s %d (%q): %v", dz.Zone, list.what, i+1, r.RR, err)
			}
			*list.to = append(*list.to, rr)
		}
	}
	return l, nil
}

// overlapNotes words the names where the zone file and the dynamic
// records both hold records, for check and the log: a name the file
// gained after updates wrote it, or records a file_records policy let
// updates write beside the file's.
func overlapNotes(zc *config.Zone, overlaps []zones.Overlap) []string {
	var notes []string
	for _, o := range overlaps {
		if o.Shadowed {
			notes = append(notes, fmt.Sprintf("zone %s: %s: the zone file %s and dynamic records cannot stand together (a CNAME beside other data); the file's records are served and the dynamic ones are not; remove them with slotdns records rm %s %s",
				zc.Origin, o.Name, zc.File, zc.Origin, o.Name))
			continue
		}
		notes = append(notes, fmt.Sprintf("zone %s: %s: the zone file %s and dynamic records both hold records there, and both are served; the name is the file's, so only a [[zone.update]] with file_records = true may update it; remove the dynamic ones with slotdns records rm %s %s",
			zc.Origin, o.Name, zc.File, zc.Origin, o.Name))
	}
	return notes
}

// nextDynamic gives the dynamic records after changes: for each RRset
// changed, the records it holds that its file does not (added), and
// the file's records it no longer holds (removed). Records kept keep who
// added them and when.
func nextDynamic(dz store.DynamicZone, file *zones.Zone, changes []update.Change, actor string, at time.Time) store.DynamicZone {
	next := store.DynamicZone{Zone: dz.Zone, Rev: dz.Rev}
	changed := map[rrsetOf]bool{}
	for _, c := range changes {
		changed[rrsetOf{c.Name, c.Type}] = true
	}
	old := map[string]store.DynamicRecord{}
	keep := func(list []store.DynamicRecord, to *[]store.DynamicRecord) {
		for _, r := range list {
			rr, err := dns.NewRR(r.RR)
			if err == nil && rr != nil && changed[rrsetOf{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}] {
				old[r.RR] = r
				continue
			}
			*to = append(*to, r)
		}
	}
	keep(dz.Records, &next.Records)
	keep(dz.Removed, &next.Removed)
	record := func(rr dns.RR) store.DynamicRecord {
		text := rr.String()
		if r, ok := old[text]; ok {
			return r
		}
		return store.DynamicRecord{RR: text, Actor: actor, Added: at}
	}
	for _, c := range changes {
		fileSet := file.RRset(c.Name, c.Type)
		for _, rr := range c.After {
			if !slices.ContainsFunc(fileSet, func(f dns.RR) bool { return dns.IsDuplicate(f, rr) && f.Header().Ttl == rr.Header().Ttl }) {
				next.Records = append(next.Records, record(rr))
			}
		}
		for _, f := range fileSet {
			if !slices.ContainsFunc(c.After, func(rr dns.RR) bool { return dns.IsDuplicate(f, rr) }) {
				gone := dns.Copy(f)
				gone.Header().Ttl = 0
				next.Removed = append(next.Removed, record(gone))
			}
		}
	}
	return next
}

type rrsetOf struct {
	name string
	typ  uint16
}

// rrsetText gives the history entry's keys and values of changes:
// "name TYPE" to the records' TTL and data, one per line.
func rrsetText(changes []update.Change) (before, after map[string]string) {
	before, after = map[string]string{}, map[string]string{}
	text := func(rrs []dns.RR) string {
		var lines []string
		for _, rr := range rrs {
			lines = append(lines, fmt.Sprintf("%d %s", rr.Header().Ttl, strings.TrimPrefix(rr.String(), rr.Header().String())))
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	for _, c := range changes {
		k := c.Name + " " + dns.TypeToString[c.Type]
		before[k], after[k] = text(c.Before), text(c.After)
	}
	return before, after
}
