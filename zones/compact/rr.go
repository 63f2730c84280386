package compact

import (
	"encoding/binary"
	"fmt"

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
