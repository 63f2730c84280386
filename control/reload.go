package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// ErrNoServer is the error of a Reload with no server running: there is
// nothing to reload, a server reads the zone files when it starts.
var ErrNoServer = errors.New("no server runs")

// ReloadResult is what a reload did to each zone.
type ReloadResult struct {
	Zones []ZoneReload `json:"zones"`
}

// Failed lists the zones whose file could not be loaded.
func (r ReloadResult) Failed() []ZoneReload {
	var out []ZoneReload
	for _, z := range r.Zones {
		if z.Error != "" {
			out = append(out, z)
		}
	}
	return out
}

// ZoneReload is one zone of a reload: "changed" (new serial, journaled and
// NOTIFYed), "unchanged" (nothing happened) or "error" (the file does not
// load; the zone keeps serving what it served).
type ZoneReload struct {
	Zone       string `json:"zone"`
	File       string `json:"file"`
	Result     string `json:"result"`
	Serial     uint32 `json:"serial"`      // the serial served after the reload
	FileSerial uint32 `json:"file_serial"` // the serial written in the file, 0 on error
	Removed    int    `json:"removed"`     // records the file no longer serves
	Added      int    `json:"added"`       // records it newly serves
	Error      string `json:"error,omitempty"`
}

// Reload results.
const (
	ReloadChanged   = "changed"
	ReloadUnchanged = "unchanged"
	ReloadError     = "error"
)

// Reload re-reads every zone file. A zone whose records changed gets the
// serial max(stored+1, file serial), a journal entry and a NOTIFY; a zone
// whose records are the same is left alone, whatever its file's serial; a
// file that does not load is reported and the zone keeps serving what it
// served. Only the zone files are read again: changes to the config itself
// take a restart.
func (s *service) Reload(_ context.Context) (ReloadResult, error) {
	if s.publish == nil {
		return ReloadResult{}, fmt.Errorf("reload: %w on %s; a server reads the zone files when it starts", ErrNoServer, s.cfg.Control)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := ReloadResult{Zones: []ZoneReload{}}
	for i := range s.cfg.Zones {
		zr := s.reloadZone(i)
		switch zr.Result {
		case ReloadChanged:
			s.log.Info("Zone file changed; serving it", "zone", zr.Zone, "file", zr.File, "serial", zr.Serial, "removed", zr.Removed, "added", zr.Added)
		case ReloadUnchanged:
			s.log.Info("Zone file unchanged", "zone", zr.Zone, "file", zr.File, "serial", zr.Serial)
		default:
			s.log.Error("Zone file not reloaded; still serving the previous one", "zone", zr.Zone, "file", zr.File, "err", zr.Error)
		}
		res.Zones = append(res.Zones, zr)
	}
	return res, nil
}

// reloadZone reloads zone i. The caller holds s.mu.
func (s *service) reloadZone(i int) ZoneReload {
	zc := s.cfg.Zones[i]
	zr := ZoneReload{Zone: zc.Origin, File: zc.File, Result: ReloadError}
	snap := s.current.Load()
	served, _ := snap.Serial(zc.Origin)
	zr.Serial = served
	fail := func(err error) ZoneReload {
		zr.Error = strings.ReplaceAll(err.Error(), "\n", "; ")
		return zr
	}
	z, err := zones.ParseFile(zc.Origin, zc.File)
	if err != nil {
		return fail(err)
	}
	zr.FileSerial = z.SOA.Serial
	// The new file at the served serial: equal records mean no change.
	candidate := func(serial uint32) (*zones.Snapshot, error) {
		in := zones.Input{Zones: slices.Clone(s.lastInput.Zones), Aliases: s.lastInput.Aliases}
		for j := range in.Zones {
			if in.Zones[j].Zone != nil && in.Zones[j].Zone.Origin == zc.Origin {
				in.Zones[j].Zone = z
				in.Zones[j].Serial = serial
			}
		}
		return zones.Build(in)
	}
	built, err := candidate(served)
	if err != nil {
		return fail(s.explainBuild(err))
	}
	old, _ := snap.Records(zc.Origin)
	recs, _ := built.Records(zc.Origin)
	removed, added := diffRecords(old, recs)
	zr.Removed, zr.Added = len(removed), len(added)
	if len(removed) == 0 && len(added) == 0 {
		zr.Result = ReloadUnchanged
		return zr
	}
	// The digest is kept with the serial, so that a restart knows this
	// content was served.
	digest, err := contentDigest(z, s.cfg.Apps)
	if err != nil {
		return fail(err)
	}
	serial, err := s.db.ZoneChanged(zc.Origin, z.SOA.Serial, digest, func(from, to uint32) (store.Delta, error) {
		built, err := candidate(to)
		if err != nil {
			return store.Delta{}, err
		}
		recs, _ := built.Records(zc.Origin)
		return makeDelta(from, to, old, recs), nil
	})
	if err != nil {
		return fail(err)
	}
	s.cfg.Zones[i].Zone = z
	if err := s.rebuild(); err != nil {
		return fail(fmt.Errorf("serial %d recorded but not published: %w", serial, err))
	}
	zr.Result, zr.Serial = ReloadChanged, serial
	return zr
}

// explainBuild words a snapshot error of a reloaded file for the user: a
// slot name that now owns records names both places.
func (s *service) explainBuild(err error) error {
	var msgs []string
	for _, e := range flatten(err) {
		var conflict *zones.ConflictError
		if errors.As(e, &conflict) {
			msgs = append(msgs, fmt.Sprintf("%s:%d: %s is a slot name of app %q slot %q and may not own zone-file records; remove them from the zone file or the name from the slot in %s",
				conflict.File, conflict.Line, conflict.Name, conflict.App, conflict.Slot, s.cfg.Path))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return errors.New(strings.Join(msgs, "; "))
}
