package zones

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Result says what kind of answer a lookup found; the server maps it to an
// rcode and the AA bit.
type Result int

const (
	Success       Result = iota // NOERROR with data, AA
	NoData                      // NOERROR, SOA in Ns, AA
	NameError                   // NXDOMAIN, SOA in Ns, AA
	Delegation                  // NOERROR referral: NS in Ns, glue in Extra, no AA
	ServerFailure               // SERVFAIL (apex alias with no addresses ever)
	NotAuth                     // the name is in no zone: REFUSED, no AA
)

var resultNames = [...]string{"Success", "NoData", "NameError", "Delegation", "ServerFailure", "NotAuth"}

func (r Result) String() string {
	if r >= 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Answer is the result of one lookup. Its slices belong to the snapshot and
// must not be modified.
//
// An answer that follows a CNAME chain carries the chain in Answer whatever
// its Result: NoData and NameError then describe the end of the chain
// (RFC 6604), and the server copies all three sections as they are.
type Answer struct {
	Result Result
	Zone   string // the origin that matched, "" for NotAuth
	// Slot is 1 + the index in Zone's ZoneInput.Slots of the slot that
	// owns qname, and 0 when qname is no slot name: a server can count the
	// answers of each slot without looking the name up again.
	Slot   int
	Answer []dns.RR
	Ns     []dns.RR
	Extra  []dns.RR
}

// maxChase bounds the CNAME links followed inside our zones.
const maxChase = 8

// Lookup answers qname (lowercase FQDN) and qtype authoritatively.
//
// Answers are put together per query from the zone file's records in
// wire form and the view's own records, which are not copied: a server
// keeps the responses it packs (dnsserver's cache), so precomputing an
// answer for each name would buy nothing. The slot names' CNAME chains
// are computed when the view is built.
func (s *Snapshot) Lookup(qname string, qtype uint16) Answer {
	return s.lookup(qname, qtype, 0)
}

// Serial returns the SOA serial served for origin, and false when the
// snapshot has no such zone.
func (s *Snapshot) Serial(origin string) (uint32, bool) {
	z := s.zones.get(origin)
	if z == nil {
		return 0, false
	}
	return z.serial, true
}

// AliasTargets lists the names outside the snapshot's zones whose
// addresses its apex aliases need, the names Build looked up in
// Input.Aliases (found there or not). The control plane resolves these.
func (s *Snapshot) AliasTargets() []string { return s.aliasTargets }

func (s *Snapshot) lookup(qname string, qtype uint16, depth int) Answer {
	z := s.zoneFor(qname)
	if z == nil {
		return Answer{Result: NotAuth}
	}
	if qtype == dns.TypeDS && qname == z.origin {
		// DS lives in the parent zone (RFC 4035 3.1.4.1): ours, when we
		// serve the parent, else none.
		if p := parent(qname); p != "" {
			if pz := s.zoneFor(p); pz != nil {
				z = pz
			}
		}
	}
	n := z.node(qname)
	if n == nil {
		return s.missing(z, qname, qtype, depth)
	}
	if n.cut != nil && (n.cut != n || qtype != dns.TypeDS) {
		return z.referral(n.cut)
	}
	// A chain's precomputed answer spans maxChase links from its owner:
	// reached along another chain (depth > 0), the owner is chased as
	// far as the links left, as Build saw it.
	if n.cname != nil && qtype != dns.TypeCNAME && qtype != dns.TypeANY && depth == 0 {
		if ans, ok := z.precomputed(qname, qtype); ok {
			ans.Slot = n.slot
			return ans
		}
	}
	ans := s.answerAt(z, n, qname, qtype, depth)
	ans.Slot = n.slot
	return ans
}

// precomputed gives the answer of the slot CNAME chain at qname computed
// when the view was built.
func (z *zoneView) precomputed(qname string, qtype uint16) (Answer, bool) {
	ans, ok := z.chased[qname][qtype]
	return ans, ok
}

// zoneFor finds the zone with the longest origin that qname lies in.
func (s *Snapshot) zoneFor(qname string) *zoneView {
	for off := 0; off < len(qname); {
		if z := s.zones.get(qname[off:]); z != nil {
			return z
		}
		next, end := dns.NextLabel(qname, off)
		if end {
			break
		}
		off = next
	}
	return s.zones.get(".")
}

// missing answers a name that does not exist: a referral when it lies
// below a delegation, a synthesis from the wildcard of its closest
// encloser (RFC 4592 3.3.1), else NXDOMAIN.
func (s *Snapshot) missing(z *zoneView, qname string, qtype uint16, depth int) Answer {
	ce := z.closestEncloser(qname)
	if ce.cut != nil {
		return z.referral(ce.cut)
	}
	w := z.node(wildcardOf(ce.name))
	if w == nil {
		return Answer{Result: NameError, Zone: z.origin, Ns: z.negSOA}
	}
	if w.cut != nil {
		return z.referral(w.cut)
	}
	return s.answerAt(z, w, qname, qtype, depth)
}

// wildcardOf gives the wildcard name of the names below name.
func wildcardOf(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}

func (z *zoneView) referral(cut *node) Answer {
	ns := cut.set(dns.TypeNS)
	return Answer{Result: Delegation, Zone: z.origin, Ns: ns, Extra: z.additional(ns)}
}

// additional gives the in-zone addresses of the NS or MX targets in rrs,
// glue below a delegation included.
func (z *zoneView) additional(rrs []dns.RR) []dns.RR {
	var extra []dns.RR
	for _, t := range referredNames(rrs) {
		if !dns.IsSubDomain(z.origin, t) {
			continue
		}
		if n, ok := z.own[t]; ok {
			extra = append(extra, n.set(dns.TypeA)...)
			extra = append(extra, n.set(dns.TypeAAAA)...)
			continue
		}
		extra = z.file.appendAddrs(extra, t)
	}
	return extra
}

func (z *zoneView) noData() Answer {
	return Answer{Result: NoData, Zone: z.origin, Ns: z.negSOA}
}

// answerAt answers qtype from node n for owner, which is n's name, or the
// query name when n is a wildcard that synthesizes it.
func (s *Snapshot) answerAt(z *zoneView, n *node, owner string, qtype uint16, depth int) Answer {
	if n.noAddrs && (qtype == dns.TypeA || qtype == dns.TypeAAAA || qtype == dns.TypeANY) {
		return Answer{Result: ServerFailure, Zone: z.origin}
	}
	synth := owner != n.name
	switch {
	case n.cname != nil && qtype != dns.TypeCNAME:
		chain := n.cname
		if synth {
			chain = rename(chain, owner)
		}
		if qtype == dns.TypeANY {
			return Answer{Result: Success, Zone: z.origin, Answer: chain}
		}
		return s.chase(z, n, chain, qtype, depth)
	case qtype == dns.TypeANY:
		any := anyAnswer(n, owner)
		if len(any) == 0 {
			return z.noData()
		}
		return Answer{Result: Success, Zone: z.origin, Answer: any}
	}
	set := n.setAs(qtype, owner)
	if len(set) == 0 {
		return z.noData()
	}
	ans := Answer{Result: Success, Zone: z.origin, Answer: set}
	if qtype == dns.TypeNS || qtype == dns.TypeMX {
		ans.Extra = z.additional(set)
	}
	return ans
}

// chase follows the CNAME at n (chain is its RRset, renamed when
// synthesized) to its target when the target lies in one of our zones.
// Out-of-zone targets are the resolver's to follow.
func (s *Snapshot) chase(z *zoneView, n *node, chain []dns.RR, qtype uint16, depth int) Answer {
	ans := Answer{Result: Success, Zone: z.origin, Answer: chain}
	if depth >= maxChase || s.zoneFor(n.target) == nil {
		return ans
	}
	sub := s.lookup(n.target, qtype, depth+1)
	ans.Answer = make([]dns.RR, 0, len(chain)+len(sub.Answer))
	ans.Answer = append(ans.Answer, chain...)
	for _, rr := range sub.Answer {
		// A loop brings back CNAMEs already in the answer.
		if rr.Header().Rrtype == dns.TypeCNAME && hasOwner(ans.Answer, rr.Header().Name, dns.TypeCNAME) {
			continue
		}
		ans.Answer = append(ans.Answer, rr)
	}
	switch sub.Result {
	case Success:
		ans.Extra = sub.Extra
	case NoData, NameError:
		ans.Result, ans.Ns = sub.Result, sub.Ns
	}
	// A referral, a failure or a name in no zone at the end of the chain
	// leaves the chain alone: the resolver asks for the target itself.
	return ans
}

// chainEnd follows in-snapshot CNAMEs from name and gives the last name.
func (s *Snapshot) chainEnd(name string) string {
	for range maxChase {
		z := s.zoneFor(name)
		if z == nil {
			return name
		}
		n := z.node(name)
		if n == nil || n.cname == nil || n.cut != nil {
			return name
		}
		name = n.target
	}
	return name
}

func hasOwner(rrs []dns.RR, name string, rrtype uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == rrtype && strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// rename copies rrs with owner as their name: a wildcard's records as
// synthesized for the query name.
func rename(rrs []dns.RR, owner string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = owner
		out[i] = c
	}
	return out
}
