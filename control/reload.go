package control

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/zones"
)

// Reload re-reads every zone file, as on SIGHUP, and serves those whose
// records changed (see pipeline.Reload): in one change, journaled, and
// NOTIFYed. It also reads the config file again and names every change of
// it that takes a restart (listen addresses, secondaries, keys, apps...),
// instead of ignoring them.
func (s *Server) Reload(_ context.Context) (api.ReloadResult, error) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	res := api.ReloadResult{Zones: []api.ZoneReload{}, NeedRestart: s.configChanges()}
	// The files are parsed before the pipeline's lock is taken: a large
	// zone takes seconds, and swaps go on meanwhile.
	failed := map[string]error{}
	var parsed, layered map[string]*zones.Zone
	results, err := loadingZones(func() ([]pipeline.ZoneReload, error) {
		files := map[string]*zones.Zone{}
		for _, zc := range s.cfg.Zones {
			z, err := zones.ParseFile(zc.Origin, zc.File)
			if err != nil {
				failed[zc.Origin] = err
				continue
			}
			files[zc.Origin] = z
		}
		var overlaps map[string][]zones.Overlap
		var err error
		if parsed, overlaps, err = layerDynamic(s.db, files); err != nil {
			return nil, err
		}
		layered = maps.Clone(files)
		for i := range s.cfg.Zones {
			for _, note := range overlapNotes(&s.cfg.Zones[i], overlaps[s.cfg.Zones[i].Origin]) {
				s.log.Warn(note)
			}
		}
		maps.Copy(failed, signZones(s.cfg, s.signKeys, files, servedReuse(s.p), s.clock.Now()))
		return s.p.Reload(files)
	})
	if err != nil {
		return res, err
	}
	// Updates are read against the files now served.
	for _, r := range results {
		if r.Err == nil && failed[r.Zone] == nil {
			s.updater.files[r.Zone], s.updater.layered[r.Zone] = parsed[r.Zone], layered[r.Zone]
		}
	}
	for _, r := range results {
		if r.Changed && r.Err == nil {
			saveSignatures(s.db, servedZone(s.p)(r.Zone), s.log)
		}
	}
	byZone := map[string]api.ZoneReload{}
	for _, r := range results {
		zr := api.ZoneReload{Zone: r.Zone, Result: api.ReloadUnchanged, Serial: r.Serial, FileSerial: r.FileSerial, Removed: r.Removed, Added: r.Added}
		if r.Changed {
			zr.Result = api.ReloadChanged
		}
		if r.Err != nil {
			failed[r.Zone] = r.Err
		}
		byZone[r.Zone] = zr
	}
	snap := s.p.Snapshot()
	for _, zc := range s.cfg.Zones {
		zr := byZone[zc.Origin]
		zr.Zone, zr.File = zc.Origin, zc.File
		if err, ok := failed[zc.Origin]; ok {
			zr = api.ZoneReload{Zone: zc.Origin, File: zc.File, Result: api.ReloadError, Error: strings.ReplaceAll(err.Error(), "\n", "; ")}
			zr.Serial, _ = snap.Serial(zc.Origin)
		}
		switch zr.Result {
		case api.ReloadChanged:
			s.log.Info("Zone file changed; serving it", "zone", zr.Zone, "file", zr.File, "serial", zr.Serial, "removed", zr.Removed, "added", zr.Added)
		case api.ReloadUnchanged:
			s.log.Info("Zone file unchanged", "zone", zr.Zone, "file", zr.File, "serial", zr.Serial)
		default:
			s.log.Error("Zone file not reloaded; still serving the previous one", "zone", zr.Zone, "file", zr.File, "err", zr.Error)
		}
		res.Zones = append(res.Zones, zr)
	}
	for _, change := range res.NeedRestart {
		s.log.Warn("Config changed; this takes a restart", "change", change)
	}
	return res, nil
}

// configChanges names what differs between the config the server runs and
// the file now, keys included; a config that no longer loads is said so.
func (s *Server) configChanges() []string {
	now, err := config.Load(s.cfg.Path)
	if err != nil {
		return []string{fmt.Sprintf("%s no longer loads, and a restart would fail: %s", s.cfg.Path, strings.ReplaceAll(err.Error(), "\n", "; "))}
	}
	changes := config.Changes(s.cfg, now)
	if now.KeysFile == s.cfg.KeysFile && now.KeysFile != "" {
		keys, err := now.LoadKeys()
		switch {
		case err != nil:
			changes = append(changes, fmt.Sprintf("tsig_keys: %s no longer loads: %v", now.KeysFile, err))
		case !maps.Equal(keys, s.keys):
			changes = append(changes, fmt.Sprintf("tsig_keys: the keys in %s changed (%s)", now.KeysFile, keyNames(keys)))
		}
	}
	if changes == nil {
		return []string{}
	}
	return changes
}

// keyNames lists key names, never secrets.
func keyNames(keys map[string]config.Key) string {
	return strings.Join(slices.Sorted(maps.Keys(keys)), ", ")
}
