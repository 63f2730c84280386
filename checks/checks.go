// Package checks runs the health checks of a swap: an HTTP(S) request to
// every address of the deployment about to become production, with the
// production name as Host and TLS SNI, or a command with the swap in its
// environment. It reports each result; deciding what a failure means (a
// refused swap, an automatic rollback) is the control plane's.
package checks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

// excerptLen bounds the body or output kept in a check result.
const excerptLen = 200

// Target is what a check is run against.
type Target struct {
	App    string
	Slot   string       // the slot whose target is checked
	From   string       // the production target before the change
	To     string       // the production target after the change
	Target zones.Target // where requests go
	Host   string       // the production name, without the trailing dot
	// Lookup resolves a hostname target to addresses.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// TLSRoots replaces the system's roots (tests).
	TLSRoots *x509.CertPool
}

// Run runs checks at once against run and returns their results in
// order; clk paces the retries.
func Run(ctx context.Context, clk clock.Clock, checks []config.Check, run Target) []store.CheckResult {
	results := make([]store.CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { results[i] = runCheck(ctx, clk, c, run) })
	}
	wg.Wait()
	return results
}

// runCheck runs c once per attempt, up to 1+Retries attempts Interval
// apart, and returns the last result.
func runCheck(ctx context.Context, clk clock.Clock, c config.Check, run Target) store.CheckResult {
	var res store.CheckResult
	for attempt := 1; ; attempt++ {
		res = runCheckOnce(ctx, c, run)
		res.Attempts = attempt
		if res.Pass || attempt > c.Retries || ctx.Err() != nil {
			return res
		}
		if !clock.Sleep(clk, c.Interval, ctx.Done()) {
			return res
		}
	}
}

func runCheckOnce(ctx context.Context, c config.Check, run Target) store.CheckResult {
	res := store.CheckResult{Name: c.Name, Kind: c.Kind, When: c.When, Time: time.Now()}
	if c.Kind == "command" {
		runCommandCheck(ctx, c, run, &res)
	} else {
		runHTTPCheck(ctx, c, run, &res)
	}
	res.Duration = time.Since(res.Time)
	return res
}

// runHTTPCheck asks every address of the target, each within the
// timeout: a deployment behind two addresses serves half its users from
// each. The first failure is the result.
func runHTTPCheck(ctx context.Context, c config.Check, run Target, res *store.CheckResult) {
	addrs := run.Target.Addrs
	if run.Target.IsHost() {
		lookupCtx, cancel := context.WithTimeout(ctx, c.Timeout)
		var err error
		addrs, err = run.Lookup(lookupCtx, run.Target.Host)
		cancel()
		if err == nil && len(addrs) == 0 {
			err = errors.New("no addresses")
		}
		if err != nil {
			res.Error = fmt.Sprintf("resolve %s: %v", run.Target.Host, err)
			res.Detail = res.Error
			return
		}
	}
	var asked []string
	for _, a := range addrs {
		addr := net.JoinHostPort(a.String(), strconv.Itoa(c.Port))
		asked = append(asked, addr)
		*res = askHTTP(ctx, c, run, addr, *res)
		if !res.Pass {
			return
		}
	}
	res.Target = strings.Join(asked, " ")
}

// askHTTP sends the check's request to addr and returns res completed.
func askHTTP(ctx context.Context, c config.Check, run Target, addr string, res store.CheckResult) store.CheckResult {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	res.Target, res.Pass, res.Status, res.Body, res.Error = addr, false, 0, "", ""
	fail := func(err error) store.CheckResult {
		res.Error = err.Error()
		res.Detail = err.Error()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || ctx.Err() != nil {
			res.Detail = fmt.Sprintf("no answer within %s (timeout)", c.Timeout)
		}
		return res
	}
	dialer := &net.Dialer{Timeout: c.Timeout}
	transport := &http.Transport{
		// Every request goes to the slot's address whatever the URL says.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:       &tls.Config{ServerName: run.Host, RootCAs: run.TLSRoots, InsecureSkipVerify: c.InsecureSkipVerify},
		TLSHandshakeTimeout:   c.Timeout,
		ResponseHeaderTimeout: c.Timeout,
		DisableKeepAlives:     true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: c.Timeout}
	if !c.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	url := fmt.Sprintf("%s://%s%s", c.Kind, net.JoinHostPort(run.Host, strconv.Itoa(c.Port)), c.Path)
	if c.Port == 80 && c.Kind == "http" || c.Port == 443 && c.Kind == "https" {
		url = fmt.Sprintf("%s://%s%s", c.Kind, run.Host, c.Path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("User-Agent", "slotdns-check")
	resp, err := client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, excerptLen))
	res.Status, res.Body = resp.StatusCode, string(body)
	for _, want := range c.Status {
		if resp.StatusCode == want {
			res.Pass = true
		}
	}
	if res.Pass {
		res.Detail = fmt.Sprintf("status %d", resp.StatusCode)
	} else {
		res.Detail = fmt.Sprintf("status %d, want %s", resp.StatusCode, statusList(c.Status))
	}
	return res
}

func statusList(codes []int) string {
	var words []string
	for _, c := range codes {
		words = append(words, strconv.Itoa(c))
	}
	if len(words) == 1 {
		return words[0]
	}
	return "one of " + strings.Join(words, ", ")
}

func runCommandCheck(ctx context.Context, c config.Check, run Target, res *store.CheckResult) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Command[0], c.Command[1:]...)
	cmd.Env = append(os.Environ(),
		"SLOTDNS_APP="+run.App, "SLOTDNS_SLOT="+run.Slot,
		"SLOTDNS_FROM="+run.From, "SLOTDNS_TO="+run.To)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A killed command's children may hold the output pipe open.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	res.Output = excerpt(out.Bytes())
	if err != nil {
		res.Error = err.Error()
		res.Detail = err.Error()
		if ctx.Err() != nil {
			res.Detail = fmt.Sprintf("killed after %s (timeout)", c.Timeout)
		}
		return
	}
	res.Pass = true
	res.Detail = "exit status 0"
}

func excerpt(b []byte) string {
	if len(b) > excerptLen {
		b = b[:excerptLen]
	}
	return string(b)
}
