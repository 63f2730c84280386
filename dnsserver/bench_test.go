package dnsserver

import (
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkHandler measures one query through the handler, without sockets,
// counted as a UDP reader counts it: the fast path (a cached answer, with
// and without EDNS options, and a cached NXDOMAIN) and the slow path (a
// full parse, lookup and pack).
func BenchmarkHandler(b *testing.B) {
	_, st, c := benchServer(b, Config{Count: true})
	benchmarks := []struct {
		name string
		req  *dns.Msg
		slow bool
	}{
		{"www A", query("www.yourwebapp.com.", dns.TypeA), false},
		{"www A EDNS", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false)), false},
		{"NXDOMAIN", query("nx12345.yourwebapp.com.", dns.TypeA), false},
		{"www A EDNS cookie", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false), withCookie), false},
		{"slow path www A", query("www.yourwebapp.com.", dns.TypeA), true},
		{"slow path EDNS cookie", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false), withCookie), true},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			req := pack(b, bm.req)
			out := make([]byte, 0, 4096)
			counted := func() []byte {
				var tl tally
				var resp []byte
				if bm.slow {
					resp = st.respondSlow(req, out, true, &tl, nil)
				} else {
					resp = st.respond(req, out, true, &tl)
				}
				c.counts.count(&tl, resp)
				return resp
			}
			if counted() == nil {
				b.Fatal("no response")
			}
			b.ReportAllocs()
			for b.Loop() {
				counted()
			}
		})
	}
}

// BenchmarkCounting measures the handler as a UDP reader runs it, with
// counting off and on, for the same packets: a slot name (a request and a
// slot answer counted), another name, a cached NXDOMAIN, and an answer too
// large for UDP (the slow path truncates it; a truncation counted too).
func BenchmarkCounting(b *testing.B) {
	queries := []struct {
		name string
		req  *dns.Msg
	}{
		{"slot name", query("www.yourwebapp.com.", dns.TypeA)},
		{"other name", query("mail.yourwebapp.com.", dns.TypeA, withEDNS(1232, false))},
		{"NXDOMAIN", query("nx12345.yourwebapp.com.", dns.TypeA)},
		{"truncated", query("big.yourwebapp.com.", dns.TypeA)},
	}
	for _, q := range queries {
		for _, count := range []bool{false, true} {
			name := q.name + "/off"
			if count {
				name = q.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				s, st, c := benchServer(b, Config{Count: count})
				loopRespond(b, s, st, c, pack(b, q.req))
			})
		}
	}
}

// benchServer is a server with cfg (not started) serving testSnapshot,
// its state, and a client as one UDP reader has it.
func benchServer(b *testing.B, cfg Config) (*Server, *state, *client) {
	s := New(cfg)
	s.Publish(testSnapshot(b, "blue.cloudapp.test."))
	c := &client{udp: true, addr: func() netip.Addr { return loopback }, counts: s.shards.newUDP()}
	return s, s.state.Load(), c
}

// loopRespond answers req over and over as the reader c, counting
// allocations.
func loopRespond(b *testing.B, s *Server, st *state, c *client, req []byte) {
	out := make([]byte, 0, 4096)
	if s.respond(st, req, out, c) == nil {
		b.Fatal("no response")
	}
	b.ReportAllocs()
	for b.Loop() {
		s.respond(st, req, out, c)
	}
}

// BenchmarkAXFR measures an AXFR of a zone of 100,000 names through the
// server's transfer path, without sockets: packing (and signing) every
// message. It reports the bytes and messages a secondary receives.
func BenchmarkAXFR(b *testing.B) {
	zone := testZone(b, 7, 100000)
	for _, key := range []string{"", testKeyName} {
		name := "unsigned"
		if key != "" {
			name = "TSIG"
		}
		b.Run(name, func(b *testing.B) {
			s := New(Config{Transfer: &Transfer{Peers: map[string][]Peer{"example.com.": {{Addr: loopback, Key: key}}}, Keys: testKeys()}})
			st := xfrState(b, zone)
			req := axfrQuery("example.com.")
			wire := pack(b, req)
			if key != "" {
				var err error
				if wire, _, err = dns.TsigGenerate(signed(req, key), testSecret, "", false); err != nil {
					b.Fatal(err)
				}
			}
			var bytes, msgs int
			c := &client{addr: func() netip.Addr { return loopback }, send: func(m []byte) error {
				bytes += len(m) + 2 // and the TCP length prefix
				msgs++
				return nil
			}}
			b.ReportAllocs()
			for b.Loop() {
				bytes, msgs = 0, 0
				if resp := s.respond(st, wire, nil, c); resp != nil {
					b.Fatalf("got a single response of %d bytes, want the transfer streamed", len(resp))
				}
			}
			b.ReportMetric(float64(bytes), "bytes/xfr")
			b.ReportMetric(float64(msgs), "msgs/xfr")
		})
	}
}

// BenchmarkCookies answers the same query without a cookie, with a client
// cookie, and with a client and server cookie, on a server that answers
// cookies: the cookie is patched into the cached answer, so the fast path
// keeps its 0 allocs/op.
func BenchmarkCookies(b *testing.B) {
	withClientCookie := func(m *dns.Msg) {
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "2464c4abcf10c957"}}
	}
	withBothCookies := func(m *dns.Msg) {
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "2464c4abcf10c957010000005cf79f111f8130c3eee29480"}}
	}
	for _, q := range []struct {
		name string
		req  *dns.Msg
	}{
		{"no cookie", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false))},
		{"client cookie", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false), withClientCookie)},
		{"both cookies", query("www.yourwebapp.com.", dns.TypeA, withEDNS(1232, false), withBothCookies)},
	} {
		b.Run(q.name, func(b *testing.B) {
			s, st, c := benchServer(b, Config{Cookies: &CookieSecrets{Current: [16]byte{1, 2, 3}}})
			loopRespond(b, s, st, c, pack(b, q.req))
		})
	}
}

// BenchmarkRandomNames floods the handler, from every core at once, with
// names never asked before (each a cache miss: a lookup, a pack and a try
// to keep it), beside the same flood of one cached name. It reports what
// the response cache holds at the end and the heap in use after a GC:
// bounded however many names were asked.
//
//	go test -run '^$' -bench RandomNames -benchmem ./dnsserver
func BenchmarkRandomNames(b *testing.B) {
	for _, random := range []bool{false, true} {
		name := "one cached name"
		if random {
			name = "random names"
		}
		b.Run(name, func(b *testing.B) {
			s := New(Config{Count: true})
			s.Publish(testSnapshot(b, "blue.cloudapp.test."))
			st := s.state.Load()
			template := pack(b, query("r0000000000.yourwebapp.com.", dns.TypeA, withEDNS(1232, false)))
			const digitsAt = headerLen + 2 // after the label's length and the "r"
			var workers atomic.Uint64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c := &client{udp: true, addr: func() netip.Addr { return loopback }, counts: s.shards.newUDP()}
				req := append([]byte(nil), template...)
				out := make([]byte, 0, 4096)
				n := workers.Add(1) << 40 // names of their own
				for pb.Next() {
					if random {
						n++
						for i, v := 9, n; i >= 0; i, v = i-1, v/10 {
							req[digitsAt+i] = byte('0' + v%10)
						}
					}
					if s.respond(st, req, out, c) == nil {
						b.Fatal("no response")
					}
				}
			})
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(st.cache.len()), "cached-answers")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap")
		})
	}
}

// BenchmarkRRL answers a cached query as a UDP reader does, without rate
// limiting and with it on but never reached (every response through the
// table), for NOERROR and NXDOMAIN answers.
func BenchmarkRRL(b *testing.B) {
	for _, q := range []struct {
		name string
		req  *dns.Msg
	}{
		{"answer", query("www.yourwebapp.com.", dns.TypeA)},
		{"NXDOMAIN", query("nx12345.yourwebapp.com.", dns.TypeA)},
	} {
		for _, on := range []bool{false, true} {
			name := q.name + "/off"
			cfg := Config{}
			if on {
				name = q.name + "/on"
				cfg.RRL = RRL{Rate: 1 << 30}
			}
			b.Run(name, func(b *testing.B) {
				s, st, c := benchServer(b, cfg)
				loopRespond(b, s, st, c, pack(b, q.req))
			})
		}
	}
}
