package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/store"
)

// Orphan is state the database holds for a name the config no longer
// declares: an app renamed or removed in the config, a slot of an app, a
// zone. Serving would reseed a renamed one from the config's target and
// leave the old state unmentioned, so slotdns refuses until the operator
// renames or forgets each.
type Orphan struct {
	Kind string // "app", "slot" or "zone"
	Name string // the app, slot or zone origin
	App  string // for a slot, its app
}

func (o Orphan) String() string {
	switch o.Kind {
	case "slot":
		return fmt.Sprintf("slot %q of app %q", o.Name, o.App)
	default:
		return fmt.Sprintf("%s %q", o.Kind, o.Name)
	}
}

// Fix says how to resolve the orphan.
func (o Orphan) Fix() string {
	switch o.Kind {
	case "app":
		return fmt.Sprintf("if it was renamed, keep its state with: slotdns rename %s NEW; to drop its state and history: slotdns forget %s", o.Name, o.Name)
	case "slot":
		return fmt.Sprintf("if it was renamed, keep its target with: slotdns rename %s/%s %s/NEW; to drop it: slotdns forget %s/%s", o.App, o.Name, o.App, o.App, o.Name)
	default:
		return fmt.Sprintf("to drop its serial and journal: slotdns forget --zone %s", o.Name)
	}
}

// ErrOrphans marks a database that holds state the config does not
// declare; see Orphan.
var ErrOrphans = fmt.Errorf("%w: the database holds state the config does not declare", ErrInvalid)

// OrphanError lists the orphans found at start.
type OrphanError struct {
	Orphans []Orphan
	Config  string // the config file
}

func (e *OrphanError) Error() string {
	var parts []string
	for _, o := range e.Orphans {
		parts = append(parts, fmt.Sprintf("%s is in the database but not in %s (%s)", o, e.Config, o.Fix()))
	}
	return strings.Join(parts, "; ") + "; slotdns serves nothing it would silently reseed or drop: with the server stopped, rename or forget each"
}

func (e *OrphanError) Unwrap() error { return ErrOrphans }

// findOrphans lists the stored apps, slots and zones cfg does not declare.
func findOrphans(cfg *config.Config, apps []store.App, zs []store.Zone) []Orphan {
	var out []Orphan
	for _, a := range apps {
		ac, ok := cfg.App(a.Name)
		if !ok {
			out = append(out, Orphan{Kind: "app", Name: a.Name})
			continue
		}
		for _, slot := range slices.Sorted(maps.Keys(a.Slots)) {
			if _, ok := ac.Slot(slot); !ok {
				out = append(out, Orphan{Kind: "slot", Name: slot, App: a.Name})
			}
		}
	}
	for _, z := range zs {
		if _, ok := cfg.Zone(z.Origin); !ok {
			out = append(out, Orphan{Kind: "zone", Name: z.Origin})
		}
	}
	return out
}
