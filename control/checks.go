package control

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
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Defaults of an [[app.check]].
const (
	DefaultCheckTimeout  = 5 * time.Second
	DefaultCheckInterval = time.Second
	DefaultCheckWindow   = 60 * time.Second
	// excerptLen bounds the body or output kept in a check result.
	excerptLen = 200
)

// CheckConfig is one [[app.check]]: an HTTP(S) request or a command run
// before a swap against the slot about to become production, or after it
// against production for Window.
type CheckConfig struct {
	Name     string // "http /healthz", "command ./scripts/x.sh"
	When     string // "before" or "after"
	Kind     string // "http", "https" or "command"
	Path     string // the HTTP path
	Command  []string
	Port     int
	Status   []int
	Timeout  time.Duration
	Retries  int // further attempts after a failed one
	Interval time.Duration
	Window   time.Duration // "after" checks only
	// FollowRedirects follows up to 10 redirects; by default a redirect
	// is the answer and its status is compared.
	FollowRedirects bool
	// InsecureSkipVerify accepts any certificate; by default it must
	// cover the production name.
	InsecureSkipVerify bool
}

type fileCheck struct {
	Name               string   `toml:"name"`
	When               string   `toml:"when"`
	HTTP               string   `toml:"http"`
	HTTPS              string   `toml:"https"`
	Command            []string `toml:"command"`
	Port               *int64   `toml:"port"`
	Status             []int64  `toml:"status"`
	Timeout            string   `toml:"timeout"`
	Retries            *int64   `toml:"retries"`
	Interval           string   `toml:"interval"`
	Window             string   `toml:"window"`
	FollowRedirects    bool     `toml:"follow_redirects"`
	InsecureSkipVerify bool     `toml:"insecure_skip_verify"`
}

// buildChecks validates the [[app.check]] entries of the app at key.
func (p *configParser) buildChecks(key, app string, list []fileCheck) []CheckConfig {
	var out []CheckConfig
	for i, fc := range list {
		ckey := fmt.Sprintf("%s.check[%d]", key, i)
		lineOf := func(field string) int {
			if l := p.line(ckey, field); l > 0 {
				return l
			}
			return p.line(ckey)
		}
		where := fmt.Sprintf("app %q: check %d", app, i+1)
		c := CheckConfig{When: fc.When, Timeout: DefaultCheckTimeout, Interval: DefaultCheckInterval,
			FollowRedirects: fc.FollowRedirects, InsecureSkipVerify: fc.InsecureSkipVerify}
		ok := true
		bad := func(field, format string, args ...any) {
			p.addf(lineOf(field), where+": "+format, args...)
			ok = false
		}
		if c.When != "before" && c.When != "after" {
			bad("when", "when %q: want \"before\" (against the slot about to become production) or \"after\" (against production, for window)", fc.When)
		}
		kinds := 0
		for _, k := range []bool{fc.HTTP != "", fc.HTTPS != "", len(fc.Command) > 0} {
			if k {
				kinds++
			}
		}
		switch {
		case kinds != 1:
			bad("", "give exactly one of http = \"/healthz\", https = \"/healthz\" or command = [\"./scripts/check.sh\"]")
		case fc.HTTP != "" || fc.HTTPS != "":
			c.Kind, c.Path, c.Port = "http", fc.HTTP, 80
			if fc.HTTPS != "" {
				c.Kind, c.Path, c.Port = "https", fc.HTTPS, 443
			}
			if !strings.HasPrefix(c.Path, "/") {
				bad(c.Kind, "%s %q: want a path starting with /, e.g. \"/healthz\"", c.Kind, c.Path)
			}
			c.Name = c.Kind + " " + c.Path
		default:
			c.Kind, c.Command = "command", append([]string(nil), fc.Command...)
			if c.Command[0] == "" {
				bad("command", "command: the program is empty")
			} else if strings.Contains(c.Command[0], "/") {
				// Relative program paths are relative to the config's folder;
				// bare names are looked up in PATH.
				// exec needs a path with a slash to skip the PATH lookup.
				if abs, err := filepath.Abs(p.resolvePath(c.Command[0])); err == nil {
					c.Command[0] = abs
				}
			}
			c.Name = "command " + fc.Command[0]
		}
		if fc.Name != "" {
			c.Name = fc.Name
		}
		if fc.Port != nil {
			if c.Kind == "command" {
				bad("port", "port: a command check has no port; remove it")
			} else if *fc.Port < 1 || *fc.Port > 65535 {
				bad("port", "port %d: want a number from 1 to 65535", *fc.Port)
			} else {
				c.Port = int(*fc.Port)
			}
		}
		if len(fc.Status) == 0 {
			c.Status = []int{http.StatusOK}
		}
		for _, st := range fc.Status {
			if st < 100 || st > 599 {
				bad("status", "status %d: want HTTP status codes from 100 to 599, e.g. [200, 204]", st)
			}
			c.Status = append(c.Status, int(st))
		}
		duration := func(field, text string, into *time.Duration) {
			if text == "" {
				return
			}
			d, err := time.ParseDuration(text)
			if err != nil || d <= 0 {
				bad(field, "%s %q: want a duration such as \"5s\" or \"500ms\"", field, text)
				return
			}
			*into = d
		}
		duration("timeout", fc.Timeout, &c.Timeout)
		duration("interval", fc.Interval, &c.Interval)
		if c.When == "after" {
			c.Window = DefaultCheckWindow
			duration("window", fc.Window, &c.Window)
		} else if fc.Window != "" {
			bad("window", "window: only an \"after\" check runs for a window; remove it or set when = \"after\"")
		}
		if fc.Retries != nil {
			if *fc.Retries < 0 || *fc.Retries > 100 {
				bad("retries", "retries %d: want a number of further attempts from 0 to 100 (default 0)", *fc.Retries)
			} else {
				c.Retries = int(*fc.Retries)
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// checkRun is what a check is run against.
type checkRun struct {
	App    string
	Slot   string       // the slot whose target is checked
	From   string       // the production target before the change
	To     string       // the production target after the change
	Target zones.Target // where requests go
	Host   string       // the production name, without the trailing dot
	// lookup resolves a hostname target to addresses.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// tlsRoots replaces the system's roots (tests).
	tlsRoots *x509.CertPool
}

// runCheck runs c once per attempt, up to 1+Retries attempts Interval
// apart, and returns the last result.
func runCheck(ctx context.Context, c CheckConfig, run checkRun) store.CheckResult {
	var res store.CheckResult
	for attempt := 1; ; attempt++ {
		res = runCheckOnce(ctx, c, run)
		res.Attempts = attempt
		if res.Pass || attempt > c.Retries || ctx.Err() != nil {
			return res
		}
		select {
		case <-ctx.Done():
			return res
		case <-time.After(c.Interval):
		}
	}
}

func runCheckOnce(ctx context.Context, c CheckConfig, run checkRun) store.CheckResult {
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
func runHTTPCheck(ctx context.Context, c CheckConfig, run checkRun, res *store.CheckResult) {
	addrs := run.Target.Addrs
	if run.Target.IsHost() {
		lookupCtx, cancel := context.WithTimeout(ctx, c.Timeout)
		var err error
		addrs, err = run.lookup(lookupCtx, run.Target.Host)
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
func askHTTP(ctx context.Context, c CheckConfig, run checkRun, addr string, res store.CheckResult) store.CheckResult {
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
		TLSClientConfig:       &tls.Config{ServerName: run.Host, RootCAs: run.tlsRoots, InsecureSkipVerify: c.InsecureSkipVerify},
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

func runCommandCheck(ctx context.Context, c CheckConfig, run checkRun, res *store.CheckResult) {
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

// resolveTarget finds the addresses of host: from the served snapshot when
// it lies in our zones, else through the configured resolver or the
// system's.
func (s *service) resolveTarget(ctx context.Context, host string) ([]netip.Addr, error) {
	if s.cfg.InOurZones(host) {
		snap := s.current.Load()
		if snap == nil {
			in, err := s.input()
			if err != nil {
				return nil, err
			}
			if snap, err = zones.Build(in); err != nil {
				return nil, err
			}
		}
		var addrs []netip.Addr
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			for _, rr := range snap.Lookup(host, qtype).Answer {
				switch rr := rr.(type) {
				case *dns.A:
					if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
						addrs = append(addrs, a)
					}
				case *dns.AAAA:
					if a, ok := netip.AddrFromSlice(rr.AAAA); ok {
						addrs = append(addrs, a)
					}
				}
			}
		}
		return addrs, nil
	}
	resolver := net.DefaultResolver
	if s.cfg.Resolver != "" {
		resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, s.cfg.Resolver)
		}}
	}
	return resolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(host, "."))
}
