package config

import (
	"io"
	"log/slog"
	"time"

	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Defaults of the config file.
const (
	DefaultListen        = "127.0.0.1:1053"
	DefaultDB            = "slotdns.db"
	DefaultControl       = "slotdns.sock"
	DefaultTTL           = 30
	DefaultAliasMaxStale = 24 * time.Hour
	DefaultJournalLimit  = 1000
)

// Defaults of an [[app.check]].
const (
	DefaultCheckTimeout  = 5 * time.Second
	DefaultCheckInterval = time.Second
	DefaultCheckWindow   = 60 * time.Second
)

// Config is a loaded and validated slotdns.toml. Paths are resolved against
// the config file's folder. It holds what the file says and nothing it
// names: LoadZones reads the zone files, LoadKeys the key file.
type Config struct {
	Path          string   // the config file, as given
	Listen        []string // host:port, UDP and TCP on each
	DB            string   // bbolt file
	Control       string   // unix socket of the control API
	Resolver      string   // host:port, "" when none is configured
	LogFormat     string   // "text" or "json"
	LogLevel      slog.Level
	AliasMaxStale time.Duration // how long an apex alias serves its last good addresses
	KeysFile      string        // the tsig_keys file, resolved; "" when none
	JournalLimit  int           // IXFR deltas kept per zone
	NSID          string        // the server's identity for RFC 5001; "" gives none
	Zones         []Zone
	Apps          []App
	API           API     // the [api] table
	TCP           TCP     // the [tcp] table
	Cookies       Cookies // the [cookies] table
	RRL           RRL     // the [rrl] table

	// The lines of db, control and tsig_keys (0 when defaulted), for
	// CheckPaths and LoadKeys.
	dbLine, controlLine, keysLine int
	// idx is built by Load for App, Zone and AppsIn; a Config written by
	// hand is searched in full. Load again rather than change Zones or
	// Apps of a loaded Config.
	idx *index
}

// Zone is one [[zone]].
type Zone struct {
	Origin string // lowercase FQDN
	File   string // resolved path of its master file
	// Secondaries are told of every change by NOTIFY and may transfer
	// the zone.
	Secondaries []Secondary
	// DNSSEC is the [zone.dnssec] table; nil when the zone is not signed.
	DNSSEC *DNSSEC
	// Updates are the [[zone.update]] tables: the keys that may change
	// the zone by DNS UPDATE, and within what.
	Updates []UpdatePolicy
	Line    int // the line of its origin key (or of [[zone]])

	fileLine int // the line of its file key, for a file that cannot be read
}

// Secondary is one [[zone.secondary]].
type Secondary struct {
	Address string // host:port, the NOTIFY target; transfers are allowed from host
	Key     string // the name of a key of the tsig_keys file (lowercase FQDN), or ""
	Line    int    // the line of its address key (or of [[zone.secondary]])

	keyLine int // the line of its key, for LoadKeys
}

// App is one [[app]].
type App struct {
	Name   string
	Zone   string // lowercase FQDN of a declared zone
	TTL    uint32
	Slots  []Slot  // sorted by name
	Checks []Check // run around a swap, in file order
	Line   int     // the line of its name key (or of [[app]])
}

// Slot is one [app.slots.NAME].
type Slot struct {
	Name   string
	Names  []string     // owner FQDNs, lowercase
	Target zones.Target // the configured (initial) target
	Line   int          // the line of [app.slots.NAME]

	namesLine int // the line of its names key, where Check reports a clash
}

// Check is one [[app.check]]: an HTTP(S) request or a command run before a
// swap against the slot about to become production, or after it against
// production for Window.
type Check struct {
	Name     string // "http /healthz", "command ./scripts/x.sh"
	When     string // "before" or "after"
	Kind     string // "http", "https" or "command"
	Path     string // the HTTP path
	Command  []string
	Port     int
	Status   []int
	Timeout  time.Duration
	Retries  int // further attempts after a failed one
	Interval time.Duration
	Window   time.Duration // "after" checks only
	// FollowRedirects follows up to 10 redirects; by default a redirect
	// is the answer and its status is compared.
	FollowRedirects bool
	// InsecureSkipVerify accepts any certificate; by default it must
	// cover the production name.
	InsecureSkipVerify bool
}

// index finds apps and zones without a scan.
type index struct {
	apps   map[string]int    // name -> position in Apps
	zones  map[string]int    // origin -> position in Zones
	appsIn map[string][]*App // origin -> the apps of the zone, in config order
}

func (c *Config) buildIndex() {
	idx := &index{apps: map[string]int{}, zones: map[string]int{}, appsIn: map[string][]*App{}}
	for i, z := range c.Zones {
		idx.zones[z.Origin] = i
	}
	for i := range c.Apps {
		idx.apps[c.Apps[i].Name] = i
		idx.appsIn[c.Apps[i].Zone] = append(idx.appsIn[c.Apps[i].Zone], &c.Apps[i])
	}
	c.idx = idx
}

// Slot returns the named slot of the app.
func (a *App) Slot(name string) (Slot, bool) {
	for _, s := range a.Slots {
		if s.Name == name {
			return s, true
		}
	}
	return Slot{}, false
}

// ApexSlot returns the slot that answers for the zone apex, if any.
func (a *App) ApexSlot() (Slot, bool) {
	for _, s := range a.Slots {
		for _, n := range s.Names {
			if n == a.Zone {
				return s, true
			}
		}
	}
	return Slot{}, false
}

// ChecksAt returns the app's checks that run when ("before" or "after"
// the swap), in file order.
func (a *App) ChecksAt(when string) []Check {
	var out []Check
	for _, c := range a.Checks {
		if c.When == when {
			out = append(out, c)
		}
	}
	return out
}

// App returns the named app.
func (c *Config) App(name string) (*App, bool) {
	if c.idx != nil {
		if i, ok := c.idx.apps[name]; ok && i < len(c.Apps) && c.Apps[i].Name == name {
			return &c.Apps[i], true
		}
	}
	for i := range c.Apps {
		if c.Apps[i].Name == name {
			return &c.Apps[i], true
		}
	}
	return nil, false
}

// Zone returns the zone with origin (a lowercase FQDN).
func (c *Config) Zone(origin string) (*Zone, bool) {
	if c.idx != nil {
		if i, ok := c.idx.zones[origin]; ok && i < len(c.Zones) && c.Zones[i].Origin == origin {
			return &c.Zones[i], true
		}
	}
	for i := range c.Zones {
		if c.Zones[i].Origin == origin {
			return &c.Zones[i], true
		}
	}
	return nil, false
}

// AppsIn returns the apps whose zone is zone, in config order. The slice
// is shared: do not modify it.
func (c *Config) AppsIn(zone string) []*App {
	if c.idx != nil {
		return c.idx.appsIn[zone]
	}
	var out []*App
	for i := range c.Apps {
		if c.Apps[i].Zone == zone {
			out = append(out, &c.Apps[i])
		}
	}
	return out
}

// InOurZones reports whether the FQDN lies in one of the configured zones.
func (c *Config) InOurZones(name string) bool {
	for _, z := range c.Zones {
		if dns.IsSubDomain(z.Origin, name) {
			return true
		}
	}
	return false
}

// NewLogger returns the logger the config asks for, writing to w.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
