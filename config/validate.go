package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// build validates the decoded file and resolves it into a Config. Keys
// whose value had the wrong type (p.bad) are left at their defaults and
// not checked further.
func (p *parser) build(fc *fileConfig) *Config {
	cfg := &Config{
		Path:          p.path,
		Listen:        fc.Listen,
		DB:            p.resolvePath(orDefault(fc.DB, DefaultDB)),
		Control:       p.resolvePath(orDefault(fc.Control, DefaultControl)),
		LogFormat:     orDefault(fc.LogFormat, "text"),
		AliasMaxStale: DefaultAliasMaxStale,
		JournalLimit:  DefaultJournalLimit,
		dbLine:        p.line("db"),
		controlLine:   p.line("control"),
		keysLine:      p.line("tsig_keys"),
	}
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{DefaultListen}
	}
	if !p.bad["listen"] {
		for _, addr := range cfg.Listen {
			if err := checkHostPort(addr); err != nil {
				p.addf(p.line("listen"), "listen %q: %v; write it as host:port, e.g. \"127.0.0.1:53\" or \"[::1]:53\"", addr, err)
			}
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
	if fc.JournalLimit != nil {
		if *fc.JournalLimit < 1 || *fc.JournalLimit > 1<<20 {
			p.addf(p.line("journal_limit"), "journal_limit %d: want the number of changes kept per zone for IXFR, from 1 to 1048576 (default 1000)", *fc.JournalLimit)
		} else {
			cfg.JournalLimit = int(*fc.JournalLimit)
		}
	}
	if len(fc.NSID) > 128 || strings.ContainsFunc(fc.NSID, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		p.addf(p.line("nsid"), "nsid %q: want printable ASCII of at most 128 bytes, such as the host's name", fc.NSID)
	} else {
		cfg.NSID = fc.NSID
	}
	if fc.TSIGKeys != "" {
		// Only the path: LoadKeys reads the file.
		cfg.KeysFile = p.resolvePath(fc.TSIGKeys)
	}

	p.buildZones(cfg, fc)
	p.buildApps(cfg, fc)
	p.buildAPI(cfg, fc.API)
	p.buildTCP(cfg, fc.TCP)
	p.buildCookies(cfg, fc.Cookies)
	p.buildRRL(cfg, fc.RRL)
	return cfg
}

func (p *parser) buildZones(cfg *Config, fc *fileConfig) {
	seen := map[string]int{}
	for i, fz := range fc.Zone {
		key := fmt.Sprintf("zone[%d]", i)
		line := p.line(key+".origin", key)
		if p.bad[key+".origin"] {
			continue
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
			if !p.bad[key+".file"] {
				p.addf(p.line(key), "zone %q: file is missing; add file = \"zones/%szone\"", origin, origin)
			}
			continue
		}
		z := Zone{Origin: origin, File: p.resolvePath(fz.File), Line: line, fileLine: p.line(key+".file", key)}
		z.Secondaries = p.buildSecondaries(fc, key, origin, fz.Secondary)
		z.Updates = p.buildUpdates(fc, key, origin, fz.Update)
		if fz.DNSSEC != nil {
			z.DNSSEC = p.buildDNSSEC(key+".dnssec", origin, fz.DNSSEC)
		}
		cfg.Zones = append(cfg.Zones, z)
	}
}

// buildSecondaries checks the [[zone.secondary]] entries of the zone at key.
// Whether a key is in the key file is LoadKeys' to check.
func (p *parser) buildSecondaries(fc *fileConfig, zoneKey, origin string, list []fileSecondary) []Secondary {
	var out []Secondary
	seen := map[string]bool{}
	for j, fs := range list {
		key := fmt.Sprintf("%s.secondary[%d]", zoneKey, j)
		addrLine := p.line(key+".address", key)
		keyLine := p.line(key+".key", key)
		if p.bad[key+".address"] || p.bad[key+".key"] {
			continue
		}
		where := fmt.Sprintf("zone %q: secondary", origin)
		addr, err := secondaryAddress(fs.Address)
		if err != nil {
			p.addf(addrLine, "%s address %q: %v; write it as host:port, e.g. \"192.0.2.80:53\"", where, fs.Address, err)
			continue
		}
		if seen[addr] {
			p.addf(addrLine, "%s %s is listed twice; keep one", where, addr)
			continue
		}
		seen[addr] = true
		sec := Secondary{Address: addr, Line: addrLine, keyLine: keyLine}
		if fs.Key != "" {
			name := strings.ToLower(dns.Fqdn(fs.Key))
			if fc.TSIGKeys == "" && !p.bad["tsig_keys"] {
				p.addf(keyLine, "%s %s: key %q, but no tsig_keys file is configured; add tsig_keys = \"tsig.key\" (written by tsig-keygen %s)", where, addr, fs.Key, strings.TrimSuffix(name, "."))
			}
			sec.Key = name
		}
		out = append(out, sec)
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

// joinWords gives "a", "a and b", "a, b and c".
func joinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
