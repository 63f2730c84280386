package probe

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Roles of a Server.
const (
	RoleSlotdns   = "slotdns"   // slotdns itself
	RoleNS        = "ns"        // an address of a name of the zone's NS set
	RoleSecondary = "secondary" // a configured secondary of the zone
	RoleExtra     = "extra"     // one the caller added (verify --all --also)
)

// Server is one authoritative server of a zone: a column of the matrix.
type Server struct {
	Role    string `json:"role"`
	Name    string `json:"name,omitempty"` // the NS name, for RoleNS
	Address string `json:"address"`        // host:port
}

// String is how a server is named to the user: "ns ns1.example.com.
// (192.0.2.1:53)", "secondary 127.0.0.1:5400".
func (s Server) String() string {
	switch {
	case s.Name != "" && s.Address != "":
		return fmt.Sprintf("%s %s (%s)", s.Role, s.Name, s.Address)
	case s.Name != "":
		return s.Role + " " + s.Name
	}
	return s.Role + " " + s.Address
}

// Skipped is a server that is not asked, and why.
type Skipped struct {
	Server
	Reason string `json:"reason"` // "192.0.2.1 is a documentation address (RFC 5737)"
}

func (s Skipped) String() string { return s.Server.String() + ": " + s.Reason }

// lookupHost resolves the NS names outside our zones. The tests replace
// it, so that none asks the system resolver.
var lookupHost = func(ctx context.Context, host string) ([]string, error) {
	return net.DefaultResolver.LookupHost(ctx, host)
}

// AuthServers lists the authoritative servers of zone, each address once:
// slotdns itself (self), the addresses of the zone's NS set as self
// serves it (on port 53; the NS names for which inOurZones holds are
// resolved through self, others through the system resolver), and the
// zone's secondaries (host:port). A documentation address is left out of
// servers and listed in skipped with the reason, as is an NS name without
// an address; self at a documentation address is not asked for the NS set.
func AuthServers(ctx context.Context, self, zone string, secondaries []string, inOurZones func(name string) bool) (servers []Server, skipped []Skipped) {
	servers, skipped = []Server{}, []Skipped{}
	seen := map[string]bool{}
	add := func(s Server) bool {
		if seen[s.Address] {
			return false
		}
		seen[s.Address] = true
		if reason := docReason(s.Address); reason != "" {
			skipped = append(skipped, Skipped{Server: s, Reason: reason})
			return false
		}
		servers = append(servers, s)
		return true
	}
	if add(Server{Role: RoleSlotdns, Address: self}) {
		for _, ns := range lookupNames(ctx, self, zone, dns.TypeNS) {
			addrs, err := nsAddrs(ctx, self, ns, inOurZones != nil && inOurZones(ns))
			if len(addrs) == 0 {
				reason := "no address found"
				if err != nil {
					reason = "no address found: " + err.Error()
				}
				skipped = append(skipped, Skipped{Server: Server{Role: RoleNS, Name: ns}, Reason: reason})
			}
			for _, a := range addrs {
				add(Server{Role: RoleNS, Name: ns, Address: net.JoinHostPort(a, "53")})
			}
		}
	}
	for _, sec := range secondaries {
		add(Server{Role: RoleSecondary, Address: sec})
	}
	return servers, skipped
}

// nsAddrs gives the addresses of the NS name ns: asked of self when it
// lies in our zones, else looked up through lookupHost.
func nsAddrs(ctx context.Context, self, ns string, ours bool) ([]string, error) {
	if ours {
		return append(lookupNames(ctx, self, ns, dns.TypeA), lookupNames(ctx, self, ns, dns.TypeAAAA)...), nil
	}
	ctx, cancel := context.WithTimeout(ctx, matrixTimeout)
	defer cancel()
	return lookupHost(ctx, strings.TrimSuffix(ns, "."))
}

// lookupNames asks server for name's records of qtype and returns their
// data: NS targets or addresses. It returns none when the question fails.
func lookupNames(ctx context.Context, server, name string, qtype uint16) []string {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	r, err := exchange(ctx, "udp", m, server, matrixTimeout)
	if err != nil {
		return nil
	}
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.NS:
			out = append(out, strings.ToLower(rr.Ns))
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}
