package integration

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkTCPHold opens 3,000 idle TCP connections and 500 slowloris
// ones (a byte every two seconds) from 100 loopback sources, then asks
// from another source over UDP and TCP for ten seconds: it reports the
// share of those questions answered, the attackers' connections the
// server still holds at the end, and its resident memory.
//
//	go test -run '^$' -bench TCPHold -benchtime 1x ./integration
func BenchmarkTCPHold(b *testing.B) {
	for b.Loop() {
		in := newDemo(b, nil)
		in.start()
		addr := in.addr()
		var mu sync.Mutex
		var conns []net.Conn
		open := func(i int) net.Conn {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(1+i%250))}, Timeout: time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				return nil
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			return c
		}
		for i := range 3000 {
			open(i % 100)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 500 {
			c := open(100 + i%100)
			if c == nil {
				continue
			}
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Second):
					}
					if _, err := c.Write([]byte{0}); err != nil {
						return
					}
				}
			})
		}
		var asked, answered [2]int // UDP, TCP
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			for i, network := range []string{"udp", "tcp"} {
				asked[i]++
				m := new(dns.Msg)
				m.SetQuestion("www.yourwebapp.com.", dns.TypeA)
				if _, _, err := (&dns.Client{Net: network, Timeout: time.Second}).Exchange(m, addr); err == nil {
					answered[i]++
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		held := 0
		for _, c := range conns {
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					held++
				}
			}
		}
		rss, _ := residentMiB(in.proc.pid())
		close(stop)
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
		b.ReportMetric(100*float64(answered[0])/float64(asked[0]), "%udp-answered")
		b.ReportMetric(100*float64(answered[1])/float64(asked[1]), "%tcp-answered")
		b.ReportMetric(float64(held), "attacker-conns-held")
		b.ReportMetric(float64(len(conns)), "attacker-conns-opened")
		b.ReportMetric(rss, "MiB-rss")
		fmt.Fprintf(testWriter{b}, "asked udp %d tcp %d\n", asked[0], asked[1])
	}
}

// testWriter logs through b.
type testWriter struct{ b *testing.B }

func (w testWriter) Write(p []byte) (int, error) { w.b.Log(string(p)); return len(p), nil }
