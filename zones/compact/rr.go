package compact

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// AddRR adds a parsed record, packed to wire form (its class must be IN),
// with the caller's tag as Add has it.
func (b *Builder) AddRR(rr dns.RR, tag uint32) error {
	hdr := rr.Header()
	if hdr.Class != dns.ClassINET {
		return fmt.Errorf("compact: %s: class %s, want IN", hdr.Name, dns.ClassToString[hdr.Class])
	}
	if b.scratch == nil {
		b.scratch = make([]byte, 0x10000+1024) // the longest record, and its owner
	}
	end, err := dns.PackRR(rr, b.scratch, 0, nil, false)
	if err != nil {
		return fmt.Errorf("compact: %s %s: %w", hdr.Name, dns.TypeToString[hdr.Rrtype], err)
	}
	nameEnd, err := skipName(b.scratch, 0)
	if err != nil {
		return err
	}
	if end < nameEnd+10 {
		return fmt.Errorf("compact: %s %s: a record without its data", hdr.Name, dns.TypeToString[hdr.Rrtype])
	}
	return b.Add(b.scratch[:nameEnd], hdr.Rrtype, hdr.Ttl, b.scratch[nameEnd+10:end], tag)
}

// skipName returns where the uncompressed wire name at msg[off:] ends.
func skipName(msg []byte, off int) (int, error) {
	for off < len(msg) {
		l := int(msg[off])
		if l == 0 {
			return off + 1, nil
		}
		if l&0xC0 != 0 {
			return 0, fmt.Errorf("compact: a compressed or extended label")
		}
		off += 1 + l
	}
	return 0, fmt.Errorf("compact: a name runs past its end")
}

// RRs gives the set's records as dns.RR, owned by owner (a
// presentation-form FQDN), for code that works on dns.RR.
func (s Set) RRs(owner string) ([]dns.RR, error) {
	out := make([]dns.RR, 0, s.Len())
	var err error
	var buf [512]byte
	msg := buf[:0]
	s.Each(func(ttl uint32, rdata []byte) bool {
		msg = msg[:0]
		msg = append(msg, 0) // the root: the owner is set below
		msg = binary.BigEndian.AppendUint16(msg, s.Type())
		msg = binary.BigEndian.AppendUint16(msg, dns.ClassINET)
		msg = binary.BigEndian.AppendUint32(msg, ttl)
		msg = binary.BigEndian.AppendUint16(msg, uint16(len(rdata)))
		msg = append(msg, rdata...)
		var rr dns.RR
		if rr, _, err = dns.UnpackRR(msg, 0); err != nil {
			return false
		}
		rr.Header().Name = owner
		out = append(out, rr)
		return true
	})
	return out, err
}

// unpackRDATA gives rdata of type typ as a dns.RR owned by the root, nil
// when it does not unpack.
func unpackRDATA(typ uint16, rdata []byte) dns.RR {
	msg := make([]byte, 0, 11+len(rdata))
	msg = append(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, typ)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassINET)
	msg = binary.BigEndian.AppendUint32(msg, 0)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(rdata)))
	msg = append(msg, rdata...)
	rr, _, err := dns.UnpackRR(msg, 0)
	if err != nil {
		return nil
	}
	return rr
}

// canonicalText is rr's text with the names it holds lowercased: what two
// records that dns.IsDuplicate finds equal share.
func canonicalText(rr dns.RR) string {
	c := dns.Copy(rr)
	switch r := c.(type) {
	case *dns.NAPTR:
		r.Replacement = strings.ToLower(r.Replacement)
	case *dns.RRSIG:
		r.SignerName = strings.ToLower(r.SignerName)
	case *dns.SIG:
		r.SignerName = strings.ToLower(r.SignerName)
	case *dns.NSEC:
		r.NextDomain = strings.ToLower(r.NextDomain)
	case *dns.NXT:
		r.NextDomain = strings.ToLower(r.NextDomain)
	case *dns.HIP:
		for i := range r.RendezvousServers {
			r.RendezvousServers[i] = strings.ToLower(r.RendezvousServers[i])
		}
	case *dns.SVCB:
		r.Target = strings.ToLower(r.Target)
	case *dns.HTTPS:
		r.Target = strings.ToLower(r.Target)
	case *dns.TALINK:
		r.PreviousName, r.NextName = strings.ToLower(r.PreviousName), strings.ToLower(r.NextName)
	case *dns.AMTRELAY:
		r.GatewayHost = strings.ToLower(r.GatewayHost)
	}
	return c.String()
}
