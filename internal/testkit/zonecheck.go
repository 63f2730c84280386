package testkit

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zoneChecker is a program, independent of slotdns, that reads a signed
// zone file and fails on anything wrong in its DNSSEC.
type zoneChecker struct {
	name    string
	install string
	// args gives the arguments that check the zone of origin in path;
	// csk tells that no DNSKEY lacks the SEP bit (one or more CSKs).
	args func(origin, path string, csk bool) []string
}

var zoneCheckers = []zoneChecker{
	{
		// BIND: every RRset signed by every algorithm of the DNSKEY RRset,
		// the DNSKEY RRset by a KSK, the NSEC or NSEC3 chain whole. -z
		// takes a SEP key for a ZSK too, as a CSK is.
		name: "dnssec-verify", install: "apt-get install -y bind9-utils",
		args: func(origin, path string, csk bool) []string {
			args := []string{"-o", origin, path}
			if csk {
				args = append([]string{"-z"}, args...)
			}
			return args
		},
	},
	{
		// Knot: its semantic checks, with -d on those of DNSSEC (otherwise
		// decided by an RRSIG at the SOA): the signatures, the keys, and
		// the NSEC or NSEC3 chain with its bitmaps.
		name: "kzonecheck", install: "apt-get install -y knot-dnssecutils",
		args: func(origin, path string, _ bool) []string { return []string{"-o", origin, "-d", "on", path} },
	},
	{
		// ldns: every signature, and that every name has its NSEC or
		// NSEC3, the chain whole. No -k: nothing above the zone is
		// asked for (only -S would go to the network).
		name: "ldns-verify-zone", install: "apt-get install -y ldnsutils",
		args: func(_, path string, _ bool) []string { return []string{path} },
	},
}

// CheckSignedZone hands text, a signed zone of origin in master file form
// (as dig prints an AXFR), to three checkers independent of slotdns and
// of each other: BIND's dnssec-verify, Knot's kzonecheck and ldns's
// ldns-verify-zone, each in a subtest of step. A checker that is not
// installed skips its subtest with the command that installs it, or fails
// it when SLOTDNS_REQUIRE_INTEROP=1.
func CheckSignedZone(t *testing.T, step, origin, text string) {
	t.Helper()
	origin = dns.Fqdn(origin)
	seps, zsks := apexKeys(t, origin, text)
	if seps+zsks == 0 {
		t.Fatalf("%s: no DNSKEY at %s in the zone\n%s", step, origin, text)
	}
	t.Run(step, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), strings.TrimSuffix(origin, ".")+".zone")
		WriteFile(t, path, text)
		for _, c := range zoneCheckers {
			t.Run(c.name, func(t *testing.T) {
				bin := RequireTool(t, c.name, c.install)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				out, err := exec.CommandContext(ctx, bin, c.args(origin, path, zsks == 0)...).CombinedOutput()
				if err != nil {
					t.Fatalf("%s %s: %v\n%s\nthe zone checked:\n%s", c.name, strings.Join(c.args(origin, path, zsks == 0), " "), err, out, text)
				}
			})
		}
	})
}

// apexKeys counts the DNSKEYs at origin in text: those with the SEP bit
// (KSKs and CSKs) and those without (ZSKs).
func apexKeys(t *testing.T, origin, text string) (seps, zsks int) {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if k, isKey := rr.(*dns.DNSKEY); isKey && strings.EqualFold(k.Hdr.Name, origin) {
			if k.Flags&dns.SEP != 0 {
				seps++
			} else {
				zsks++
			}
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("the zone to check: %v\n%s", err, text)
	}
	return seps, zsks
}
