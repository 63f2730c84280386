// Package config is slotdns's config file, slotdns.toml: Load reads and
// validates it, and the methods of Config read what it names when a
// command needs them, so that a command pays only for what it uses:
//
//   - Load reads the TOML file alone, and reports every problem at once,
//     each as "file:line: what is wrong; how to fix it";
//   - Config.LoadZones parses the zone files, and Config.Check builds the
//     snapshot the config's own targets give over them (a slot name that
//     owns zone-file records is an error naming both places);
//   - Config.LoadKeys reads the tsig_keys file and checks the secondaries'
//     keys against it;
//   - Config.CheckPaths checks the db and control paths serve will use;
//   - Changes lists what differs between two configs that takes a
//     restart.
//
// # Files
//
//   - config.go: the types (Config, Zone, Secondary, App, Slot, Check),
//     the defaults and the lookups
//   - load.go: Load, and the TOML decoding key by key
//   - validate.go: the checks of the top-level keys, zones and secondaries
//   - apps.go: the checks of apps and slots
//   - checks.go: the [[app.check]] tables
//   - dnssec.go: the [zone.dnssec] table of a signed zone
//   - lines.go: scanKeyLines, the line of every key, for messages
//   - zonefiles.go: LoadZones and Check
//   - keys.go, keyfile.go: Key, LoadKeys, and the tsig-keygen file parser
//   - paths.go, writable_unix.go, writable_other.go: CheckPaths
//   - changes.go: Changes
//
// # Signed zones
//
// A [zone.dnssec] table under a [[zone]] has serve sign the zone; an
// empty table takes every default. Every key, with its default:
//
//	[[zone]]
//	origin = "example.com."
//	file   = "example.com.zone"
//
//	[zone.dnssec]
//	key_dir            = "keys"             # BIND's K<zone>+<alg>+<tag> files, relative to the config's folder
//	algorithm          = "ECDSAP256SHA256"  # or "ED25519" (also "13", "15"), for keys slotdns makes
//	split_keys         = false              # true: a KSK and a ZSK rather than one CSK
//	denial             = "nsec"             # or "nsec3"
//	generate_keys      = false              # true: serve makes the keys when key_dir has none
//	signature_validity = "14d"              # Go durations ("336h") or whole days; at least 1h
//	signature_refresh  = "7d"               # re-sign when less than this remains; less than the validity
//	signature_jitter   = "12h"              # spread of expirations; less than the refresh
package config
