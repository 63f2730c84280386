package dnsserver

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// wellFormedSections walks a message's records as its header counts them.
// It reports false, for a FORMERR as NSD and Knot give, when the counts
// promise records that are not there, when an OPT is outside the
// additional section, or when a TSIG is not the message's last record
// (RFC 8945 section 5.1). miekg/dns's parser forgives all of these.
func wellFormedSections(msg []byte) bool {
	if len(msg) < headerLen {
		return false
	}
	off := headerLen
	for range int(binary.BigEndian.Uint16(msg[4:])) {
		var ok bool
		if off, ok = skipName(msg, off); !ok || off+4 > len(msg) {
			return false
		}
		off += 4
	}
	const additional = 2
	for section := range 3 {
		n := int(binary.BigEndian.Uint16(msg[6+2*section:]))
		for i := range n {
			var ok bool
			if off, ok = skipName(msg, off); !ok || off+10 > len(msg) {
				return false
			}
			rrtype := binary.BigEndian.Uint16(msg[off:])
			off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
			if off > len(msg) {
				return false
			}
			switch {
			case rrtype == dns.TypeOPT && section != additional:
				return false
			case rrtype == dns.TypeTSIG && (section != additional || i != n-1):
				return false
			}
		}
	}
	return true
}
