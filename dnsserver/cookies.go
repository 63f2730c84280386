package dnsserver

import (
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/dchest/siphash"
)

// DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018:
// Version 1, three reserved bytes, a 32-bit timestamp and an 8-byte
// SipHash-2-4 of the client cookie, those fields and the client's address,
// keyed with a secret that several servers may share. A client that
// returns a valid server cookie has shown it receives our answers at the
// address it claims.

const (
	clientCookieLen = 8
	serverCookieLen = 16 // RFC 9018's
	cookieVersion   = 1
	// A server cookie is valid up to an hour after it was made and five
	// minutes before (clocks of servers sharing a secret), and is made
	// anew once it is half an hour old (RFC 9018 section 4.3).
	cookieMaxAge    = time.Hour
	cookieMaxFuture = 5 * time.Minute
	cookieRenew     = 30 * time.Minute
)

// CookieSecrets are the SipHash keys server cookies are made and checked
// with: Current makes them, Previous (during a rotation) is still
// accepted.
type CookieSecrets struct {
	Current  [16]byte
	Previous *[16]byte
}

// serverCookie appends the server cookie of client at ip and time ts to b.
func (s *CookieSecrets) serverCookie(b, client []byte, ip netip.Addr, ts uint32) []byte {
	return appendCookie(b, &s.Current, client, ip, ts)
}

func appendCookie(b []byte, secret *[16]byte, client []byte, ip netip.Addr, ts uint32) []byte {
	var in [8 + 8 + 16]byte
	n := copy(in[:], client)
	in[n] = cookieVersion
	binary.BigEndian.PutUint32(in[n+4:], ts)
	n += 8
	if ip = ip.Unmap(); ip.Is4() {
		a := ip.As4()
		n += copy(in[n:], a[:])
	} else {
		a := ip.As16()
		n += copy(in[n:], a[:])
	}
	h := siphash.Hash(binary.LittleEndian.Uint64(secret[:8]), binary.LittleEndian.Uint64(secret[8:]), in[:n])
	b = append(b, cookieVersion, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, ts)
	return binary.LittleEndian.AppendUint64(b, h)
}

// valid reports whether server is a server cookie we made for client at
// ip, recent enough at now, with the current or the previous secret; and
// whether it is old enough to be made anew.
func (s *CookieSecrets) valid(client, server []byte, ip netip.Addr, now time.Time) (ok, renew bool) {
	if len(server) != serverCookieLen || server[0] != cookieVersion {
		return false, false
	}
	ts := binary.BigEndian.Uint32(server[4:])
	age := time.Duration(int64(uint32(now.Unix())-ts)) * time.Second // RFC 1982 order over 32 bits
	if int32(uint32(now.Unix())-ts) < 0 {
		age = -time.Duration(int64(ts-uint32(now.Unix()))) * time.Second
	}
	if age > cookieMaxAge || age < -cookieMaxFuture {
		return false, false
	}
	var want [serverCookieLen]byte
	for _, secret := range []*[16]byte{&s.Current, s.Previous} {
		if secret == nil {
			continue
		}
		if subtle.ConstantTimeCompare(appendCookie(want[:0], secret, client, ip, ts), server) == 1 {
			return true, age >= cookieRenew || secret != &s.Current
		}
	}
	return false, false
}

// cookieCtx is what answering one query's cookie needs: the secrets and
// the client's address, read only when the query has a cookie.
type cookieCtx struct {
	secrets *CookieSecrets
	addr    func() netip.Addr
	clock   *coarseClock
}

// What a query's cookie was, as counted (Counts.Cookies), at the index
// cookieResults names.
const (
	cookieNone      = iota // no cookie, or cookies not answered
	cookieClient           // a client cookie alone: a first contact
	cookieValid            // with a server cookie we made, still valid
	cookieInvalid          // with a server cookie we did not make, or too old
	cookieMalformed        // not a cookie's length: FORMERR
)

var cookieResults = [...]string{cookieClient: "client_only", cookieValid: "valid", cookieInvalid: "invalid", cookieMalformed: "malformed"}

// appendOption appends the COOKIE option of the answer to a query whose
// COOKIE option's data is cookie, and says what the query's cookie was.
// The option holds the client cookie and a server cookie: the query's
// own when it is valid and young (RFC 9018 section 4.3), so that a
// returning client costs one hash, not two; otherwise a fresh one.
func (ck *cookieCtx) appendOption(b, cookie []byte) ([]byte, uint8) {
	b = binary.BigEndian.AppendUint16(b, 10) // COOKIE
	b = binary.BigEndian.AppendUint16(b, clientCookieLen+serverCookieLen)
	client := cookie[:clientCookieLen]
	b = append(b, client...)
	now := ck.clock.now()
	result := uint8(cookieClient)
	if server := cookie[clientCookieLen:]; len(server) > 0 {
		ok, renew := ck.secrets.valid(client, server, ck.addr(), now)
		if ok && !renew {
			return append(b, server...), cookieValid
		}
		result = cookieInvalid
		if ok {
			result = cookieValid
		}
	}
	return ck.secrets.serverCookie(b, client, ck.addr(), uint32(now.Unix())), result
}

// cookieOptionLen is the length of the COOKIE option appendOption writes.
const cookieOptionLen = 4 + clientCookieLen + serverCookieLen

// wellFormedCookie reports whether data is a COOKIE option's: a client
// cookie alone, or with a server cookie of 8 to 32 bytes (RFC 7873
// section 4).
func wellFormedCookie(data []byte) bool {
	return len(data) == clientCookieLen || (len(data) >= 16 && len(data) <= 40)
}

// queryCookie is the COOKIE option's data of req, nil when it has none.
func queryCookie(req []byte) []byte {
	if len(req) < headerLen || binary.BigEndian.Uint16(req[10:]) == 0 {
		return nil
	}
	at := optRDLenAt(req)
	if at == 0 {
		return nil
	}
	rdata := req[at+2:]
	for len(rdata) >= 4 {
		code, l := binary.BigEndian.Uint16(rdata), int(binary.BigEndian.Uint16(rdata[2:]))
		if 4+l > len(rdata) {
			return nil
		}
		if code == 10 {
			return rdata[4 : 4+l]
		}
		rdata = rdata[4+l:]
	}
	return nil
}
