package control

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slotdns/slotdns/dnsserver"
	"github.com/slotdns/slotdns/zones"

	"github.com/BurntSushi/toml"
	"github.com/miekg/dns"
)

// Defaults of the config file.
const (
	DefaultListen        = "127.0.0.1:5353"
	DefaultDB            = "slotdns.db"
	DefaultControl       = "slotdns.sock"
	DefaultTTL           = 30
	DefaultAliasMaxStale = 24 * time.Hour
	DefaultJournalLimit  = 1000
)

// Config is a loaded and validated slotdns.toml. Paths are resolved against
// the config file's folder.
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
	// Keys holds the TSIG keys of KeysFile by lowercase FQDN name. The
	// secrets are never logged or printed.
	Keys         map[string]dnsserver.TSIGKey
	JournalLimit int // IXFR deltas kept per zone
	Zones        []ZoneConfig
	Apps         []AppConfig
}

// ZoneConfig is one [[zone]] with its parsed master file.
type ZoneConfig struct {
	Origin string // lowercase FQDN
	File   string // resolved path
	Zone   *zones.Zone
	// Secondaries are told of every change by NOTIFY and may transfer
	// the zone.
	Secondaries []SecondaryConfig
}

// SecondaryConfig is one [[zone.secondary]].
type SecondaryConfig struct {
	Address string // host:port, the NOTIFY target; transfers are allowed from host
	Key     string // a key of Config.Keys (lowercase FQDN), or ""
}

// AppConfig is one [[app]].
type AppConfig struct {
	Name  string
	Zone  string // lowercase FQDN of a declared zone
	TTL   uint32
	Slots []SlotConfig // sorted by name
	// Checks run around a swap; see CheckConfig.
	Checks []CheckConfig
}

// SlotConfig is one [app.slots.NAME].
type SlotConfig struct {
	Name   string
	Names  []string     // owner FQDNs, lowercase
	Target zones.Target // the configured (initial) target
}

// Slot returns the named slot of the app.
func (a *AppConfig) Slot(name string) (SlotConfig, bool) {
	for _, s := range a.Slots {
		if s.Name == name {
			return s, true
		}
	}
	return SlotConfig{}, false
}

// ApexSlot returns the slot that answers for the zone apex, if any.
func (a *AppConfig) ApexSlot() (SlotConfig, bool) {
	for _, s := range a.Slots {
		for _, n := range s.Names {
			if n == a.Zone {
				return s, true
			}
		}
	}
	return SlotConfig{}, false
}

// App returns the named app.
func (c *Config) App(name string) (*AppConfig, bool) {
	for i := range c.Apps {
		if c.Apps[i].Name == name {
			return &c.Apps[i], true
		}
	}
	return nil, false
}

// Zone returns the zone with origin.
func (c *Config) Zone(origin string) (*ZoneConfig, bool) {
	for i := range c.Zones {
		if c.Zones[i].Origin == origin {
			return &c.Zones[i], true
		}
	}
	return nil, false
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

// fileConfig is the TOML shape of the config file.
type fileConfig struct {
	Listen        []string   `toml:"listen"`
	DB            string     `toml:"db"`
	Control       string     `toml:"control"`
	Resolver      string     `toml:"resolver"`
	LogFormat     string     `toml:"log_format"`
	LogLevel      string     `toml:"log_level"`
	AliasMaxStale string     `toml:"alias_max_stale"`
	TSIGKeys      string     `toml:"tsig_keys"`
	JournalLimit  *int64     `toml:"journal_limit"`
	Zone          []fileZone `toml:"zone"`
	App           []fileApp  `toml:"app"`
}

type fileZone struct {
	Origin    string          `toml:"origin"`
	File      string          `toml:"file"`
	Secondary []fileSecondary `toml:"secondary"`
}

type fileSecondary struct {
	Address string `toml:"address"`
	Key     string `toml:"key"`
}

type fileApp struct {
	Name  string              `toml:"name"`
	Zone  string              `toml:"zone"`
	TTL   *int64              `toml:"ttl"`
	Slots map[string]fileSlot `toml:"slots"`
	Check []fileCheck         `toml:"check"`
}

type fileSlot struct {
	Names  []string `toml:"names"`
	Target string   `toml:"target"`
}

// LoadConfig reads, validates and resolves the config at path, parsing every
// zone file it names. Every problem is reported, each as
// "file:line: what is wrong", joined with errors.Join.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, data, true)
}

// LoadConfigOnly reads and validates the config file itself without
// reading the zone files it names (ZoneConfig.Zone stays nil): enough to
// find the control socket when a zone file may be broken.
func LoadConfigOnly(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, data, false)
}

// parseConfig does the work of LoadConfig on data read from path. With
// readZones false it skips the zone files (for fuzzing the TOML side).
func parseConfig(path string, data []byte, readZones bool) (*Config, error) {
	p := &configParser{path: path, lines: scanKeyLines(data)}
	var fc fileConfig
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&fc)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) && perr.Position.Line > 0 {
			if perr.LastKey != "" {
				return nil, fmt.Errorf("%s:%d: key %q: %s", path, perr.Position.Line, perr.LastKey, perr.Message)
			}
			return nil, fmt.Errorf("%s:%d: %s", path, perr.Position.Line, perr.Message)
		}
		// Type mismatches come as plain errors: toml: line N (last key "k"): ...
		if m := decodeErrorText.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			if line == 0 {
				line = p.lines[m[2]]
			}
			p.addf(line, "key %q: %s", m[2], m[3])
			return nil, p.errs[0]
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, key := range md.Undecoded() {
		p.addf(p.line(key...), "unknown key %q; remove it or check its spelling", key.String())
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	cfg := p.build(&fc, readZones)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return cfg, nil
}

var decodeErrorText = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "(.*?)"\): (.*)$`)

type configParser struct {
	path  string
	lines map[string]int
	errs  []error
}

func (p *configParser) line(key ...string) int { return p.lines[strings.Join(key, ".")] }

func (p *configParser) addf(line int, format string, args ...any) {
	where := p.path
	if line > 0 {
		where = fmt.Sprintf("%s:%d", p.path, line)
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

func (p *configParser) resolvePath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(p.path), name)
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (p *configParser) build(fc *fileConfig, readZones bool) *Config {
	cfg := &Config{
		Path:          p.path,
		Listen:        fc.Listen,
		DB:            p.resolvePath(orDefault(fc.DB, DefaultDB)),
		Control:       p.resolvePath(orDefault(fc.Control, DefaultControl)),
		LogFormat:     orDefault(fc.LogFormat, "text"),
		AliasMaxStale: DefaultAliasMaxStale,
	}
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{DefaultListen}
	}
	for _, addr := range cfg.Listen {
		if err := checkHostPort(addr); err != nil {
			p.addf(p.line("listen"), "listen %q: %v; write it as host:port, e.g. \"127.0.0.1:53\" or \"[::1]:53\"", addr, err)
		}
	}
	if fc.Resolver != "" {
		cfg.Resolver = fc.Resolver
		if _, _, err := net.SplitHostPort(fc.Resolver); err != nil && net.ParseIP(fc.Resolver) != nil {
			cfg.Resolver = net.JoinHostPort(fc.Resolver, "53")
		}
		if err := checkHostPort(cfg.Resolver); err != nil {
			p.addf(p.line("resolver"), "resolver %q: %v; write it as host:port, e.g. \"127.0.0.1:53\"", fc.Resolver, err)
		}
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		p.addf(p.line("log_format"), "log_format %q: want \"text\" or \"json\"", fc.LogFormat)
	}
	if fc.LogLevel != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(fc.LogLevel)); err != nil {
			p.addf(p.line("log_level"), "log_level %q: want \"debug\", \"info\", \"warn\" or \"error\"", fc.LogLevel)
		}
	}
	if fc.AliasMaxStale != "" {
		d, err := time.ParseDuration(fc.AliasMaxStale)
		if err != nil || d < 0 {
			p.addf(p.line("alias_max_stale"), "alias_max_stale %q: want a duration such as \"24h\" or \"30m\"", fc.AliasMaxStale)
		} else {
			cfg.AliasMaxStale = d
		}
	}

	cfg.JournalLimit = DefaultJournalLimit
	if fc.JournalLimit != nil {
		if *fc.JournalLimit < 1 || *fc.JournalLimit > 1<<20 {
			p.addf(p.line("journal_limit"), "journal_limit %d: want the number of changes kept per zone for IXFR, from 1 to 1048576 (default 1000)", *fc.JournalLimit)
		} else {
			cfg.JournalLimit = int(*fc.JournalLimit)
		}
	}
	if fc.TSIGKeys != "" {
		cfg.KeysFile = p.resolvePath(fc.TSIGKeys)
		keys, err := LoadTSIGKeys(cfg.KeysFile)
		if err != nil {
			line := p.line("tsig_keys")
			if line > 0 {
				p.errs = append(p.errs, fmt.Errorf("%s:%d: tsig_keys: %w", p.path, line, err))
			} else {
				p.errs = append(p.errs, err)
			}
		}
		cfg.Keys = keys
	}

	p.buildZones(cfg, fc, readZones)
	p.buildApps(cfg, fc)
	if readZones && len(p.errs) == 0 {
		p.checkSnapshot(cfg, fc)
	}
	return cfg
}

func (p *configParser) buildZones(cfg *Config, fc *fileConfig, readZones bool) {
	seen := map[string]int{}
	for i, fz := range fc.Zone {
		key := fmt.Sprintf("zone[%d]", i)
		line := p.line(key, "origin")
		if line == 0 {
			line = p.line(key)
		}
		origin, err := canonicalOrigin(fz.Origin)
		if err != nil {
			p.addf(line, "zone origin %q: %v", fz.Origin, err)
			continue
		}
		if prev, ok := seen[origin]; ok {
			p.addf(line, "zone %q is declared twice (first at line %d); keep one [[zone]]", origin, prev)
			continue
		}
		seen[origin] = line
		if fz.File == "" {
			p.addf(p.line(key), "zone %q: file is missing; add file = \"zones/%szone\"", origin, origin)
			continue
		}
		zc := ZoneConfig{Origin: origin, File: p.resolvePath(fz.File)}
		zc.Secondaries = p.buildSecondaries(cfg, fc, i, origin, fz.Secondary)
		if readZones {
			z, err := zones.ParseFile(origin, zc.File)
			if err != nil {
				p.errs = append(p.errs, err)
				continue
			}
			zc.Zone = z
		}
		cfg.Zones = append(cfg.Zones, zc)
	}
}

// buildSecondaries checks the [[zone.secondary]] entries of zone i.
func (p *configParser) buildSecondaries(cfg *Config, fc *fileConfig, i int, origin string, list []fileSecondary) []SecondaryConfig {
	var out []SecondaryConfig
	seen := map[string]bool{}
	for j, fs := range list {
		key := fmt.Sprintf("zone[%d].secondary[%d]", i, j)
		line := p.line(key)
		lineOf := func(field string) int {
			if l := p.line(key, field); l > 0 {
				return l
			}
			return line
		}
		where := fmt.Sprintf("zone %q: secondary", origin)
		addr, err := secondaryAddress(fs.Address)
		if err != nil {
			p.addf(lineOf("address"), "%s address %q: %v; write it as host:port, e.g. \"192.0.2.80:53\"", where, fs.Address, err)
			continue
		}
		if seen[addr] {
			p.addf(lineOf("address"), "%s %s is listed twice; keep one", where, addr)
			continue
		}
		seen[addr] = true
		sc := SecondaryConfig{Address: addr}
		if fs.Key != "" {
			name := strings.ToLower(dns.Fqdn(fs.Key))
			switch {
			case fc.TSIGKeys == "":
				p.addf(lineOf("key"), "%s %s: key %q, but no tsig_keys file is configured; add tsig_keys = \"tsig.key\" (written by tsig-keygen %s)", where, addr, fs.Key, strings.TrimSuffix(name, "."))
			case cfg.Keys == nil:
				// The key file itself failed; that error is reported.
			case cfg.Keys[name].Name == "":
				p.addf(lineOf("key"), "%s %s: key %q is not in %s (it has %s); add it there or fix the name", where, addr, fs.Key, cfg.KeysFile, keyList(cfg.Keys))
			}
			sc.Key = name
		}
		out = append(out, sc)
	}
	return out
}

// secondaryAddress checks host:port; a missing port means 53.
func secondaryAddress(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// A bare address or name without a port.
		host, port = strings.Trim(s, "[]"), "53"
	}
	if host == "" {
		return "", errors.New("no host")
	}
	if net.ParseIP(host) == nil {
		if _, ok := dns.IsDomainName(host); !ok || strings.ContainsAny(host, " :/") {
			return "", fmt.Errorf("host %q is neither an IP address nor a host name", host)
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return net.JoinHostPort(host, port), nil
}

func keyList(keys map[string]dnsserver.TSIGKey) string {
	var names []string
	for name := range keys {
		names = append(names, fmt.Sprintf("%q", strings.TrimSuffix(name, ".")))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no keys"
	}
	return joinWords(names)
}

func (p *configParser) buildApps(cfg *Config, fc *fileConfig) {
	declared := map[string]bool{}
	for _, fz := range fc.Zone {
		if o, err := canonicalOrigin(fz.Origin); err == nil {
			declared[o] = true
		}
	}
	appLines := map[string]int{}
	// owner of every slot name across all apps: "app/slot"
	owners := map[string]string{}
	for i, fa := range fc.App {
		key := fmt.Sprintf("app[%d]", i)
		line := p.line(key, "name")
		if line == 0 {
			line = p.line(key)
		}
		if !namePattern.MatchString(fa.Name) {
			p.addf(line, "app name %q: want letters, digits, '.', '-' or '_'", fa.Name)
			continue
		}
		if prev, ok := appLines[fa.Name]; ok {
			p.addf(line, "app %q is declared twice (first at line %d); keep one [[app]]", fa.Name, prev)
			continue
		}
		appLines[fa.Name] = line
		app := AppConfig{Name: fa.Name, TTL: DefaultTTL}
		zoneLine := p.line(key, "zone")
		if zoneLine == 0 {
			zoneLine = line
		}
		origin, err := canonicalOrigin(fa.Zone)
		switch {
		case fa.Zone == "":
			p.addf(line, "app %q: zone is missing; add zone = \"example.com.\" naming a [[zone]]", fa.Name)
			continue
		case err != nil:
			p.addf(zoneLine, "app %q: zone %q: %v", fa.Name, fa.Zone, err)
			continue
		case !declared[origin]:
			p.addf(zoneLine, "app %q: zone %q is not declared; add a [[zone]] with origin = %q", fa.Name, fa.Zone, origin)
			continue
		}
		app.Zone = origin
		if fa.TTL != nil {
			if *fa.TTL < 1 || *fa.TTL > 1<<31-1 {
				p.addf(p.line(key, "ttl"), "app %q: ttl %d: want a number of seconds from 1 to 2147483647", fa.Name, *fa.TTL)
			} else {
				app.TTL = uint32(*fa.TTL)
			}
		}
		if len(fa.Slots) == 0 {
			p.addf(line, "app %q has no slots; add [app.slots.production] with names and target", fa.Name)
		}
		slotNames := make([]string, 0, len(fa.Slots))
		for name := range fa.Slots {
			slotNames = append(slotNames, name)
		}
		sort.Strings(slotNames)
		for _, slotName := range slotNames {
			fs := fa.Slots[slotName]
			slotKey := []string{key, "slots", slotName}
			slotLine := p.line(slotKey...)
			namesLine := p.line(append(slotKey, "names")...)
			if namesLine == 0 {
				namesLine = slotLine
			}
			targetLine := p.line(append(slotKey, "target")...)
			if targetLine == 0 {
				targetLine = slotLine
			}
			where := fmt.Sprintf("app %q: slot %q", fa.Name, slotName)
			if !namePattern.MatchString(slotName) {
				p.addf(slotLine, "%s: slot names want letters, digits, '.', '-' or '_'", where)
				continue
			}
			slot := SlotConfig{Name: slotName}
			if len(fs.Names) == 0 {
				p.addf(namesLine, "%s: names is empty; add names = [\"www\"] (\"@\" is the zone apex)", where)
			}
			for _, n := range fs.Names {
				fqdn, err := ownerName(n, origin)
				if err != nil {
					p.addf(namesLine, "%s: name %q: %v", where, n, err)
					continue
				}
				owner := fa.Name + "/" + slotName
				if prev, ok := owners[fqdn]; ok {
					prevApp, prevSlot, _ := strings.Cut(prev, "/")
					if prevApp == fa.Name {
						p.addf(namesLine, "%s: name %q is already a slot name of %q; a name belongs to one slot only", where, n, prevSlot)
					} else {
						p.addf(namesLine, "%s: name %q is already a slot name of app %q slot %q; a name belongs to one slot only", where, n, prevApp, prevSlot)
					}
					continue
				}
				owners[fqdn] = owner
				slot.Names = append(slot.Names, fqdn)
			}
			if strings.TrimSpace(fs.Target) == "" {
				p.addf(targetLine, "%s: target is missing; add target = \"app.cloudapp.net.\" or a list of addresses \"192.0.2.1, 2001:db8::1\"", where)
				continue
			}
			t, err := zones.ParseTarget(fs.Target)
			if err != nil {
				p.addf(targetLine, "%s: %v", where, err)
				continue
			}
			slot.Target = t
			app.Slots = append(app.Slots, slot)
		}
		app.Checks = p.buildChecks(key, fa.Name, fa.Check)
		cfg.Apps = append(cfg.Apps, app)
	}
	// An apex alias of a hostname outside our zones is resolved through
	// the resolver.
	if fc.Resolver != "" {
		return
	}
	for i, app := range cfg.Apps {
		s, ok := app.ApexSlot()
		if !ok || !s.Target.IsHost() || cfg.InOurZones(s.Target.Host) {
			continue
		}
		line := p.line(fmt.Sprintf("app[%d]", appIndex(fc, app.Name, i)), "slots", s.Name, "target")
		p.addf(line, "app %q: slot %q: target %s lies outside our zones and serves the zone apex %s, which needs its addresses; set resolver = \"host:port\" of a recursive resolver, or point the slot at addresses", app.Name, s.Name, s.Target.Host, app.Zone)
	}
}

// appIndex finds the [[app]] position of name in the file (apps that failed
// validation are not in cfg.Apps, so positions may differ).
func appIndex(fc *fileConfig, name string, fallback int) int {
	for i, fa := range fc.App {
		if fa.Name == name {
			return i
		}
	}
	return fallback
}

// checkSnapshot builds the snapshot the server would serve from the config
// alone, so that anything zones refuses is caught before start. A slot name
// that owns zone-file records is reported at the slot, naming both places.
func (p *configParser) checkSnapshot(cfg *Config, fc *fileConfig) {
	_, err := zones.Build(cfg.snapshotInput(nil, nil, nil))
	if err == nil {
		return
	}
	for _, e := range flatten(err) {
		var conflict *zones.ConflictError
		if !errors.As(e, &conflict) {
			p.errs = append(p.errs, e)
			continue
		}
		slotKey := []string{fmt.Sprintf("app[%d]", appIndex(fc, conflict.App, 0)), "slots", conflict.Slot}
		line := p.line(append(slotKey, "names")...)
		if line == 0 {
			line = p.line(slotKey...)
		}
		p.addf(line, "app %q: slot %q: name %s also owns records at %s:%d; a slot name may not own zone-file records: remove them from the zone file or the name from the slot",
			conflict.App, conflict.Slot, conflict.Name, conflict.File, conflict.Line)
	}
}

// flatten lists the single errors inside joined ones.
func flatten(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// snapshotInput assembles a snapshot input from the config and live state: serials
// by zone (the zone file's serial when missing), targets by app and slot (the
// configured target when missing) and resolved apex aliases.
func (c *Config) snapshotInput(serials map[string]uint32, targets map[string]map[string]zones.Target, aliases map[string]zones.Alias) zones.Input {
	in := zones.Input{Aliases: aliases}
	for _, zc := range c.Zones {
		zi := zones.ZoneInput{Zone: zc.Zone}
		if s, ok := serials[zc.Origin]; ok {
			zi.Serial = s
		} else if zc.Zone != nil && zc.Zone.SOA != nil {
			zi.Serial = zc.Zone.SOA.Serial
		}
		for _, app := range c.Apps {
			if app.Zone != zc.Origin {
				continue
			}
			for _, s := range app.Slots {
				t := s.Target
				if live, ok := targets[app.Name][s.Name]; ok {
					t = live
				}
				zi.Slots = append(zi.Slots, zones.Slot{App: app.Name, Slot: s.Name, Names: s.Names, Target: t, TTL: app.TTL})
			}
		}
		in.Zones = append(in.Zones, zi)
	}
	return in
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("not host:port")
	}
	if host != "" && net.ParseIP(host) == nil {
		return fmt.Errorf("host %q is not an IP address", host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

func canonicalOrigin(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty")
	}
	fqdn := strings.ToLower(dns.Fqdn(s))
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return "", errors.New("not a domain name")
	}
	return fqdn, nil
}

// ownerName turns a slot name as written ("@", "www", "www.example.com.")
// into a lowercase FQDN inside origin.
func ownerName(name, origin string) (string, error) {
	var fqdn string
	switch {
	case name == "@":
		return origin, nil
	case name == "":
		return "", errors.New("empty name; use \"@\" for the zone apex")
	case dns.IsFqdn(name):
		fqdn = strings.ToLower(name)
	default:
		fqdn = strings.ToLower(name) + "." + origin
	}
	if _, ok := dns.IsDomainName(fqdn); !ok || strings.Contains(fqdn, "..") || strings.Contains(fqdn, "*") {
		return "", errors.New("not a valid host name")
	}
	if !dns.IsSubDomain(origin, fqdn) {
		return "", fmt.Errorf("%s is outside zone %s; write it relative to the zone, e.g. \"www\"", fqdn, origin)
	}
	return fqdn, nil
}

// scanKeyLines maps every key and table of a TOML file to the line that
// defines it. Keys are dotted paths; entries of arrays of tables carry their
// index ("app[1].slots.staging.names"), and each path is also recorded
// without indexes ("app.slots.staging.names", first occurrence) for keys
// toml reports without them.
func scanKeyLines(data []byte) map[string]int {
	lines := map[string]int{}
	counts := map[string]int{} // array-of-tables path -> entries so far
	table := ""
	record := func(path string, n int) {
		if _, ok := lines[path]; !ok {
			lines[path] = n
		}
		plain := indexPattern.ReplaceAllString(path, "")
		if _, ok := lines[plain]; !ok {
			lines[plain] = n
		}
	}
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#':
			continue
		case strings.HasPrefix(line, "[["):
			end := strings.Index(line, "]]")
			if end < 0 {
				continue
			}
			parts := splitKey(line[2:end])
			parent := indexedPath(parts[:len(parts)-1], counts)
			counts[joinPath(parent, parts[len(parts)-1])]++
			table = indexedPath(parts, counts)
			record(table, n)
		case line[0] == '[':
			end := strings.Index(line, "]")
			if end < 0 {
				continue
			}
			table = indexedPath(splitKey(line[1:end]), counts)
			record(table, n)
		default:
			eq := strings.Index(line, "=")
			if eq <= 0 || !keyPattern.MatchString(line[:eq]) {
				continue
			}
			path := strings.Join(splitKey(line[:eq]), ".")
			if table != "" {
				path = table + "." + path
			}
			record(path, n)
		}
	}
	return lines
}

var (
	indexPattern = regexp.MustCompile(`\[\d+\]`)
	keyPattern   = regexp.MustCompile(`^[A-Za-z0-9_\-. "']+$`)
)

func splitKey(s string) []string {
	var parts []string
	for _, p := range strings.Split(s, ".") {
		parts = append(parts, strings.Trim(strings.TrimSpace(p), `"'`))
	}
	return parts
}

// indexedPath gives parts with the current index of every array of tables
// in it; counts are keyed by the indexed path of each array.
func indexedPath(parts []string, counts map[string]int) string {
	path := ""
	for _, part := range parts {
		path = joinPath(path, part)
		if c, ok := counts[path]; ok {
			path += fmt.Sprintf("[%d]", c-1)
		}
	}
	return path
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
