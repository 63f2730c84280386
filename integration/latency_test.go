package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkSwapToAnswer measures, per swap, the time from sending the swap
// request on the control socket to the first UDP answer for www that names
// the new target, polling as fast as one client can. It reports the median,
// the 90th percentile and the server's resident memory. Run it with a fixed
// count, as `make bench` does:
//
//	go test -run '^$' -bench SwapToAnswer -benchtime 200x ./integration
func BenchmarkSwapToAnswer(b *testing.B) {
	in := newDemo(b, nil)
	in.start()
	ask := func() (*dns.Msg, error) { return query(in.addr(), "www.yourwebapp.com.", dns.TypeA, time.Second) }
	target := func(resp *dns.Msg) string { return answerOf(resp).cname("www.yourwebapp.com.") }
	swapToAnswer(b, in, ask, target, nil)
}

// BenchmarkSwapToSignedAnswer is BenchmarkSwapToAnswer with both zones
// signed (a CSK made at start, NSEC) and DO set in every query: an answer
// counts once it names the new target with an RRSIG of its CNAME. Off the
// clock, that RRSIG must be valid now and verify the new CNAME with the
// zone's DNSKEY, as a validator would have it.
//
//	go test -run '^$' -bench SwapToSignedAnswer -benchtime 200x ./integration
func BenchmarkSwapToSignedAnswer(b *testing.B) {
	in := newDemo(b, withSigned("nsec", ""))
	in.start()
	const www = "www.yourwebapp.com."
	keys, err := queryDO(in.addr(), "yourwebapp.com.", dns.TypeDNSKEY, time.Second)
	if err != nil {
		b.Fatal(err)
	}
	ask := func() (*dns.Msg, error) { return queryDO(in.addr(), www, dns.TypeA, time.Second) }
	target := func(resp *dns.Msg) string {
		if cname, sig := signedCNAME(resp, www); sig != nil {
			return strings.ToLower(cname.Target)
		}
		return ""
	}
	check := func(resp *dns.Msg) error {
		cname, sig := signedCNAME(resp, www)
		if !sig.ValidityPeriod(time.Now()) {
			return fmt.Errorf("RRSIG of %s: not valid now\n%s", cname, resp)
		}
		for _, rr := range keys.Answer {
			if k, ok := rr.(*dns.DNSKEY); ok && k.KeyTag() == sig.KeyTag {
				if err := sig.Verify(k, []dns.RR{cname}); err != nil {
					return fmt.Errorf("RRSIG of %s: %w\n%s", cname, err, resp)
				}
				return nil
			}
		}
		return fmt.Errorf("RRSIG of %s: no DNSKEY with tag %d in\n%s", cname, sig.KeyTag, keys)
	}
	swapToAnswer(b, in, ask, target, check)
}

// swapToAnswer is the swap-to-answer benchmarks' loop: per swap, the time
// from sending the swap request on the control socket to the first answer
// of ask for which target gives the new target, polling as fast as one
// client can; check, when not nil, then judges that answer, off the clock.
func swapToAnswer(b *testing.B, in *instance, ask func() (*dns.Msg, error), target func(*dns.Msg) string, check func(*dns.Msg) error) {
	control := controlClient(in.controlSocket())
	current := prodTarget
	var took []time.Duration

	for b.Loop() {
		want := stageTarget
		if current == stageTarget {
			want = prodTarget
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- postSwap(control, "yourwebapp") }()
		var resp *dns.Msg
		for {
			var err error
			resp, err = ask()
			if err == nil && target(resp) == want {
				break
			}
			if time.Since(start) > 5*time.Second {
				b.Fatalf("www did not answer %s within 5s of the swap request (last error %v)", want, err)
			}
		}
		took = append(took, time.Since(start))
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if check != nil {
			b.StopTimer()
			if err := check(resp); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		current = want
	}

	slices.Sort(took)
	b.ReportMetric(ms(took[len(took)/2]), "ms-median")
	b.ReportMetric(ms(took[len(took)*9/10]), "ms-p90")
	b.ReportMetric(ms(took[len(took)-1]), "ms-max")
	if rss, err := residentMiB(in.proc.pid()); err == nil {
		b.ReportMetric(rss, "MiB-rss")
	}
}

// queryDO is query with an OPT of 1232 bytes and DO set.
func queryDO(addr, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: "udp", Timeout: timeout}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}

// signedCNAME is the CNAME owned by name in resp's answer and its RRSIG;
// sig is nil when either is missing.
func signedCNAME(resp *dns.Msg, name string) (cname *dns.CNAME, sig *dns.RRSIG) {
	for _, rr := range resp.Answer {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.CNAME:
			cname = rr
		case *dns.RRSIG:
			if rr.TypeCovered == dns.TypeCNAME {
				sig = rr
			}
		}
	}
	if cname == nil {
		return nil, nil
	}
	return cname, sig
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// controlClient speaks HTTP to the control API on its unix socket.
func controlClient(socket string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
		},
	}
}

// postSwap asks for the default swap (staging with production) of app.
func postSwap(c *http.Client, app string) error {
	body := bytes.NewBufferString(`{"reason":"swap latency benchmark"}`)
	resp, err := c.Post("http://slotdns/v1/apps/"+app+"/swap", "application/json", body)
	if err != nil {
		return fmt.Errorf("swap %s: %w", app, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("swap %s: got %s %s, want 200", app, resp.Status, msg)
	}
	return nil
}

// residentMiB reads VmRSS of a process.
func residentMiB(pid int) (float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kib / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
