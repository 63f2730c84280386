package dnsserver

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Updater applies DNS UPDATE messages (RFC 2136). The server hands it
// only messages whose TSIG verified, with the key's name; the rcode it
// gives is the answer's, why the reason logged when it is not NOERROR.
type Updater interface {
	Update(req *dns.Msg, key string, from netip.Addr) (rcode int, why string)
}

// update answers a signed UPDATE with what the Updater made of it. A
// refusal carries EDE 18 (Prohibited): the key may not make that change.
func (s *Server) update(st *state, m *dns.Msg, key string, from netip.Addr, out []byte) []byte {
	rcode, why := s.cfg.Updater.Update(m, key, from)
	name := ""
	if len(m.Question) == 1 {
		name = m.Question[0].Name
	}
	// Each refused update is logged once, by itself: only a key's holder
	// sends one, and it is what the operator looks for when a client fails.
	// (The log's queue drops lines rather than wait, should a client loop.)
	if rcode != dns.RcodeSuccess {
		s.log.Warn("Update refused", "zone", strings.ToLower(name), "key", key, "from", from.String(), "rcode", dns.RcodeToString[rcode], "reason", why)
	}
	if rcode == dns.RcodeRefused {
		return st.packReply(m, rcode, nil, out, dns.ExtendedErrorCodeProhibited)
	}
	return st.packReply(m, rcode, nil, out)
}
