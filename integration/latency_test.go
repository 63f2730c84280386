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
		for {
			resp, err := query(in.addr(), "www.yourwebapp.com.", dns.TypeA, time.Second)
			if err == nil && answerOf(resp).cname("www.yourwebapp.com.") == want {
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
