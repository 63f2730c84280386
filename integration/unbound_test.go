package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

// TestUnbound puts a real recursive resolver in front of slotdns: unbound
// with stub zones for yourwebapp.com and cloudapp.test pointing at it. It
// resolves www and stage through the delegation, and once the slot TTL has
// passed after a swap it returns the new targets.
func TestUnbound(t *testing.T) {
	t.Parallel()
	unbound := requireTool(t, "unbound", "apt-get install unbound")
	in := newDemo(t, withTTL(1))
	in.start()
	port := startUnbound(t, unbound, in.port)

	want := func(step, www, stage string) {
		t.Helper()
		resolveSlots(t, "unbound", port, step, www, stage)
	}

	want("before the swap", prodTarget, stageTarget)
	in.mustSlotdns("swap", "yourwebapp")
	want("after the swap and the TTL", stageTarget, prodTarget)
	in.mustSlotdns("swap", "yourwebapp")
	want("after swapping back and the TTL", prodTarget, stageTarget)

	a := dig(t, port, "yourwebapp.com.", "A", "+rec")
	if got := a.addrs("yourwebapp.com."); !slices.Equal(got, targetAddrs[prodTarget]) {
		t.Errorf("yourwebapp.com A through unbound: got %v, want %v\n%s", got, targetAddrs[prodTarget], a.output)
	}
}

// startUnbound runs unbound in the foreground on a free loopback port, with
// stub zones for the demo's zones at slotdnsPort, and returns its port.
func startUnbound(t *testing.T, unbound string, slotdnsPort int) int {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "unbound.conf")
	// No DNSSEC validation (module-config "iterator"), so no trust anchor;
	// "test." is blocked by default (RFC 6761) unless told otherwise.
	text := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %[1]d
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: %[2]q
	pidfile: %[3]q
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	domain-insecure: "yourwebapp.com"
	domain-insecure: "cloudapp.test"
	local-zone: "test." nodefault
	cache-min-ttl: 0
	prefetch: no
	serve-expired: no

stub-zone:
	name: "yourwebapp.com"
	stub-addr: 127.0.0.1@%[4]d

stub-zone:
	name: "cloudapp.test"
	stub-addr: 127.0.0.1@%[4]d
`, port, dir, filepath.Join(dir, "unbound.pid"), slotdnsPort)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(filepath.Dir(unbound), "unbound-checkconf"), conf).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf %s: %v\n%s", conf, err, out)
	}
	runResolver(t, "unbound", port, dir, unbound, "-d", "-c", conf)
	return port
}

// runResolver starts a resolver in the foreground in dir, stops it when
// the test ends (showing its output if the test failed), and waits until
// it resolves the demo's SOA on port.
func runResolver(t *testing.T, name string, port int, dir, bin string, args ...string) {
	t.Helper()
	p := startProcess(t, dir, &testkit.Buffer{}, bin, args...)
	t.Cleanup(func() {
		p.signal(syscall.SIGTERM)
		if !p.wait(stopTimeout) {
			p.signal(syscall.SIGKILL)
			p.wait(stopTimeout)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output())
		}
	})
	ready := poll(startTimeout, func() bool {
		a, err := tryDig(t, port, "yourwebapp.com.", "SOA", "+rec")
		return err == nil && a.status == "NOERROR"
	})
	if !ready {
		t.Fatalf("%s on port %d did not answer within %v\n%s", name, port, startTimeout, p.output())
	}
}

// poll calls cond until it reports true or the deadline passes.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
