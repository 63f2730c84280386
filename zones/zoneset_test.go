package zones

import (
	"fmt"
	"testing"
)

// TestZoneSetCopyOnWrite: a clone shares its zones until it writes, and a
// write to it leaves the set it came from as it was.
func TestZoneSetCopyOnWrite(t *testing.T) {
	var base *zoneSet // the empty snapshot's
	first := base.clone()
	for i := range 1000 {
		first.put(&zoneView{origin: fmt.Sprintf("z%d.test.", i), serial: 1})
	}
	second := first.clone()
	second.put(&zoneView{origin: "z5.test.", serial: 2})
	second.put(&zoneView{origin: "new.test.", serial: 2})
	if got := first.get("z5.test.").serial; got != 1 {
		t.Errorf("the first set's z5 has serial %d after a write to its clone, want 1", got)
	}
	if first.get("new.test.") != nil || first.len() != 1000 {
		t.Errorf("the first set has %d zones and new.test. %v, want 1000 and none", first.len(), first.get("new.test."))
	}
	if got := second.get("z5.test.").serial; got != 2 || second.len() != 1001 {
		t.Errorf("the clone's z5 has serial %d among %d zones, want 2 among 1001", got, second.len())
	}
	if first.get("z7.test.") != second.get("z7.test.") {
		t.Error("a zone neither set wrote is not shared")
	}
	n := 0
	for range second.all() {
		n++
	}
	if n != 1001 || base.len() != 0 || base.get("z1.test.") != nil {
		t.Errorf("all gave %d zones, want 1001; the nil set has %d", n, base.len())
	}
}
