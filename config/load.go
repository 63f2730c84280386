package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Load reads and validates the config file at path. It reads that file
// only: not the zone files (LoadZones) nor the key file (LoadKeys). Every
// problem is reported, each as "file:line: what is wrong; how to fix it",
// joined with errors.Join in file order; a TOML syntax error is one error
// at its line, since the file cannot be read past it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(path, data)
}

// LoadTop reads the keys of the config file at path that come before its
// first table: where the server listens, its socket and database, its
// resolver and logging; not the zones and apps. It is what a command that
// only talks to a running server needs (the server read the rest), and it
// costs the same for a config of a thousand zones as for the demo's. When
// the file does not cut cleanly before a table, it is read whole, as Load
// reads it.
func LoadTop(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if top, ok := beforeFirstTable(data); ok {
		if cfg, err := parse(path, top); err == nil {
			return cfg, nil
		}
	}
	return parse(path, data)
}

// beforeFirstTable gives data up to its first line that starts a table
// ("[zone]" or "[[app]]"), and whether there is one. A line that only
// looks like a table header, inside a multi-line value, cuts the value
// short; the cut then does not parse and the caller reads it all.
func beforeFirstTable(data []byte) ([]byte, bool) {
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data) - off
		}
		if line := bytes.TrimSpace(data[off : off+end]); len(line) > 0 && line[0] == '[' {
			return data[:off], true
		}
		off += end + 1
	}
	return nil, false
}

// parse does the work of Load on data read from path.
func parse(path string, data []byte) (*Config, error) {
	p := &parser{path: path, lines: scanKeyLines(data), bad: map[string]bool{}, reported: map[string]bool{}}
	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&top)
	if err != nil {
		return nil, syntaxError(path, err)
	}
	p.md = &md
	fc := p.decodeFile(top)
	p.undecoded()
	cfg := p.build(fc)
	if err := p.err(); err != nil {
		return nil, err
	}
	cfg.buildIndex()
	return cfg, nil
}

// syntaxError gives a TOML syntax error at its line.
func syntaxError(path string, err error) error {
	var perr toml.ParseError
	if errors.As(err, &perr) && perr.Position.Line > 0 {
		if perr.LastKey != "" {
			return fmt.Errorf("%s:%d: key %q: %s", path, perr.Position.Line, perr.LastKey, perr.Message)
		}
		return fmt.Errorf("%s:%d: %s", path, perr.Position.Line, perr.Message)
	}
	return fmt.Errorf("%s: %v", path, err)
}

// parser collects the problems of one config file.
type parser struct {
	path  string
	lines map[string]int // see scanKeyLines
	md    *toml.MetaData
	probs []problem
	// bad holds the indexed paths ("app[1].ttl") of keys whose value has
	// the wrong type: their checks are skipped, the type is the problem.
	bad map[string]bool
	// reported holds the plain paths ("app.ttl") of keys reported as
	// unknown or of the wrong type: the keys below them are not reported
	// again.
	reported map[string]bool
}

// problem is one error and the line it is at (0: the file as a whole).
type problem struct {
	line int
	err  error
}

func (p *parser) addf(line int, format string, args ...any) {
	where := p.path
	if line > 0 {
		where = fmt.Sprintf("%s:%d", p.path, line)
	}
	p.probs = append(p.probs, problem{line, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))})
}

// err joins the problems in file order.
func (p *parser) err() error {
	sort.SliceStable(p.probs, func(i, j int) bool { return p.probs[i].line < p.probs[j].line })
	errs := make([]error, len(p.probs))
	for i, pr := range p.probs {
		errs[i] = pr.err
	}
	return errors.Join(errs...)
}

// line is the line of the first of paths (indexed, as scanKeyLines
// records them) that the file has; failing all, the line of the closest
// table or key around the last one (a key in an inline table has no line
// of its own), or 0.
func (p *parser) line(paths ...string) int {
	for _, path := range paths {
		if l := p.lines[path]; l > 0 {
			return l
		}
	}
	if len(paths) == 0 {
		return 0
	}
	for path := parentPath(paths[len(paths)-1]); path != ""; path = parentPath(path) {
		if l := p.lines[path]; l > 0 {
			return l
		}
	}
	return 0
}

// parentPath strips the last index or key of path: "app[0].ttl" ->
// "app[0]" -> "app" -> "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	i := strings.LastIndex(path, ".")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func (p *parser) resolvePath(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(p.path), name)
}

// field is one key a table may hold.
type field struct {
	into any    // a pointer to where its value goes
	fix  string // how to write it, for a value of the wrong type
}

// table decodes the keys of one TOML table into fields, each on its own,
// so that every key of the wrong type is reported and the others still
// decode. at is the table's indexed path ("app[1]", "" at the top) for
// lines, key its plain path for messages. A key that fields does not
// list is unknown.
func (p *parser) table(at string, key toml.Key, prims map[string]toml.Primitive, fields map[string]field) {
	for _, name := range slices.Sorted(maps.Keys(prims)) {
		prim := prims[name]
		path := joinPath(at, name)
		k := append(slices.Clip(key), name)
		line := p.line(path, at)
		f, ok := fields[name]
		if !ok {
			p.addf(line, "unknown key %q; remove it or check its spelling", k.String())
			p.reported[k.String()] = true
			continue
		}
		if what, ok := p.decode(prim, f.into); !ok {
			p.addf(line, "key %q: incompatible types: the value is %s, want %s; %s", k.String(), what, wantType(f.into), f.fix)
			p.bad[path] = true
			p.reported[k.String()] = true
		}
	}
}

// decode decodes prim into into, a pointer to one of the types wantType
// knows. On a value of another type it leaves into zero, and says what
// the value is.
func (p *parser) decode(prim toml.Primitive, into any) (what string, ok bool) {
	var raw any
	_ = p.md.PrimitiveDecode(prim, &raw) // into any never fails
	err := p.md.PrimitiveDecode(prim, into)
	// toml decodes a value that is not a table into a map as an empty map.
	switch into.(type) {
	case *map[string]toml.Primitive:
		_, isTable := raw.(map[string]any)
		ok = isTable
	case *[]map[string]toml.Primitive:
		t := tomlType(raw)
		ok = t == "an array of tables" || t == "an empty array"
	default:
		ok = true
	}
	if err != nil || !ok {
		reflect.ValueOf(into).Elem().SetZero()
		return tomlType(raw), false
	}
	return "", true
}

// wantType names the TOML type a destination of decode takes.
func wantType(into any) string {
	switch into.(type) {
	case *string:
		return "a string"
	case **int64:
		return "an integer"
	case *bool:
		return "true or false"
	case *[]string:
		return "an array of strings"
	case *[]int64:
		return "an array of integers"
	case *map[string]toml.Primitive:
		return "a table"
	case *[]map[string]toml.Primitive:
		return "an array of tables"
	}
	return fmt.Sprintf("%T", into)
}

// tomlType names the type of a decoded TOML value: "a string", "an array
// of integers".
func tomlType(v any) string {
	switch v := v.(type) {
	case []map[string]any:
		return "an array of tables"
	case []any:
		kinds := map[string]bool{}
		for _, e := range v {
			kinds[tomlType(e)] = true
		}
		switch len(kinds) {
		case 0:
			return "an empty array"
		case 1:
			for k := range kinds {
				_, noun, _ := strings.Cut(k, " ")
				return "an array of " + plural(noun)
			}
		}
		return "an array of mixed values"
	case map[string]any:
		return "a table"
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	}
	return "a date-time"
}

func plural(noun string) string {
	if rest, ok := strings.CutPrefix(noun, "array of "); ok {
		return "arrays of " + rest
	}
	if noun == "empty array" {
		return "empty arrays"
	}
	return noun + "s"
}

// undecoded reports the keys no table took that lie under no key already
// reported. table reports unknown keys itself, so this is a safety net.
func (p *parser) undecoded() {
	for _, key := range p.md.Undecoded() {
		under := false
		for i := 1; i <= len(key); i++ {
			if p.reported[key[:i].String()] {
				under = true
				break
			}
		}
		if !under {
			p.addf(p.lines[strings.Join(key, ".")], "unknown key %q; remove it or check its spelling", key.String())
			p.reported[key.String()] = true
		}
	}
}

// The TOML shape of the config file, filled by decodeFile.
type fileConfig struct {
	Listen        []string
	DB            string
	Control       string
	Resolver      string
	LogFormat     string
	LogLevel      string
	AliasMaxStale string
	TSIGKeys      string
	JournalLimit  *int64
	NSID          string
	Zone          []fileZone
	App           []fileApp
	API           fileAPI
	TCP           fileTCP
	Cookies       fileCookies
	RRL           fileRRL
}

type fileRRL struct {
	Rate       *int64
	Slip       *int64
	IPv4Prefix *int64
	IPv6Prefix *int64
	Exempt     []string
	TableSize  *int64
}

type fileCookies struct {
	Enabled        *bool
	Secret         string
	PreviousSecret string
}

type fileTCP struct {
	MaxConnections *int64
	MaxPerSource   *int64
	MaxQueries     *int64
	IdleTimeout    string
}

type fileAPI struct {
	Listen        string
	TLSCert       string
	TLSKey        string
	Tokens        string
	MetricsListen string
}

type fileZone struct {
	Origin    string
	File      string
	Secondary []fileSecondary
	DNSSEC    *fileDNSSEC // nil: no [zone.dnssec] table
	Update    []fileUpdate
}

type fileSecondary struct {
	Address string
	Key     string
}

type fileApp struct {
	Name  string
	Zone  string
	TTL   *int64
	Slots map[string]fileSlot
	Check []fileCheck
	// slotsBad is set when slots, or one of them, is not a table: then
	// "no slots" is not the problem.
	slotsBad bool
}

type fileSlot struct {
	Names  []string
	Target string
}

// decodeFile decodes the top table, and the tables in it, key by key.
func (p *parser) decodeFile(top map[string]toml.Primitive) *fileConfig {
	fc := &fileConfig{}
	var zoneTables, appTables []map[string]toml.Primitive
	var apiTable, tcpTable, cookiesTable, rrlTable map[string]toml.Primitive
	p.table("", nil, top, map[string]field{
		"listen":          {&fc.Listen, `write it as listen = ["127.0.0.1:53"]`},
		"db":              {&fc.DB, `write it as db = "slotdns.db"`},
		"control":         {&fc.Control, `write it as control = "slotdns.sock"`},
		"resolver":        {&fc.Resolver, `write it as resolver = "127.0.0.1:53"`},
		"log_format":      {&fc.LogFormat, `write it as log_format = "text" or "json"`},
		"log_level":       {&fc.LogLevel, `write it as log_level = "info"`},
		"alias_max_stale": {&fc.AliasMaxStale, `write it as alias_max_stale = "24h"`},
		"tsig_keys":       {&fc.TSIGKeys, `write it as tsig_keys = "tsig.key"`},
		"journal_limit":   {&fc.JournalLimit, `write it as journal_limit = 1000`},
		"nsid":            {&fc.NSID, `write it as nsid = "dns1.example.net"`},
		"zone":            {&zoneTables, `write each zone as a [[zone]] table with origin and file`},
		"app":             {&appTables, `write each app as an [[app]] table with name, zone and [app.slots.NAME]`},
		"api":             {&apiTable, `write it as an [api] table with listen`},
		"tcp":             {&tcpTable, `write it as a [tcp] table with max_connections, max_per_source, max_queries, idle_timeout`},
		"cookies":         {&cookiesTable, `write it as a [cookies] table with enabled, secret, previous_secret`},
		"rrl":             {&rrlTable, `write it as an [rrl] table with rate, slip, ipv4_prefix, ipv6_prefix, exempt, table_size`},
	})
	p.table("rrl", toml.Key{"rrl"}, rrlTable, map[string]field{
		"rate":        {&fc.RRL.Rate, `write it as rate = 200 (0 turns rate limiting off)`},
		"slip":        {&fc.RRL.Slip, `write it as slip = 2`},
		"ipv4_prefix": {&fc.RRL.IPv4Prefix, `write it as ipv4_prefix = 24`},
		"ipv6_prefix": {&fc.RRL.IPv6Prefix, `write it as ipv6_prefix = 56`},
		"exempt":      {&fc.RRL.Exempt, `write it as exempt = ["127.0.0.0/8", "::1/128"]`},
		"table_size":  {&fc.RRL.TableSize, `write it as table_size = 65536`},
	})
	p.table("cookies", toml.Key{"cookies"}, cookiesTable, map[string]field{
		"enabled":         {&fc.Cookies.Enabled, `write it as enabled = true`},
		"secret":          {&fc.Cookies.Secret, `write it as secret = "` + exampleCookieSecret + `" (32 hex digits)`},
		"previous_secret": {&fc.Cookies.PreviousSecret, `write it as previous_secret = "` + exampleCookieSecret + `"`},
	})
	p.table("tcp", toml.Key{"tcp"}, tcpTable, map[string]field{
		"max_connections": {&fc.TCP.MaxConnections, `write it as max_connections = 1000`},
		"max_per_source":  {&fc.TCP.MaxPerSource, `write it as max_per_source = 32`},
		"max_queries":     {&fc.TCP.MaxQueries, `write it as max_queries = 10000`},
		"idle_timeout":    {&fc.TCP.IdleTimeout, `write it as idle_timeout = "10s"`},
	})
	p.table("api", toml.Key{"api"}, apiTable, map[string]field{
		"listen":         {&fc.API.Listen, `write it as listen = "127.0.0.1:8053"`},
		"tls_cert":       {&fc.API.TLSCert, `write it as tls_cert = "tls/cert.pem"`},
		"tls_key":        {&fc.API.TLSKey, `write it as tls_key = "tls/key.pem"`},
		"tokens":         {&fc.API.Tokens, `write it as tokens = "slotdns.tokens"`},
		"metrics_listen": {&fc.API.MetricsListen, `write it as metrics_listen = "127.0.0.1:9153"`},
	})
	for i, prims := range zoneTables {
		fc.Zone = append(fc.Zone, p.decodeZone(fmt.Sprintf("zone[%d]", i), prims))
	}
	for i, prims := range appTables {
		fc.App = append(fc.App, p.decodeApp(fmt.Sprintf("app[%d]", i), prims))
	}
	return fc
}

func (p *parser) decodeZone(at string, prims map[string]toml.Primitive) fileZone {
	var fz fileZone
	var secondaries []map[string]toml.Primitive
	var dnssecTable map[string]toml.Primitive
	var updates []map[string]toml.Primitive
	p.table(at, toml.Key{"zone"}, prims, map[string]field{
		"update":    {&updates, `write each key's policy as a [[zone.update]] table with key, names and types`},
		"origin":    {&fz.Origin, `write it as origin = "example.com."`},
		"file":      {&fz.File, `write it as file = "example.com.zone"`},
		"secondary": {&secondaries, `write each secondary as a [[zone.secondary]] table with address`},
		"dnssec":    {&dnssecTable, `write it as a [zone.dnssec] table, empty for every default, or with ` + dnssecKeys},
	})
	// An empty [zone.dnssec] is a signed zone: the key's presence counts.
	if _, ok := prims["dnssec"]; ok && !p.bad[at+".dnssec"] {
		fz.DNSSEC = p.decodeDNSSEC(at+".dnssec", dnssecTable)
	}
	for j, sp := range secondaries {
		var fs fileSecondary
		p.table(fmt.Sprintf("%s.secondary[%d]", at, j), toml.Key{"zone", "secondary"}, sp, map[string]field{
			"address": {&fs.Address, `write it as address = "192.0.2.80:53"`},
			"key":     {&fs.Key, `write it as key = "xfr-key"`},
		})
		fz.Secondary = append(fz.Secondary, fs)
	}
	for j, up := range updates {
		var fu fileUpdate
		p.table(fmt.Sprintf("%s.update[%d]", at, j), toml.Key{"zone", "update"}, up, map[string]field{
			"key":             {&fu.Key, `write it as key = "acme-key"`},
			"names":           {&fu.Names, `write it as names = ["_acme-challenge.*"]`},
			"types":           {&fu.Types, `write it as types = ["TXT"]`},
			"file_records":    {&fu.FileRecords, `write it as file_records = true (no quotes)`},
			"allow_hmac_sha1": {&fu.AllowSHA1, `write it as allow_hmac_sha1 = true (no quotes)`},
		})
		fz.Update = append(fz.Update, fu)
	}
	return fz
}

func (p *parser) decodeApp(at string, prims map[string]toml.Primitive) fileApp {
	var fa fileApp
	var slots map[string]toml.Primitive
	var checks []map[string]toml.Primitive
	p.table(at, toml.Key{"app"}, prims, map[string]field{
		"name":  {&fa.Name, `write it as name = "yourwebapp"`},
		"zone":  {&fa.Zone, `write it as zone = "example.com."`},
		"ttl":   {&fa.TTL, `write it as ttl = 30 (seconds, no quotes)`},
		"slots": {&slots, `write each slot as an [app.slots.NAME] table with names and target`},
		"check": {&checks, `write each check as an [[app.check]] table`},
	})
	fa.slotsBad = p.bad[at+".slots"]
	for _, name := range slices.Sorted(maps.Keys(slots)) {
		prim := slots[name]
		slotAt := fmt.Sprintf("%s.slots.%s", at, name)
		key := toml.Key{"app", "slots", name}
		var sp map[string]toml.Primitive
		if what, ok := p.decode(prim, &sp); !ok {
			p.addf(p.line(slotAt, at+".slots", at), "key %q: incompatible types: the value is %s, want a table; write the slot as [app.slots.%s] with names and target", key.String(), what, name)
			p.reported[key.String()] = true
			fa.slotsBad = true
			continue
		}
		var fs fileSlot
		p.table(slotAt, key, sp, map[string]field{
			"names":  {&fs.Names, `write it as names = ["@", "www"]`},
			"target": {&fs.Target, `write it as target = "blue.cloudapp.net." or "192.0.2.10, 2001:db8::10"`},
		})
		if fa.Slots == nil {
			fa.Slots = map[string]fileSlot{}
		}
		fa.Slots[name] = fs
	}
	for i, cp := range checks {
		fa.Check = append(fa.Check, p.decodeCheck(fmt.Sprintf("%s.check[%d]", at, i), cp))
	}
	return fa
}
