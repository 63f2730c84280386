package dnsserver

import (
	"testing"

	"github.com/slotdns/slotdns/zones"
)

// TestIDTableFollowsSnapshots checks that a state's table maps exactly its
// snapshot's zones and slots, whether the snapshot was made by With from
// the one published before (whose unchanged zones keep their entries) or
// from anything else.
func TestIDTableFollowsSnapshots(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	first := twoZones(t, "green", "a.test.", "b.test.")
	t1 := r.table(first, nil)

	// With changes a.test.'s slot: b.test. keeps its entry.
	in, _ := first.ZoneInput("a.test.")
	in.Slots = []zones.Slot{{App: "a", Slot: "blue", Names: []string{"www.a.test."}, Target: in.Slots[0].Target, TTL: 30}}
	second, err := first.With(zones.Input{Zones: []zones.ZoneInput{in}})
	if err != nil {
		t.Fatal(err)
	}
	t2 := r.table(second, t1)
	if t2.zones["b.test."] != t1.zones["b.test."] {
		t.Error("b.test., which With shared, got a new entry")
	}
	checkTable(t, r, second, t2)

	// A snapshot made apart from the published one, with a zone the
	// table before did not have and b.test.'s slots in a new slice.
	third := twoZones(t, "green", "b.test.", "c.test.")
	checkTable(t, r, third, r.table(third, t2))
	checkTable(t, r, third, r.table(third, nil))
}

// checkTable checks that table maps every zone and slot of snap, and no
// other zone, to the ids the registry gave their names.
func checkTable(t *testing.T, r *registry, snap *zones.Snapshot, table *idTable) {
	t.Helper()
	if len(table.zones) != snap.NumZones() {
		t.Errorf("table has %d zones, want %d", len(table.zones), snap.NumZones())
	}
	for _, origin := range snap.Origins() {
		z := table.zones[origin]
		if z == nil || z.id != r.zones[origin] {
			t.Errorf("%s: got %+v, want id %d", origin, z, r.zones[origin])
			continue
		}
		in, _ := snap.ZoneInput(origin)
		if want := r.pairs[zoneSlot{z.id, 0}]; z.pair != want {
			t.Errorf("%s: got zoneSlot %d for no slot, want %d", origin, z.pair, want)
		}
		for i, sl := range in.Slots {
			if want := r.pairs[zoneSlot{z.id, r.slots[SlotKey{sl.App, sl.Slot}]}]; z.slots[i] != want {
				t.Errorf("%s slot %d: got zoneSlot %d, want %d (%s/%s)", origin, i, z.slots[i], want, sl.App, sl.Slot)
			}
		}
	}
}
