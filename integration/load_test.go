package integration

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSwapUnderLoad: clients query as fast as they can over UDP while 60
// swaps run. Every answer is NOERROR, in time, and one of the two mappings;
// between two SOA queries that show the same serial (no swap in between),
// www, stage and the apex give exactly the mapping of that serial: never
// half a swap, never production and staging on one target.
func TestSwapUnderLoad(t *testing.T) {
	t.Parallel()
	in := newDemo(t, nil)
	in.start()
	s0 := in.serial()

	const (
		clients = 4
		swaps   = 60
	)
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		problems []error
		windows  [2]atomic.Int64 // consistent windows seen per mapping: as configured, swapped
	)
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, err)
		}
		stop.Store(true)
	}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				w, err := queryWindow(in.addr())
				if err != nil {
					report(err)
					return
				}
				if w.serialBefore != w.serialAfter {
					continue // a swap landed inside the window: each answer was checked alone
				}
				parity := (w.serialBefore - s0) % 2
				www, stage := prodTarget, stageTarget
				if parity == 1 {
					www, stage = stage, www
				}
				if w.www != www || w.stage != stage || !slices.Equal(w.apex, targetAddrs[www]) {
					report(fmt.Errorf("at serial %d (%d swaps): got www -> %s, stage -> %s, apex %v; want www -> %s, stage -> %s, apex %v",
						w.serialBefore, w.serialBefore-s0, w.www, w.stage, w.apex, www, stage, targetAddrs[www]))
					return
				}
				windows[parity].Add(1)
			}
		}()
	}

	for i := range swaps {
		if stop.Load() {
			break
		}
		r := in.slotdns("swap", "yourwebapp")
		if r.code != 0 {
			report(fmt.Errorf("swap %d: %v", i, r))
		}
	}
	stop.Store(true)
	wg.Wait()

	for _, err := range problems {
		t.Error(err)
	}
	if got := in.serial(); got != s0+swaps && len(problems) == 0 {
		t.Errorf("serial after %d swaps: got %d, want %d", swaps, got, s0+swaps)
	}
	if windows[0].Load() == 0 || windows[1].Load() == 0 {
		t.Errorf("consistent windows checked: got %d as configured and %d swapped, want some of each", windows[0].Load(), windows[1].Load())
	}
	t.Logf("consistent windows checked: %d as configured, %d swapped", windows[0].Load(), windows[1].Load())
}

// window is what one client saw between two SOA queries.
type window struct {
	serialBefore, serialAfter uint32
	www, stage                string
	apex                      []string
}

// queryWindow asks SOA, www A, stage A, apex A, SOA in turn; each answer
// must be NOERROR with AA and name one of the two deployments.
func queryWindow(addr string) (window, error) {
	var w window
	ask := func(name string, qtype uint16) (digAnswer, error) {
		resp, err := query(addr, name, qtype, 2*time.Second)
		if err != nil {
			return digAnswer{}, fmt.Errorf("%s %s: %w", name, dns.TypeToString[qtype], err)
		}
		a := answerOf(resp)
		if a.status != "NOERROR" || !a.hasFlag("aa") || len(a.answer) == 0 {
			return a, fmt.Errorf("%s %s: got %s flags %v answer %v, want NOERROR with aa and an answer", name, dns.TypeToString[qtype], a.status, a.flags, a.answer)
		}
		return a, nil
	}
	serial := func() (uint32, error) {
		a, err := ask("yourwebapp.com.", dns.TypeSOA)
		if err != nil {
			return 0, err
		}
		soa, ok := a.answer[0].(*dns.SOA)
		if !ok {
			return 0, fmt.Errorf("yourwebapp.com SOA: got %v", a.answer)
		}
		return soa.Serial, nil
	}
	target := func(name string) (string, error) {
		a, err := ask(name, dns.TypeA)
		if err != nil {
			return "", err
		}
		t := a.cname(name)
		if t != prodTarget && t != stageTarget {
			return "", fmt.Errorf("%s A: got CNAME target %q, want %s or %s", name, t, prodTarget, stageTarget)
		}
		return t, nil
	}
	var errs [5]error
	w.serialBefore, errs[0] = serial()
	w.www, errs[1] = target("www.yourwebapp.com.")
	w.stage, errs[2] = target("stage.yourwebapp.com.")
	var apex digAnswer
	apex, errs[3] = ask("yourwebapp.com.", dns.TypeA)
	w.apex = apex.addrs("yourwebapp.com.")
	if errs[3] == nil && !slices.Equal(w.apex, targetAddrs[prodTarget]) && !slices.Equal(w.apex, targetAddrs[stageTarget]) {
		errs[3] = fmt.Errorf("yourwebapp.com A: got %v, want %v or %v", w.apex, targetAddrs[prodTarget], targetAddrs[stageTarget])
	}
	w.serialAfter, errs[4] = serial()
	return w, errors.Join(errs[:]...)
}
