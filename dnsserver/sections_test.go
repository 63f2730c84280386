package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// TestSectionsAsCounted: a header that promises records the message does
// not hold, an OPT outside the additional section, and a TSIG that is not
// the last record get FORMERR with the question echoed, as NSD and Knot
// answer; miekg/dns's parser would forgive them.
func TestSectionsAsCounted(t *testing.T) {
	t.Parallel()
	plain := func() []byte { return pack(t, query("www.example.com.", dns.TypeA)) }
	withOPT := func() []byte { return pack(t, query("www.example.com.", dns.TypeA, withEDNS(1232, false))) }
	tsig := &dns.TSIG{Hdr: dns.RR_Header{Name: "key.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY}, Algorithm: dns.HmacSHA256, Fudge: 300, MACSize: 2, MAC: "abcd", OrigId: 1}
	tests := []struct {
		name string
		req  func() []byte
	}{
		{"ARCOUNT 1 and no record", func() []byte { b := plain(); b[11] = 1; return b }},
		{"ANCOUNT 1 and no record", func() []byte { b := plain(); b[7] = 1; return b }},
		{"NSCOUNT 65535", func() []byte { b := plain(); b[8], b[9] = 0xff, 0xff; return b }},
		{"ARCOUNT 5 and one OPT", func() []byte { b := withOPT(); b[11] = 5; return b }},
		{"an OPT in the answer section", func() []byte {
			return pack(t, query("www.example.com.", dns.TypeA, func(m *dns.Msg) {
				o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
				m.Answer = []dns.RR{o}
			}))
		}},
		{"a TSIG before the OPT", func() []byte {
			return pack(t, query("www.example.com.", dns.TypeA, func(m *dns.Msg) {
				o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
				m.Extra = []dns.RR{tsig, o}
			}))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := exchange(t, testState(t), tc.req(), true)
			if got == nil || got.Rcode != dns.RcodeFormatError {
				t.Fatalf("got %v, want FORMERR", got)
			}
			if len(got.Question) != 1 || got.Question[0].Name != "www.example.com." || len(got.Answer)+len(got.Ns)+len(got.Extra) != 0 {
				t.Errorf("got %v, want the question echoed and nothing else", got)
			}
		})
	}
	// The well-formed ones still answer.
	for _, req := range [][]byte{plain(), withOPT()} {
		if got, _ := exchange(t, testState(t), req, true); got == nil || got.Rcode != dns.RcodeSuccess {
			t.Fatalf("a well-formed query: %v", got)
		}
	}
}

func FuzzWellFormedSections(f *testing.F) {
	f.Add(pack(f, query("www.example.com.", dns.TypeA, withEDNS(1232, false))))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		wellFormedSections(msg) // must not panic, whatever the bytes
	})
}
