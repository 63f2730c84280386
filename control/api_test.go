package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/store"
)

// newAPI serves the API of a Local on a unix socket in t.TempDir() and
// returns an HTTP client speaking to it.
func newAPI(t *testing.T) *http.Client {
	t.Helper()
	cfg := loadTestConfig(t, "")
	local, err := OpenLocal(cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(NewHandler(local, discard()))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func TestAPIRoutes(t *testing.T) {
	c := newAPI(t)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string // error code, or a JSON key of the reply
	}{
		{"list apps", "GET", "/v1/apps", "", 200, ""},
		{"one app", "GET", "/v1/apps/site", "", 200, "slots"},
		{"unknown app", "GET", "/v1/apps/nope", "", 404, codeNotFound},
		{"rollback with no history", "POST", "/v1/apps/site/rollback", `{}`, 409, codeConflict},
		{"swap", "POST", "/v1/apps/site/swap", `{"reason":"release","actor":"ann@host"}`, 200, "drained_at"},
		{"swap expecting the old target", "POST", "/v1/apps/site/swap", `{"expect":"green.deploy.test."}`, 409, codeConflict},
		{"swap expecting the current target", "POST", "/v1/apps/site/swap", `{"expect":"blue.deploy.test.","reason":"back"}`, 200, "serial"},
		{"swap with itself", "POST", "/v1/apps/site/swap", `{"slot":"staging","with":"staging"}`, 400, codeInvalid},
		{"swap of an unknown slot", "POST", "/v1/apps/site/swap", `{"slot":"qa"}`, 404, codeNotFound},
		{"swap of an unknown app", "POST", "/v1/apps/nope/swap", `{}`, 404, codeNotFound},
		{"swap with bad JSON", "POST", "/v1/apps/site/swap", `{"slot":`, 400, codeInvalid},
		{"swap with an unknown field", "POST", "/v1/apps/site/swap", `{"slto":"staging"}`, 400, codeInvalid},
		{"swap with a body too large", "POST", "/v1/apps/site/swap", `{"reason":"` + strings.Repeat("x", maxBody) + `"}`, 400, codeInvalid},
		{"swap with trailing data", "POST", "/v1/apps/site/swap", `{} {}`, 400, codeInvalid},
		{"swap with a bad expect", "POST", "/v1/apps/site/swap", `{"expect":"1.2.3.400"}`, 400, codeInvalid},
		{"set", "POST", "/v1/apps/site/slots/staging", `{"target":"test3.deploy.test."}`, 200, "before"},
		{"set to the same target", "POST", "/v1/apps/site/slots/staging", `{"target":"test3.deploy.test."}`, 409, codeConflict},
		{"set a bad target", "POST", "/v1/apps/site/slots/staging", `{"target":"not a name!"}`, 400, codeInvalid},
		{"set with a wrong expect", "POST", "/v1/apps/site/slots/staging", `{"target":"192.0.2.9","expect":"green.deploy.test."}`, 409, codeConflict},
		{"set an unknown slot", "POST", "/v1/apps/site/slots/qa", `{"target":"192.0.2.9"}`, 404, codeNotFound},
		{"set the apex outside our zones without resolver", "POST", "/v1/apps/site/slots/production", `{"target":"www.example.net."}`, 400, codeInvalid},
		{"set staging to production's target", "POST", "/v1/apps/site/slots/staging", `{"target":"blue.deploy.test."}`, 200, "after"},
		{"swap of two slots with one target", "POST", "/v1/apps/site/swap", `{}`, 409, codeSameTarget},
		{"rollback", "POST", "/v1/apps/site/rollback", `{"reason":"oops"}`, 200, "drained_at"},
		{"rollback with an empty body", "POST", "/v1/apps/site/rollback", ``, 200, "seq"},
		{"history", "GET", "/v1/apps/site/history", "", 200, ""},
		{"history with a limit", "GET", "/v1/apps/site/history?limit=2", "", 200, ""},
		{"history with a bad limit", "GET", "/v1/apps/site/history?limit=x", "", 400, codeInvalid},
		{"history of an unknown app", "GET", "/v1/apps/nope/history", "", 404, codeNotFound},
		{"unknown route", "GET", "/v2/apps", "", 404, codeNotFound},
		{"wrong method", "DELETE", "/v1/apps/site", "", 405, codeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://slotdns"+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d (%s), want %d", resp.StatusCode, data, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type: got %q, want application/json", ct)
			}
			if tt.status != 200 {
				var e errorBody
				if err := json.Unmarshal(data, &e); err != nil || e.Error == "" {
					t.Fatalf("error body: got %s, want {\"error\": ...}", data)
				}
				if e.Code != tt.code {
					t.Errorf("error code: got %q (%s), want %q", e.Code, e.Error, tt.code)
				}
				return
			}
			if tt.code != "" {
				var obj map[string]any
				if err := json.Unmarshal(data, &obj); err != nil {
					t.Fatalf("reply: %v: %s", err, data)
				}
				if _, ok := obj[tt.code]; !ok {
					t.Errorf("reply: got %s, want a %q field", data, tt.code)
				}
			}
		})
	}
}

func TestAPIHistoryShape(t *testing.T) {
	c := newAPI(t)
	for range 3 {
		resp, err := c.Post("http://slotdns/v1/apps/site/swap", "application/json", strings.NewReader(`{"actor":"ann@host","reason":"r"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := c.Get("http://slotdns/v1/apps/site/history?limit=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []store.Entry
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Seq != 2 || entries[1].Seq != 3 {
		t.Fatalf("history: got %+v, want entries 2 and 3", entries)
	}
	if e := entries[1]; e.Actor != "ann@host" || e.Reason != "r" || e.Kind != "swap" || e.Before["production"] != e.After["staging"] {
		t.Errorf("entry: got %+v, want a swap by ann@host", e)
	}
}

// The Client maps error replies back to the store's sentinels.
func TestClientErrors(t *testing.T) {
	cfg := loadTestConfig(t, "")
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown app", func() error { _, err := c.App(ctx, "nope"); return err }, store.ErrNotFound},
		{"bad target", func() error { _, err := c.Set(ctx, "site", "staging", SetRequest{Target: "??"}); return err }, ErrInvalid},
		{"expect mismatch", func() error {
			_, err := c.Swap(ctx, "site", SwapRequest{Expect: "192.0.2.1"})
			return err
		}, store.ErrConflict},
		{"nothing to roll back", func() error { _, err := c.Rollback(ctx, "site", RollbackRequest{}); return err }, store.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{invalidf("bad"), 400, codeInvalid},
		{fmt.Errorf("app: %w", store.ErrNotFound), 404, codeNotFound},
		{fmt.Errorf("swap: %w", store.ErrConflict), 409, codeConflict},
		{fmt.Errorf("swap: %w", store.ErrSameTarget), 409, codeSameTarget},
		{errors.New("disk on fire"), 500, codeInternal},
	}
	for _, tt := range tests {
		status, code := statusOf(tt.err)
		if status != tt.status || code != tt.code {
			t.Errorf("%v: got %d %s, want %d %s", tt.err, status, code, tt.status, tt.code)
		}
	}
}
