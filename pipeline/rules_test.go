package pipeline

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/serial"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"
)

const (
	blue  = "blue.deploy.test."
	green = "green.deploy.test."
	test3 = "test3.deploy.test."
)

func slots(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestSlotRules pins every rule of swap, set and rollback: what the slots
// become, or the refusal, its kind and its words.
func TestSlotRules(t *testing.T) {
	t.Parallel()
	start := slots("production", blue, "staging", green, "qa", green)
	swap := &store.Entry{Entry: api.Entry{Seq: 4, Kind: "swap", Actor: "alice", Before: slots("production", green, "staging", blue, "qa", green), After: start}}
	for _, tc := range []struct {
		name    string
		rule    func() (map[string]string, error)
		want    map[string]string
		wantErr error
		wantMsg string
	}{
		{"swap", func() (map[string]string, error) { return SwapSlots(start, "staging", "production", "") },
			slots("production", green, "staging", blue, "qa", green), nil, ""},
		{"swap expecting the current target", func() (map[string]string, error) { return SwapSlots(start, "staging", "production", green) },
			slots("production", green, "staging", blue, "qa", green), nil, ""},
		{"swap expecting another target", func() (map[string]string, error) { return SwapSlots(start, "staging", "production", blue) },
			nil, store.ErrConflict, `staging is "green.deploy.test.", expected "blue.deploy.test."`},
		{"swap of one target", func() (map[string]string, error) { return SwapSlots(start, "staging", "qa", "") },
			nil, ErrSameTarget, `staging and qa both point at "green.deploy.test."`},
		{"swap with itself", func() (map[string]string, error) { return SwapSlots(start, "qa", "qa", "") },
			nil, ErrInvalid, `swap slot "qa" with itself`},
		{"swap of an unknown slot", func() (map[string]string, error) { return SwapSlots(start, "canary", "production", "") },
			nil, store.ErrNotFound, `slot "canary" not found; the app has slots production, qa, staging`},
		{"set", func() (map[string]string, error) { return SetSlot(start, "staging", test3, green) },
			slots("production", blue, "staging", test3, "qa", green), nil, ""},
		{"set to the current target", func() (map[string]string, error) { return SetSlot(start, "staging", green, "") },
			nil, ErrNoChange, `staging already points at "green.deploy.test."`},
		{"set expecting another target", func() (map[string]string, error) { return SetSlot(start, "staging", test3, blue) },
			nil, store.ErrConflict, `expected "blue.deploy.test."`},
		{"rollback", func() (map[string]string, error) { return RollbackSlots(start, swap) },
			swap.Before, nil, ""},
		{"rollback without history", func() (map[string]string, error) { return RollbackSlots(start, nil) },
			nil, store.ErrConflict, "nothing to roll back"},
		{"rollback after another change", func() (map[string]string, error) {
			return RollbackSlots(slots("production", blue, "staging", test3, "qa", green), swap)
		}, nil, store.ErrConflict, `since entry 4 (swap by alice), staging changed from "green.deploy.test." to "test3.deploy.test."`},
		{"rollback keeps a slot added since the entry", func() (map[string]string, error) {
			return RollbackSlots(slots("production", blue, "staging", green, "qa", green, "canary", test3), swap)
		}, slots("production", green, "staging", blue, "qa", green, "canary", test3), nil, ""},
		{"rollback ignores a slot forgotten since the entry", func() (map[string]string, error) {
			return RollbackSlots(slots("production", blue, "staging", green), swap)
		}, slots("production", green, "staging", blue), nil, ""},
		{"rollback of an entry that changed only forgotten slots", func() (map[string]string, error) {
			return RollbackSlots(slots("qa", green), swap)
		}, nil, ErrNoChange, "changed none of the slots the app has now"},
		{"rollback to an entry keeps a slot added since", func() (map[string]string, error) {
			return RollbackToSlots(slots("production", blue, "staging", green, "canary", test3), store.Entry{Entry: api.Entry{Seq: 2, After: swap.Before}}, nil)
		}, slots("production", green, "staging", blue, "canary", test3), nil, ""},
		{"rollback to an entry", func() (map[string]string, error) {
			return RollbackToSlots(start, store.Entry{Entry: api.Entry{Seq: 2, After: swap.Before}}, start)
		},
			swap.Before, nil, ""},
		{"rollback to the current slots", func() (map[string]string, error) {
			return RollbackToSlots(start, store.Entry{Entry: api.Entry{Seq: 2, Kind: "set", After: start}}, nil)
		}, nil, ErrNoChange, "already are as entry 2 (set by unknown) left them"},
		{"rollback to, changed while checked", func() (map[string]string, error) {
			return RollbackToSlots(start, store.Entry{Entry: api.Entry{Seq: 2, After: swap.Before}}, slots("production", blue, "staging", test3, "qa", green))
		}, nil, store.ErrConflict, `while the rollback was checked, staging changed from "test3.deploy.test." to "green.deploy.test."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := maps.Clone(start)
			got, err := tc.rule()
			if !maps.Equal(start, before) {
				t.Fatalf("the rule changed its input: %v", start)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("got %v, want %v saying %q", err, tc.wantErr, tc.wantMsg)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v, want %v", got, err, tc.want)
			}
		})
	}
}

func TestSerials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ serial, atLeast, want uint32 }{
		{1, 0, 2}, {1, 10, 10}, {10, 5, 11}, {0xFFFFFFFF, 0, 0}, {0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF}, {5, 0xFFFFFFF0, 6},
		{0, 1 << 31, 1<<31 - 1}, // a step of 2^31 is no order: one less
	} {
		if got := NextSerialAtLeast(tc.serial, tc.atLeast); got != tc.want {
			t.Errorf("NextSerialAtLeast(%d, %d): got %d, want %d", tc.serial, tc.atLeast, got, tc.want)
		}
	}
	// Past 2^31 a change steps by one, as anywhere else.
	for _, serial := range []uint32{1<<31 + 1, 0xFFFFFFFE, 0xFFFFFFFF} {
		if got := NextSerial(serial); got != serial+1 {
			t.Errorf("NextSerial(%d): got %d, want %d", serial, got, serial+1)
		}
	}
	if !serial.Less(0xFFFFFFFF, 0) || serial.Less(0, 0xFFFFFFFF) || serial.Less(1, 1<<31+1) || serial.Less(1<<31+1, 1) {
		t.Error("SerialLess: wrong order across the wrap, or an order where RFC 1982 has none")
	}
}

func TestSeedZone(t *testing.T) {
	t.Parallel()
	stored := &store.Zone{Origin: "example.com.", Serial: 100, Digest: "d1"}
	for _, tc := range []struct {
		name       string
		stored     *store.Zone
		file       uint32
		digest     string
		want       uint32
		wantMoved  bool
		wantDigest string
	}{
		{"new zone takes the file's serial", nil, 7, "d1", 7, true, "d1"},
		{"same content keeps the serial", stored, 7, "d1", 100, false, "d1"},
		{"same content, a later file serial", stored, 200, "d1", 200, true, "d1"},
		{"other content moves the serial", stored, 7, "d2", 101, true, "d2"},
		{"other content, a later file serial", stored, 300, "d2", 300, true, "d2"},
		{"a journal cut by an older version is cleared", &store.Zone{Origin: "example.com.", Serial: 100, Digest: "d1", JournalCut: true}, 7, "d1", 100, true, "d1"},
	} {
		got, moved := SeedZone(tc.stored, "example.com.", tc.file, tc.digest)
		if got.Serial != tc.want || moved != tc.wantMoved || got.Digest != tc.wantDigest || got.JournalCut || got.Origin != "example.com." {
			t.Errorf("%s: got %+v, moved %v, want serial %d, moved %v, digest %s", tc.name, got, moved, tc.want, tc.wantMoved, tc.wantDigest)
		}
	}
}

func TestSeedApp(t *testing.T) {
	t.Parallel()
	ac := &config.App{Name: "site", Zone: "example.com.", Slots: []config.Slot{
		{Name: "production", Target: zones.Target{Host: blue}},
		{Name: "qa", Target: zones.Target{Host: test3}},
		{Name: "staging", Target: zones.Target{Host: green}},
	}}
	fresh, added := SeedApp(nil, ac)
	if !maps.Equal(fresh.Slots, slots("production", blue, "qa", test3, "staging", green)) || len(added) != 3 || fresh.Version != 0 {
		t.Errorf("new app: got %+v, added %v", fresh, added)
	}
	stored := &store.App{Name: "site", Zone: "other.com.", Version: 9, Slots: slots("production", green, "staging", blue)}
	next, added := SeedApp(stored, ac)
	want := slots("production", green, "staging", blue, "qa", test3)
	if !maps.Equal(next.Slots, want) || next.Version != 9 || next.Zone != "example.com." || len(added) != 1 || added[0] != "qa" {
		t.Errorf("stored app: got %+v, added %v; want slots %v kept at version 9, qa added, moved to example.com.", next, added, want)
	}
	if len(stored.Slots) != 2 {
		t.Error("SeedApp changed the stored app it was given")
	}
}

func TestRetire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	first := Retire(store.DrainState{}, "a", 30, at)
	if !first.DrainedAt.IsZero() || first.Digest != "a" || first.TTL != 30 {
		t.Errorf("first answers: got %+v, want nothing to drain", first)
	}
	swapped := Retire(first, "b", 30, at)
	if want := at.Add(31 * time.Second); !swapped.DrainedAt.Equal(want) {
		t.Errorf("other answers: drained at %v, want %v (TTL + a second)", swapped.DrainedAt, want)
	}
	lowered := Retire(first, "a", 2, at)
	if want := at.Add(31 * time.Second); !lowered.HeldUntil.Equal(want) || !lowered.DrainedAt.IsZero() {
		t.Errorf("same answers with a lower TTL: got %+v, want held until %v", lowered, want)
	}
	later := Retire(lowered, "c", 2, at.Add(time.Second))
	if want := at.Add(31 * time.Second); !later.DrainedAt.Equal(want) {
		t.Errorf("a change after lowering the TTL: drained at %v, want %v (the answers served with the old TTL)", later.DrainedAt, want)
	}
}
