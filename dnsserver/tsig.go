package dnsserver

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"time"

	"github.com/miekg/dns"
)

// TSIG (RFC 8945): requests are checked with miekg/dns's TsigVerify, which
// takes the MAC from the key given here; responses are signed over their
// packed bytes, so that a transfer is packed once.

// tsigFudge is the time window we allow and sign with (RFC 8945 advises 300s).
const tsigFudge = 300

// tsigKey is a TSIGKey ready for use: canonical names, in wire form too,
// and the secret decoded.
type tsigKey struct {
	name, algorithm       string // canonical
	nameWire, algWire     []byte // uncompressed wire form
	secret                []byte
	newHash               func() hash.Hash
	macSize               int // the full MAC length
	minTruncated, maxSize int // RFC 8945 section 5.2.2.1 bounds on a received MAC
}

// keyring holds the keys by canonical name.
type keyring map[string]*tsigKey

// newKeyring prepares keys, leaving out (and naming) those whose
// algorithm or secret cannot be used.
func newKeyring(keys map[string]TSIGKey) (keyring, []string) {
	ring := keyring{}
	var bad []string
	for _, k := range keys {
		key, err := newTSIGKey(k)
		if err != nil {
			bad = append(bad, k.Name)
			continue
		}
		ring[key.name] = key
	}
	return ring, bad
}

func newTSIGKey(k TSIGKey) (*tsigKey, error) {
	key := &tsigKey{name: dns.CanonicalName(k.Name), algorithm: dns.CanonicalName(k.Algorithm)}
	switch key.algorithm {
	case dns.HmacSHA1:
		key.newHash = sha1.New
	case dns.HmacSHA224:
		key.newHash = sha256.New224
	case dns.HmacSHA256:
		key.newHash = sha256.New
	case dns.HmacSHA384:
		key.newHash = sha512.New384
	case dns.HmacSHA512:
		key.newHash = sha512.New
	default:
		return nil, dns.ErrKeyAlg
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil || len(secret) == 0 {
		return nil, errors.New("secret is not base64")
	}
	key.secret = secret
	key.macSize = key.newHash().Size()
	key.minTruncated = max(10, key.macSize/2)
	var err1, err2 error
	key.nameWire, err1 = wireName(key.name)
	key.algWire, err2 = wireName(key.algorithm)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return key, nil
}

func wireName(name string) ([]byte, error) {
	var buf [256]byte
	n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), buf[:n]...), nil
}

func (k *tsigKey) mac(parts ...[]byte) []byte {
	h := hmac.New(k.newHash, k.secret)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// errMACSize marks a MAC longer than the algorithm's or truncated below
// what RFC 8945 section 5.2.2.1 allows: the request is answered FORMERR.
var errMACSize = errors.New("tsig mac size out of bounds")

// tsigProvider verifies with one key; it accepts a MAC truncated within
// the RFC's bounds (the caller then answers BADTRUNC, as our policy signs
// and expects full MACs).
type tsigProvider struct{ key *tsigKey }

func (p tsigProvider) Generate(msg []byte, _ *dns.TSIG) ([]byte, error) { return p.key.mac(msg), nil }

func (p tsigProvider) Verify(msg []byte, t *dns.TSIG) error {
	got, err := hex.DecodeString(t.MAC)
	if err != nil || len(got) > p.key.macSize || len(got) < p.key.minTruncated {
		return errMACSize
	}
	if !hmac.Equal(p.key.mac(msg)[:len(got)], got) {
		return dns.ErrSig
	}
	return nil
}

// withinFudge reports whether rr was signed within our fudge of now, or
// the request's own when smaller: miekg/dns trusts the request's fudge,
// and a request may claim up to 65535 s.
func withinFudge(rr *dns.TSIG, now time.Time) bool {
	window := int64(min(rr.Fudge, tsigFudge))
	d := now.Unix() - int64(rr.TimeSigned)
	return -window <= d && d <= window
}

// tsigCheck is what checking a request's TSIG found.
type tsigCheck struct {
	rr      *dns.TSIG
	key     *tsigKey // nil when the key is unknown
	err     uint16   // 0 or a TSIG error: BADKEY, BADSIG, BADTIME, BADTRUNC
	formErr bool     // the TSIG is malformed: answer FORMERR
}

// check verifies the TSIG rr that ends req (RFC 8945 section 5.2: key,
// then MAC, then time, then truncation).
func (ring keyring) check(req []byte, rr *dns.TSIG) tsigCheck {
	c := tsigCheck{rr: rr}
	key := ring[dns.CanonicalName(rr.Hdr.Name)]
	if key == nil || dns.CanonicalName(rr.Algorithm) != key.algorithm {
		c.err = dns.RcodeBadKey
		return c
	}
	c.key = key
	// TsigVerify rewrites the bytes it is given.
	err := dns.TsigVerifyWithProvider(append([]byte(nil), req...), tsigProvider{key}, "", false)
	switch {
	case err == nil && !withinFudge(rr, time.Now()):
		c.err = dns.RcodeBadTime
	case err == nil && int(rr.MACSize) < key.macSize:
		c.err = dns.RcodeBadTrunc
	case err == nil:
	case errors.Is(err, errMACSize):
		c.formErr = true
	case errors.Is(err, dns.ErrSig):
		c.err = dns.RcodeBadSig
	case errors.Is(err, dns.ErrTime):
		c.err = dns.RcodeBadTime
	default:
		c.formErr = true
	}
	return c
}

// signer returns what signs the responses to a request that passed check
// (or failed only its time or truncation check, whose errors are signed).
func (c tsigCheck) signer() *tsigSigner {
	mac, _ := hex.DecodeString(c.rr.MAC)
	return &tsigSigner{key: c.key, prevMAC: mac, origID: c.rr.OrigId}
}

// tsigSigner signs the responses to one request: the first with the
// request's MAC, each later one with the MAC before it and the timers only
// (RFC 8945 section 5.3.1).
type tsigSigner struct {
	key        *tsigKey
	prevMAC    []byte
	origID     uint16
	timersOnly bool
}

// size is the length of the TSIG record sign appends (with no other data).
func (sg *tsigSigner) size() int {
	return len(sg.key.nameWire) + 10 + len(sg.key.algWire) + 6 + 2 + 2 + sg.key.macSize + 6
}

// sign appends a signed TSIG to the packed message msg (ID and counts
// final, no TSIG yet) and counts it in ARCOUNT. tsigErr and other are the
// TSIG error and other data (BADTIME carries the server's time there).
func (sg *tsigSigner) sign(msg []byte, now time.Time, timeSigned uint64, tsigErr uint16, other []byte) []byte {
	if timeSigned == 0 {
		timeSigned = uint64(now.Unix())
	}
	var vars []byte
	if sg.timersOnly {
		vars = appendTimers(nil, timeSigned)
	} else {
		vars = append(vars, sg.key.nameWire...)
		vars = binary.BigEndian.AppendUint16(vars, dns.ClassANY)
		vars = binary.BigEndian.AppendUint32(vars, 0) // TTL
		vars = append(vars, sg.key.algWire...)
		vars = appendTimers(vars, timeSigned)
		vars = binary.BigEndian.AppendUint16(vars, tsigErr)
		vars = binary.BigEndian.AppendUint16(vars, uint16(len(other)))
		vars = append(vars, other...)
	}
	var prev []byte
	if sg.prevMAC != nil {
		prev = binary.BigEndian.AppendUint16(nil, uint16(len(sg.prevMAC)))
		prev = append(prev, sg.prevMAC...)
	}
	mac := sg.key.mac(prev, msg, vars)
	sg.prevMAC, sg.timersOnly = mac, true
	return appendTSIG(msg, sg.key.nameWire, sg.key.algWire, timeSigned, mac, sg.origID, tsigErr, other)
}

func appendTimers(b []byte, timeSigned uint64) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(timeSigned>>32))
	b = binary.BigEndian.AppendUint32(b, uint32(timeSigned))
	return binary.BigEndian.AppendUint16(b, tsigFudge)
}

// appendTSIG appends a TSIG record to msg and counts it in ARCOUNT.
func appendTSIG(msg, nameWire, algWire []byte, timeSigned uint64, mac []byte, origID, tsigErr uint16, other []byte) []byte {
	msg = append(msg, nameWire...)
	msg = binary.BigEndian.AppendUint16(msg, dns.TypeTSIG)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassANY)
	msg = binary.BigEndian.AppendUint32(msg, 0)
	rdlen := len(algWire) + 6 + 2 + 2 + len(mac) + 6 + len(other)
	msg = binary.BigEndian.AppendUint16(msg, uint16(rdlen))
	msg = append(msg, algWire...)
	msg = appendTimers(msg, timeSigned)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(mac)))
	msg = append(msg, mac...)
	msg = binary.BigEndian.AppendUint16(msg, origID)
	msg = binary.BigEndian.AppendUint16(msg, tsigErr)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(other)))
	msg = append(msg, other...)
	binary.BigEndian.PutUint16(msg[10:], binary.BigEndian.Uint16(msg[10:])+1)
	return msg
}

// unsignedTSIG appends the unsigned TSIG of a BADKEY or BADSIG answer
// (RFC 8945 section 5.3.2: such an error must not be signed), naming the
// request's key and algorithm.
func unsignedTSIG(msg []byte, rr *dns.TSIG, tsigErr uint16, now time.Time) []byte {
	nameWire, err1 := wireName(dns.CanonicalName(rr.Hdr.Name))
	algWire, err2 := wireName(dns.CanonicalName(rr.Algorithm))
	if err1 != nil || err2 != nil {
		return msg
	}
	return appendTSIG(msg, nameWire, algWire, uint64(now.Unix()), nil, rr.OrigId, tsigErr, nil)
}

// serverTime is the other data of a BADTIME answer: our clock, 48 bits.
func serverTime(now time.Time) []byte {
	t := uint64(now.Unix())
	b := binary.BigEndian.AppendUint16(nil, uint16(t>>32))
	return binary.BigEndian.AppendUint32(b, uint32(t))
}
