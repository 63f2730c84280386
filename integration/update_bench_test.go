package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The update benchmarks run against three servers: the demo, the demo
// signed (a CSK made at start, NSEC), and the demo whose zone file holds
// 10,000 more names, since an update rebuilds the zone it changes.
//
//	go test -run '^$' -bench 'Update(Rate|ToAnswer)' -benchtime 200x ./integration
var updateBenchSites = []struct {
	name   string
	edit   func(string) string
	names  int // added to the zone file
	signed bool
}{
	{"demo", withUpdates(updatePolicy), 0, false},
	{"signed", chain(withSigned("nsec", ""), withUpdates(updatePolicy)), 0, true},
	{"10k-names", withUpdates(updatePolicy), 10_000, false},
}

// benchChallenge is the name every benchmark update changes.
const benchChallenge = "_acme-challenge.bench.yourwebapp.com."

// BenchmarkUpdateRate: updates per second from one client, each waiting
// for its answer before the next is sent. Update i replaces the TXT value
// of update i-1 by its own (a delete and an add in one message), so that
// every update changes the zone and the set stays one record.
func BenchmarkUpdateRate(b *testing.B) {
	for _, site := range updateBenchSites {
		b.Run(site.name, func(b *testing.B) {
			d := startUpdateBench(b, site.edit, site.names)
			var took []time.Duration
			i := 0
			start := time.Now()
			for b.Loop() {
				t0 := time.Now()
				d.replaceTXT(b, i)
				took = append(took, time.Since(t0))
				i++
			}
			b.ReportMetric(float64(len(took))/time.Since(start).Seconds(), "updates/s")
			reportLatency(b, took)
		})
	}
}

// BenchmarkUpdateToAnswer: per update, the time from its NOERROR answer
// to the first UDP answer of slotdns that carries the new TXT value (and,
// signed, an RRSIG over it), polling as fast as one client can.
func BenchmarkUpdateToAnswer(b *testing.B) {
	for _, site := range updateBenchSites {
		b.Run(site.name, func(b *testing.B) {
			d := startUpdateBench(b, site.edit, site.names)
			var took []time.Duration
			i := 0
			for b.Loop() {
				d.replaceTXT(b, i)
				acked := time.Now()
				want := benchValue(i)
				for !carriesTXT(d.in.addr(), want, site.signed) {
					if time.Since(acked) > 5*time.Second {
						b.Fatalf("%s TXT %q not served within 5s of its acknowledgement", benchChallenge, want)
					}
				}
				took = append(took, time.Since(acked))
				i++
			}
			reportLatency(b, took)
		})
	}
}

// startUpdateBench starts the demo with edit and names more names in
// its zone file.
func startUpdateBench(b *testing.B, edit func(string) string, names int) *updateDemo {
	b.Helper()
	d := prepareUpdateDemo(b, edit)
	if names > 0 {
		f, err := os.OpenFile(filepath.Join(d.in.dir, "zones", "yourwebapp.com.zone"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		var text strings.Builder
		for n := range names {
			fmt.Fprintf(&text, "host%d 300 IN A 127.0.%d.%d\n", n, n/250%250, n%250+1)
		}
		if _, err := f.WriteString(text.String()); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	d.in.start()
	return d
}

func benchValue(i int) string { return fmt.Sprintf("v%d", i) }

// replaceTXT sends update i: benchChallenge's TXT becomes benchValue(i).
func (d *updateDemo) replaceTXT(b *testing.B, i int) {
	m := new(dns.Msg)
	m.SetUpdate("yourwebapp.com.")
	if i > 0 {
		old, _ := dns.NewRR(fmt.Sprintf("%s 60 IN TXT %q", benchChallenge, benchValue(i-1)))
		m.Remove([]dns.RR{old})
	}
	add, _ := dns.NewRR(fmt.Sprintf("%s 60 IN TXT %q", benchChallenge, benchValue(i)))
	m.Insert([]dns.RR{add})
	name := d.key.name + "."
	m.SetTsig(name, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Timeout: 5 * time.Second, TsigSecret: map[string]string{name: d.key.secret}}
	r, _, err := c.Exchange(m, d.in.addr())
	if err != nil {
		b.Fatalf("update %d: %v", i, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		b.Fatalf("update %d: %s", i, dns.RcodeToString[r.Rcode])
	}
}

// carriesTXT reports whether slotdns answers benchChallenge's TXT with
// want, and, when signed, with an RRSIG of that TXT.
func carriesTXT(addr, want string, signed bool) bool {
	ask := query
	if signed {
		ask = queryDO
	}
	r, err := ask(addr, benchChallenge, dns.TypeTXT, time.Second)
	if err != nil {
		return false
	}
	var has, sig bool
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.TXT:
			has = has || strings.Join(rr.Txt, "") == want
		case *dns.RRSIG:
			sig = sig || rr.TypeCovered == dns.TypeTXT
		}
	}
	return has && (sig || !signed)
}

// reportLatency reports the median, 90th percentile and maximum of took.
func reportLatency(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	b.ReportMetric(ms(took[len(took)/2]), "ms-median")
	b.ReportMetric(ms(took[len(took)*9/10]), "ms-p90")
	b.ReportMetric(ms(took[len(took)-1]), "ms-max")
}
