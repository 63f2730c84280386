package config

import (
	"fmt"
	"strings"

	"github.com/slotdns/slotdns/update"

	"github.com/miekg/dns"
)

// UpdatePolicy is one [[zone.update]] table: a TSIG key that may change
// the zone by DNS UPDATE (RFC 2136), and within what. Whatever else an
// update asks is refused.
type UpdatePolicy struct {
	Key   string           // lowercase FQDN, a key of the tsig_keys file
	Names []update.Pattern // the names it may change, relative to the zone
	Types []uint16         // the types it may change
	// FileRecords lets it change records the zone file holds; by
	// default those are the file's alone.
	FileRecords bool
	// AllowSHA1 accepts the key with hmac-sha1 (lego's default); other
	// keys must be hmac-sha256, -sha384 or -sha512.
	AllowSHA1 bool
	Line      int // the line of [[zone.update]]
	keyLine   int
}

// Allows reports whether the policy covers type t at name in zone.
func (u UpdatePolicy) Allows(name string, t uint16, zone string) bool {
	typeOK := false
	for _, ut := range u.Types {
		typeOK = typeOK || ut == t
	}
	if !typeOK {
		return false
	}
	for _, p := range u.Names {
		if p.Matches(name, zone) {
			return true
		}
	}
	return false
}

// fileUpdate is the TOML shape of a [[zone.update]] table.
type fileUpdate struct {
	Key         string
	Names       []string
	Types       []string
	FileRecords bool
	AllowSHA1   bool
}

// signingTypes are the types a signed zone makes for itself; an update
// may not write them.
var signingTypes = map[uint16]bool{dns.TypeSOA: true, dns.TypeDNSKEY: true, dns.TypeRRSIG: true, dns.TypeNSEC: true,
	dns.TypeNSEC3: true, dns.TypeNSEC3PARAM: true, dns.TypeCDS: true, dns.TypeCDNSKEY: true}

// buildUpdates checks the [[zone.update]] tables of the zone at key.
// Whether a key is in the key file, and of which algorithm, is
// LoadKeys' to check.
func (p *parser) buildUpdates(fc *fileConfig, zoneKey, origin string, list []fileUpdate) []UpdatePolicy {
	var out []UpdatePolicy
	seen := map[string]int{}
	for j, fu := range list {
		key := fmt.Sprintf("%s.update[%d]", zoneKey, j)
		if p.bad[key+".key"] || p.bad[key+".names"] || p.bad[key+".types"] {
			continue
		}
		line := p.line(key)
		where := fmt.Sprintf("zone %q: update", origin)
		u := UpdatePolicy{FileRecords: fu.FileRecords, AllowSHA1: fu.AllowSHA1, Line: line, keyLine: p.line(key+".key", key)}
		ok := true
		switch {
		case fu.Key == "":
			p.addf(line, "%s: key is missing; add key = \"acme-key\", a key of the tsig_keys file", where)
			ok = false
		case fc.TSIGKeys == "" && !p.bad["tsig_keys"]:
			p.addf(u.keyLine, "%s: key %q, but no tsig_keys file is configured; add tsig_keys = \"tsig.key\" (written by tsig-keygen %s)", where, fu.Key, fu.Key)
			ok = false
		default:
			u.Key = strings.ToLower(dns.Fqdn(fu.Key))
			if prev, dup := seen[u.Key]; dup {
				p.addf(u.keyLine, "%s: key %q has a policy already (line %d); give it one [[zone.update]] with every name and type", where, fu.Key, prev)
				ok = false
			}
			seen[u.Key] = line
		}
		namesLine := p.line(key+".names", key)
		if len(fu.Names) == 0 {
			p.addf(namesLine, "%s: names is missing; add names = [\"_acme-challenge.*\"] (exact: \"www\", \"@\"; below a name: \"*.apps\")", where)
			ok = false
		}
		for _, n := range fu.Names {
			pat, err := update.ParsePattern(n)
			if err != nil {
				p.addf(namesLine, "%s: %v", where, err)
				ok = false
				continue
			}
			u.Names = append(u.Names, pat)
		}
		typesLine := p.line(key+".types", key)
		if len(fu.Types) == 0 {
			p.addf(typesLine, "%s: types is missing; add types = [\"TXT\"]", where)
			ok = false
		}
		for _, ts := range fu.Types {
			t, known := dns.StringToType[strings.ToUpper(strings.TrimSpace(ts))]
			switch {
			case !known || update.IsMeta(t):
				p.addf(typesLine, "%s: type %q is not a type of records; write types such as [\"TXT\", \"A\", \"AAAA\", \"CNAME\"]", where, ts)
				ok = false
			case signingTypes[t]:
				p.addf(typesLine, "%s: type %s is the zone's own (its SOA, and what signing makes); an update may not write it", where, dns.TypeToString[t])
				ok = false
			default:
				u.Types = append(u.Types, t)
			}
		}
		if ok {
			out = append(out, u)
		}
	}
	return out
}
