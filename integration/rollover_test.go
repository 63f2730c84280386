package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// rolloverState is the part of `slotdns dnssec rollover --json` the tests
// read.
type rolloverState struct {
	Kind     string   `json:"kind"`
	Old      uint16   `json:"old"`
	New      uint16   `json:"new"`
	Stage    string   `json:"stage"`
	Advanced bool     `json:"advanced"`
	NeedDS   bool     `json:"need_ds"`
	DS       []string `json:"ds"`
	Waiting  string   `json:"waiting"`
}

func (in *instance) rollover(args ...string) rolloverState {
	in.t.Helper()
	r := in.mustSlotdns(append([]string{"dnssec", "rollover", "yourwebapp.com", "--json"}, args...)...)
	var st rolloverState
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		in.t.Fatalf("dnssec rollover --json: %v\n%v", err, r)
	}
	return st
}

// shortTTLs gives every record of both demo zones a TTL of 2 s and a
// negative TTL of 2 s, so that a rollover's waits take seconds.
func shortTTLs(in *instance) {
	for _, f := range []string{"yourwebapp.com.zone", "cloudapp.test.zone"} {
		path := filepath.Join(in.dir, "zones", f)
		text := testkit.ReadFile(in.t, path)
		text = regexp.MustCompile(`(?m)^\$TTL\s+\d+`).ReplaceAllString(text, "$$TTL 2")
		text = regexp.MustCompile(`(?m)^(\s+)300 \)`).ReplaceAllString(text, "${1}2 )")
		text = strings.Replace(text, "1209600 60 )", "1209600 2 )", 1)
		testkit.WriteFile(in.t, path, text)
	}
}

// parentZone is com., served signed by a second slotdns: the parent
// whose DS for yourwebapp.com the rollover replaces.
const parentConfig = `listen  = ["127.0.0.1:1"]
db      = "slotdns.db"
control = "slotdns.sock"

[[zone]]
origin = "com."
file   = "zones/com.zone"

[zone.dnssec]
generate_keys = true
`

func parentZoneText(ds []string) string {
	text := `$ORIGIN com.
$TTL 2
@ IN SOA ns1.nic.com. hostmaster.nic.com. 1 3600 600 1209600 2
@ IN NS ns1.nic
ns1.nic IN A 127.0.0.1
yourwebapp IN NS ns1.yourwebapp
ns1.yourwebapp IN A 127.0.0.1
`
	for _, d := range ds {
		rr, err := dns.NewRR(d)
		if err != nil {
			panic(err)
		}
		rr.Header().Ttl = 2
		text += rr.String() + "\n"
	}
	return text
}

// TestDNSSECRollover drives a CSK rollover to its end with TTLs of 2 s,
// the DS at a signed parent (com., served by a second slotdns) replaced
// at its step, and a validating unbound anchored at the parent's key
// only: every kind of answer validates at every stage, through a swap in
// the middle of it and after a restart at the end.
func TestDNSSECRollover(t *testing.T) {
	t.Parallel()
	site := newDemo(t, chain(withTTL(1), withSigned("nsec", "")))
	shortTTLs(site)
	addWildcard(site)
	site.start()
	siteDS := trustAnchors(site, "yourwebapp.com.")

	parent := newDemo(t, func(string) string { return parentConfig })
	parent.readyZone = "com."
	parentFile := filepath.Join(parent.dir, "zones", "com.zone")
	testkit.WriteFile(t, parentFile, parentZoneText(siteDS))
	parent.start()
	anchors := append(trustAnchors(parent, "com."), trustAnchors(site, "cloudapp.test.")...)
	port := startValidator(t, map[string]int{"com": parent.port, "yourwebapp.com": site.port, "cloudapp.test": site.port}, anchors)

	validated(t, port, "the parent's DS", "yourwebapp.com.", "DS", "NOERROR", nil)
	validatedAll(t, port, "before the rollover", prodTarget, stageTarget)

	st := site.rollover("--start")
	if st.Stage != "published" || !st.Advanced || st.Kind != "csk" {
		t.Fatalf("rollover --start: got %+v, want a csk rollover advanced to stage published", st)
	}
	if tags := dnskeyTags(t, site); len(tags) != 2 {
		t.Fatalf("stage published: DNSKEY tags %v, want the old key %d and the new %d", tags, st.Old, st.New)
	}
	validatedAll(t, port, "stage published", prodTarget, stageTarget)

	// --wait takes the next step once the DNSKEY TTL has passed, and stops
	// where the parent's DS is needed.
	out := site.mustSlotdns("dnssec", "rollover", "yourwebapp.com", "--wait")
	if !strings.Contains(out.stdout, "stage ds") || !strings.Contains(out.stdout, "--ds-published") {
		t.Fatalf("rollover --wait: want it to stop at stage ds asking for the DS\n%v", out)
	}
	st = site.rollover()
	if st.Stage != "ds" || !st.NeedDS || len(st.DS) != 1 {
		t.Fatalf("after --wait: got %+v, want stage ds needing one DS", st)
	}
	validatedAll(t, port, "stage ds", prodTarget, stageTarget)

	// The registrar's part: the parent serves the new DS.
	testkit.WriteFile(t, parentFile, parentZoneText(st.DS))
	parent.mustSlotdns("reload")
	validated(t, port, "the parent's new DS", "yourwebapp.com.", "DS", "NOERROR", func(a digAnswer) error {
		for _, rr := range a.ofType(dns.TypeDS) {
			if rr.(*dns.DS).KeyTag == st.New {
				return nil
			}
		}
		return fmt.Errorf("no DS of key %d", st.New)
	})
	site.rollover("--ds-published", "--ds-ttl", "2")

	site.mustSlotdns("swap", "yourwebapp")
	validatedAll(t, port, "stage ds, swapped", stageTarget, prodTarget)

	st = waitStage(t, site, "done")
	if tags := dnskeyTags(t, site); len(tags) != 1 || tags[0] != st.New {
		t.Fatalf("done: DNSKEY tags %v, want only the new key %d", tags, st.New)
	}
	retired, _ := filepath.Glob(filepath.Join(site.dir, "keys", "retired", fmt.Sprintf("Kyourwebapp.com.+013+%05d.*", st.Old)))
	if len(retired) != 2 {
		t.Errorf("done: the old key's files in keys/retired: got %v, want its .key and .private", retired)
	}
	validatedAll(t, port, "done", stageTarget, prodTarget)

	site.stop()
	site.start()
	if tags := dnskeyTags(t, site); len(tags) != 1 || tags[0] != st.New {
		t.Fatalf("after a restart: DNSKEY tags %v, want only the new key %d", tags, st.New)
	}
	validatedAll(t, port, "after a restart", stageTarget, prodTarget)
}

// waitStage asks for the next step until the rollover reaches stage.
func waitStage(t *testing.T, in *instance, stage string) rolloverState {
	t.Helper()
	var st rolloverState
	if !poll(30*time.Second, func() bool { st = in.rollover(); return st.Stage == stage }) {
		t.Fatalf("the rollover did not reach stage %s within 30 s: %+v", stage, st)
	}
	return st
}

// dnskeyTags lists the tags of the DNSKEY RRset the site serves.
func dnskeyTags(t *testing.T, in *instance) []uint16 {
	t.Helper()
	resp, err := query(in.addr(), "yourwebapp.com.", dns.TypeDNSKEY, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var tags []uint16
	for _, rr := range resp.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			tags = append(tags, k.KeyTag())
		}
	}
	return tags
}

// TestDNSSECZSKRollover: with a KSK and a ZSK, a rollover replaces the
// ZSK by default, needs nothing of the parent, and every answer
// validates at every stage.
func TestDNSSECZSKRollover(t *testing.T) {
	t.Parallel()
	site := newDemo(t, chain(withTTL(1), withSigned("nsec3", "split_keys = true")))
	shortTTLs(site)
	addWildcard(site)
	site.start()
	port := startValidator(t, map[string]int{"yourwebapp.com": site.port, "cloudapp.test": site.port},
		trustAnchors(site, "yourwebapp.com.", "cloudapp.test."))
	validatedAll(t, port, "before the rollover", prodTarget, stageTarget)

	refused := func(want string, args ...string) {
		t.Helper()
		r := site.slotdns(append([]string{"dnssec", "rollover", "yourwebapp.com"}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("want a refusal saying %q: %v", want, r)
		}
	}
	refused("has no key rollover", "--wait")
	refused("not a CSK", "--start", "--key", "csk")
	refused(`want csk, ksk or zsk`, "--start", "--key", "both")

	st := site.rollover("--start")
	if st.Kind != "zsk" || st.Stage != "published" {
		t.Fatalf("rollover --start: got %+v, want a zsk rollover at stage published", st)
	}
	refused("finish it first", "--start")
	refused("not ds", "--ds-published")
	if tags := dnskeyTags(t, site); len(tags) != 3 {
		t.Fatalf("stage published: DNSKEY tags %v, want the KSK and both ZSKs", tags)
	}
	validatedAll(t, port, "stage published", prodTarget, stageTarget)
	waitStage(t, site, "active")
	validatedAll(t, port, "stage active", prodTarget, stageTarget)
	st = waitStage(t, site, "done")
	if tags := dnskeyTags(t, site); len(tags) != 2 || !slices.Contains(tags, st.New) || slices.Contains(tags, st.Old) {
		t.Fatalf("done: DNSKEY tags %v, want the KSK and the new ZSK %d", tags, st.New)
	}
	validatedAll(t, port, "done", prodTarget, stageTarget)
}
