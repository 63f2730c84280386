package zones

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Target is what a slot points at: a hostname (served as CNAME, or as an
// apex alias) or a list of IP addresses (served as A/AAAA). Exactly one of
// Host and Addrs is set.
type Target struct {
	Host  string       // lowercase FQDN with the trailing dot
	Addrs []netip.Addr // sorted, unique
}

// ParseTarget accepts a fully qualified hostname, "host.example.", or one
// or more IP addresses separated by commas or spaces. A hostname without
// its trailing dot is refused rather than guessed at: "blue" could mean
// "blue." or "blue.example.com.", and a zone file would read it relative
// to the zone while a config or a command line has no zone to read it in.
func ParseTarget(s string) (Target, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if len(fields) == 0 {
		return Target{}, errors.New("empty target: give a hostname or IP addresses")
	}

	var addrs []netip.Addr
	var hosts []string
	for _, f := range fields {
		if a, err := netip.ParseAddr(f); err == nil {
			if a.Zone() != "" {
				return Target{}, fmt.Errorf("target %q: address %s has a zone; give a plain address", s, f)
			}
			addrs = append(addrs, a.Unmap())
			continue
		}
		hosts = append(hosts, f)
	}
	switch {
	case len(hosts) == 0:
		slices.SortFunc(addrs, netip.Addr.Compare)
		return Target{Addrs: slices.Compact(addrs)}, nil
	case len(fields) > 1:
		return Target{}, fmt.Errorf("target %q: a target is one hostname or a list of IP addresses, and %q is not an IP address", s, hosts[0])
	}

	host, err := parseHost(hosts[0])
	if err != nil {
		return Target{}, fmt.Errorf("target %q: %w", s, err)
	}
	if !strings.HasSuffix(hosts[0], ".") {
		return Target{}, fmt.Errorf("target %q: a hostname needs its trailing dot: write %q if that is the whole name (slotdns never adds a zone to it)", s, hosts[0]+".")
	}
	return Target{Host: host}, nil
}

// parseHost checks a hostname: letters, digits, hyphens and underscores in
// labels of up to 63 octets, and a last label that is not all digits, so
// that a mistyped address ("10.0.0") is not taken for a name (RFC 3696 2).
func parseHost(s string) (string, error) {
	host := strings.ToLower(dns.Fqdn(s))
	if host == "." {
		return "", errors.New("the root is not a hostname")
	}
	if _, ok := dns.IsDomainName(host); !ok {
		return "", fmt.Errorf("%q is not a valid hostname", s)
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("%q is not a valid hostname: empty or too long label", s)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%q is not a valid hostname: label %q starts or ends with a hyphen", s, l)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%q is not a valid hostname: %q is not allowed", s, c)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Errorf("%q is neither an IP address nor a hostname (its last label is all digits)", s)
	}
	return host, nil
}

// String gives the canonical text form ParseTarget accepts: the FQDN, or the
// addresses joined by ",".
func (t Target) String() string {
	if t.Host != "" {
		return t.Host
	}
	parts := make([]string, len(t.Addrs))
	for i, a := range t.Addrs {
		parts[i] = a.String()
	}
	return strings.Join(parts, ",")
}

// IsHost reports whether the target is a hostname.
func (t Target) IsHost() bool { return t.Host != "" }
