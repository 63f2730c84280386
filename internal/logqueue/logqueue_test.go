package logqueue

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/internal/testkit"
)

var countAttr = regexp.MustCompile(`count=(\d+)`)

// TestNeverWaitsForTheOutput: with the output stalled, 10,000 lines are
// logged without waiting; once it moves, the queued lines come out, then
// one line with the count of those dropped, and every line is accounted
// for.
func TestNeverWaitsForTheOutput(t *testing.T) {
	w := testkit.NewStalledWriter()
	h := New(slog.NewTextHandler(w, nil))
	log := slog.New(h).With("component", "test")
	const lines = 10000
	logged := make(chan struct{})
	go func() {
		for i := range lines {
			log.Info("a line", "n", i)
		}
		close(logged)
	}()
	select {
	case <-logged:
	case <-time.After(30 * time.Second):
		t.Fatal("logging waited for a stalled output")
	}
	w.Release()
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	out := w.String()
	written := strings.Count(out, "msg=\"a line\" component=test")
	if written == 0 || written > queueLen+1 {
		t.Fatalf("%d lines written, want the queued ones (1 to %d)", written, queueLen+1)
	}
	var dropped int
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Log lines dropped") {
			m := countAttr.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("dropped line %q has no count", line)
			}
			n, _ := strconv.Atoi(m[1])
			dropped += n
		}
	}
	if written+dropped != lines {
		t.Fatalf("%d written and %d counted as dropped, want %d in all\n%s", written, dropped, lines, out)
	}
}

// TestCloseWritesEverything: what is queued when Close is called is
// written before it returns, and a line logged after it is written at
// once.
func TestCloseWritesEverything(t *testing.T) {
	var buf testkit.Buffer
	h := New(slog.NewTextHandler(&buf, nil))
	log := slog.New(h)
	for i := range 100 {
		log.Info("queued", "n", i)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	log.Info("after close")
	out := buf.String()
	if got := strings.Count(out, "msg=queued"); got != 100 {
		t.Fatalf("%d queued lines written, want 100", got)
	}
	if !strings.Contains(out, "after close") {
		t.Fatal("a line after Close was not written")
	}
}
