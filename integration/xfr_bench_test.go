package integration

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// BenchmarkSwapToSecondaries measures, per swap, the time from sending the
// swap request on the control socket to the first answer for www with the
// new target from each secondary (NSD and Knot, on loopback): NOTIFY, the
// secondary's SOA query, IXFR and its load, polled as fast as one client per
// secondary can ask. It reports the median and 90th percentile per
// secondary. `make bench` runs it with a fixed count:
//
//	go test -run '^$' -bench SwapToSecondaries -benchtime 20x ./integration
//
// NSD loads a transfer at once, but by default at most once a second
// (xfrd-reload-timeout: 1); back-to-back swaps meet that throttle, so NSD
// runs once as configured by default and once without the throttle.
func BenchmarkSwapToSecondaries(b *testing.B) {
	b.Run("nsd-default", func(b *testing.B) { benchmarkSwapToSecondaries(b) })
	b.Run("nsd-xfrd-reload-timeout-0", func(b *testing.B) {
		benchmarkSwapToSecondaries(b, func(s *secondary) {
			if s.kind == "nsd" {
				s.serverExtra = "    xfrd-reload-timeout: 0\n"
			}
		})
	})
}

func benchmarkSwapToSecondaries(b *testing.B, tune ...func(*secondary)) {
	d := newXFRDemo(b, 0, tune...)
	control := controlClient(d.in.controlSocket())
	took := map[string][]time.Duration{}
	current := prodTarget
	swaps := 0

	for b.Loop() {
		want := stageTarget
		if current == stageTarget {
			want = prodTarget
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- postSwap(control, "yourwebapp") }()
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, s := range d.secondaries() {
			wg.Go(func() {
				for time.Since(start) < xfrTimeout {
					// A short timeout: a query NSD drops while it swaps
					// its server processes must not add a second.
					resp, err := query(s.addr(), "www.yourwebapp.com.", dns.TypeA, 20*time.Millisecond)
					if err == nil && answerOf(resp).cname("www.yourwebapp.com.") == want {
						mu.Lock()
						took[s.kind] = append(took[s.kind], time.Since(start))
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Wait()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		swaps++
		for _, s := range d.secondaries() {
			if len(took[s.kind]) != swaps {
				b.Fatalf("%s did not answer www -> %s within %v of the swap request", s, want, xfrTimeout)
			}
		}
		current = want
	}

	for _, s := range d.secondaries() {
		t := took[s.kind]
		slices.Sort(t)
		b.ReportMetric(ms(t[len(t)/2]), "ms-median-"+s.kind)
		b.ReportMetric(ms(t[len(t)*9/10]), "ms-p90-"+s.kind)
	}
}

// BenchmarkAXFR100k transfers a zone of 100,000 names (yourwebapp.com with
// an A record for each of n000000 … n099999 besides the demo's records),
// signed with TSIG, from a server serving it unsigned and one serving it
// signed (DNSSEC: a CSK made at start, NSEC, so the transfer carries an
// RRSIG of every RRset and the NSEC chain), and reports the bytes,
// messages and records of one AXFR besides its time per op, and the
// server's start until it answers (s-start: for the signed zone, its
// signing too).
func BenchmarkAXFR100k(b *testing.B) {
	const names = 100_000
	for _, signed := range []bool{false, true} {
		name, records := "unsigned", names
		if signed {
			// An RRSIG of each A, and each name's NSEC and its RRSIG.
			name, records = "dnssec", 4*names
		}
		b.Run(name, func(b *testing.B) {
			key := newTSIGKey(b, "xfr-key")
			// The secondary entry allows transfers from 127.0.0.1; nothing
			// listens on its port, so the NOTIFYs go unanswered.
			edit := withSecondaries(0, secondaryEntry{addr: fmt.Sprintf("127.0.0.1:%d", freePort(b)), key: key.name})
			if signed {
				edit = chain(edit, withSigned("nsec", ""))
			}
			in := newDemo(b, edit)
			// Signing 100,000 names takes seconds of CPU, more on a
			// loaded machine.
			in.startWithin = 2 * time.Minute
			writeKeyFile(b, filepath.Join(in.dir, "tsig.key"), key)
			zoneFile := filepath.Join(in.dir, "zones", "yourwebapp.com.zone")
			var zone strings.Builder
			zone.WriteString(testkit.ReadFile(b, zoneFile))
			for i := range names {
				fmt.Fprintf(&zone, "n%06d IN A 10.%d.%d.%d\n", i, i>>16, (i>>8)&255, i&255)
			}
			testkit.WriteFile(b, zoneFile, zone.String())
			t0 := time.Now()
			in.start()
			started := time.Since(t0)

			var bytes, messages, got int
			for b.Loop() {
				bytes, messages, got = axfr(b, in.addr(), key)
			}
			if got < records {
				b.Fatalf("AXFR: got %d records, want more than %d", got, records)
			}
			b.ReportMetric(float64(bytes), "bytes/axfr")
			b.ReportMetric(float64(messages), "msgs/axfr")
			b.ReportMetric(float64(got), "records/axfr")
			b.ReportMetric(started.Seconds(), "s-start")
		})
	}
}

// axfr transfers yourwebapp.com from addr, signed with key, counting the
// bytes read from the connection.
func axfr(b *testing.B, addr string, key tsigKey) (bytes, messages, records int) {
	b.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	counted := &countingConn{Conn: c}
	tr := &dns.Transfer{
		Conn:        &dns.Conn{Conn: counted},
		TsigSecret:  map[string]string{key.name + ".": key.secret},
		ReadTimeout: 30 * time.Second,
	}
	defer tr.Close()
	q := new(dns.Msg)
	q.SetAxfr("yourwebapp.com.")
	q.SetTsig(key.name+".", dns.HmacSHA256, 300, time.Now().Unix())
	envelopes, err := tr.In(q, addr)
	if err != nil {
		b.Fatal(err)
	}
	for e := range envelopes {
		if e.Error != nil {
			b.Fatalf("AXFR from %s: %v", addr, e.Error)
		}
		messages++
		records += len(e.RR)
	}
	return counted.n, messages, records
}

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	n int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n += n
	return n, err
}
