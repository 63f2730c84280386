package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/clock"
)

// Server-sent events let a dashboard show a change the moment it is
// made, wherever it was made, without asking again and again.

const (
	// maxStreams bounds the open event streams, streamsPerCaller those of
	// one token (or user on the socket).
	maxStreams       = 256
	streamsPerCaller = 16
	// streamBuffer is how many events wait for a slow reader before it is
	// told to read the state again.
	streamBuffer = 64
	// heartbeat keeps proxies and the browser from timing a quiet stream
	// out.
	heartbeat = 15 * time.Second
)

// eventBus hands events to the open streams. A nil bus drops them: a
// command working on the database file has nobody to tell.
type eventBus struct {
	clock clock.Clock

	mu     sync.Mutex
	subs   map[*stream]struct{}
	closed bool
}

// stream is one reader of the bus.
type stream struct {
	events  chan api.Event
	allowed func(api.Event) bool
	caller  string // identity.principal
	// missed is set when an event did not fit: the reader gets a resync
	// event and reads the state again.
	missed bool
	done   chan struct{} // closed when the bus closes
}

func newEventBus(c clock.Clock) *eventBus {
	return &eventBus{clock: c, subs: map[*stream]struct{}{}}
}

// publish sends e to every stream allowed to see it, never waiting for
// one.
func (b *eventBus) publish(e api.Event) {
	if b == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = b.clock.Now().UTC()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.allowed(e) {
			continue
		}
		select {
		case s.events <- e:
		default:
			s.missed = true
		}
	}
}

func (b *eventBus) subscribe(caller string, allowed func(api.Event) bool) (*stream, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, &api.Error{Kind: api.KindNoServer, Message: "the server is stopping"}
	}
	if len(b.subs) >= maxStreams {
		return nil, &api.Error{Kind: api.KindNoServer, Message: fmt.Sprintf("%d event streams are open already; close one", maxStreams)}
	}
	mine := 0
	for s := range b.subs {
		if s.caller == caller {
			mine++
		}
	}
	if mine >= streamsPerCaller {
		return nil, &api.Error{Kind: api.KindConflict, Message: fmt.Sprintf("%d event streams of %s are open already; close one (a dashboard tab holds one)", mine, caller)}
	}
	s := &stream{events: make(chan api.Event, streamBuffer), allowed: allowed, caller: caller, done: make(chan struct{})}
	b.subs[s] = struct{}{}
	return s, nil
}

func (b *eventBus) unsubscribe(s *stream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.done)
	}
}

// takeMissed reports and clears whether s missed events.
func (b *eventBus) takeMissed(s *stream) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	missed := s.missed
	s.missed = false
	return missed
}

// close ends every stream: a server that stops must not wait for them.
func (b *eventBus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.done)
	}
}

// events serves GET /v1/events as text/event-stream.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if h.bus == nil {
		h.result(w, nil, &api.Error{Kind: api.KindNoServer, Message: "events: no server runs"})
		return
	}
	id := identityOf(r.Context())
	allowed := func(api.Event) bool { return true }
	if only := id.token.App; only != "" {
		// A token of one app sees that app's events, and those of its
		// zone alone: not another app's, nor another zone's serials.
		app, err := h.c.App(r.Context(), only)
		if err != nil {
			h.result(w, nil, err)
			return
		}
		allowed = func(e api.Event) bool { return e.App == only || (e.App == "" && e.Zone == app.Zone) }
	}
	s, err := h.bus.subscribe(id.principal(), allowed)
	if err != nil {
		h.result(w, nil, err)
		return
	}
	defer h.bus.unsubscribe(s)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": slotdns events\n\n")
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(heartbeat) // real time: it is about connections
	defer tick.Stop()
	seq := 0
	send := func(e api.Event) bool {
		data, _ := json.Marshal(e)
		seq++
		_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", seq, e.Type, data)
		return err == nil && rc.Flush() == nil
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
			if !id.stillValid() {
				return
			}
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case e := <-s.events:
			if !id.stillValid() {
				return // the token was removed, or the session ended
			}
			if h.bus.takeMissed(s) && !send(api.Event{Type: api.EventResync, Time: e.Time}) {
				return
			}
			if !send(e) {
				return
			}
		}
	}
}
