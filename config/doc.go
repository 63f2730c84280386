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
//   - lines.go: scanKeyLines, the line of every key, for messages
//   - zonefiles.go: LoadZones and Check
//   - keys.go, keyfile.go: Key, LoadKeys, and the tsig-keygen file parser
//   - paths.go, writable_unix.go, writable_other.go: CheckPaths
//   - changes.go: Changes
package config
