// Package logqueue is a slog.Handler that never makes its caller wait for
// the log's output. A DNS server logs from the goroutines that answer
// queries; when its output is slow (a stalled pipe, a busy journal, a
// terminal paused with ^S), a handler that writes in the caller would
// stop the answers with it. Here records go into a bounded queue that one
// goroutine writes out. When the queue is full a record is dropped and
// counted, and a line with the count follows once the output keeps up.
package logqueue

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// queueLen is how many records may wait for the output.
const queueLen = 1024

// Handler queues records for its output handler. Close writes out what
// is queued; records after it are written in the caller.
type Handler struct {
	out slog.Handler // with this handler's attributes and group
	q   *queue       // shared by every handler derived from New's
}

type item struct {
	out slog.Handler
	r   slog.Record
}

type queue struct {
	out     slog.Handler // New's, for the dropped-records line
	items   chan item
	dropped atomic.Uint64
	mu      sync.RWMutex // held to send; Close takes it to stop sends
	closed  bool
	written chan struct{} // closed when the writer has written all
}

// New returns a handler that queues for out, and starts its writer.
func New(out slog.Handler) *Handler {
	q := &queue{out: out, items: make(chan item, queueLen), written: make(chan struct{})}
	go q.write()
	return &Handler{out: out, q: q}
}

func (q *queue) write() {
	defer close(q.written)
	for it := range q.items {
		it.out.Handle(context.Background(), it.r)
		if n := q.dropped.Swap(0); n > 0 {
			r := slog.NewRecord(time.Now(), slog.LevelWarn, "Log lines dropped: the log output was too slow to take them", 0)
			r.AddAttrs(slog.Uint64("count", n))
			q.out.Handle(context.Background(), r)
		}
	}
}

func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.out.Enabled(ctx, level)
}

// Handle queues r, or drops it when the queue is full; it never waits
// for the output (after Close it writes r itself).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	h.q.mu.RLock()
	defer h.q.mu.RUnlock()
	if h.q.closed {
		return h.out.Handle(ctx, r)
	}
	select {
	case h.q.items <- item{h.out, r.Clone()}:
	default:
		h.q.dropped.Add(1)
	}
	return nil
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{out: h.out.WithAttrs(attrs), q: h.q}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{out: h.out.WithGroup(name), q: h.q}
}

// Close writes out the records queued and returns when they are written,
// or when ctx ends first (an output stalled for good); later records are
// written in the caller.
func (h *Handler) Close(ctx context.Context) error {
	h.q.mu.Lock()
	if !h.q.closed {
		h.q.closed = true
		close(h.q.items)
	}
	h.q.mu.Unlock()
	select {
	case <-h.q.written:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
