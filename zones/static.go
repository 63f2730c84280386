package zones

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// node is one owner name as a lookup sees it: the zone file's records at
// the name (file), under the records a view gives it (own), which
// replace the file's of their type. The nodes of a file's names are made
// per lookup from the compact records and dropped after; a view keeps
// the nodes it owns (the apex with its SOA, slot names and the empty
// non-terminals above them).
type node struct {
	name    string
	file    compact.Node // valid when inFile
	inFile  bool
	own     map[uint16][]dns.RR
	cname   []dns.RR // the CNAME RRset when the name is an alias
	target  string   // the CNAME target, lowercase
	cut     *node    // the delegation at or above this name; nil when authoritative
	noAddrs bool     // an apex alias with no addresses: A, AAAA and ANY fail
	slot    int      // a slot name: 1 + its slot's index in ZoneInput.Slots; else 0
	// denial marks the node of an NSEC3 record, whose hashed owner is
	// no name of the zone to a lookup (RFC 5155 7.2.8).
	denial bool
}

// set gives the records of type t at the name. A file's records are
// unpacked on each call: the response cache keeps what queries ask.
func (n *node) set(t uint16) []dns.RR { return n.setAs(t, n.name) }

// setAs gives the records of type t at the name with owner as their
// owner: a wildcard's, synthesized for the query name (RFC 4592). A
// file's records are unpacked so, a view's are copied.
func (n *node) setAs(t uint16, owner string) []dns.RR {
	if rrs, ok := n.own[t]; ok {
		if owner != n.name {
			return rename(rrs, owner)
		}
		return rrs
	}
	if !n.inFile {
		return nil
	}
	s := n.file.Set(t)
	if s.Len() == 0 {
		return nil
	}
	rrs, err := s.RRs(owner)
	if err != nil {
		return nil // the file's records were packed from parsed ones
	}
	return rrs
}

// types gives the types the name has records of.
func (n *node) types() []uint16 { return n.appendTypes(nil) }

// appendTypes appends the types the name has records of to out.
func (n *node) appendTypes(out []uint16) []uint16 {
	for t, rrs := range n.own {
		if len(rrs) > 0 {
			out = append(out, t)
		}
	}
	if n.inFile {
		n.file.Sets(func(s compact.Set) bool {
			if _, replaced := n.own[s.Type()]; !replaced {
				out = append(out, s.Type())
			}
			return true
		})
	}
	return out
}

// clone gives a copy of n that a view may change.
func (n *node) clone() *node {
	c := *n
	c.own = maps.Clone(n.own)
	if c.own == nil {
		c.own = make(map[uint16][]dns.RR)
	}
	return &c
}

// node gives the file's node at name (lowercase), nil when the file has
// no such name (nor names below it).
func (z *Zone) node(name string) *node {
	var buf [256]byte
	n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		return nil
	}
	return z.nodeAt(name, buf[:n])
}

// nodeAt gives the node of name, whose wire form is wire.
func (z *Zone) nodeAt(name string, wire []byte) *node {
	fn, ok := z.recs.Lookup(wire)
	if !ok || z.signing != nil && z.signing.NSEC3 && fn.Set(dns.TypeNSEC3).Len() > 0 {
		return nil
	}
	n := &node{name: name, file: fn, inFile: true}
	if cn := fn.Set(dns.TypeCNAME); cn.Len() > 0 {
		if rrs, err := cn.RRs(name); err == nil {
			n.cname = rrs[:1]
			n.target = strings.ToLower(rrs[0].(*dns.CNAME).Target)
		}
	}
	if z.delegates {
		n.cut = z.cutAbove(n, wire)
	}
	return n
}

// appendAddrs appends the file's A and AAAA records at name to dst:
// glue and the addresses of NS and MX targets, which need no node.
func (z *Zone) appendAddrs(dst []dns.RR, name string) []dns.RR {
	var buf [256]byte
	l, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		return dst
	}
	fn, ok := z.recs.Lookup(buf[:l])
	if !ok {
		return dst
	}
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if s := fn.Set(t); s.Len() > 0 {
			if rrs, err := s.RRs(name); err == nil {
				dst = append(dst, rrs...)
			}
		}
	}
	return dst
}

// cutAbove gives the delegation n lies in: its topmost ancestor-or-self
// below the apex with NS records, below which all is the child's. wire
// is n's name in wire form; its labels and those of n.name go together.
func (z *Zone) cutAbove(n *node, wire []byte) *node {
	cutAt, cutNameAt := -1, 0
	for off, nameOff := 0, 0; len(wire)-off > len(z.origin); off += 1 + int(wire[off]) {
		if fn, ok := z.recs.Lookup(wire[off:]); ok && fn.Set(dns.TypeNS).Len() > 0 {
			cutAt, cutNameAt = off, nameOff
		}
		nameOff, _ = dns.NextLabel(n.name, nameOff)
	}
	switch cutAt {
	case -1:
		return nil
	case 0:
		return n
	}
	fn, _ := z.recs.Lookup(wire[cutAt:])
	return &node{name: n.name[cutNameAt:], file: fn, inFile: true}
}

// parent gives the name one label up, "" above the root.
func parent(name string) string {
	if name == "." || name == "" {
		return ""
	}
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}

// referredNames gives the lowercase targets of NS and MX records.
func referredNames(rrs []dns.RR) []string {
	var names []string
	for _, rr := range rrs {
		var t string
		switch rr := rr.(type) {
		case *dns.NS:
			t = rr.Ns
		case *dns.MX:
			t = rr.Mx
		default:
			continue
		}
		t = strings.ToLower(t)
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	return names
}

// anyAnswer is the answer to ANY at n (RFC 8482 4.2), owned by owner:
// one synthesized HINFO "RFC8482" "" with the lowest TTL of the name's
// records, rather than every RRset.
func anyAnswer(n *node, owner string) []dns.RR {
	ttl, found := uint32(0), false
	note := func(t uint32) {
		if !found || t < ttl {
			ttl, found = t, true
		}
	}
	for _, rrs := range n.own {
		for _, rr := range rrs {
			note(rr.Header().Ttl)
		}
	}
	if n.inFile {
		n.file.Sets(func(s compact.Set) bool {
			if _, replaced := n.own[s.Type()]; !replaced {
				s.Each(func(t uint32, _ []byte) bool { note(t); return true })
			}
			return true
		})
	}
	if !found {
		return nil
	}
	return []dns.RR{&dns.HINFO{
		Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: ttl},
		Cpu: "RFC8482",
	}}
}

// ContentDigest identifies what z serves: the SOA with its serial left
// out (the store owns the serial), every other record (in a signed zone,
// those signing makes aside, and the keys and denial in their place),
// then extra lines
// (the caller's: the slots laid over the zone, say). Two files that serve
// the same records have the same digest, whatever their order, comments,
// layout or serial. The records are summed, not sorted: each one's
// SHA-256 (of its wire form, TTL included) is added into four 64-bit
// lanes, so that a zone of a million records takes a fraction of a
// second, not the sort of a transfer.
func (z *Zone) ContentDigest(extra ...string) (string, error) {
	soa := dns.Copy(z.SOA).(*dns.SOA)
	soa.Serial = 0
	var sum [4]uint64
	var msg []byte
	for n := range z.recs.All() {
		n.Sets(func(s compact.Set) bool {
			if s.Type() == dns.TypeSOA || z.signing != nil && slices.Contains(generated, s.Type()) {
				return true
			}
			s.Each(func(ttl uint32, rdata []byte) bool {
				msg = appendRecord(msg[:0], n.Name(), s.Type(), ttl, rdata)
				h := sha256.Sum256(msg)
				for i := range sum {
					sum[i] += binary.BigEndian.Uint64(h[8*i:])
				}
				return true
			})
			return true
		})
	}
	h := sha256.New()
	io.WriteString(h, soa.String()+"\n")
	for _, lane := range sum {
		h.Write(binary.BigEndian.AppendUint64(nil, lane))
	}
	if z.signing != nil {
		// Signatures are made anew without a change of content; what
		// signs the zone is part of what it serves.
		io.WriteString(h, z.signing.describe()+"\n")
	}
	for _, line := range extra {
		io.WriteString(h, line+"\n")
	}
	return "sum256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// appendRecord appends one record in uncompressed wire form, class IN.
func appendRecord(b, owner []byte, typ uint16, ttl uint32, rdata []byte) []byte {
	b = append(b, owner...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// RRset gives the file's records of type t at name, nil when it has
// none: the DS of a child at its delegation, say.
func (z *Zone) RRset(name string, t uint16) []dns.RR {
	n := z.node(strings.ToLower(dns.Fqdn(name)))
	if n == nil {
		return nil
	}
	return n.set(t)
}
