package dnsserver

import (
	"maps"
	"sync"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/zones"
)

// Counters are kept by small integer ids, so that a query adds to an array
// element instead of hashing names. A zone or an app slot keeps its id for
// the life of the server: a count never moves to another name, and a zone
// that leaves a snapshot and comes back in a later one counts on from where
// it was, so that every counter only ever grows. Each published state maps
// its own zones and slots to these ids (idTable), and Counts reports the
// zones and slots of the state published when it is called: a zone no
// longer served stops being reported. Names that were ever published keep
// their ids, which costs a few bytes each; zones and apps come from the
// config, so they are few.
//
// A request is counted once, under the zone and the slot it was answered
// from (a zoneSlot, with slot 0 for a name of no slot): Counts sums the
// requests by zone, and the answers of each slot from the same counters,
// so a query for a slot name costs one add, not two.

// zoneSlot is a zone id and a slot id (0: none), as the requests are
// counted.
type zoneSlot struct{ zone, slot int32 }

// registry hands out the ids, one per name (or pair), never reused.
type registry struct {
	mu        sync.Mutex
	zones     map[string]int32 // origin -> id
	slots     map[SlotKey]int32
	pairs     map[zoneSlot]int32
	zoneNames []string   // by id; id 0 is "": no zone served here
	slotNames []SlotKey  // by id; id 0 is no slot
	pairList  []zoneSlot // by id; id 0 is no zone and no slot
}

func newRegistry() *registry {
	return &registry{
		zones:     map[string]int32{"": 0},
		slots:     map[SlotKey]int32{{}: 0},
		pairs:     map[zoneSlot]int32{{}: 0},
		zoneNames: []string{""},
		slotNames: []SlotKey{{}},
		pairList:  []zoneSlot{{}},
	}
}

// table gives the ids of snap's zones and slots, giving new names new
// ids. It starts from prev, the table of the state published before: a
// zone whose slots are the very slice prev mapped (a view With shared)
// keeps its entry, so that a change costs what it changes, as With does.
// A nil registry (not counting) gives a nil table.
func (r *registry) table(snap *zones.Snapshot, prev *idTable) *idTable {
	if r == nil {
		return nil
	}
	t := &idTable{zones: map[string]*zoneIDs{}}
	if snap == nil {
		return t
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev != nil {
		t.zones = maps.Clone(prev.zones)
		for origin, z := range t.zones {
			if in, ok := snap.ZoneInput(origin); !ok || !sameSlice(in.Slots, z.from) {
				delete(t.zones, origin)
			}
		}
	}
	for _, origin := range snap.Built() {
		r.add(t, snap, origin)
	}
	if len(t.zones) != snap.NumZones() {
		// snap was made from another snapshot than the one published
		// before: it has zones neither prev nor its own build mapped.
		for _, origin := range snap.Origins() {
			if _, ok := t.zones[origin]; !ok {
				r.add(t, snap, origin)
			}
		}
	}
	return t
}

// add maps the zone origin of snap and its slots in t.
func (r *registry) add(t *idTable, snap *zones.Snapshot, origin string) {
	in, _ := snap.ZoneInput(origin)
	zone := r.zoneID(origin)
	z := &zoneIDs{id: zone, pair: r.pairID(zoneSlot{zone, 0}), slots: make([]int32, len(in.Slots)), from: in.Slots}
	for i, sl := range in.Slots {
		z.slots[i] = r.pairID(zoneSlot{zone, r.slotID(SlotKey{App: sl.App, Slot: sl.Slot})})
	}
	t.zones[origin] = z
}

// sameSlice reports whether a and b are one slice: a snapshot's slices
// never change, so the slots are the same too.
func sameSlice(a, b []zones.Slot) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (r *registry) zoneID(origin string) int32 { return intern(r.zones, &r.zoneNames, origin) }
func (r *registry) slotID(k SlotKey) int32     { return intern(r.slots, &r.slotNames, k) }
func (r *registry) pairID(p zoneSlot) int32    { return intern(r.pairs, &r.pairList, p) }

// intern gives k its id: the one it has, or the next one.
func intern[K comparable](ids map[K]int32, list *[]K, k K) int32 {
	id, ok := ids[k]
	if !ok {
		id = int32(len(*list))
		ids[k] = id
		*list = append(*list, k)
	}
	return id
}

// names gives what every id handed out so far stands for. The slices only
// ever grow, so the part returned never changes.
func (r *registry) names() (zoneNames []string, slotNames []SlotKey, pairs []zoneSlot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.zoneNames[:len(r.zoneNames):len(r.zoneNames)], r.slotNames[:len(r.slotNames):len(r.slotNames)],
		r.pairList[:len(r.pairList):len(r.pairList)]
}

// idTable is one published state's map from its zones and slots to ids.
// Its methods give 0 (no zone, no slot) on a nil table.
type idTable struct {
	zones map[string]*zoneIDs // by origin
}

type zoneIDs struct {
	id    int32        // the zone's
	pair  int32        // the zoneSlot of the zone's names of no slot
	slots []int32      // the zoneSlot of each slot, by index in the zone's ZoneInput.Slots
	from  []zones.Slot // those slots, to tell whether a later snapshot has others
}

// ofAnswer gives the zone id and the zoneSlot id of a lookup's answer, or
// of the zone qname lies in when there was no lookup (a is zero).
func (t *idTable) ofAnswer(qname string, a zones.Answer) (zone, pair int32) {
	if t == nil {
		return 0, 0
	}
	var z *zoneIDs
	switch {
	case a.Zone != "":
		z = t.zones[a.Zone]
	case a.Result != zones.NotAuth:
		z = t.zone(qname)
	}
	if z == nil {
		return 0, 0
	}
	if a.Slot > 0 && a.Slot <= len(z.slots) {
		return z.id, z.slots[a.Slot-1]
	}
	return z.id, z.pair
}

// ofName gives the zone id and zoneSlot id (of no slot) of the zone qname
// (lowercase) lies in, for a query answered without a lookup.
func (t *idTable) ofName(qname string) (zone, pair int32) {
	if z := t.zone(qname); z != nil {
		return z.id, z.pair
	}
	return 0, 0
}

// zone gives the zone qname (lowercase) lies in: the longest origin that
// is a suffix of it, as the lookup picks it; nil when none.
func (t *idTable) zone(qname string) *zoneIDs {
	if t == nil || qname == "" {
		return nil
	}
	for off := 0; off < len(qname); {
		if z := t.zones[qname[off:]]; z != nil {
			return z
		}
		next, end := dns.NextLabel(qname, off)
		if end {
			break
		}
		off = next
	}
	return t.zones["."]
}
