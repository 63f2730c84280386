package update

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Pattern is the names a key's policy lets it change, relative to its
// zone, in one of three forms:
//
//	"www"                  exactly www.ZONE ("@" is the apex)
//	"*.apps"               every name below apps.ZONE, not apps.ZONE itself
//	"_acme-challenge.*"    _acme-challenge.ZONE and _acme-challenge.X.ZONE
//	                       for any X: what DNS-01 asks of every name
type Pattern struct {
	text   string
	prefix string // the labels before a trailing "*", with their dot
	suffix string // the labels after a leading "*", relative
	exact  string // relative; "" for the apex
	kind   patternKind
}

type patternKind int

const (
	matchExact patternKind = iota
	matchBelow             // "*.name"
	matchLabel             // "label.*"
)

// ParsePattern reads a pattern; a "*" anywhere but as the first or the
// last label, or a name that is not one, is an error.
func ParsePattern(s string) (Pattern, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	p := Pattern{text: text}
	if strings.HasSuffix(text, ".") {
		return p, fmt.Errorf("name pattern %q: give it relative to the zone, without the trailing dot (\"www\", \"@\", \"*.apps\", \"_acme-challenge.*\")", s)
	}
	switch {
	case text == "@":
		p.kind = matchExact
	case text == "*":
		return p, fmt.Errorf("name pattern %q: give the names it covers, such as \"*.apps\" or \"_acme-challenge.*\"", s)
	case strings.HasPrefix(text, "*."):
		p.kind, p.suffix = matchBelow, strings.TrimPrefix(text, "*.")
	case strings.HasSuffix(text, ".*"):
		p.kind, p.prefix = matchLabel, strings.TrimSuffix(text, "*")
	default:
		p.kind, p.exact = matchExact, text
	}
	rest := p.exact + p.suffix + strings.TrimSuffix(p.prefix, ".")
	if strings.Contains(rest, "*") {
		return p, fmt.Errorf("name pattern %q: a \"*\" stands only as the first label (\"*.apps\") or the last (\"_acme-challenge.*\")", s)
	}
	if rest != "" {
		for _, label := range strings.Split(rest, ".") {
			if !validLabel(label) {
				return p, fmt.Errorf("name pattern %q: label %q: want letters, digits, '-' and '_', 1 to 63 of them", s, label)
			}
		}
	}
	return p, nil
}

func (p Pattern) String() string { return p.text }

// Matches reports whether name (an FQDN) in zone is one of the
// pattern's.
func (p Pattern) Matches(name, zone string) bool {
	name, zone = strings.ToLower(dns.Fqdn(name)), strings.ToLower(dns.Fqdn(zone))
	if !dns.IsSubDomain(zone, name) {
		return false
	}
	rel := strings.TrimSuffix(strings.TrimSuffix(name, zone), ".") // "" at the apex
	switch p.kind {
	case matchBelow:
		return strings.HasSuffix(rel, "."+p.suffix)
	case matchLabel:
		return rel+"." == p.prefix || strings.HasPrefix(rel, p.prefix)
	}
	return rel == p.exact
}

// validLabel reports a label of a host name, or of a service name such
// as _acme-challenge.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
