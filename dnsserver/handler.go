package dnsserver

import (
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

const (
	// advertisedUDPSize is the EDNS0 payload size we offer and the largest
	// UDP response we send (the DNS flag day 2020 value, which avoids IP
	// fragmentation).
	advertisedUDPSize = 1232
	// minUDPSize is what every client accepts (RFC 1035).
	minUDPSize = 512
	// maxTCPSize is the largest message the 2-byte TCP length prefix allows.
	maxTCPSize = 65535
	headerLen  = 12
)

// lookupFunc answers one lowercase qname and qtype; it is the published
// snapshot's Lookup.
type lookupFunc func(qname string, qtype uint16) zones.Answer

// state is what one query reads: the snapshot and the cache of responses
// computed from it. It is published whole, with one atomic store, so the
// cache can never serve a response from another snapshot.
type state struct {
	snap   *zones.Snapshot
	lookup lookupFunc // nil: nothing is served, every query is REFUSED
	// lookupDO answers a query with the DO bit: with the signatures and
	// proofs of signed zones.
	lookupDO lookupFunc
	cache    *responseCache
	// transfer gives a zone's records in AXFR order; nil: none.
	transfer func(origin string) (zones.Transfer, bool)
	// keepalive is the idle timeout TCP answers advertise when asked
	// (RFC 7828), in units of 100 ms.
	keepalive uint16
	// nsid is the server's identity, given to a query that asks for it
	// (RFC 5001); nil: none configured.
	nsid []byte
	// ids gives the counter ids of the snapshot's zones and slots; nil
	// when the server does not count.
	ids *idTable
	// updates: the server takes DNS UPDATE, when it is signed.
	updates bool
}

func newState(snap *zones.Snapshot) *state {
	st := &state{snap: snap, cache: newResponseCache(maxCachedResponses, maxCachedBytes)}
	if snap != nil {
		st.lookup = snap.Lookup
		st.lookupDO = snap.LookupDNSSEC
		st.transfer = snap.Transfer
	}
	return st
}

// respond writes the response to the packet req into out (reusing its
// capacity when large enough) and returns it; nil means the packet gets no
// response. Over UDP the client's EDNS0 size limits the response, over TCP
// only the 2-byte length prefix does. tl, when not nil, gets what the
// query counts as.
func (st *state) respond(req, out []byte, udp bool, tl *tally) []byte {
	if resp, ok := st.respondFast(req, out, udp, tl, nil); ok {
		return resp
	}
	return st.respondSlow(req, out, udp, tl, nil)
}

// question is what a response depends on besides the snapshot.
type question struct {
	id      uint16
	opcode  int
	rd, cd  bool
	name    string // lowercase, as miekg/dns presents it
	qtype   uint16
	qclass  uint16
	edns    bool
	do      bool
	version uint8
}

// respondSlow handles every query through a full dns.Msg parse. It is the
// reference the fast path must agree with byte for byte (and in what tl,
// when not nil, says the query counts as).
func (st *state) respondSlow(req, out []byte, udp bool, tl *tally, ck *cookieCtx) []byte {
	if len(req) < headerLen {
		return nil // not even a header: nothing to echo
	}
	out = out[:cap(out)] // miekg/dns packs into the buffer's length
	id := binary.BigEndian.Uint16(req)
	flags := binary.BigEndian.Uint16(req[2:])
	if flags&(1<<15) != 0 {
		return nil // a response: answering it could start a loop
	}
	opcode := int(flags>>11) & 0xF
	var m dns.Msg
	if err := m.Unpack(req); err != nil {
		return headerOnly(out, id, opcode, dns.RcodeFormatError)
	}
	q := question{id: id, opcode: opcode, rd: m.RecursionDesired, cd: m.CheckingDisabled}
	// miekg/dns forgives a QDCOUNT larger than the questions present, so
	// count from the header itself.
	qdcount := binary.BigEndian.Uint16(req[4:])
	if qdcount == 1 && len(m.Question) == 1 {
		q.name = strings.ToLower(m.Question[0].Name)
		q.qtype = m.Question[0].Qtype
		q.qclass = m.Question[0].Qclass
	}
	nopt := 0
	var opt *dns.OPT
	for _, rr := range m.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			nopt++
			opt = o
		}
	}
	if opt != nil {
		q.edns, q.do, q.version = true, opt.Do(), opt.Version()
	}
	keepalive := false // edns-tcp-keepalive asked (RFC 7828); over UDP it is ignored
	nsid := false      // the server's identity asked (RFC 5001)
	var cookie []byte  // the query's COOKIE option (RFC 7873)
	badCookie := false
	for _, o := range optOptions(opt) {
		keepalive = keepalive || o.Option() == dns.EDNS0TCPKEEPALIVE
		nsid = nsid || o.Option() == dns.EDNS0NSID
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			data, err := hex.DecodeString(c.Cookie)
			badCookie = badCookie || err != nil || !wellFormedCookie(data) || cookie != nil
			cookie = data
		}
	}

	var resp *dns.Msg
	var a zones.Answer // the lookup's, when there was one
	switch {
	case nopt > 1 || (opt != nil && opt.Hdr.Name != ".") || !wellFormedSections(req) || (badCookie && ck != nil):
		// A malformed cookie is an error only where cookies are
		// answered (RFC 7873 section 5.2.2); elsewhere it is an
		// option like any other, ignored.
		// RFC 6891 section 6.1.1: at most one OPT, owned by the root;
		// and the records the header counts, where they may be.
		q.edns = false
		resp = st.reply(q, dns.RcodeFormatError)
	case opcode == dns.OpcodeNotify:
		// slotdns is the primary: nobody it follows sends it NOTIFY
		// (NOTAUTH, as Knot answers).
		resp = st.reply(q, dns.RcodeNotAuth)
	case opcode == dns.OpcodeUpdate && st.updates:
		// A signed UPDATE goes the TSIG path; this one is not signed.
		resp = withEDE(st.reply(q, dns.RcodeRefused), dns.ExtendedErrorCodeProhibited)
	case opcode != dns.OpcodeQuery:
		// UPDATE among them where updates are not taken (NOTIMP, as NSD).
		resp = st.reply(q, dns.RcodeNotImplemented)
	case qdcount != 1 || len(m.Question) != 1:
		resp = st.reply(q, dns.RcodeFormatError)
	default:
		resp, a = st.answer(q)
	}
	if o := resp.IsEdns0(); o != nil {
		if keepalive && !udp && st.keepalive > 0 {
			o.Option = append(o.Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE, Timeout: st.keepalive})
		}
		if nsid && st.nsid != nil {
			o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hex.EncodeToString(st.nsid)})
		}
		if cookie != nil && ck != nil && resp.Rcode != dns.RcodeFormatError {
			option, result := ck.appendOption(nil, cookie)
			o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(option[4:])})
			tl.noteCookie(result)
		}
	}
	if badCookie && ck != nil {
		tl.noteCookie(cookieMalformed)
	}
	if tl != nil {
		tl.qtype = qtypeIndex(q.qtype)
		tl.zone, tl.pair = st.ids.ofAnswer(q.name, a)
		tl.extended = resp.Rcode > 0xF
	}
	wire, err := resp.PackBuffer(out)
	if err != nil {
		wire, err = st.reply(q, dns.RcodeServerFailure).PackBuffer(out)
		if err != nil {
			return headerOnly(out, id, opcode, dns.RcodeServerFailure)
		}
	}
	if len(resp.Question) == 1 {
		restoreQuestionCase(wire, m.Question[0].Name)
	}
	if len(wire) > sizeLimit(udp, q.edns, opt) {
		wire = st.truncate(resp, out)
		if len(resp.Question) == 1 {
			restoreQuestionCase(wire, m.Question[0].Name)
		}
	}
	return wire
}

// sizeLimit is the largest response the client takes: over UDP 512 bytes
// without EDNS0, else its advertised size capped at ours and floored at 512.
func sizeLimit(udp, edns bool, opt *dns.OPT) int {
	if !udp {
		return maxTCPSize
	}
	if !edns || opt == nil {
		return minUDPSize
	}
	return clampUDPSize(opt.UDPSize())
}

func clampUDPSize(size uint16) int {
	return min(max(int(size), minUDPSize), advertisedUDPSize)
}

// truncate packs resp with only its question and OPT, and TC set: the client
// retries over TCP, where nothing is cut. Dropping whole sections never hands
// out a partial RRset.
func (st *state) truncate(resp *dns.Msg, out []byte) []byte {
	resp.Truncated = true
	resp.Answer, resp.Ns = nil, nil
	var extra []dns.RR
	if opt := resp.IsEdns0(); opt != nil {
		extra = []dns.RR{opt}
	}
	resp.Extra = extra
	wire, err := resp.PackBuffer(out)
	if err != nil {
		return headerOnly(out, resp.Id, resp.Opcode, dns.RcodeServerFailure)
	}
	return wire
}

// restoreQuestionCase overwrites the packed (lowercase) question name at
// offset 12 with the client's spelling, so the question is echoed byte for
// byte. Both spellings pack to the same length.
func restoreQuestionCase(wire []byte, name string) {
	var buf [256]byte
	n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil || headerLen+n > len(wire) {
		return
	}
	copy(wire[headerLen:], buf[:n])
}

// answer runs the lookup for a well-formed query and builds the response.
// It returns the lookup's answer too, zero when there was no lookup.
func (st *state) answer(q question) (*dns.Msg, zones.Answer) {
	switch {
	case q.edns && q.version > 0:
		return st.reply(q, dns.RcodeBadVers), zones.Answer{}
	case q.qclass != dns.ClassINET && q.qclass != dns.ClassANY:
		// QCLASS ANY gets the class IN data, the only class served.
		return withEDE(st.reply(q, dns.RcodeRefused), dns.ExtendedErrorCodeNotAuthoritative), zones.Answer{}
	case q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR:
		// Transfers are the server's (xfr.go); one that reaches here is
		// malformed or has no server to answer it.
		return withEDE(st.reply(q, dns.RcodeRefused), dns.ExtendedErrorCodeProhibited), zones.Answer{}
	case st.lookup == nil:
		return withEDE(st.reply(q, dns.RcodeRefused), dns.ExtendedErrorCodeNotReady), zones.Answer{}
	}
	lookup := st.lookup
	if q.do && st.lookupDO != nil {
		lookup = st.lookupDO
	}
	a := lookup(q.name, q.qtype)
	resp := st.reply(q, rcodeOf(a.Result))
	switch a.Result {
	case zones.Success, zones.NoData, zones.NameError:
		resp.Authoritative = true
	case zones.Delegation:
	case zones.NotAuth:
		return withEDE(resp, dns.ExtendedErrorCodeNotAuthoritative), a
	default:
		return resp, a // SERVFAIL carries no records
	}
	// The slices belong to the snapshot: share them read-only, and copy
	// Extra before the OPT is added to it.
	resp.Answer = a.Answer
	resp.Ns = a.Ns
	if len(a.Extra) > 0 {
		resp.Extra = append(append(make([]dns.RR, 0, len(a.Extra)+1), a.Extra...), resp.Extra...)
	}
	return resp, a
}

// rcodeOf maps a lookup result to its rcode.
func rcodeOf(r zones.Result) int {
	switch r {
	case zones.Success, zones.NoData, zones.Delegation:
		return dns.RcodeSuccess
	case zones.NameError:
		return dns.RcodeNameError
	case zones.NotAuth:
		return dns.RcodeRefused
	default:
		return dns.RcodeServerFailure
	}
}

// reply builds a response header for q with rcode: the question (when there
// is exactly one), RD and CD copied, and an OPT when the query had one.
func (st *state) reply(q question, rcode int) *dns.Msg {
	m := &dns.Msg{Compress: true}
	m.Id = q.id
	m.Response = true
	m.Opcode = q.opcode
	m.RecursionDesired = q.rd
	m.CheckingDisabled = q.cd
	m.Rcode = rcode
	if q.name != "" {
		m.Question = []dns.Question{{Name: q.name, Qtype: q.qtype, Qclass: q.qclass}}
	}
	if q.edns {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(advertisedUDPSize)
		if q.do {
			opt.SetDo()
		}
		m.Extra = []dns.RR{opt}
	} else if rcode > 0xF {
		m.Rcode = dns.RcodeFormatError // an extended rcode needs an OPT
	}
	return m
}

// withEDE adds an Extended DNS Error (RFC 8914) saying why a query was
// refused, when the response has an OPT to carry it.
func withEDE(m *dns.Msg, code uint16) *dns.Msg {
	if opt := m.IsEdns0(); opt != nil {
		opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: code})
	}
	return m
}

// headerOnly writes a bare response header: the query's ID and opcode, the
// rcode, and no sections.
func headerOnly(out []byte, id uint16, opcode, rcode int) []byte {
	out = append(out[:0], make([]byte, headerLen)...)
	binary.BigEndian.PutUint16(out, id)
	binary.BigEndian.PutUint16(out[2:], 1<<15|uint16(opcode&0xF)<<11|uint16(rcode&0xF))
	return out
}

func optOptions(opt *dns.OPT) []dns.EDNS0 {
	if opt == nil {
		return nil
	}
	return opt.Option
}
