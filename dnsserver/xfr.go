package dnsserver

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/serial"
	"github.com/slotdns/slotdns/zones"
)

// Zone transfers (AXFR, RFC 5936; IXFR, RFC 1995) and TSIG-signed queries
// (RFC 8945) take this path. The fast path never sees them (it takes no
// AXFR, IXFR or TSIG), and ordinary queries never come here.

// client is where a reader's or connection's queries come from: what the
// transfer and TSIG paths need besides the bytes.
type client struct {
	udp  bool
	addr func() netip.Addr // the source address, worked out only when asked
	// send writes one message of a transfer (TCP only); it closes the
	// connection when the write fails.
	send func(msg []byte) error
	// counts is where its queries are counted; nil when the server does
	// not count.
	counts *shard
}

// addrOf returns the IP address of a socket address, IPv4-mapped IPv6
// addresses unmapped.
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap().WithZone("")
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap().WithZone("")
	}
	return netip.Addr{}
}

// extendedQuery reports whether req is a query this path answers: a zone
// transfer, or a query whose last record is a TSIG (at offset tsigAt; 0
// when there is none). It reads the bytes only; anything it cannot walk
// is left to the ordinary path.
func extendedQuery(req []byte) (tsigAt int, ok bool) {
	if len(req) < headerLen || req[2]&0x80 != 0 || binary.BigEndian.Uint16(req[4:]) != 1 {
		return 0, false
	}
	off, ok := skipName(req, headerLen)
	if !ok || off+4 > len(req) {
		return 0, false
	}
	qtype := binary.BigEndian.Uint16(req[off:])
	xfr := qtype == dns.TypeAXFR || qtype == dns.TypeIXFR
	off += 4
	arcount := int(binary.BigEndian.Uint16(req[10:]))
	if arcount == 0 {
		return 0, xfr
	}
	n := int(binary.BigEndian.Uint16(req[6:])) + int(binary.BigEndian.Uint16(req[8:])) + arcount
	for i := range n {
		start := off
		off, ok = skipName(req, off)
		if !ok || off+10 > len(req) {
			return 0, xfr
		}
		rrtype := binary.BigEndian.Uint16(req[off:])
		off += 10 + int(binary.BigEndian.Uint16(req[off+8:]))
		if off > len(req) {
			return 0, xfr
		}
		if i == n-1 && rrtype == dns.TypeTSIG {
			return start, true
		}
	}
	return 0, xfr
}

// skipName returns the offset just past the wire name at off.
func skipName(msg []byte, off int) (int, bool) {
	for range 128 {
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xC0 == 0xC0:
			return off + 2, off+2 <= len(msg)
		case l > 63:
			return 0, false
		}
		off += 1 + l
	}
	return 0, false
}

// stripTSIG returns a copy of req without its last record, the TSIG at
// tsigAt: the query as it was before it was signed.
func stripTSIG(req []byte, tsigAt int) []byte {
	plain := append([]byte(nil), req[:tsigAt]...)
	binary.BigEndian.PutUint16(plain[10:], binary.BigEndian.Uint16(plain[10:])-1)
	return plain
}

// respondExtended answers a zone transfer or a signed query. Over TCP a
// transfer is written through c.send and nil is returned. tl, when not
// nil, gets what the query counts as: for a transfer, whether it was
// refused; for a signed query, why its TSIG failed.
func (s *Server) respondExtended(st *state, req, out []byte, c *client, tsigAt int, tl *tally) []byte {
	var m dns.Msg
	if err := m.Unpack(req); err != nil || len(m.Question) != 1 {
		return st.respondSlow(req, out, c.udp, tl, nil)
	}
	pol := s.policy.Load()
	q := m.Question[0]
	xfr := q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR
	tl.noteQuestion(st.ids, q)
	plain := req
	var sg *tsigSigner
	keyName := ""
	if tsigAt > 0 {
		rr := m.IsTsig()
		if rr == nil {
			return st.respondSlow(req, out, c.udp, tl, nil)
		}
		plain = stripTSIG(req, tsigAt)
		check := pol.keys.check(req, rr)
		tl.noteTSIG(check, q.Qtype)
		switch {
		case check.formErr:
			return st.packReply(&m, dns.RcodeFormatError, nil, out)
		case check.err != 0:
			s.logRefusal(c.addr(), q.Name, q.Qtype, "TSIG "+dns.RcodeToString[int(check.err)])
			return s.tsigErrorReply(st, &m, check, out)
		}
		sg = check.signer()
		keyName = check.key.name
	}
	if m.Opcode == dns.OpcodeUpdate && sg != nil && s.cfg.Updater != nil {
		return signReply(s.update(st, &m, keyName, c.addr(), out), sg)
	}
	if m.Opcode != dns.OpcodeQuery || q.Qclass != dns.ClassINET || !xfr || !plainEDNS(&m) {
		return signAnswer(st, st.respond(plain, out, c.udp, tl), &m, sg, c.udp)
	}

	// AXFR is TCP's (RFC 5936 section 4.2): NOTIMP over UDP, as NSD and
	// Knot answer. Only a stream can carry a transfer: a caller without
	// one gets a single message.
	if c.udp && q.Qtype == dns.TypeAXFR {
		tl.noteTransfer(q.Qtype, transferRefused)
		return signReply(st.packReply(&m, dns.RcodeNotImplemented, nil, out), sg)
	}
	oneMessage := c.udp || c.send == nil
	zone := strings.ToLower(q.Name)
	addr := c.addr()
	// A name that is not the apex of a zone served here is not ours to
	// transfer (NOTAUTH, as NSD and Knot answer); one that is may be
	// refused to this client.
	zt, served := st.zoneTransfer(zone)
	if !served {
		s.logRefusal(addr, zone, q.Qtype, refusedNotServed)
		tl.noteTransfer(q.Qtype, transferRefused)
		return signReply(st.packReply(&m, dns.RcodeNotAuth, nil, out), sg)
	}
	ok, why := pol.allow(zone, addr, keyName)
	if !ok {
		s.logRefusal(addr, zone, q.Qtype, why)
		tl.noteTransfer(q.Qtype, transferRefused)
		return signReply(st.packReply(&m, dns.RcodeRefused, nil, out, dns.ExtendedErrorCodeProhibited), sg)
	}
	soa := zt.SOA
	if oneMessage && q.Qtype == dns.TypeAXFR {
		tl.noteTransfer(q.Qtype, transferOK)
		return signReply(st.axfrOneMessage(&m, zt, sg, c.udp, out), sg)
	}

	if q.Qtype == dns.TypeIXFR {
		var clientSOA *dns.SOA
		for _, rr := range m.Ns {
			if theirs, isSOA := rr.(*dns.SOA); isSOA && strings.EqualFold(theirs.Hdr.Name, zone) {
				clientSOA = theirs
			}
		}
		if clientSOA == nil {
			// RFC 1995 section 3: the query carries the client's SOA.
			return signReply(st.packReply(&m, dns.RcodeFormatError, nil, out), sg)
		}
		tl.noteTransfer(q.Qtype, transferOK)
		if !serial.Less(clientSOA.Serial, soa.Serial) || oneMessage {
			// Up to date, or over UDP: our SOA alone (RFC 1995 section 4).
			return signReply(st.packReply(&m, dns.RcodeSuccess, []dns.RR{soa}, out), sg)
		}
		if pol.journal != nil {
			if deltas, ok := pol.journal(zone, clientSOA.Serial); ok {
				if deltas, ok := chain(deltas, clientSOA.Serial, soa.Serial); ok {
					s.streamIXFR(st, &m, soa, deltas, sg, c)
					tl.noteStreamed()
					return nil
				}
			}
		}
	}
	// An AXFR, or an IXFR answered with the whole zone.
	tl.noteTransfer(q.Qtype, transferOK)
	s.streamAXFR(st, &m, zt, sg, c)
	tl.noteStreamed()
	return nil
}

// axfrOneMessage answers AXFR without a stream (over UDP, which RFC 5936
// leaves undefined) as NSD and Knot do: the whole zone when it fits the
// client's limit, else TC, so that the client asks again over TCP.
func (st *state) axfrOneMessage(m *dns.Msg, zt zones.Transfer, sg *tsigSigner, udp bool, out []byte) []byte {
	limit := sizeLimit(udp, m.IsEdns0() != nil, m.IsEdns0())
	if sg != nil {
		limit -= sg.size()
	}
	// A record takes at least 11 bytes (a compressed owner, its header);
	// a zone with more cannot fit, and is not packed to find out.
	if (zt.Len+2)*11 <= limit {
		all := make([]dns.RR, 0, zt.Len+2)
		all = append(all, zt.SOA)
		for rr := range zt.Records {
			all = append(all, rr)
		}
		all = append(all, zt.SOA)
		if wire := st.packReply(m, dns.RcodeSuccess, all, out); len(wire) <= limit {
			return wire
		}
	}
	wire := st.packReply(m, dns.RcodeSuccess, nil, out)
	wire[2] |= 0x02 // TC
	return wire
}

// plainEDNS reports whether m's EDNS0, if any, is one a transfer can be
// answered under: one OPT, owned by the root, version 0. Anything else is
// left to the ordinary path's FORMERR and BADVERS.
func plainEDNS(m *dns.Msg) bool {
	n := 0
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			n++
			if opt.Hdr.Name != "." || opt.Version() != 0 {
				return false
			}
		}
	}
	return n <= 1
}

// chain returns the deltas that lead from serial from to serial to, each
// starting where the one before ended; ok is false when the journal does
// not reach to (the snapshot may be newer or older than the journal).
func chain(deltas []Delta, from, to uint32) ([]Delta, bool) {
	at := from
	for i, d := range deltas {
		old, ok1 := firstSOA(d.Removed)
		now, ok2 := firstSOA(d.Added)
		if !ok1 || !ok2 || old.Serial != at {
			return nil, false
		}
		at = now.Serial
		if at == to {
			return deltas[:i+1], true
		}
	}
	return nil, false
}

func firstSOA(rrs []dns.RR) (*dns.SOA, bool) {
	if len(rrs) == 0 {
		return nil, false
	}
	soa, ok := rrs[0].(*dns.SOA)
	return soa, ok
}

// zoneTransfer gives a served zone for a transfer.
func (st *state) zoneTransfer(zone string) (zones.Transfer, bool) {
	if st.transfer == nil {
		return zones.Transfer{}, false
	}
	zt, ok := st.transfer(zone)
	if !ok || zt.SOA == nil {
		return zones.Transfer{}, false
	}
	return zt, true
}

// packReply packs a one-message answer to m: the question (in the
// client's case), rcode, the answer records with AA, and an EDE when ede
// is given and the query had EDNS0.
func (st *state) packReply(m *dns.Msg, rcode int, answer []dns.RR, out []byte, ede ...uint16) []byte {
	q := question{id: m.Id, opcode: m.Opcode, rd: m.RecursionDesired, cd: m.CheckingDisabled}
	if len(m.Question) == 1 {
		q.name = strings.ToLower(m.Question[0].Name)
		q.qtype, q.qclass = m.Question[0].Qtype, m.Question[0].Qclass
	}
	if opt := m.IsEdns0(); opt != nil {
		q.edns, q.do = true, opt.Do()
	}
	resp := st.reply(q, rcode)
	resp.Answer = answer
	resp.Authoritative = len(answer) > 0
	for _, code := range ede {
		withEDE(resp, code)
	}
	wire, err := resp.PackBuffer(out[:cap(out)])
	if err != nil {
		return headerOnly(out, m.Id, m.Opcode, dns.RcodeServerFailure)
	}
	if len(m.Question) == 1 {
		restoreQuestionCase(wire, m.Question[0].Name)
	}
	return wire
}

// signReply signs a one-message reply when the request was signed.
func signReply(wire []byte, sg *tsigSigner) []byte {
	if sg == nil || wire == nil {
		return wire
	}
	return sg.sign(wire, time.Now(), 0, 0, nil)
}

// signAnswer signs the ordinary answer to a signed query; over UDP, an
// answer that the TSIG would push past the client's limit is sent
// truncated (RFC 8945 section 5.3), so the client retries over TCP.
func signAnswer(st *state, wire []byte, m *dns.Msg, sg *tsigSigner, udp bool) []byte {
	if sg == nil || wire == nil {
		return wire
	}
	if udp && len(wire)+sg.size() > sizeLimit(true, m.IsEdns0() != nil, m.IsEdns0()) {
		var resp dns.Msg
		if resp.Unpack(wire) == nil {
			resp.Compress = true
			wire = st.truncate(&resp, wire[:0])
			if len(m.Question) == 1 && len(resp.Question) == 1 {
				restoreQuestionCase(wire, m.Question[0].Name)
			}
		}
	}
	return sg.sign(wire, time.Now(), 0, 0, nil)
}

// tsigErrorReply is the NOTAUTH answer to a request whose TSIG failed
// (RFC 8945 section 5.2): unsigned for BADKEY and BADSIG, signed for
// BADTIME (with our clock in other data) and BADTRUNC. Nothing else of the
// request is answered.
func (s *Server) tsigErrorReply(st *state, m *dns.Msg, check tsigCheck, out []byte) []byte {
	// Drop the EDNS0 OPT: NOTAUTH fits the header, and the reply stays bare.
	bare := *m
	bare.Extra = nil
	wire := st.packReply(&bare, dns.RcodeNotAuth, nil, out)
	now := time.Now()
	switch check.err {
	case dns.RcodeBadKey, dns.RcodeBadSig:
		return unsignedTSIG(wire, check.rr, check.err, now)
	case dns.RcodeBadTime:
		return check.signer().sign(wire, now, check.rr.TimeSigned, check.err, serverTime(now))
	default:
		return check.signer().sign(wire, now, 0, check.err, nil)
	}
}

// maxXfrMessage bounds one transfer message, TSIG and OPT included.
const maxXfrMessage = maxTCPSize

// xfrStream gathers records into messages and sends them: each message
// up to maxXfrMessage bytes, compressed, the first with the question,
// every one with the OPT when the query had EDNS0, and signed when the
// query was. A message takes records while their uncompressed size fits,
// so the packed message always fits, and usually has room to spare.
type xfrStream struct {
	send  func([]byte) error
	sg    *tsigSigner
	reply *dns.Msg // header, question and OPT of every message
	buf   []byte
	chunk []dns.RR
	size  int // uncompressed bytes of chunk
	limit int
	sent  int // messages
	err   error
}

func (s *Server) newXfrStream(st *state, m *dns.Msg, sg *tsigSigner, send func([]byte) error) *xfrStream {
	q := question{id: m.Id, opcode: m.Opcode, rd: m.RecursionDesired, cd: m.CheckingDisabled,
		name: strings.ToLower(m.Question[0].Name), qtype: m.Question[0].Qtype, qclass: m.Question[0].Qclass}
	if opt := m.IsEdns0(); opt != nil {
		q.edns, q.do = true, opt.Do()
	}
	reply := st.reply(q, dns.RcodeSuccess)
	reply.Authoritative = true
	limit := maxXfrMessage - reply.Len()
	if sg != nil {
		limit -= sg.size()
	}
	return &xfrStream{send: send, sg: sg, reply: reply, limit: limit, buf: make([]byte, 0, maxXfrMessage+64)}
}

// add puts rr in the message, sending the message first when rr does not
// fit in it.
func (x *xfrStream) add(rr dns.RR) {
	n := dns.Len(rr)
	if x.size+n > x.limit && len(x.chunk) > 0 {
		x.flush()
	}
	x.chunk = append(x.chunk, rr)
	x.size += n
}

func (x *xfrStream) addAll(rrs []dns.RR) {
	for _, rr := range rrs {
		x.add(rr)
	}
}

// flush sends the message gathered so far.
func (x *xfrStream) flush() {
	if x.err != nil {
		return
	}
	msg := *x.reply
	msg.Answer = x.chunk
	if x.sent > 0 {
		msg.Question = nil // RFC 5936 section 2.2.1: the first message has it
	}
	wire, err := msg.PackBuffer(x.buf)
	if err == nil && len(wire) > maxXfrMessage {
		err = errMessageTooLarge
	}
	if err != nil {
		x.err = err
		return
	}
	if x.sg != nil {
		wire = x.sg.sign(wire, time.Now(), 0, 0, nil)
	}
	x.err = x.send(wire)
	x.sent++
	x.buf = wire[:0]
	x.chunk, x.size = x.chunk[:0], 0
}

var errMessageTooLarge = errors.New("record does not fit a message")

// streamAXFR sends the zone: its SOA, every other record, the SOA again.
// The records are made one at a time as they go, and no more once the
// stream has failed.
func (s *Server) streamAXFR(st *state, m *dns.Msg, zt zones.Transfer, sg *tsigSigner, c *client) {
	x := s.newXfrStream(st, m, sg, c.send)
	x.add(zt.SOA)
	for rr := range zt.Records {
		if x.err != nil {
			break
		}
		x.add(rr)
	}
	x.add(zt.SOA)
	x.flush()
	s.endStream(m, x)
}

// streamIXFR sends the deltas in RFC 1995's format: our SOA; per delta the
// old SOA and the removed records, the new SOA and the added ones; our SOA.
func (s *Server) streamIXFR(st *state, m *dns.Msg, soa *dns.SOA, deltas []Delta, sg *tsigSigner, c *client) {
	x := s.newXfrStream(st, m, sg, c.send)
	x.add(soa)
	for _, d := range deltas {
		x.addAll(d.Removed)
		x.addAll(d.Added)
	}
	x.add(soa)
	x.flush()
	s.endStream(m, x)
}

func (s *Server) endStream(m *dns.Msg, x *xfrStream) {
	if x.err != nil && !errors.Is(x.err, net.ErrClosed) && !isNetError(x.err) {
		s.log.Error("A zone transfer failed", "zone", strings.ToLower(m.Question[0].Name), "err", x.err)
	}
}

// isNetError reports a failed write: the client went away, which is not
// worth a log line.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
