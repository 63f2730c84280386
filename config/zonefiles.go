package config

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/slotdns/slotdns/zones"
)

// LoadZones parses the master file of every zone, keyed by origin. It
// reads every file even when one fails, and returns the zones that
// loaded together with every error, joined.
func (c *Config) LoadZones() (map[string]*zones.Zone, error) {
	loaded := make(map[string]*zones.Zone, len(c.Zones))
	var errs []error
	for _, zc := range c.Zones {
		z, err := zones.ParseFile(zc.Origin, zc.File)
		if err != nil {
			errs = append(errs, c.zoneFileError(zc, err))
			continue
		}
		loaded[zc.Origin] = z
	}
	return loaded, errors.Join(errs...)
}

// zoneFileError names the config line of a zone file that cannot be
// read at all; an error inside the file names the file's line already.
func (c *Config) zoneFileError(zc Zone, err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != zc.File {
		return err
	}
	line := zc.fileLine
	if line == 0 {
		line = zc.Line
	}
	where := c.Path
	if line > 0 {
		where = fmt.Sprintf("%s:%d", c.Path, line)
	}
	fix := "fix the file key or the file's permissions"
	if errors.Is(err, fs.ErrNotExist) {
		fix = "create it or fix the file key"
	}
	return fmt.Errorf("%s: zone %q: file %s: %v; %s", where, zc.Origin, zc.File, pe.Err, fix)
}

// Check builds the snapshot the server would serve from the config's own
// targets over the loaded zones, so that anything zones refuses is caught
// before start. A slot name that owns zone-file records is reported at
// the slot, naming both places. Zones missing from loaded are skipped:
// LoadZones reported why.
func (c *Config) Check(loaded map[string]*zones.Zone) error {
	_, err := zones.Build(c.input(loaded))
	if err == nil {
		return nil
	}
	var errs []error
	for _, e := range Problems(err) {
		var conflict *zones.ConflictError
		if !errors.As(e, &conflict) {
			errs = append(errs, e)
			continue
		}
		line := 0
		if app, ok := c.App(conflict.App); ok {
			if s, ok := app.Slot(conflict.Slot); ok {
				line = s.namesLine
				if line == 0 {
					line = s.Line
				}
			}
		}
		where := c.Path
		if line > 0 {
			where = fmt.Sprintf("%s:%d", c.Path, line)
		}
		errs = append(errs, fmt.Errorf("%s: app %q: slot %q: name %s also owns records at %s:%d; a slot name may not own zone-file records: remove them from the zone file or the name from the slot",
			where, conflict.App, conflict.Slot, conflict.Name, conflict.File, conflict.Line))
	}
	return errors.Join(errs...)
}

// input assembles the snapshot input of the config alone: each loaded
// zone with its file's SOA serial and every app's slots at their
// configured targets.
func (c *Config) input(loaded map[string]*zones.Zone) zones.Input {
	var in zones.Input
	for _, zc := range c.Zones {
		z := loaded[zc.Origin]
		if z == nil {
			continue
		}
		zi := zones.ZoneInput{Zone: z}
		if z.SOA != nil {
			zi.Serial = z.SOA.Serial
		}
		for _, app := range c.AppsIn(zc.Origin) {
			for _, s := range app.Slots {
				zi.Slots = append(zi.Slots, zones.Slot{App: app.Name, Slot: s.Name, Names: s.Names, Target: s.Target, TTL: app.TTL})
			}
		}
		in.Zones = append(in.Zones, zi)
	}
	return in
}

// Problems lists the single problems inside an error of Load, LoadZones,
// Check, LoadKeys or CheckPaths (which join every problem they find), in
// their order; none for a nil error.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, Problems(e)...)
	}
	return out
}
