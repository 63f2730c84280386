package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkHandler measures one query through the handler, without sockets:
// the fast path (a cached answer, and a cached NXDOMAIN) and the slow path
// (a full parse, lookup and pack).
func BenchmarkHandler(b *testing.B) {
	st := newState(testSnapshot(b, "blue.cloudapp.test."))
	withOption := query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false))
	withOption.IsEdns0().Option = append(withOption.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	benchmarks := []struct {
		name string
		req  *dns.Msg
		slow bool
	}{
		{"www A", query("www.yourwebapp.com.", dns.TypeA), false},
		{"www A EDNS", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false)), false},
		{"NXDOMAIN", query("nx12345.yourwebapp.com.", dns.TypeA), false},
		{"slow path www A", query("www.yourwebapp.com.", dns.TypeA), true},
		{"slow path EDNS cookie", withOption, false},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			req := pack(b, bm.req)
			out := make([]byte, 0, 4096)
			respond := st.respond
			if bm.slow {
				respond = st.respondSlow
			}
			if respond(req, out, true) == nil {
				b.Fatal("no response")
			}
			b.ReportAllocs()
			for b.Loop() {
				respond(req, out, true)
			}
		})
	}
}
