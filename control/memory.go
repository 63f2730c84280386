package control

import (
	"runtime/debug"
)

// loadGCPercent is the collector's target while zone files load: the
// heap may grow 20% past what is live, not the 100% of GOGC's default.
// A load makes garbage as large as the zone (the builder's regrouping,
// slices that grow), and with the default the collector would let a
// reload's peak reach twice the old and the new zone together. The
// records of a compact zone hold no pointers, so that collecting more
// often costs little.
const loadGCPercent = 20

// loadingZones runs load, which parses zone files, with the collector
// kept close to the live heap, and gives the memory it freed back to the
// system after, so that the resident size follows the zones served. An
// operator's tighter GOGC, or GOGC=off (left to GOMEMLIMIT), stays as it
// is. The setting is the process's: the callers load one at a time
// (start, or a reload under its lock).
func loadingZones[T any](load func() (T, error)) (T, error) {
	was := debug.SetGCPercent(loadGCPercent)
	if was < loadGCPercent {
		debug.SetGCPercent(was)
	}
	defer debug.FreeOSMemory()
	defer debug.SetGCPercent(was)
	return load()
}
