package integration

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// The demo's deployments (zones/cloudapp.test.zone) and the addresses the
// apex alias serves for each.
const (
	prodTarget  = "serktools-stagetest.cloudapp.test."
	stageTarget = "e7e3f38589d04635a6d0d0aee22bd842.cloudapp.test."
	test3Target = "test3.cloudapp.test."
	fileSerial  = 2026112601 // zones/yourwebapp.com.zone
)

var targetAddrs = map[string][]string{
	prodTarget:  {"198.51.100.10", "198.51.100.11"},
	stageTarget: {"198.51.100.20"},
	test3Target: {"198.51.100.30"},
}

var targetAddrs6 = map[string][]string{
	prodTarget:  {"2001:db8:100::10"},
	stageTarget: {"2001:db8:100::20"},
	test3Target: {"2001:db8:100::30"},
}

// historyEntry is the part of `slotdns history --json` the tests read.
type historyEntry struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Kind    string            `json:"kind"`
	Actor   string            `json:"actor"`
	Reason  string            `json:"reason"`
	Before  map[string]string `json:"before"`
	After   map[string]string `json:"after"`
	Serial  uint32            `json:"serial"`
	Version uint64            `json:"version"`
}

// history runs `slotdns history --json APP`.
func (in *instance) history(app string) []historyEntry {
	in.t.Helper()
	r := in.mustSlotdns("history", "--json", app)
	var entries []historyEntry
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		in.t.Fatalf("history --json: %v\n%v", err, r)
	}
	return entries
}

// storedSlots reads the app's slot -> target mapping from
// `slotdns status --json APP`.
func (in *instance) storedSlots(app string) map[string]string {
	in.t.Helper()
	r := in.mustSlotdns("status", "--json", app)
	var status struct {
		Name  string `json:"name"`
		Slots []struct {
			Slot   string `json:"slot"`
			Target string `json:"target"`
		} `json:"slots"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil || status.Name != app {
		in.t.Fatalf("status --json %s: got app %q (err %v), want %q\n%v", app, status.Name, err, app, r)
	}
	slots := map[string]string{}
	for _, s := range status.Slots {
		slots[s.Slot] = s.Target
	}
	return slots
}

// served asks the server what each demo name answers: the CNAME targets of
// www and stage and the apex addresses.
type served struct {
	www, stage string
	apex       []string
	serial     uint32
}

func (s served) String() string {
	return fmt.Sprintf("www -> %s, stage -> %s, apex A %v, serial %d", s.www, s.stage, s.apex, s.serial)
}

func (in *instance) served() served {
	in.t.Helper()
	return served{
		www:    dig(in.t, in.port, "www.yourwebapp.com.", "A").cname("www.yourwebapp.com."),
		stage:  dig(in.t, in.port, "stage.yourwebapp.com.", "A").cname("stage.yourwebapp.com."),
		apex:   dig(in.t, in.port, "yourwebapp.com.", "A").addrs("yourwebapp.com."),
		serial: in.serial(),
	}
}

// serial is the SOA serial of yourwebapp.com as served.
func (in *instance) serial() uint32 {
	in.t.Helper()
	a := dig(in.t, in.port, "yourwebapp.com.", "SOA")
	for _, rr := range a.ofType(dns.TypeSOA) {
		return rr.(*dns.SOA).Serial
	}
	in.t.Fatalf("yourwebapp.com SOA: no SOA in the answer\n%s", a.output)
	return 0
}
