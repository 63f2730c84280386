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
)

// crashChildEnv, when set to a database path, turns TestCrashMidSwap into
// the child that swaps in a loop until it is killed.
const crashChildEnv = "SLOTDNS_STORE_CRASH_CHILD_DB"

// TestCrashMidSwap kills a process with SIGKILL while it swaps in a loop,
// several times, and checks that each reopen finds one committed state:
// history contiguous, the slots equal to the last entry's After and the
// journal one delta per swap up to the current serial.
func TestCrashMidSwap(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		swapUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "slotdns.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, db)
	db.Close()

	const kills = 3
	for round := range kills {
		swapped := runAndKill(t, path, 20+round*17)

		db, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		history, err := db.History(testApp, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(history) < swapped {
			t.Errorf("round %d: history has %d entries, but the child reported %d committed swaps", round, len(history), swapped)
		}
		checkHistory(t, history, len(history))
		last := history[len(history)-1]
		app, _ := db.App(testApp)
		if !maps.Equal(app.Slots, last.After) || app.Version != last.Version {
			t.Errorf("round %d: app %+v, want the last entry's after %v and version %d", round, app, last.After, last.Version)
		}
		if serial, _ := db.ZoneSerial(testZone); serial != last.Serial || serial != testSerial+uint32(len(history)) {
			t.Errorf("round %d: serial %d, want %d (last entry) = %d + %d swaps", round, serial, last.Serial, testSerial, len(history))
		}
		checkJournal(t, db, history)
		db.Close()
	}
}

// runAndKill starts the child on path, waits until it has reported at
// least minSwaps committed swaps, kills it with SIGKILL mid-loop and
// returns how many swaps it reported.
func runAndKill(t *testing.T, path string, minSwaps int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidSwap$")
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
	swapped := 0
	for swapped < minSwaps {
		select {
		case n, ok := <-reported:
			if !ok {
				cmd.Wait()
				t.Fatalf("child exited after %d swaps", swapped)
			}
			swapped = n
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child reported only %d swaps in 30s", swapped)
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
	return swapped
}

// swapUntilKilled is the child: it swaps, printing the count after each
// commit, until killed. It gives up after a minute so a lost parent cannot
// leave it running.
func swapUntilKilled(path string) {
	db, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db.SetJournal(stateJournaler, 1<<20)
	stop := time.Now().Add(time.Minute)
	for n := 1; time.Now().Before(stop); n++ {
		if _, err := db.Swap(SwapRequest{App: testApp, Meta: Meta{Actor: "crash-test"}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(n)
	}
	os.Exit(1)
}

// checkJournal checks that the journal holds one delta per swap of
// history, each showing the slots of its history entry.
func checkJournal(t *testing.T, db *DB, history []Entry) {
	t.Helper()
	deltas, ok, err := db.Journal(testZone, testSerial)
	if err != nil || !ok || len(deltas) != len(history) {
		t.Fatalf("Journal(%d): got %d deltas, %v, %v; want %d", testSerial, len(deltas), ok, err, len(history))
	}
	for i, d := range deltas {
		e := history[i]
		after := "app yourwebapp production=" + e.After["production"] + " staging=" + e.After["staging"]
		if d.From != e.Serial-1 || d.To != e.Serial || len(d.Added) != 2 || d.Added[1] != after {
			t.Errorf("delta %d: got %+v, want %d -> %d adding %q", i, d, e.Serial-1, e.Serial, after)
		}
	}
}
