package dnsserver

import (
	"encoding/binary"
	"encoding/hex"
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestServerCookieRFC9018Vector: the server cookie of RFC 9018's
// appendix A.1 example.
func TestServerCookieRFC9018Vector(t *testing.T) {
	secret, _ := hex.DecodeString("e5e973e5a6b2a43f48e7dc849e37bfcf")
	client, _ := hex.DecodeString("2464c4abcf10c957")
	var s CookieSecrets
	copy(s.Current[:], secret)
	got := hex.EncodeToString(s.serverCookie(nil, client, netip.MustParseAddr("198.51.100.100"), 1559731985))
	if got != "010000005cf79f111f8130c3eee29480" {
		t.Fatalf("server cookie %s, want RFC 9018's 010000005cf79f111f8130c3eee29480", got)
	}
}

func cookieOf(t *testing.T, r *dns.Msg) []byte {
	t.Helper()
	for _, o := range r.IsEdns0().Option {
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			b, err := hex.DecodeString(c.Cookie)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	return nil
}

// TestCookies: a query with a client cookie gets it back with a valid
// server cookie, from the fast path and the slow one alike; one without
// gets none; a malformed cookie gets FORMERR; a secret rotated out is
// still accepted as the previous one.
func TestCookies(t *testing.T) {
	t.Parallel()
	old := [16]byte{9, 9, 9}
	secrets := &CookieSecrets{Current: [16]byte{1, 2, 3}, Previous: &old}
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{Cookies: secrets})
	addr := s.UDPAddrs()[0].String()
	client, _ := hex.DecodeString("0102030405060708")
	ask := func(name string, cookie []byte) *dns.Msg {
		m := query(name, dns.TypeA)
		m.SetEdns0(1232, false)
		if cookie != nil {
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(cookie)}}
		}
		r, err := dns.Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	loop := netip.MustParseAddr("127.0.0.1")
	// www twice (the second from the cache), and a name whose answer the
	// fast path does not cache shape for: each gets a valid cookie.
	for _, name := range []string{"www.yourwebapp.com.", "www.yourwebapp.com.", "nothere.example.org."} {
		r := ask(name, client)
		got := cookieOf(t, r)
		if len(got) != 24 || hex.EncodeToString(got[:8]) != "0102030405060708" {
			t.Fatalf("%s: cookie %x, want the client cookie and a server cookie", name, got)
		}
		if ok, _ := secrets.valid(got[:8], got[8:], loop, time.Now()); !ok {
			t.Fatalf("%s: server cookie %x does not verify", name, got[8:])
		}
		// The client returns it: the answer still comes, with a cookie.
		if again := cookieOf(t, ask(name, got)); len(again) != 24 {
			t.Fatalf("%s: with both cookies: %x", name, again)
		}
	}
	if got := cookieOf(t, ask("www.yourwebapp.com.", nil)); got != nil {
		t.Fatalf("no cookie asked: got %x", got)
	}
	if r := ask("www.yourwebapp.com.", []byte{1, 2, 3, 4, 5}); r.Rcode != dns.RcodeFormatError {
		t.Fatalf("a 5-byte cookie: %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	// Made with the previous secret: accepted, and made anew.
	var prev CookieSecrets
	prev.Current = old
	made := prev.serverCookie(nil, client, loop, uint32(time.Now().Unix()))
	if ok, renew := secrets.valid(client, made, loop, time.Now()); !ok || !renew {
		t.Fatalf("a cookie of the previous secret: valid %v renew %v, want both", ok, renew)
	}
	// Too old, or from another address: not valid.
	stale := secrets.serverCookie(nil, client, loop, uint32(time.Now().Add(-2*time.Hour).Unix()))
	if ok, _ := secrets.valid(client, stale, loop, time.Now()); ok {
		t.Fatal("a two-hour-old cookie is valid")
	}
	fresh := secrets.serverCookie(nil, client, loop, uint32(time.Now().Unix()))
	if ok, _ := secrets.valid(client, fresh, netip.MustParseAddr("127.0.0.2"), time.Now()); ok {
		t.Fatal("a cookie is valid from another address")
	}
}

// TestCookieEchoAndCounts: a young server cookie of ours comes back as it
// was sent (one hash, not two); an old one, one of the previous secret or
// one we did not make, or an expired one, gets a fresh cookie; each is
// counted by what it held, on the fast path and the slow one alike.
func TestCookieEchoAndCounts(t *testing.T) {
	t.Parallel()
	old := [16]byte{9, 9, 9}
	secrets := &CookieSecrets{Current: [16]byte{1, 2, 3}, Previous: &old}
	s := startServer(t, testSnapshot(t, "blue.cloudapp.test."), Config{Cookies: secrets, Count: true})
	addr := s.UDPAddrs()[0].String()
	loop := netip.MustParseAddr("127.0.0.1")
	client, _ := hex.DecodeString("0102030405060708")
	now := uint32(time.Now().Unix())
	young := secrets.serverCookie(nil, client, loop, now-60)
	stale := secrets.serverCookie(nil, client, loop, now-uint32(cookieRenew/time.Second)-60)
	expired := secrets.serverCookie(nil, client, loop, now-uint32(cookieMaxAge/time.Second)-60)
	var previous CookieSecrets
	previous.Current = old
	rotated := previous.serverCookie(nil, client, loop, now)
	foreign := append([]byte{}, young...)
	foreign[15] ^= 1
	ask := func(name string, server []byte) []byte {
		t.Helper()
		m := query(name, dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(append(append([]byte{}, client...), server...))}}
		r, err := dns.Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		return cookieOf(t, r)[8:]
	}
	for _, name := range []string{"www.yourwebapp.com.", "nothere.example.org."} {
		if got := ask(name, young); hex.EncodeToString(got) != hex.EncodeToString(young) {
			t.Errorf("%s: a young cookie of ours: got %x back, want it echoed", name, got)
		}
		for what, sent := range map[string][]byte{"client only": nil, "stale": stale, "expired": expired, "previous secret": rotated, "foreign": foreign} {
			got := ask(name, sent)
			if ok, renew := secrets.valid(client, got, loop, time.Now()); !ok || renew || binary.BigEndian.Uint32(got[4:]) < now-1 {
				t.Errorf("%s, %s: got server cookie %x, want a fresh one of the current secret", name, what, got)
			}
		}
	}
	m := query("www.yourwebapp.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405"}}
	if _, err := dns.Exchange(m, addr); err != nil {
		t.Fatal(err)
	}
	// Stale and rotated cookies are valid, made anew; expired and foreign
	// ones are invalid.
	want := map[string]uint64{"client_only": 2, "valid": 6, "invalid": 4, "malformed": 1}
	if got := s.Counts().Cookies; !maps.Equal(got, want) {
		t.Fatalf("cookie counts %v, want %v", got, want)
	}
}

// FuzzCookieOptions gives the option parser and the cookie check any
// bytes: neither panics, and a cookie the parser takes is well formed.
func FuzzCookieOptions(f *testing.F) {
	f.Add([]byte{0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0, 10, 0, 24, 1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 0, 0x5c, 0xf7, 0x9f, 0x11, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0, 10, 0, 5, 1, 2, 3, 4, 5})
	secrets := &CookieSecrets{Current: [16]byte{1}}
	f.Fuzz(func(t *testing.T, rdata []byte) {
		_, cookie, ok := ignoredOptions(rdata)
		if ok && cookie != nil && !wellFormedCookie(cookie) {
			t.Fatalf("took a malformed cookie %x", cookie)
		}
		if cookie != nil && len(cookie) > clientCookieLen {
			secrets.valid(cookie[:clientCookieLen], cookie[clientCookieLen:], netip.MustParseAddr("127.0.0.1"), time.Now())
		}
	})
}
