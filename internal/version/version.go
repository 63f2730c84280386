// Package version says which build of slotdns is running.
package version

import "runtime/debug"

// String is the module version the binary was built at ("(devel)" for
// a build from a working tree), with the commit when the build recorded
// it, "+dirty" when the tree had changes.
func String() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if revision != "" {
		v += " " + revision
		if modified == "true" {
			v += "+dirty"
		}
	}
	return v
}
