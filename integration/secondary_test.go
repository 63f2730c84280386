package integration

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
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

// The secondaries' configs come from README.md: each block marked
// "<!-- secondary_test nsd -->" or "... knot -->" is the key and zone part,
// written for a primary at 127.0.0.1@1053. The tests put their own server
// part (port, files in a temporary folder) before it and change only the
// primary's port and the secret, so the README's snippets are the ones that
// run here.
const secondaryMarker = "<!-- secondary_test %s -->"

// xfrTimeout bounds how long a secondary may take to load the zone or catch
// up with a change. Both take a few milliseconds on loopback; the margin is
// for a loaded CI machine and for NOTIFY retries after a restart.
const xfrTimeout = 30 * time.Second

// tsigKey is a shared secret in the format tsig-keygen writes.
type tsigKey struct {
	name   string // without the trailing dot, e.g. "xfr-key"
	secret string // base64
}

// newTSIGKey makes a fresh hmac-sha256 key of 32 random bytes, as
// tsig-keygen does.
func newTSIGKey(t testing.TB, name string) tsigKey {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return tsigKey{name: name, secret: base64.StdEncoding.EncodeToString(b)}
}

// fileText is the key as `tsig-keygen NAME` prints it.
func (k tsigKey) fileText() string {
	return fmt.Sprintf("key %q {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", k.name, k.secret)
}

// digArg is dig's -y argument for the key.
func (k tsigKey) digArg() string { return "hmac-sha256:" + k.name + ":" + k.secret }

// writeKeyFile writes the key file slotdns reads, with the mode it requires.
func writeKeyFile(t testing.TB, path string, keys ...tsigKey) {
	t.Helper()
	var text strings.Builder
	for _, k := range keys {
		text.WriteString(k.fileText())
	}
	if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil { // whatever the umask did
		t.Fatal(err)
	}
}

// secondaryEntry is one [[zone.secondary]] of the slotdns config.
type secondaryEntry struct {
	addr string // host:port
	key  string // key name, or "" for none
}

// withSecondaries returns a config edit that reads keys from tsig.key, keeps
// journalLimit deltas per zone (0: the default) and gives yourwebapp.com the
// secondaries.
func withSecondaries(journalLimit int, secondaries ...secondaryEntry) func(string) string {
	zoneFile := regexp.MustCompile(`(?m)^file\s*=\s*"zones/yourwebapp\.com\.zone".*$`)
	return func(config string) string {
		top := "tsig_keys = \"tsig.key\"\n"
		if journalLimit > 0 {
			top += fmt.Sprintf("journal_limit = %d\n", journalLimit)
		}
		var blocks strings.Builder
		for _, s := range secondaries {
			fmt.Fprintf(&blocks, "\n[[zone.secondary]]\naddress = %q\n", s.addr)
			if s.key != "" {
				fmt.Fprintf(&blocks, "key     = %q\n", s.key)
			}
		}
		config = zoneFile.ReplaceAllStringFunc(config, func(line string) string { return line + "\n" + blocks.String() })
		return top + config
	}
}

// secondary is a real NSD or Knot that takes yourwebapp.com from slotdns by
// zone transfer. Its config, pid file, zone file and databases live in its
// own temporary folder; it runs in the foreground, as root without dropping
// privileges, on a free loopback port.
type secondary struct {
	t    testing.TB
	kind string // "nsd" or "knot"
	bin  string
	dir  string
	port int
	proc *process
	out  *testkit.Buffer // what every start printed
	// serverExtra is added to the server part of the config, e.g. NSD's
	// "xfrd-reload-timeout: 0".
	serverExtra string
}

// newSecondary finds the program and reserves a port, so that the slotdns
// config can name the secondary before either starts. Without the program
// the test is skipped (or fails under SLOTDNS_REQUIRE_INTEROP=1).
func newSecondary(t testing.TB, kind string) *secondary {
	t.Helper()
	name := map[string]string{"nsd": "nsd", "knot": "knotd"}[kind]
	s := &secondary{
		t:    t,
		kind: kind,
		bin:  requireTool(t, name, "apt-get install nsd knot"),
		dir:  t.TempDir(),
		port: freePort(t),
		out:  &testkit.Buffer{},
	}
	t.Cleanup(func() {
		if s.proc != nil && s.proc.running() {
			s.proc.signal(syscall.SIGKILL)
			s.proc.wait(stopTimeout)
		}
		if t.Failed() && s.proc != nil {
			t.Logf("%s printed:\n%s%s", s, s.out.String(), s.log())
		}
	})
	return s
}

func (s *secondary) String() string { return s.kind + " on " + s.addr() }

// addr is where the secondary answers DNS (and takes NOTIFY).
func (s *secondary) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// entry is the secondary's [[zone.secondary]] in the slotdns config.
func (s *secondary) entry(key string) secondaryEntry {
	return secondaryEntry{addr: s.addr(), key: key}
}

// log is the secondary's log file (NSD writes one; Knot logs to stderr).
func (s *secondary) log() string {
	data, err := os.ReadFile(filepath.Join(s.dir, "nsd.log"))
	if err != nil {
		return ""
	}
	return string(data)
}

// logs is everything the secondary has said so far.
func (s *secondary) logs() string { return s.out.String() + s.log() }

// configure writes the secondary's config for a primary on primaryPort.
// With key's name empty, the secondary neither signs its transfer requests
// nor expects NOTIFY to be signed.
func (s *secondary) configure(primaryPort int, key tsigKey) {
	s.t.Helper()
	snippet := readmeSnippet(s.t, s.kind)
	snippet = strings.ReplaceAll(snippet, "127.0.0.1@1053", "127.0.0.1@"+strconv.Itoa(primaryPort))
	secret := regexp.MustCompile(`(?m)^(\s*secret:\s*)"[^"]*"`)
	if key.name == "" {
		snippet = unsigned(s.kind, snippet)
	} else {
		snippet = secret.ReplaceAllString(snippet, `${1}"`+key.secret+`"`)
	}
	var server string
	switch s.kind {
	case "nsd":
		server = fmt.Sprintf(`server:
    ip-address: 127.0.0.1@%[1]d
    port: %[1]d
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: %[2]q
    zonelistfile: "%[2]s/zone.list"
    xfrdfile: "%[2]s/xfrd.state"
    xfrdir: %[2]q
    pidfile: "%[2]s/nsd.pid"
    logfile: "%[2]s/nsd.log"
    verbosity: 2
    zonefiles-write: 1
%[3]s
remote-control:
    control-enable: no

`, s.port, s.dir, s.serverExtra)
	case "knot":
		server = fmt.Sprintf(`server:
    rundir: %[2]q
    pidfile: "%[2]s/knot.pid"
    listen: 127.0.0.1@%[1]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
%[3]s
control:
    listen: "%[2]s/knot.sock"

database:
    storage: "%[2]s/db"

log:
  - target: stderr
    any: info

template:
  - id: default
    storage: %[2]q

`, s.port, s.dir, s.serverExtra)
	}
	testkit.WriteFile(s.t, s.confPath(), server+snippet)
}

// unsigned drops the key from the zone part of a snippet: NSD's NOKEY, and
// no key for Knot's remote and ACL.
func unsigned(kind, snippet string) string {
	switch kind {
	case "nsd":
		return regexp.MustCompile(`(?m)^(\s*(request-xfr|allow-notify):.*) xfr-key$`).ReplaceAllString(snippet, "$1 NOKEY")
	default:
		return regexp.MustCompile(`(?m)^\s*key: xfr-key\n`).ReplaceAllString(snippet, "")
	}
}

func (s *secondary) confPath() string { return filepath.Join(s.dir, s.kind+".conf") }

// start runs the secondary and waits until it answers on its port (with
// the zone or without it).
func (s *secondary) start() {
	s.t.Helper()
	if s.proc != nil && s.proc.running() {
		s.t.Fatalf("start %s: already running", s)
	}
	var args []string
	switch s.kind {
	case "nsd":
		args = []string{"-d", "-c", s.confPath()}
	case "knot":
		if err := os.MkdirAll(filepath.Join(s.dir, "db"), 0o755); err != nil {
			s.t.Fatal(err)
		}
		args = []string{"-c", s.confPath()}
	}
	s.proc = startProcess(s.t, s.dir, s.out, s.bin, args...)
	ok := poll(startTimeout, func() bool {
		if !s.proc.running() {
			return true
		}
		_, err := query(s.addr(), "yourwebapp.com.", dns.TypeSOA, 200*time.Millisecond)
		return err == nil
	})
	if !ok || !s.proc.running() {
		s.t.Fatalf("%s did not start answering within %v (exit: %v)\n%s", s, startTimeout, s.proc.running(), s.logs())
	}
}

// waitZoneFile waits until the secondary has written the zone to its zone
// file, so that a restart starts from it (NSD writes it on a timer, Knot at
// once).
func (s *secondary) waitZoneFile() {
	s.t.Helper()
	path := filepath.Join(s.dir, "yourwebapp.com.zone")
	if !poll(xfrTimeout, func() bool { _, err := os.Stat(path); return err == nil }) {
		s.t.Fatalf("%s did not write %s within %v", s, path, xfrTimeout)
	}
}

// stop ends the secondary with SIGTERM, as its init script does.
func (s *secondary) stop() {
	s.t.Helper()
	s.proc.signal(syscall.SIGTERM)
	if !s.proc.wait(stopTimeout) {
		s.proc.signal(syscall.SIGKILL)
		s.proc.wait(stopTimeout)
		s.t.Fatalf("%s ignored SIGTERM for %v", s, stopTimeout)
	}
}

// served is what the secondary answers for yourwebapp.com: the SOA serial
// and www's target. ok is false while it does not serve the zone.
func (s *secondary) served() (serial uint32, www string, ok bool) {
	soa, err := query(s.addr(), "yourwebapp.com.", dns.TypeSOA, time.Second)
	if err != nil || soa.Rcode != dns.RcodeSuccess || !soa.Authoritative || len(soa.Answer) == 0 {
		return 0, "", false
	}
	rr, isSOA := soa.Answer[0].(*dns.SOA)
	if !isSOA {
		return 0, "", false
	}
	a, err := query(s.addr(), "www.yourwebapp.com.", dns.TypeA, time.Second)
	if err != nil {
		return 0, "", false
	}
	return rr.Serial, answerOf(a).cname("www.yourwebapp.com."), true
}

// waitServes polls until the secondary serves serial with www pointing at
// target, and fails the test at the deadline.
func (s *secondary) waitServes(step string, serial uint32, target string) {
	s.t.Helper()
	var gotSerial uint32
	var gotWWW string
	var loaded bool
	ok := poll(xfrTimeout, func() bool {
		gotSerial, gotWWW, loaded = s.served()
		return loaded && gotSerial == serial && gotWWW == target
	})
	if !ok {
		s.t.Fatalf("%s: %s: got serial %d, www -> %q (zone loaded: %v), want serial %d, www -> %q within %v",
			step, s, gotSerial, gotWWW, loaded, serial, target, xfrTimeout)
	}
}

// readmeSnippet is the README's config snippet for a secondary kind.
func readmeSnippet(t testing.TB, kind string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marker := fmt.Sprintf(secondaryMarker, kind)
	var (
		lines          []string
		marked, inside bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := sc.Text()
		switch {
		case strings.TrimSpace(text) == marker:
			marked = true
		case marked && !inside && strings.HasPrefix(text, "```"):
			inside = true
		case inside && text == "```":
			return strings.Join(lines, "\n") + "\n"
		case inside:
			lines = append(lines, text)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("README.md: no code block after %s", marker)
	return ""
}
