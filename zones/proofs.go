package zones

import (
	"slices"
	"sort"
	"strings"

	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// LookupDNSSEC answers as Lookup does, for a query with the DO bit set
// (RFC 4035 3.1): from a signed zone, every RRset of the answer and
// authority sections comes with its RRSIGs, and what does not exist
// comes with its proof: the NSEC or NSEC3 records of NXDOMAIN and
// NODATA, of a wildcard's answer (no closer name matched), and of an
// insecure delegation (no DS). The additional section is left unsigned.
// Records of unsigned zones come as Lookup gives them.
func (s *Snapshot) LookupDNSSEC(qname string, qtype uint16) Answer {
	ans := s.lookup(qname, qtype, 0)
	switch ans.Result {
	case NotAuth, ServerFailure:
		return ans
	}
	p := prover{s: s}
	out := ans
	out.Answer = p.signSections(ans.Answer, qtype)
	end := chainEnd(qname, ans.Answer)
	switch ans.Result {
	case NoData, NameError:
		out.Ns = p.signSections(ans.Ns, qtype)
		if zv := s.zoneFor(end); zv != nil && zv.file.signing != nil {
			p.deny(zv, end, ans.Result)
		}
	case Delegation:
		out.Ns = slices.Clone(ans.Ns)
		if len(ans.Ns) > 0 {
			p.delegation(ans.Ns[0].Header().Name)
		}
	default:
		out.Ns = ans.Ns
	}
	if len(p.proofs) > 0 {
		out.Ns = append(slices.Clip(out.Ns), p.proofs...)
	}
	return out
}

// chainEnd gives the name at the end of the CNAME chain from qname in
// answer, qname itself when there is none.
func chainEnd(qname string, answer []dns.RR) string {
	end := qname
	for _, rr := range answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, end) {
			end = strings.ToLower(c.Target)
		}
	}
	return end
}

// prover gathers the signatures and proofs of one answer.
type prover struct {
	s      *Snapshot
	proofs []dns.RR // for the authority section
	seen   []string // owner and type of each proof RRset, once each
}

// signSections gives rrs with the RRSIGs of each RRset after it.
func (p *prover) signSections(rrs []dns.RR, qtype uint16) []dns.RR {
	if len(rrs) == 0 {
		return rrs
	}
	out := make([]dns.RR, 0, 2*len(rrs))
	for start := 0; start < len(rrs); {
		hdr := rrs[start].Header()
		end := start + 1
		for end < len(rrs) && rrs[end].Header().Rrtype == hdr.Rrtype && strings.EqualFold(rrs[end].Header().Name, hdr.Name) {
			end++
		}
		out = append(out, rrs[start:end]...)
		for _, sig := range p.sigsOf(rrs[start:end], qtype) {
			if sig.Header().Ttl != hdr.Ttl {
				// The negative SOA goes out with min(TTL, MINIMUM) (RFC
				// 2308, 9077): so does its RRSIG, whose original TTL
				// still says the SOA's own (RFC 4035 3.1.1).
				sig = dns.Copy(sig)
				sig.Header().Ttl = hdr.Ttl
			}
			out = append(out, sig)
		}
		start = end
	}
	return out
}

// sigsOf gives the RRSIGs of rrset as its zone serves them: a name's
// own, or its wildcard's for a synthesized one, whose proof that no
// closer name exists joins the authority section (RFC 4035 3.1.3.3).
func (p *prover) sigsOf(rrset []dns.RR, qtype uint16) []dns.RR {
	hdr := rrset[0].Header()
	owner := strings.ToLower(hdr.Name)
	zv := p.s.zoneFor(owner)
	if zv == nil || zv.file.signing == nil {
		return nil
	}
	if n := zv.node(owner); n != nil {
		sigs := covering(n.set(dns.TypeRRSIG), hdr.Rrtype)
		if len(sigs) == 0 && qtype == dns.TypeANY && hdr.Rrtype == dns.TypeHINFO {
			// RFC 8482's synthesized HINFO is signed as it is made.
			sigs, _ = zv.file.signing.views.sign(zv.file.signing, zv.origin, rrset, timeNow())
		}
		return sigs
	}
	ce := zv.closestEncloser(owner)
	w := zv.node(wildcardOf(ce.name))
	if w == nil {
		return nil
	}
	if zv.file.signing.NSEC3 {
		p.add(zv.nsec3Covering(nextCloser(owner, ce.name)))
	} else {
		p.add(zv.nsecCovering(owner))
	}
	return covering(w.setAs(dns.TypeRRSIG, owner), hdr.Rrtype)
}

// deny adds the proof that name (in zv) has no records of the type
// asked (NoData), or does not exist (NameError): RFC 4035 3.1.3 for
// NSEC, RFC 5155 7.2 for NSEC3.
func (p *prover) deny(zv *zoneView, name string, result Result) {
	nsec3 := zv.file.signing.NSEC3
	n := zv.node(name)
	switch {
	case n != nil && nsec3:
		p.add(zv.nsec3Matching(name))
	case n != nil && len(n.set(dns.TypeNSEC)) > 0:
		p.add(zv.nsecMatching(n))
	case n != nil:
		p.add(zv.nsecCovering(name)) // an empty non-terminal
	default:
		ce := zv.closestEncloser(name)
		wild := wildcardOf(ce.name)
		w := zv.node(wild)
		if nsec3 {
			p.add(zv.nsec3Matching(ce.name))
			p.add(zv.nsec3Covering(nextCloser(name, ce.name)))
			if result == NoData && w != nil {
				p.add(zv.nsec3Matching(wild))
			} else {
				p.add(zv.nsec3Covering(wild))
			}
			return
		}
		p.add(zv.nsecCovering(name))
		if result == NoData && w != nil {
			p.add(zv.nsecMatching(w))
		} else {
			p.add(zv.nsecCovering(wild))
		}
	}
}

// delegation adds the DS of the delegation at cut with its RRSIGs, or
// the proof that it has none (an insecure delegation).
func (p *prover) delegation(cut string) {
	cut = strings.ToLower(cut)
	zv := p.s.zoneFor(cut)
	if zv == nil || zv.file.signing == nil {
		return
	}
	if zv.origin == cut { // the cut is a zone of ours: DS is its parent's
		if pz := p.s.zoneFor(parent(cut)); pz != nil {
			zv = pz
		}
		if zv.file.signing == nil {
			return
		}
	}
	n := zv.node(cut)
	if n == nil {
		return
	}
	if ds := n.set(dns.TypeDS); len(ds) > 0 {
		p.add(append(slices.Clip(ds), covering(n.set(dns.TypeRRSIG), dns.TypeDS)...))
		return
	}
	if zv.file.signing.NSEC3 {
		p.add(zv.nsec3Matching(cut))
	} else {
		p.add(zv.nsecMatching(n))
	}
}

// add appends records to the proofs, unless the same RRset is there.
func (p *prover) add(rrs []dns.RR) {
	if len(rrs) == 0 {
		return
	}
	hdr := rrs[0].Header()
	key := strings.ToLower(hdr.Name) + "/" + dns.TypeToString[hdr.Rrtype]
	if slices.Contains(p.seen, key) {
		return
	}
	p.seen = append(p.seen, key)
	p.proofs = append(p.proofs, rrs...)
}

// covering gives the RRSIGs of sigs that cover type t.
func covering(sigs []dns.RR, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range sigs {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == t {
			out = append(out, sig)
		}
	}
	return out
}

// closestEncloser gives the node of the nearest existing ancestor of
// name (RFC 4592 3.3.1), the apex at worst: where a lookup of a missing
// name looks for a wildcard, and what its proofs name.
func (zv *zoneView) closestEncloser(name string) *node {
	for off := 0; ; {
		next, end := dns.NextLabel(name, off)
		if end {
			break
		}
		up := name[next:]
		if n := zv.node(up); n != nil {
			return n
		}
		if len(up) <= len(zv.origin) {
			break
		}
		off = next
	}
	return zv.node(zv.origin)
}

// nextCloser gives the name one label longer than the closest encloser
// ce on the way to name (RFC 5155 1.3).
func nextCloser(name, ce string) string {
	labels := dns.SplitDomainName(name)
	ceLabels := dns.CountLabel(ce)
	if len(labels) <= ceLabels {
		return name
	}
	return dns.Fqdn(strings.Join(labels[len(labels)-ceLabels-1:], "."))
}

// nsecMatching gives the NSEC of n and its RRSIGs.
func (zv *zoneView) nsecMatching(n *node) []dns.RR {
	nsec := n.set(dns.TypeNSEC)
	if len(nsec) == 0 {
		return nil
	}
	return append(slices.Clip(nsec), covering(n.set(dns.TypeRRSIG), dns.TypeNSEC)...)
}

// nsecCovering gives the NSEC whose owner comes last before name in
// canonical order, the one that proves name does not exist, with its
// RRSIGs.
func (zv *zoneView) nsecCovering(name string) []dns.RR {
	chain := zv.file.signing.chain
	wire := packName(name)
	if wire == nil || len(chain) == 0 {
		return nil
	}
	i := sort.Search(len(chain), func(i int) bool { return compact.Compare(chain[i].wire, wire) >= 0 })
	prev := chain[(i-1+len(chain))%len(chain)]
	n := zv.node(prev.name)
	if n == nil {
		return nil
	}
	return zv.nsecMatching(n)
}

// nsec3Matching gives the NSEC3 of name and its RRSIGs.
func (zv *zoneView) nsec3Matching(name string) []dns.RR {
	return zv.nsec3At(strings.ToLower(dns.HashName(name, dns.SHA1, 0, "")) + "." + zv.origin)
}

// nsec3Covering gives the NSEC3 whose hash comes last before the hash
// of name, the one that proves name does not exist, with its RRSIGs.
func (zv *zoneView) nsec3Covering(name string) []dns.RR {
	chain := zv.file.signing.chain
	if len(chain) == 0 {
		return nil
	}
	hash := dns.HashName(name, dns.SHA1, 0, "")
	i := sort.Search(len(chain), func(i int) bool { return chain[i].hash >= hash })
	return zv.nsec3At(chain[(i-1+len(chain))%len(chain)].name)
}

// nsec3At gives the NSEC3 record at the hashed owner and its RRSIGs,
// the view's or the file's.
func (zv *zoneView) nsec3At(owner string) []dns.RR {
	if n, ok := zv.own[owner]; ok {
		return append(slices.Clip(n.own[dns.TypeNSEC3]), n.own[dns.TypeRRSIG]...)
	}
	wire := packName(owner)
	if wire == nil {
		return nil
	}
	fn, ok := zv.file.recs.Lookup(wire)
	if !ok {
		return nil
	}
	n := &node{name: owner, file: fn, inFile: true}
	return append(slices.Clip(n.set(dns.TypeNSEC3)), covering(n.set(dns.TypeRRSIG), dns.TypeNSEC3)...)
}
