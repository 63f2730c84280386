package control

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/update"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// FuzzDynamicLayer reads any bytes as an UPDATE of example.com., applies
// what passes the RFC's checks and the protected names to the zone file
// as the server does, stores the dynamic records, reads them back and
// lays them over the file again: every RRset the update changed must then
// hold exactly what the update gave it, and every other RRset what it
// held, so that what is stored serves what was acknowledged.
func FuzzDynamicLayer(f *testing.F) {
	dir := f.TempDir()
	testkit.WriteFile(f, filepath.Join(dir, "example.com.zone"), testkit.ExampleZone+"txt IN TXT \"file\"\nalias IN CNAME docs\n")
	file, err := zones.ParseFile("example.com.", filepath.Join(dir, "example.com.zone"))
	if err != nil {
		f.Fatal(err)
	}
	cfg := &config.Config{}
	zc := &config.Zone{Origin: "example.com."}
	seed := func(build func(m *dns.Msg)) {
		m := new(dns.Msg)
		m.SetUpdate("example.com.")
		build(m)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	mk := func(s string) []dns.RR {
		rr, err := dns.NewRR(s)
		if err != nil {
			f.Fatal(err)
		}
		return []dns.RR{rr}
	}
	seed(func(m *dns.Msg) { m.Insert(mk(`_acme-challenge.example.com. 60 IN TXT "tok"`)) })
	seed(func(m *dns.Msg) {
		m.Insert(mk(`txt.example.com. 60 IN TXT "dynamic"`))
		m.Remove(mk(`txt.example.com. 0 IN TXT "file"`))
	})
	seed(func(m *dns.Msg) { m.RemoveName(mk(`docs.example.com. 0 IN A 0.0.0.0`)) })
	seed(func(m *dns.Msg) { m.Insert(mk(`mail.example.com. 300 IN A 192.0.2.26`)) })
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil {
			return
		}
		req, uerr := update.Parse(m)
		if uerr != nil || req.Zone != "example.com." || update.Prescan(req.Zone, req.Updates) != nil {
			return
		}
		layered, _, err := file.WithLayer(zones.Layer{})
		if err != nil {
			t.Fatal(err)
		}
		view := updateView{z: layered, origin: "example.com.", soa: file.SOA, slots: map[string][]dns.RR{}}
		if update.CheckPrerequisites(req.Zone, req.Prereqs, view) != nil {
			return
		}
		changes := update.Apply(req.Zone, req.Updates, view)
		for _, c := range changes {
			if protected(cfg, zc, c.Name, c.Type) != "" {
				return // refused before anything is stored
			}
		}
		if unstorable(changes) != "" {
			return // refused too
		}
		next := nextDynamic(store.DynamicZone{Zone: "example.com."}, file, changes, "fuzz.", time.Unix(0, 0))
		layer, err := layerOf(next)
		if err != nil {
			t.Fatalf("the stored records do not read back: %v", err)
		}
		served, _, err := file.WithLayer(layer)
		if err != nil {
			t.Fatalf("the stored records do not lay over the file: %v\n%+v", err, next)
		}
		for _, c := range changes {
			if got := served.RRset(c.Name, c.Type); !sameRecords(got, c.After) {
				t.Fatalf("%s %s: served %v, the update gave %v", c.Name, dns.TypeToString[c.Type], got, c.After)
			}
		}
	})
}

// sameRecords reports whether a and b hold the same records, TTLs
// included, in any order.
func sameRecords(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y dns.RR) bool { return dns.IsDuplicate(x, y) && x.Header().Ttl == y.Header().Ttl }) {
			return false
		}
	}
	return true
}
