package integration

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// The signed demo adds a wildcard to yourwebapp.com, so that a validator
// checks a wildcard answer and its proof that the name itself is absent.
const (
	wildcardRecord = "*.apps IN A 198.51.100.60\n"
	wildcardName   = "anything.apps.yourwebapp.com."
)

// withSigned returns a config edit that signs both demo zones, with keys
// made at the first start (generate_keys) and the denial given ("nsec" or
// "nsec3"). extra is added to each [zone.dnssec] table.
func withSigned(denial, extra string) func(string) string {
	zoneFile := regexp.MustCompile(`(?m)^file\s*=\s*"zones/[a-z.]+\.zone".*$`)
	return func(config string) string {
		return zoneFile.ReplaceAllStringFunc(config, func(line string) string {
			return fmt.Sprintf("%s\n\n[zone.dnssec]\ngenerate_keys = true\ndenial = %q\n%s\n", line, denial, extra)
		})
	}
}

// chain applies config edits in order.
func chain(edits ...func(string) string) func(string) string {
	return func(config string) string {
		for _, e := range edits {
			config = e(config)
		}
		return config
	}
}

// addWildcard appends the wildcard record to the instance's copy of the
// yourwebapp.com zone file.
func addWildcard(in *instance) {
	path := filepath.Join(in.dir, "zones", "yourwebapp.com.zone")
	testkit.WriteFile(in.t, path, testkit.ReadFile(in.t, path)+wildcardRecord)
}

// trustAnchors gives the DS records `slotdns dnssec ds` prints for each
// zone: what an operator gives the registrar, and what the validating
// resolver here is given as its trust anchors instead.
func trustAnchors(in *instance, zones ...string) []string {
	in.t.Helper()
	var out []string
	for _, z := range zones {
		r := in.mustSlotdns("dnssec", "ds", z)
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if rr, err := dns.NewRR(line); err == nil && rr.Header().Rrtype == dns.TypeDS {
				out = append(out, strings.Join(strings.Fields(rr.String()), " "))
			}
		}
	}
	if len(out) < len(zones) {
		in.t.Fatalf("dnssec ds of %v: got %d DS records, want one per zone at least: %v", zones, len(out), out)
	}
	return out
}

// startValidator runs unbound as a validating resolver: stubs maps each
// zone to the port of the server it asks, anchors are the zones' DS
// records. It logs why an answer is bogus, for a failing test to show.
func startValidator(t *testing.T, stubs map[string]int, anchors []string) int {
	t.Helper()
	unbound := requireTool(t, "unbound", "apt-get install unbound")
	dir := t.TempDir()
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	val-log-level: 2
	ede: yes
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "validator iterator"
	local-zone: "test." nodefault
	cache-min-ttl: 0
	cache-max-negative-ttl: 1
	prefetch: no
	serve-expired: no
`, port, dir, filepath.Join(dir, "unbound.pid"))
	for _, a := range anchors {
		fmt.Fprintf(&conf, "\ttrust-anchor: %q\n", a)
	}
	zones := make([]string, 0, len(stubs))
	for z := range stubs {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	for _, z := range zones {
		fmt.Fprintf(&conf, "\nstub-zone:\n\tname: %q\n\tstub-addr: 127.0.0.1@%d\n", z, stubs[z])
	}
	path := filepath.Join(dir, "unbound.conf")
	testkit.WriteFile(t, path, conf.String())
	if out, err := exec.Command(filepath.Join(filepath.Dir(unbound), "unbound-checkconf"), path).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf %s: %v\n%s", path, err, out)
	}
	runResolver(t, "unbound", port, dir, unbound, "-d", "-c", path)
	return port
}

// validated asks the validator, with DO set, and requires the status
// wanted and AD: unbound proved the answer (or the denial) from the trust
// anchor. It polls, since an answer may still be cached from before a
// change; check, when not nil, must accept the answer too.
func validated(t *testing.T, port int, step, name, qtype, status string, check func(digAnswer) error) digAnswer {
	t.Helper()
	var last digAnswer
	var why error
	ok := poll(15*time.Second, func() bool {
		a, err := tryDig(t, port, name, qtype, "+rec", "+dnssec")
		last, why = a, err
		switch {
		case err != nil:
		case a.status != status:
			why = fmt.Errorf("status %s, want %s", a.status, status)
		case !a.hasFlag("ad"):
			why = fmt.Errorf("no AD flag: not validated")
		case check != nil:
			why = check(a)
		}
		return why == nil
	})
	if !ok {
		t.Fatalf("%s: %s %s through the validator: %v\n%s", step, name, qtype, why, last.output)
	}
	return last
}

// validatedAll checks every kind of answer a signed zone gives: both slot
// names and their targets, the flattened apex, an MX, a name that does not
// exist, a type a name does not have, and a wildcard answer.
func validatedAll(t *testing.T, port int, step, www, stage string) {
	t.Helper()
	slot := func(name, target string) func(digAnswer) error {
		return func(a digAnswer) error {
			if got := a.cname(name); got != target {
				return fmt.Errorf("%s -> %q, want %q", name, got, target)
			}
			if got := a.addrs(target); !slices.Equal(got, targetAddrs[target]) {
				return fmt.Errorf("%s addresses %v, want %v", target, got, targetAddrs[target])
			}
			return nil
		}
	}
	apex := func(family uint16) func(digAnswer) error {
		return func(a digAnswer) error {
			want := targetAddrs[www]
			if family == dns.TypeAAAA {
				want = targetAddrs6[www]
			}
			if got := a.addrs("yourwebapp.com."); !slices.Equal(got, want) {
				return fmt.Errorf("apex %s %v, want %v (those of %s)", dns.TypeToString[family], got, want, www)
			}
			return nil
		}
	}
	hasType := func(qtype uint16) func(digAnswer) error {
		return func(a digAnswer) error {
			if len(a.ofType(qtype)) == 0 {
				return fmt.Errorf("no %s in the answer", dns.TypeToString[qtype])
			}
			return nil
		}
	}
	validated(t, port, step, "www.yourwebapp.com.", "A", "NOERROR", slot("www.yourwebapp.com.", www))
	validated(t, port, step, "stage.yourwebapp.com.", "A", "NOERROR", slot("stage.yourwebapp.com.", stage))
	validated(t, port, step, "yourwebapp.com.", "A", "NOERROR", apex(dns.TypeA))
	validated(t, port, step, "yourwebapp.com.", "AAAA", "NOERROR", apex(dns.TypeAAAA))
	validated(t, port, step, "yourwebapp.com.", "MX", "NOERROR", hasType(dns.TypeMX))
	validated(t, port, step, "nothing-here.yourwebapp.com.", "A", "NXDOMAIN", nil)
	validated(t, port, step, "docs.yourwebapp.com.", "TXT", "NOERROR", func(a digAnswer) error {
		if len(a.answer) != 0 {
			return fmt.Errorf("answer %v, want none", a.answer)
		}
		return nil
	})
	validated(t, port, step, wildcardName, "A", "NOERROR", hasType(dns.TypeA))
}

// TestDNSSECValidates puts a validating unbound in front of slotdns
// serving both demo zones signed, NSEC and NSEC3: every kind of answer is
// validated, before a swap and after it, after a set, after the apex
// alias's addresses change, and after the zone is re-signed.
func TestDNSSECValidates(t *testing.T) {
	t.Parallel()
	for _, denial := range []string{"nsec", "nsec3"} {
		t.Run(denial, func(t *testing.T) {
			t.Parallel()
			// A short validity has the re-signer replace signatures every
			// few seconds: refresh is the validity less 5 s.
			in := newDemo(t, chain(withTTL(1), withSigned(denial, `signature_validity = "1h"
signature_refresh = "59m55s"
signature_jitter = "1s"`)))
			addWildcard(in)
			in.start()
			port := startValidator(t, map[string]int{"yourwebapp.com": in.port, "cloudapp.test": in.port},
				trustAnchors(in, "yourwebapp.com.", "cloudapp.test."))

			validatedAll(t, port, "before the swap", prodTarget, stageTarget)
			in.mustSlotdns("swap", "yourwebapp")
			validatedAll(t, port, "after the swap", stageTarget, prodTarget)
			in.mustSlotdns("set", "yourwebapp", "staging", "test3.cloudapp.test.")
			validatedAll(t, port, "after a set", stageTarget, test3Target)
			in.mustSlotdns("swap", "yourwebapp")
			validatedAll(t, port, "after swapping to the set target", test3Target, stageTarget)

			// The apex follows production's addresses: change them.
			cloud := filepath.Join(in.dir, "zones", "cloudapp.test.zone")
			testkit.WriteFile(t, cloud, testkit.ReadFile(t, cloud)+"test3 IN A 198.51.100.31\n")
			in.mustSlotdns("reload")
			validated(t, port, "after the apex's addresses changed", "yourwebapp.com.", "A", "NOERROR", func(a digAnswer) error {
				if got, want := a.addrs("yourwebapp.com."), []string{"198.51.100.30", "198.51.100.31"}; !slices.Equal(got, want) {
					return fmt.Errorf("apex A %v, want %v", got, want)
				}
				return nil
			})

			// The re-signer bumps the serial when it replaces signatures.
			serial := in.serial()
			if !poll(30*time.Second, func() bool { return in.serial() != serial }) {
				t.Fatalf("no re-sign within 30 s: the serial stayed %d", serial)
			}
			validated(t, port, "after a re-sign", "www.yourwebapp.com.", "A", "NOERROR", nil)
			validated(t, port, "after a re-sign", "nothing-here.yourwebapp.com.", "A", "NXDOMAIN", nil)
		})
	}
}

// TestDNSSECThroughSecondaries: NSD and Knot, fed by AXFR and IXFR, serve
// the signed zone as slotdns signed it, and a validator that asks only
// them validates every answer, before and after a swap.
func TestDNSSECThroughSecondaries(t *testing.T) {
	t.Parallel()
	d := &xfrDemo{key: newTSIGKey(t, "xfr-key"), nsd: newSecondary(t, "nsd"), knot: newSecondary(t, "knot")}
	d.in = newDemo(t, chain(withTTL(1),
		withSecondaries(0, d.nsd.entry("xfr-key"), d.knot.entry("xfr-key")),
		withSigned("nsec3", "")))
	writeKeyFile(t, filepath.Join(d.in.dir, "tsig.key"), d.key)
	addWildcard(d.in)
	d.in.start()
	for _, s := range d.secondaries() {
		s.configure(d.in.port, d.key)
		s.start()
	}
	d.waitAll("initial AXFR", d.in.serial(), prodTarget)

	anchors := trustAnchors(d.in, "yourwebapp.com.", "cloudapp.test.")
	validators := map[string]int{}
	for _, s := range d.secondaries() {
		validators[s.kind] = startValidator(t, map[string]int{"yourwebapp.com": s.port, "cloudapp.test": d.in.port}, anchors)
	}
	for kind, port := range validators {
		validatedAll(t, port, "from "+kind+" after the AXFR", prodTarget, stageTarget)
	}
	d.in.mustSlotdns("swap", "yourwebapp")
	d.waitAll("IXFR of the swap", d.in.serial(), stageTarget)
	for kind, port := range validators {
		validatedAll(t, port, "from "+kind+" after the swap's IXFR", stageTarget, prodTarget)
	}
}

// TestDNSSECTamperedAnswer: a server between the validator and slotdns
// that changes the apex's address, leaving its signature as it was, gets
// the validator's SERVFAIL, while the answers it passes through unchanged
// still validate.
func TestDNSSECTamperedAnswer(t *testing.T) {
	t.Parallel()
	in := newDemo(t, chain(withTTL(1), withSigned("nsec", "")))
	in.start()
	tamper := startTamperer(t, in.addr(), func(rr dns.RR) {
		if a, ok := rr.(*dns.A); ok && a.Hdr.Name == "yourwebapp.com." {
			a.A = net.ParseIP("198.51.100.99")
		}
	})
	port := startValidator(t, map[string]int{"yourwebapp.com": tamper, "cloudapp.test": in.port},
		trustAnchors(in, "yourwebapp.com.", "cloudapp.test."))

	validated(t, port, "through the tampering server", "yourwebapp.com.", "MX", "NOERROR", nil)
	a := dig(t, port, "yourwebapp.com.", "A", "+rec", "+dnssec")
	// EDE 6 (RFC 8914): the answer failed validation, not the server.
	if a.status != "SERVFAIL" || !strings.Contains(a.output, "EDE: 6 (DNSSEC Bogus)") {
		t.Fatalf("the tampered apex A: got %s, want SERVFAIL with EDE 6 (DNSSEC Bogus)\n%s", a.status, a.output)
	}
}

// startTamperer runs a DNS server on a free loopback port, UDP and TCP,
// that relays each query to upstream and passes every answer record
// through edit before it replies. It returns the port.
func startTamperer(t *testing.T, upstream string, edit func(dns.RR)) int {
	t.Helper()
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
		resp, _, err := c.Exchange(req, upstream)
		if err != nil {
			fail := new(dns.Msg)
			fail.SetRcode(req, dns.RcodeServerFailure)
			w.WriteMsg(fail)
			return
		}
		for _, rr := range resp.Answer {
			edit(rr)
		}
		w.WriteMsg(resp)
	})
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: addr, Net: network, Handler: handler}
		started := make(chan error, 1)
		srv.NotifyStartedFunc = func() { started <- nil }
		go func() { started <- srv.ListenAndServe() }()
		if err := <-started; err != nil {
			t.Fatalf("the tampering server on %s/%s: %v", addr, network, err)
		}
		t.Cleanup(func() { srv.Shutdown() })
	}
	return port
}

// TestDNSSECDirect asks slotdns itself: DO=1 answers carry RRSIGs and
// never AD, the second asking (from the response cache) says the same,
// DO=0 carries none, and a proof too large for the client's UDP buffer
// gets TC, then comes whole over TCP.
func TestDNSSECDirect(t *testing.T) {
	t.Parallel()
	in := newDemo(t, withSigned("nsec3", ""))
	in.start()
	sigs := func(a digAnswer) int {
		n := 0
		for _, rr := range append(append([]dns.RR{}, a.answer...), a.authority...) {
			if rr.Header().Rrtype == dns.TypeRRSIG {
				n++
			}
		}
		return n
	}
	for i := range 2 {
		a := dig(t, in.port, "www.yourwebapp.com.", "A", "+dnssec")
		if !a.hasFlag("aa") || a.hasFlag("ad") || len(a.ofType(dns.TypeRRSIG)) == 0 {
			t.Fatalf("asking %d: www A with DO: want aa, no ad, and an RRSIG\n%s", i+1, a.output)
		}
	}
	if a := dig(t, in.port, "www.yourwebapp.com.", "A"); sigs(a) != 0 {
		t.Fatalf("www A without DO: want no RRSIG\n%s", a.output)
	}

	udp := dig(t, in.port, "nothing-here.yourwebapp.com.", "A", "+dnssec", "+bufsize=512", "+ignore", "+notcp")
	if !udp.hasFlag("tc") {
		t.Fatalf("an NSEC3 proof over UDP with a 512-byte buffer: want TC\n%s", udp.output)
	}
	tcp := dig(t, in.port, "nothing-here.yourwebapp.com.", "A", "+dnssec", "+tcp")
	if tcp.status != "NXDOMAIN" || tcp.hasFlag("tc") || sigs(tcp) < 3 {
		t.Fatalf("the same over TCP: want NXDOMAIN whole, with the SOA's and the NSEC3s' RRSIGs\n%s", tcp.output)
	}
}
