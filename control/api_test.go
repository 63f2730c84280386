package control

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/testkit"
)

// raw sends a request to the control socket without the api client.
func (st *site) raw(method, path, body string) (int, api.Error) {
	st.t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", st.cfg.Control)
	}}}
	req, _ := http.NewRequest(method, "http://slotdns"+path, strings.NewReader(body))
	resp, err := c.Do(req)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e api.Error
	json.Unmarshal(data, &e)
	return resp.StatusCode, e
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	st := startSite(t, "", Options{})
	for _, tc := range []struct {
		method, path, body string
		status             int
		kind, msg          string
	}{
		{"GET", "/v1/apps/shop", "", 404, "not_found", `app "shop" not found; the config declares "site"`},
		{"DELETE", "/v1/apps/site", "", 405, "invalid", "method not allowed; use GET"},
		{"GET", "/v2/nothing", "", 404, "not_found", "no route GET /v2/nothing"},
		{"POST", "/v1/apps/site/swap", `{"slot": 1}`, 400, "invalid", "request body"},
		{"POST", "/v1/apps/site/swap", `{"colour": "red"}`, 400, "invalid", `unknown field "colour"`},
		{"POST", "/v1/apps/site/swap", `{} {}`, 400, "invalid", "more than one JSON value"},
		{"POST", "/v1/apps/site/swap", `{"expect": "blue.deploy.test."}`, 409, "conflict", `staging is "green.deploy.test.", expected "blue.deploy.test."`},
		{"POST", "/v1/apps/site/slots/staging", `{"target": "blue"}`, 400, "invalid", "a hostname needs its trailing dot"},
		{"POST", "/v1/apps/site/slots/qa", `{"target": "192.0.2.1"}`, 404, "not_found", `slot "qa" not found`},
		{"POST", "/v1/apps/site/rollback", `{}`, 409, "conflict", "nothing to roll back"},
		{"GET", "/v1/apps/site/history?limit=x", "", 400, "invalid", `limit "x"`},
	} {
		status, e := st.raw(tc.method, tc.path, tc.body)
		if status != tc.status || e.Kind != tc.kind || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s %s %s: got %d %s %q, want %d %s saying %q", tc.method, tc.path, tc.body, status, e.Kind, e.Message, tc.status, tc.kind, tc.msg)
		}
	}
}

// TestHandlerPanicIsAnInternalError: a bug in a handler answers 500 with
// a JSON error, and logs one line saying where, never a stack trace.
func TestHandlerPanicIsAnInternalError(t *testing.T) {
	t.Parallel()
	var logged testkit.Buffer
	h := &handler{handlerDeps: handlerDeps{log: slog.New(slog.NewTextHandler(&logged, nil))}}
	rec := httptest.NewRecorder()
	h.recovering(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/apps", nil))
	var e api.Error
	json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != 500 || e.Kind != api.KindInternal || !strings.Contains(e.Message, "internal error: boom") {
		t.Errorf("reply: %d %+v", rec.Code, e)
	}
	if log := logged.String(); !strings.Contains(log, "at=") || strings.Contains(log, "goroutine ") || strings.Count(log, "\n") != 1 {
		t.Errorf("log: %q, want one line saying where", log)
	}
}

// FuzzDecodeRequest gives the decoder of every change request any body:
// it answers an error or decodes one JSON object, and never panics.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{`{}`, `{"slot":"staging","with":"production","reason":"r","expect":"a.b."}`,
		`{"target":"192.0.2.1, 2001:db8::1"}`, `{"to":3,"force":true}`, `{"x":1}`, `{} {}`, `[`, ``, `{"reason":"\u0000"}`} {
		f.Add([]byte(seed))
	}
	h := &handler{handlerDeps: handlerDeps{log: testkit.Discard()}}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, into := range []any{&api.SwapRequest{}, &api.SetRequest{}, &api.RollbackRequest{}, &api.TokenRequest{}, &api.LoginRequest{}} {
			rec := httptest.NewRecorder()
			ok := h.decode(rec, httptest.NewRequest("POST", "/v1/apps/a/swap", bytes.NewReader(body)), into)
			if ok == (rec.Code >= 400) {
				t.Fatalf("decode %T of %q: ok %v with status %d", into, body, ok, rec.Code)
			}
		}
	})
}
