package integration

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestKillDuringSwaps kills the server with SIGKILL at a random point of a
// loop of 200 swaps. After a restart the served answers equal the store's
// state, history is contiguous, and it holds every acknowledged swap (and at
// most the one in flight besides).
func TestKillDuringSwaps(t *testing.T) {
	t.Parallel()
	in := newDemo(t, nil)
	in.start()

	const total = 200
	killAfter := int64(10 + rand.IntN(total-20))
	var (
		acked    atomic.Int64
		stopping atomic.Bool
		reached  = make(chan struct{})
		loopErr  = make(chan error, 1)
	)
	go func() {
		defer close(loopErr)
		for i := range total {
			if stopping.Load() {
				return
			}
			r, err := execCLI(in.dir, "swap", "--reason", fmt.Sprintf("swap %d of the crash test", i), "yourwebapp")
			if err != nil {
				loopErr <- err
				return
			}
			if r.code != 0 {
				if !stopping.Load() {
					loopErr <- fmt.Errorf("swap %d before the kill: %v", i, r)
				}
				return
			}
			if acked.Add(1) == killAfter {
				close(reached)
			}
		}
	}()
	select {
	case <-reached:
	case err := <-loopErr:
		t.Fatalf("swap loop ended before the kill: %v", err)
	}
	stopping.Store(true)
	in.kill()
	if err := <-loopErr; err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d acknowledged swaps (of %d)", acked.Load(), total)

	in.start()
	stored := in.storedSlots("yourwebapp")
	got := in.served()
	if got.www != stored["production"] || got.stage != stored["staging"] {
		t.Errorf("after kill -9 and start: served %v, want the stored state %v", got, stored)
	}
	entries := in.history("yourwebapp")
	n := int64(len(entries))
	if n != acked.Load() && n != acked.Load()+1 {
		t.Errorf("history: got %d entries, want the %d acknowledged swaps (or one more in flight)", n, acked.Load())
	}
	for i, e := range entries {
		if e.Seq != uint64(i+1) || e.Kind != "swap" {
			t.Errorf("history entry %d: got seq %d kind %s, want seq %d kind swap", i, e.Seq, e.Kind, i+1)
		}
		if i > 0 && !maps.Equal(e.Before, entries[i-1].After) {
			t.Errorf("history entry %d: got before %v, want the after of entry %d %v", i, e.Before, i-1, entries[i-1].After)
		}
	}
	if n > 0 && !maps.Equal(entries[n-1].After, stored) {
		t.Errorf("last history entry: got after %v, want the stored state %v", entries[n-1].After, stored)
	}
	www, stage := prodTarget, stageTarget
	if n%2 == 1 {
		www, stage = stage, www
	}
	in.wantServed(fmt.Sprintf("after %d swaps", n), www, stage, fileSerial+uint32(n))
	in.mustSlotdns("verify", "yourwebapp")
}
