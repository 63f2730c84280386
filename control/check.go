package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// CheckReport is what slotdns check found: every problem that would stop
// serve, each on one line, and what is fine.
type CheckReport struct {
	Zones    []CheckedZone `json:"zones"`
	Apps     []string      `json:"apps"`
	Problems []string      `json:"problems"`
	Notes    []string      `json:"notes"` // what could not be checked, and why
}

// CheckedZone is one zone that loads.
type CheckedZone struct {
	Origin      string   `json:"origin"`
	File        string   `json:"file"`
	Serial      uint32   `json:"serial"` // the file's
	Records     int      `json:"records"`
	Secondaries []string `json:"secondaries"` // host:port
}

// Check finds everything serve would refuse about cfg, without starting
// anything nor writing anything: the paths, the key file, every zone
// file, the snapshot the config gives, and the database (damaged, or
// holding apps, slots or zones the config does not declare). It reports
// every problem, not only the first.
func Check(cfg *config.Config) CheckReport {
	r := CheckReport{Zones: []CheckedZone{}, Apps: []string{}, Problems: []string{}, Notes: []string{}}
	add := func(err error) {
		for _, e := range config.Problems(err) {
			r.Problems = append(r.Problems, strings.ReplaceAll(e.Error(), "\n", "; "))
		}
	}
	add(cfg.CheckPaths())
	_, err := cfg.LoadKeys()
	add(err)
	files, err := cfg.LoadZones()
	add(err)
	for _, zc := range cfg.Zones {
		z, ok := files[zc.Origin]
		if !ok {
			continue
		}
		cz := CheckedZone{Origin: zc.Origin, File: zc.File, Serial: z.SOA.Serial, Records: z.Len(), Secondaries: []string{}}
		for _, sec := range zc.Secondaries {
			cz.Secondaries = append(cz.Secondaries, sec.Address)
		}
		r.Zones = append(r.Zones, cz)
		if note := expireNote(&zc, z.SOA); note != "" {
			r.Notes = append(r.Notes, note)
		}
	}
	add(cfg.Check(files))
	add(checkAPI(cfg))
	for _, a := range cfg.Apps {
		r.Apps = append(r.Apps, a.Name)
	}
	if len(files) < len(cfg.Zones) {
		r.Notes = append(r.Notes, fmt.Sprintf("%s not checked against the config: a zone file does not load", cfg.DB))
		return r
	}
	r.checkDatabase(cfg, files)
	return r
}

// checkDatabase reads the database, if there is one, as serve would.
func (r *CheckReport) checkDatabase(cfg *config.Config, files map[string]*zones.Zone) {
	if _, err := os.Stat(cfg.DB); errors.Is(err, fs.ErrNotExist) {
		r.Notes = append(r.Notes, fmt.Sprintf("%s does not exist yet; serve creates it", cfg.DB))
		return
	}
	db, err := store.Open(cfg.DB, store.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	switch {
	case errors.Is(err, store.ErrLocked):
		r.Notes = append(r.Notes, fmt.Sprintf("%s is in use by a running server, which checked it when it started", cfg.DB))
		return
	case err != nil:
		r.Problems = append(r.Problems, err.Error())
		return
	}
	defer db.Close()
	_, overlaps, err := layerDynamic(db, files)
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", cfg.DB, err))
		return
	}
	for i := range cfg.Zones {
		r.Notes = append(r.Notes, overlapNotes(&cfg.Zones[i], overlaps[cfg.Zones[i].Origin])...)
	}
	p, err := pipeline.Open(db, cfg, files, pipeline.Options{ReadOnly: true})
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", cfg.DB, err))
		return
	}
	for _, o := range p.Orphans() {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %s is in the database but not in %s; serve refuses to start until you say what to do: %s", cfg.DB, o, cfg.Path, o.Fix()))
	}
}
