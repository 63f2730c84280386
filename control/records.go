package control

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/update"

	"github.com/miekg/dns"
)

// Records lists the zone's dynamic records, those added and the file's
// records taken away, sorted by name and type.
func (s *service) Records(_ context.Context, zone string) (api.ZoneRecords, error) {
	zc, err := s.recordsZone("records", zone)
	if err != nil {
		return api.ZoneRecords{}, err
	}
	var dz store.DynamicZone
	if err := s.db.Read(func(v store.View) error {
		dz, err = v.Dynamic(zc.Origin)
		return err
	}); err != nil {
		return api.ZoneRecords{}, apiError(fmt.Errorf("records %s: %w", zc.Origin, err))
	}
	return api.ZoneRecords{Zone: zc.Origin, Records: apiRecords(dz)}, nil
}

// RemoveRecords removes dynamic records through the pipeline, as an
// update would: one change, journaled, NOTIFYed and in the history.
func (s *service) RemoveRecords(_ context.Context, zone string, req api.RemoveRecordsRequest) (api.RecordsChange, error) {
	zc, err := s.recordsZone("records rm", zone)
	if err != nil {
		return api.RecordsChange{}, err
	}
	for _, f := range []struct{ field, text string }{{"actor", req.Actor}, {"reason", req.Reason}} {
		if err := api.CheckText(f.field, f.text); err != nil {
			return api.RecordsChange{}, apiError(err)
		}
	}
	var name string
	var typ uint16
	switch {
	case req.All && (req.Name != "" || req.Type != ""):
		return api.RecordsChange{}, apiError(invalidf("records rm %s: give a name (and a type), or all, not both", zc.Origin))
	case !req.All && req.Name == "":
		return api.RecordsChange{}, apiError(invalidf("records rm %s: give the name whose dynamic records to remove, or all", zc.Origin))
	case !req.All:
		if name, err = absoluteName(req.Name, zc.Origin); err != nil {
			return api.RecordsChange{}, apiError(invalidf("records rm %s: %v", zc.Origin, err))
		}
		if req.Type != "" {
			t, ok := dns.StringToType[strings.ToUpper(req.Type)]
			if !ok || update.IsMeta(t) {
				return api.RecordsChange{}, apiError(invalidf("records rm %s: type %q: want a type of records, such as TXT", zc.Origin, req.Type))
			}
			typ = t
		}
	}
	if s.upd == nil {
		return api.RecordsChange{}, apiError(invalidf("records rm %s: the zone files were not read", zc.Origin))
	}
	removed, e, err := s.upd.remove(zc, name, typ, req.Actor, req.Reason)
	if err != nil {
		return api.RecordsChange{}, apiError(fmt.Errorf("records rm %s: %w", zc.Origin, err))
	}
	return api.RecordsChange{Zone: zc.Origin, Removed: removed, Serial: e.Serial, Seq: e.Seq}, nil
}

// recordsZone finds the zone a records call names.
func (s *service) recordsZone(what, zone string) (*config.Zone, error) {
	origin := strings.ToLower(dns.Fqdn(zone))
	zc, ok := s.cfg.Zone(origin)
	if !ok {
		var names []string
		for _, z := range s.cfg.Zones {
			names = append(names, z.Origin)
		}
		return nil, apiError(fmt.Errorf("%s %s: zone %w; the config serves %s", what, origin, store.ErrNotFound, strings.Join(names, ", ")))
	}
	return zc, nil
}

// absoluteName gives name, relative to origin or a FQDN, as a lowercase
// FQDN inside the zone.
func absoluteName(name, origin string) (string, error) {
	n := strings.ToLower(name)
	switch {
	case n == "@":
		n = origin
	case !strings.HasSuffix(n, "."):
		n += "." + origin
	}
	if _, ok := dns.IsDomainName(n); !ok || !dns.IsSubDomain(origin, n) {
		return "", fmt.Errorf("name %q is not a name of the zone", name)
	}
	return n, nil
}

// apiRecords gives the dynamic records as the API shows them.
func apiRecords(dz store.DynamicZone) []api.DynamicRecord {
	out := []api.DynamicRecord{}
	for _, list := range []struct {
		recs    []store.DynamicRecord
		removed bool
	}{{dz.Records, false}, {dz.Removed, true}} {
		for _, r := range list.recs {
			rec := api.DynamicRecord{RR: r.RR, Removed: list.removed, Actor: r.Actor, Added: r.Added}
			if rr, err := dns.NewRR(r.RR); err == nil && rr != nil {
				rec.Name, rec.Type = strings.ToLower(rr.Header().Name), dns.TypeToString[rr.Header().Rrtype]
			}
			out = append(out, rec)
		}
	}
	slices.SortStableFunc(out, func(a, b api.DynamicRecord) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Type, b.Type)
	})
	return out
}

// remove takes away the dynamic records at name (of type typ when not
// 0; every one when name is ""): the RRsets they belong to go back to
// what the zone file holds.
func (u *updater) remove(zc *config.Zone, name string, typ uint16, actor, reason string) ([]api.DynamicRecord, store.Entry, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var dz store.DynamicZone
	if err := u.db.Read(func(v store.View) error {
		var err error
		dz, err = v.Dynamic(zc.Origin)
		return err
	}); err != nil {
		return nil, store.Entry{}, err
	}
	view, err := u.view(zc)
	if err != nil {
		return nil, store.Entry{}, err
	}
	file := u.files[zc.Origin]
	var removed []api.DynamicRecord
	sets := map[rrsetOf]bool{}
	for _, r := range apiRecords(dz) {
		t := dns.StringToType[r.Type]
		if name != "" && r.Name != name || typ != 0 && t != typ {
			continue
		}
		removed = append(removed, r)
		sets[rrsetOf{r.Name, t}] = true
	}
	if len(removed) == 0 {
		return []api.DynamicRecord{}, store.Entry{}, nil
	}
	var changes []update.Change
	for set := range sets {
		changes = append(changes, update.Change{Name: set.name, Type: set.typ, Before: view.RRset(set.name, set.typ), After: file.RRset(set.name, set.typ)})
	}
	slices.SortFunc(changes, func(a, b update.Change) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return int(a.Type) - int(b.Type)
	})
	e, err := u.commit(zc, changes, pipeline.KindRecordsRemove, actor, reason)
	return removed, e, err
}
