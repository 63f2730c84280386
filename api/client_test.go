package api

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// serveOnSocket serves h on a unix socket in a temporary folder.
func serveOnSocket(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return path
}

// TestUnknownOutcome: a server that goes away after it received a change
// leaves its outcome unknown, and the client says so rather than failing
// as if nothing happened.
func TestUnknownOutcome(t *testing.T) {
	t.Parallel()
	socket := serveOnSocket(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // as a server killed between commit and reply
		}
	})
	c := NewClient(socket)
	_, err := c.Swap(context.Background(), "site", SwapRequest{})
	if !errors.Is(err, ErrUnknownOutcome) || !strings.Contains(err.Error(), "may or may not have been made; look at slotdns history") {
		t.Errorf("swap: got %v, want an unknown outcome", err)
	}
	// A read that fails is just an error: nothing changed.
	if _, err := c.App(context.Background(), "site"); err == nil || errors.Is(err, ErrUnknownOutcome) {
		t.Errorf("status: got %v, want a plain error", err)
	}
}

func TestNoServer(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "none.sock")
	if _, err := Dial(path); !errors.Is(err, ErrNoServer) {
		t.Errorf("Dial with no socket: got %v, want ErrNoServer", err)
	}
	_, err := NewClient(path).Swap(context.Background(), "site", SwapRequest{})
	if !errors.Is(err, ErrNoServer) || errors.Is(err, ErrUnknownOutcome) {
		t.Errorf("swap with no server: got %v, want ErrNoServer: the request never left", err)
	}
}

func TestErrorReplies(t *testing.T) {
	t.Parallel()
	socket := serveOnSocket(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, `{"error": "swap \"site\": conflict: staging moved", "kind": "conflict"}`)
	})
	_, err := NewClient(socket).Swap(context.Background(), "site", SwapRequest{})
	if !errors.Is(err, ErrConflict) || KindOf(err) != KindConflict || err.Error() != `swap "site": conflict: staging moved` {
		t.Errorf("got %v (kind %s), want the server's conflict", err, KindOf(err))
	}
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"release 42 – déployé ✓", true},
		{"line\nbreak", false},
		{"tab\there", false},
		{"\x1b[31mred", false},
		{"bidi \u202e override", false},
		{"\xff not UTF-8", false},
		{strings.Repeat("x", MaxText+1), false},
	} {
		if err := CheckText("reason", tc.in); (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckText(%q): got %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}
