package dnsserver

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeUpdater records the updates it is handed and answers rcode.
type fakeUpdater struct {
	mu    sync.Mutex
	keys  []string
	rcode int
}

func (f *fakeUpdater) Update(req *dns.Msg, key string, from netip.Addr) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	return f.rcode, "the fake's answer"
}

func (f *fakeUpdater) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...)
}

// TestUpdateDispatch: a signed UPDATE reaches the Updater with its key's
// name, over UDP and TCP, and its answer comes back signed; an unsigned
// one is REFUSED, one with an unknown key NOTAUTH with BADKEY, and with
// no Updater UPDATE is NOTIMP.
func TestUpdateDispatch(t *testing.T) {
	up := &fakeUpdater{rcode: dns.RcodeSuccess}
	s := startServer(t, nil, Config{Transfer: &Transfer{Keys: testKeys()}, Updater: up})
	st := xfrState(t, testZone(t, 1, 1))
	st.updates = true // as Publish sets it for a server with an Updater
	s.state.Store(st)
	msg := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetUpdate("example.com.")
		m.Insert(rrs(t, "_acme-challenge.example.com. 60 IN TXT \"token\""))
		return m
	}
	secret := map[string]string{testKeyName: testSecret}
	for _, network := range []string{"udp", "tcp"} {
		addr := s.UDPAddrs()[0].String()
		if network == "tcp" {
			addr = s.TCPAddrs()[0].String()
		}
		c := &dns.Client{Net: network, TsigSecret: secret, Timeout: 2 * time.Second}
		m := msg()
		m.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Unix())
		resp, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: signed UPDATE: %v", network, err) // the client checks the answer's TSIG
		}
		if resp.Rcode != dns.RcodeSuccess || resp.Opcode != dns.OpcodeUpdate || resp.IsTsig() == nil {
			t.Errorf("%s: signed UPDATE: got %s, opcode %d, TSIG %v; want a signed NOERROR", network, dns.RcodeToString[resp.Rcode], resp.Opcode, resp.IsTsig() != nil)
		}

		plain := &dns.Client{Net: network, Timeout: 2 * time.Second}
		resp, _, err = plain.Exchange(msg(), addr)
		if err != nil || resp.Rcode != dns.RcodeRefused {
			t.Errorf("%s: unsigned UPDATE: got %v (%v), want REFUSED", network, resp, err)
		}

		m = msg()
		m.SetTsig("nobody.", dns.HmacSHA256, 300, time.Now().Unix())
		wrong := &dns.Client{Net: network, TsigSecret: map[string]string{"nobody.": testSecret}, Timeout: 2 * time.Second}
		resp, _, _ = wrong.Exchange(m, addr)
		if resp == nil || resp.Rcode != dns.RcodeNotAuth || resp.IsTsig() == nil || resp.IsTsig().Error != dns.RcodeBadKey {
			t.Errorf("%s: UPDATE with an unknown key: got %v, want NOTAUTH with TSIG error BADKEY", network, resp)
		}

		// The key's name with another secret (RFC 8945 section 5.2.2),
		// and the right secret twenty minutes late (5.2.3).
		for _, tc := range []struct {
			what   string
			secret string
			signed time.Time
			want   uint16
		}{
			{"a wrong secret", otherSecret, time.Now(), dns.RcodeBadSig},
			{"a time outside the fudge", testSecret, time.Now().Add(-20 * time.Minute), dns.RcodeBadTime},
		} {
			m = msg()
			m.SetTsig(testKeyName, dns.HmacSHA256, 300, tc.signed.Unix())
			c := &dns.Client{Net: network, TsigSecret: map[string]string{testKeyName: tc.secret}, Timeout: 2 * time.Second}
			resp, _, _ = c.Exchange(m, addr)
			if resp == nil || resp.Rcode != dns.RcodeNotAuth || resp.IsTsig() == nil || resp.IsTsig().Error != tc.want {
				t.Errorf("%s: UPDATE with %s: got %v, want NOTAUTH with TSIG error %s", network, tc.what, resp, dns.RcodeToString[int(tc.want)])
			}
		}
	}
	if got := up.calls(); len(got) != 2 || got[0] != testKeyName || got[1] != testKeyName {
		t.Errorf("the Updater was called with %v, want the key twice (UDP, TCP)", got)
	}

	up.rcode = dns.RcodeRefused
	c := &dns.Client{Net: "tcp", TsigSecret: secret, Timeout: 2 * time.Second}
	m := msg()
	m.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	resp, _, err := c.Exchange(m, s.TCPAddrs()[0].String())
	if err != nil || resp.Rcode != dns.RcodeRefused {
		t.Errorf("a refused UPDATE: got %v (%v), want REFUSED, signed", resp, err)
	}

	none := startServer(t, nil, Config{Transfer: &Transfer{Keys: testKeys()}})
	none.state.Store(xfrState(t, testZone(t, 1, 1)))
	resp, _, err = (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(msg(), none.UDPAddrs()[0].String())
	if err != nil || resp.Rcode != dns.RcodeNotImplemented {
		t.Errorf("UPDATE where none are taken: got %v (%v), want NOTIMP", resp, err)
	}
}
