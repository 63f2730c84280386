package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"

	"github.com/urfave/cli/v2"
)

const (
	// drainLineEvery is how often --wait prints a line when its output is
	// not a terminal.
	drainLineEvery = 5 * time.Second
	// drainRedrawEvery is how often --wait redraws its bar on a terminal.
	drainRedrawEvery = 200 * time.Millisecond
	drainBarWidth    = 30
)

// waitFlag is --wait of swap, set and rollback.
func waitFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wait", Usage: "after the change, wait until caches that honour TTLs have dropped the old answer"}
}

// drainLeft is the time left until at, rounded up to whole seconds; 0 when
// at has passed.
func drainLeft(at, now time.Time) time.Duration {
	left := at.Sub(now)
	if left <= 0 {
		return 0
	}
	if part := left % time.Second; part != 0 {
		left += time.Second - part
	}
	return left
}

// printDrain is the status line of an app's drain clock.
func printDrain(w io.Writer, app api.AppStatus, now time.Time) {
	if left := drainLeft(app.DrainedAt, now); left > 0 {
		fmt.Fprintf(w, "  draining: old answers expire in %s (at %s)\n", left, app.DrainedAt.Local().Format(time.TimeOnly))
		return
	}
	fmt.Fprintln(w, "  drained")
}

// isTerminal reports whether w is a terminal, which --wait redraws a bar on.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// waitDrained blocks until the instant at, from a change made at since,
// showing a bar redrawn in place on a terminal, a line every few seconds
// otherwise, and nothing when quiet.
func waitDrained(ctx context.Context, w io.Writer, since, at time.Time, quiet bool) error {
	terminal := !quiet && isTerminal(w)
	every := drainLineEvery
	if terminal {
		every = drainRedrawEvery
	}
	for {
		now := time.Now()
		left := drainLeft(at, now)
		switch {
		case quiet:
		case terminal:
			fmt.Fprintf(w, "\r%s", drainBar(since, at, now))
		case left > 0:
			fmt.Fprintf(w, "draining: %s left\n", left)
		}
		if left == 0 {
			break
		}
		timer := time.NewTimer(min(every, at.Sub(now)))
		select {
		case <-ctx.Done():
			timer.Stop()
			if terminal {
				fmt.Fprintln(w)
			}
			return fmt.Errorf("waiting for the old answers to expire by %s: %w", formatTime(at), ctx.Err())
		case <-timer.C:
		}
	}
	if terminal {
		fmt.Fprintln(w)
	}
	if !quiet {
		fmt.Fprintf(w, "drained: caches that honour TTLs have dropped the old answer (%s)\n", formatTime(at))
	}
	return nil
}

// drainBar is the one-line progress of a drain: "[#####.....] 12s left".
func drainBar(since, at, now time.Time) string {
	total := at.Sub(since)
	done := drainBarWidth
	if total > 0 && now.Before(at) {
		done = int(float64(drainBarWidth) * float64(now.Sub(since)) / float64(total))
		done = max(0, min(drainBarWidth, done))
	}
	left := drainLeft(at, now)
	return fmt.Sprintf("draining [%s%s] %4s left", strings.Repeat("#", done), strings.Repeat(".", drainBarWidth-done), left)
}
