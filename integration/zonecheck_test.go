package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// withSignedTransfer returns a config edit that signs yourwebapp.com with
// keys made at the first start, extra added to its [zone.dnssec] table,
// and gives it the secondary at addr (host:port) without a TSIG key:
// slotdns allows unsigned transfers from that host, 127.0.0.1, so dig's
// AXFR from there too.
func withSignedTransfer(addr, extra string) func(string) string {
	zoneFile := regexp.MustCompile(`(?m)^file\s*=\s*"zones/yourwebapp\.com\.zone".*$`)
	return func(config string) string {
		return zoneFile.ReplaceAllStringFunc(config, func(line string) string {
			return fmt.Sprintf("%s\n\n[[zone.secondary]]\naddress = %q\n\n[zone.dnssec]\ngenerate_keys = true\n%s\n", line, addr, extra)
		})
	}
}

// TestDNSSECCheckers transfers yourwebapp.com, signed by slotdns, with
// dig and has BIND's dnssec-verify, Knot's kzonecheck and ldns's
// ldns-verify-zone check the zone as dig printed it: as first served,
// after a swap, after a set of addresses, and after swapping back; with
// one CSK and NSEC, and with a KSK, a ZSK and NSEC3.
func TestDNSSECCheckers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, dnssec string }{
		{"CSK NSEC", ""},
		{"KSK+ZSK NSEC3", "split_keys = true\ndenial = \"nsec3\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// The secondary follows each NOTIFY at once, so that a change's
			// report of its secondaries does not wait for it.
			sec := testkit.StartSecondary(t, 0, nil)
			in := newDemo(t, withSignedTransfer(sec.Addr, c.dnssec))
			in.start()
			const addrs = "198.51.100.70, 2001:db8:100::70"
			var serial uint32
			check := func(step, www string) {
				t.Helper()
				text, got := axfrZone(t, in, www)
				if got <= serial {
					t.Fatalf("%s: the AXFR carries serial %d, want one above %d", step, got, serial)
				}
				serial = got
				testkit.CheckSignedZone(t, step, "yourwebapp.com.", text)
			}
			check("as first served", prodTarget)
			in.mustSlotdns("swap", "yourwebapp")
			check("after a swap", stageTarget)
			in.mustSlotdns("set", "yourwebapp", "staging", addrs)
			check("after a set", stageTarget)
			in.mustSlotdns("swap", "yourwebapp")
			check("after swapping back", addrs)
		})
	}
}

// axfrZone transfers yourwebapp.com with dig (+onesoa: the closing SOA
// left out) and gives what dig printed, once www answers target (a
// hostname, or the addresses of an address target), and the serial.
func axfrZone(t *testing.T, in *instance, target string) (string, uint32) {
	t.Helper()
	records, out := digAXFR(t, in.port, "+onesoa")
	a := digAnswer{answer: records}
	soa := a.ofType(dns.TypeSOA)
	if len(soa) != 1 || !strings.EqualFold(soa[0].Header().Name, "yourwebapp.com.") {
		t.Fatalf("dig AXFR: got %d SOA records, want the zone's one\n%s", len(soa), out)
	}
	var want []string
	for _, s := range strings.Split(target, ",") {
		want = append(want, strings.TrimSpace(s))
	}
	got := a.addrs("www.yourwebapp.com.")
	if strings.HasSuffix(target, ".") {
		got = []string{a.cname("www.yourwebapp.com.")}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("dig AXFR: www.yourwebapp.com. gives %v, want %v\n%s", got, want, out)
	}
	return out, soa[0].(*dns.SOA).Serial
}
