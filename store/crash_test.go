package store

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
)

// crashChildEnv, when set to a database path, turns TestCrashMidApply into
// the child that applies changes in a loop until it is killed.
const crashChildEnv = "SLOTDNS_STORE_CRASH_CHILD_DB"

const crashZone, crashSerial = "example.com.", 100

// TestCrashMidApply kills a process with SIGKILL while it commits changes
// as the pipeline does (app, zone serial, history entry and journal delta
// in one batch), several times, and checks that each reopen finds one
// whole state: history contiguous, the app as its last entry left it, the
// serial that entry's, and a journal delta per change up to it.
func TestCrashMidApply(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		applyUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "slotdns.db")
	for round := range 3 {
		committed := runAndKill(t, path, 20+round*17)
		db, err := Open(path, Options{JournalLimit: 1 << 20})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		var app App
		var zone Zone
		var history []Entry
		var deltas []Delta
		var ok bool
		err = db.Read(func(v View) error {
			var err error
			if app, err = v.App("site"); err != nil {
				return err
			}
			if zone, err = v.Zone(crashZone); err != nil {
				return err
			}
			if history, err = v.History("site", 0); err != nil {
				return err
			}
			deltas, ok, err = v.Journal(crashZone, crashSerial)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(history) < committed {
			t.Errorf("round %d: history has %d entries, but the child reported %d commits", round, len(history), committed)
		}
		last := history[len(history)-1]
		for i, e := range history {
			if e.Seq != uint64(i+1) || e.Version != uint64(i+1) || e.Serial != crashSerial+uint32(i+1) {
				t.Fatalf("round %d: entry %d: %+v", round, i, e)
			}
		}
		if !maps.Equal(app.Slots, last.After) || app.Version != last.Version || zone.Serial != last.Serial {
			t.Errorf("round %d: app %+v at serial %d, want the last entry's %v, version %d, serial %d", round, app, zone.Serial, last.After, last.Version, last.Serial)
		}
		if !ok || len(deltas) != len(history) {
			t.Errorf("round %d: journal of %d deltas (ok %v), want one per change: %d", round, len(deltas), ok, len(history))
		}
		db.Close()
	}
}

// runAndKill starts the child on path, waits until it has reported at
// least min commits, kills it with SIGKILL and returns how many it
// reported.
func runAndKill(t *testing.T, path string, min int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidApply$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := make(chan int)
	go func() {
		defer close(reported)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if n, err := strconv.Atoi(lines.Text()); err == nil {
				reported <- n
			}
		}
	}()
	deadline := time.After(30 * time.Second)
	committed := 0
	for committed < min {
		select {
		case n, ok := <-reported:
			if !ok {
				cmd.Wait()
				t.Fatalf("child exited after %d commits", committed)
			}
			committed = n
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child reported only %d commits in 30s", committed)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatal(err)
	}
	go func() { // drain, so the reader goroutine ends
		for range reported {
		}
	}()
	cmd.Wait()
	return committed
}

// applyUntilKilled is the child: it swaps the app's slots, as a read and
// a conditional batch, printing the count after each commit, until it is
// killed. It gives up after a minute so a lost parent cannot leave it
// running.
func applyUntilKilled(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db, err := Open(path, Options{Timeout: 10 * time.Second, JournalLimit: 1 << 20})
	if err != nil {
		fail(err)
	}
	stop := time.Now().Add(time.Minute)
	for n := 1; time.Now().Before(stop); n++ {
		var app App
		var zone Zone
		var last Entry
		err := db.Read(func(v View) error {
			var err error
			if app, err = v.App("site"); err != nil {
				app = App{Name: "site", Zone: crashZone, Slots: map[string]string{"production": "blue.", "staging": "green."}}
			}
			if zone, err = v.Zone(crashZone); err != nil {
				zone = Zone{Origin: crashZone, Serial: crashSerial}
			}
			last, _, err = v.LastEntry("site")
			return err
		})
		if err != nil {
			fail(err)
		}
		next := app
		next.Slots = map[string]string{"production": app.Slots["staging"], "staging": app.Slots["production"]}
		next.Version++
		serial := zone.Serial + 1
		b := &Batch{
			If:      []Cond{{Key: AppKey("site"), Rev: app.Rev}, {Key: ZoneKey(crashZone), Rev: zone.Rev}},
			Apps:    []App{next},
			Zones:   []Zone{{Origin: crashZone, Serial: serial}},
			History: []Entry{{App: "site", Entry: api.Entry{Seq: last.Seq + 1, Kind: "swap", Before: app.Slots, After: next.Slots, Zone: crashZone, Serial: serial, Version: next.Version}}},
			Journal: []Delta{{Zone: crashZone, From: zone.Serial, To: serial, Removed: []string{"old"}, Added: []string{"new"}}},
		}
		if _, err := db.Apply(b); err != nil {
			fail(err)
		}
		fmt.Println(n)
	}
	os.Exit(1)
}
