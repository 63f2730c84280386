package integration

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"

	"github.com/miekg/dns"
)

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 15 * time.Second
	cliTimeout   = 30 * time.Second
)

// instance is one slotdns directory: a copy of the demo config and zone
// files, and the database the server and the CLI keep beside them. The CLI
// runs in that directory, so it finds slotdns.toml the way a user's does.
type instance struct {
	t      testing.TB
	dir    string
	config string // path of slotdns.toml
	port   int    // DNS port of the last start, UDP and TCP
	proc   *process
	out    *testkit.Buffer // what every start of the server printed
	// readyZone is the zone whose SOA tells that the server is up;
	// yourwebapp.com. unless a test serves other zones.
	readyZone string
	// startWithin is how long start waits for the first answer;
	// startTimeout when 0. A zone that takes long to sign needs more.
	startWithin time.Duration
}

// newDemo copies the repository's slotdns.toml and zones/*.zone into a fresh
// directory. edit, when not nil, rewrites the config text (a test's own
// TTL, a key to break).
func newDemo(t testing.TB, edit func(config string) string) *instance {
	t.Helper()
	dir := t.TempDir()
	zoneFiles, err := filepath.Glob(filepath.Join(repoRoot, "zones", "*.zone"))
	if err != nil || len(zoneFiles) == 0 {
		t.Fatalf("demo zone files in %s/zones: got %v (err %v), want some", repoRoot, zoneFiles, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range zoneFiles {
		copyFile(t, f, filepath.Join(dir, "zones", filepath.Base(f)))
	}
	config := testkit.ReadFile(t, filepath.Join(repoRoot, "slotdns.toml"))
	if edit != nil {
		config = edit(config)
	}
	in := &instance{t: t, dir: dir, config: filepath.Join(dir, "slotdns.toml"), out: &testkit.Buffer{}}
	in.writeConfig(config)
	t.Cleanup(func() {
		if in.proc != nil && in.proc.running() {
			in.proc.signal(syscall.SIGKILL)
			in.proc.wait(stopTimeout)
		}
		if t.Failed() && in.proc != nil {
			t.Logf("slotdns serve in %s printed:\n%s", dir, in.out.String())
		}
	})
	return in
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	testkit.WriteFile(t, to, testkit.ReadFile(t, from))
}

func (in *instance) writeConfig(config string) { testkit.WriteFile(in.t, in.config, config) }
func (in *instance) readConfig() string        { return testkit.ReadFile(in.t, in.config) }

var listenLine = regexp.MustCompile(`(?m)^listen\s*=.*$`)

// setListen sets the top-level listen of config to addr: the first
// listen line, not the [api] table's.
func setListen(config, addr string) string {
	loc := listenLine.FindStringIndex(config)
	if loc == nil {
		return config
	}
	return config[:loc[0]] + fmt.Sprintf("listen  = [%q]", addr) + config[loc[1]:]
}

// withTTL returns a config edit that sets every app's slot TTL.
func withTTL(ttl int) func(string) string {
	re := regexp.MustCompile(`(?m)^ttl\s*=\s*\d+`)
	return func(config string) string {
		return re.ReplaceAllString(config, "ttl  = "+strconv.Itoa(ttl))
	}
}

// addr is the DNS address of the running server.
func (in *instance) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(in.port)) }

// start runs `slotdns serve` on a free loopback port (a restart tries the
// port of the last start first) and waits until it answers DNS and its
// control socket accepts connections. A port taken between choosing and
// binding it is retried with another.
func (in *instance) start() {
	in.t.Helper()
	if in.proc != nil && in.proc.running() {
		in.t.Fatal("start: the server is already running")
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if in.port == 0 || attempt > 0 {
			in.port = freePort(in.t)
		}
		in.writeConfig(setListen(in.readConfig(), in.addr()))
		in.proc = startProcess(in.t, in.dir, in.out, slotdnsBin, "serve", "--config", in.config)
		lastErr = in.waitReady()
		if lastErr == nil {
			return
		}
		if in.proc.running() {
			in.proc.signal(syscall.SIGKILL)
			in.proc.wait(stopTimeout)
		}
		if !strings.Contains(in.proc.output(), "address already in use") {
			break
		}
	}
	in.t.Fatalf("slotdns serve: %v", lastErr)
}

// waitReady polls until the server answers the SOA of yourwebapp.com and the
// control socket accepts a connection, or the process exits, or the deadline.
func (in *instance) waitReady() error {
	within := cmp.Or(in.startWithin, startTimeout)
	deadline := time.Now().Add(within)
	sock := in.controlSocket()
	for time.Now().Before(deadline) {
		if !in.proc.running() {
			return fmt.Errorf("exited before answering: %v", in.proc.exitErr())
		}
		zone := in.readyZone
		if zone == "" {
			zone = "yourwebapp.com."
		}
		resp, err := query(in.addr(), zone, dns.TypeSOA, 200*time.Millisecond)
		if err == nil && resp.Rcode == dns.RcodeSuccess && len(resp.Answer) > 0 {
			if c, err := net.Dial("unix", sock); err == nil {
				c.Close()
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s and %s within %v", in.addr(), sock, within)
}

// controlSocket is the control socket path the demo config names.
func (in *instance) controlSocket() string { return filepath.Join(in.dir, "slotdns.sock") }

// stop sends SIGTERM and waits for the exit; it fails the test unless the
// server exits on its own with status 0.
func (in *instance) stop() {
	in.t.Helper()
	in.proc.signal(syscall.SIGTERM)
	if !in.proc.wait(stopTimeout) {
		in.proc.signal(syscall.SIGKILL)
		in.proc.wait(stopTimeout)
		in.t.Fatalf("slotdns serve ignored SIGTERM for %v", stopTimeout)
	}
	if err := in.proc.exitErr(); err != nil {
		in.t.Fatalf("slotdns serve after SIGTERM: got %v, want exit status 0", err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (in *instance) kill() {
	in.t.Helper()
	in.proc.signal(syscall.SIGKILL)
	if !in.proc.wait(stopTimeout) {
		in.t.Fatalf("slotdns serve still running %v after SIGKILL", stopTimeout)
	}
}

// cliResult is what one CLI command did.
type cliResult struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r cliResult) String() string {
	return fmt.Sprintf("slotdns %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// slotdns runs the CLI in the instance's directory and returns whatever it
// did; mustSlotdns also requires exit status 0.
func (in *instance) slotdns(args ...string) cliResult {
	in.t.Helper()
	return runCLI(in.t, in.dir, args...)
}

func (in *instance) mustSlotdns(args ...string) cliResult {
	in.t.Helper()
	r := in.slotdns(args...)
	if r.code != 0 {
		in.t.Fatalf("got exit %d, want 0: %v", r.code, r)
	}
	return r
}

func runCLI(t testing.TB, dir string, args ...string) cliResult {
	t.Helper()
	r, err := execCLI(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// execCLI is runCLI for goroutines other than the test's: an error means
// the command could not run or did not finish, not a non-zero exit.
func execCLI(dir string, args ...string) (cliResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, slotdnsBin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.code = exit.ExitCode()
	default:
		return r, fmt.Errorf("slotdns %s: %w\nstderr:\n%s", strings.Join(args, " "), err, r.stderr)
	}
	return r, nil
}

// process is a started program whose output is kept for failure messages.
type process struct {
	cmd  *exec.Cmd
	out  *testkit.Buffer
	done chan struct{}
	err  error // the Wait result, set before done closes
}

// startProcess runs name in dir, its output going to out.
func startProcess(t testing.TB, dir string, out *testkit.Buffer, name string, args ...string) *process {
	t.Helper()
	return startProcessEnv(t, dir, nil, out, name, args...)
}

// startProcessEnv is startProcess with env ("KEY=value") added to the
// test's environment.
func startProcessEnv(t testing.TB, dir string, env []string, out *testkit.Buffer, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *process) signal(sig os.Signal) {
	if p.running() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// wait reports whether the process exited within d.
func (p *process) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// exitErr is the exit status once the process is gone (nil for status 0).
func (p *process) exitErr() error {
	<-p.done
	return p.err
}

func (p *process) pid() int       { return p.cmd.Process.Pid }
func (p *process) output() string { return p.out.String() }

// freePort finds a port free for both UDP and TCP on 127.0.0.1. Another
// program may still take it before the server binds; start retries then.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return 0
}

// query asks addr one question over UDP, without recursion, as a resolver
// asks an authoritative server.
func query(addr, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: timeout}
	resp, _, err := c.Exchange(m, addr)
	return resp, err
}
