package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// updatePolicy is the [[zone.update]] the update tests give
// yourwebapp.com.: acme-key may change TXT records at _acme-challenge
// names (what DNS-01 asks, for every name and wildcard) and A, AAAA,
// CNAME and TXT records below apps (what external-dns writes).
const updatePolicy = `
[[zone.update]]
key   = "acme-key"
names = ["_acme-challenge.*", "*.apps"]
types = ["TXT", "A", "AAAA", "CNAME"]
`

// updateDemo is the demo serving yourwebapp.com. with updatePolicy, its
// key in tsig.key beside xfr-key, the key of secondaries.
type updateDemo struct {
	in  *instance
	key tsigKey // acme-key
	xfr tsigKey // xfr-key
}

// newUpdateDemo writes the demo with policies (updatePolicy when "") and
// the secondaries given, and starts it.
func newUpdateDemo(t testing.TB, policies string, secondaries ...secondaryEntry) *updateDemo {
	t.Helper()
	if policies == "" {
		policies = updatePolicy
	}
	d := prepareUpdateDemo(t, withUpdates(policies, secondaries...))
	d.in.start()
	return d
}

// prepareUpdateDemo writes the demo with the config edit and the keys'
// file, and does not start it.
func prepareUpdateDemo(t testing.TB, edit func(string) string) *updateDemo {
	t.Helper()
	d := &updateDemo{key: newTSIGKey(t, "acme-key"), xfr: newTSIGKey(t, "xfr-key")}
	d.in = newDemo(t, edit)
	writeKeyFile(t, filepath.Join(d.in.dir, "tsig.key"), d.key, d.xfr)
	return d
}

// withUpdates returns a config edit that reads keys from tsig.key and
// gives yourwebapp.com. the secondaries and the [[zone.update]] tables
// in policies (TOML text).
func withUpdates(policies string, secondaries ...secondaryEntry) func(string) string {
	zoneFile := regexp.MustCompile(`(?m)^file\s*=\s*"zones/yourwebapp\.com\.zone".*$`)
	return func(config string) string {
		config = withSecondaries(0, secondaries...)(config)
		loc := zoneFile.FindStringIndex(config)
		if loc == nil {
			return config
		}
		// After the zone's file line and its secondaries: before the next
		// table that is not the zone's.
		rest := config[loc[1]:]
		next := regexp.MustCompile(`(?m)^\[\[(zone|app)\]\]`).FindStringIndex(rest)
		at := len(config)
		if next != nil {
			at = loc[1] + next[0]
		}
		return config[:at] + strings.TrimPrefix(policies, "\n") + "\n" + config[at:]
	}
}

// keyFile writes key in the file format nsupdate -k reads (BIND's key
// statement) and gives its path.
func (d *updateDemo) keyFile(key tsigKey) string {
	d.in.t.Helper()
	path := filepath.Join(d.in.t.TempDir(), key.name+".key")
	writeKeyFile(d.in.t, path, key)
	return path
}

// txt is what slotdns answers for name's TXT records: the status and
// the strings, sorted.
func (d *updateDemo) txt(name string) (string, []string) {
	d.in.t.Helper()
	r, err := query(d.in.addr(), dns.Fqdn(name), dns.TypeTXT, 2*time.Second)
	if err != nil {
		d.in.t.Fatalf("TXT %s: %v", name, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	slices.Sort(out)
	return dns.RcodeToString[r.Rcode], out
}

// waitTXT polls until slotdns answers name's TXT with want, sorted (none:
// the name gone), and fails the test at the deadline.
func (d *updateDemo) waitTXT(name string, want ...string) {
	d.in.t.Helper()
	var status string
	var got []string
	if !poll(5*time.Second, func() bool {
		status, got = d.txt(name)
		return fmt.Sprint(got) == fmt.Sprint(want)
	}) {
		d.in.t.Fatalf("TXT %s: got %s %q, want %q", name, status, got, want)
	}
}
