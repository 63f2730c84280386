package control

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/panics"
	"github.com/slotdns/slotdns/metrics"
)

// maxBody bounds a request body; every request is a few hundred bytes.
const maxBody = 64 << 10

// handlerDeps is what the handler serves besides the controller.
type handlerDeps struct {
	log    *slog.Logger
	clock  clock.Clock
	bus    *eventBus
	idem   *idempotency
	tokens *auth.Verifier
	info   func() api.ServerInfo
	// metrics counts requests by route and status; nil: not counted.
	metrics *metrics.Metrics
}

// route is one route of the control API and the scope it needs.
type route struct {
	method, path string
	need         auth.Scope
	serve        http.HandlerFunc
	// ofEachApp marks a route without {app} that shows a token limited to
	// one app only that app's part; the other routes without {app} are
	// the whole server's, for tokens of every app.
	ofEachApp bool
}

func (h *handler) routes() []route {
	return []route{
		{"GET", "/v1/apps", auth.ScopeRead, h.apps, true},
		{"GET", "/v1/apps/{app}", auth.ScopeRead, h.app, false},
		{"GET", "/v1/apps/{app}/plan", auth.ScopeRead, h.plan, false},
		{"POST", "/v1/apps/{app}/swap", auth.ScopeSwap, h.swap, false},
		{"POST", "/v1/apps/{app}/slots/{slot}", auth.ScopeSwap, h.set, false},
		{"POST", "/v1/apps/{app}/rollback", auth.ScopeSwap, h.rollback, false},
		{"GET", "/v1/apps/{app}/history", auth.ScopeRead, h.history, false},
		{"GET", "/v1/events", auth.ScopeRead, h.events, true},
		{"GET", "/v1/server", auth.ScopeRead, h.server, true},
		{"GET", "/v1/whoami", auth.ScopeRead, h.whoami, true},
		{"POST", "/v1/reload", auth.ScopeAdmin, h.reload, false},
		{"POST", "/v1/zones/{zone}/rollover", auth.ScopeAdmin, h.rollover, false},
		{"GET", "/v1/zones/{zone}/records", auth.ScopeRead, h.records, false},
		{"POST", "/v1/zones/{zone}/records/remove", auth.ScopeAdmin, h.removeRecords, false},
		{"GET", "/v1/backup", auth.ScopeAdmin, h.backup, false},
		{"GET", "/v1/tokens", auth.ScopeAdmin, h.listTokens, false},
		{"POST", "/v1/tokens", auth.ScopeAdmin, h.addToken, false},
		{"DELETE", "/v1/tokens/{name}", auth.ScopeAdmin, h.removeToken, false},
	}
}

// newHandler serves the control API of c on the routes above, each behind
// authenticate (who is asking: the socket's peer, or a token) and its
// scope. A change replies once its snapshot is published.
func newHandler(c api.Controller, deps handlerDeps, authenticator func(*handler) func(http.Handler) http.Handler) (*handler, *http.ServeMux) {
	h := &handler{c: c, handlerDeps: deps}
	authenticate := authenticator(h)
	mux := http.NewServeMux()
	methods := map[string][]string{}
	for _, r := range h.routes() {
		serve := r.serve
		// Token routes are left out: a replay would keep a new token's
		// secret in memory.
		if (r.method == http.MethodPost || r.method == http.MethodDelete) && !strings.HasPrefix(r.path, "/v1/tokens") {
			serve = h.idem.wrap(h, serve)
		}
		pattern := r.method + " " + r.path
		mux.Handle(pattern, h.counted(pattern, authenticate(h.authorize(r.need, r.ofEachApp, serve))))
		methods[r.path] = append(methods[r.path], r.method)
	}
	for path, allowed := range methods {
		// The same path with another method answers 405 in JSON.
		mux.HandleFunc(path, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			h.fail(w, &api.Error{Kind: api.KindInvalid, Message: fmt.Sprintf("%s %s: method not allowed; use %s", req.Method, req.URL.Path, strings.Join(allowed, " or "))}, http.StatusMethodNotAllowed)
		})
	}
	mux.HandleFunc("/v1/", h.notFound)
	return h, mux
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, &api.Error{Kind: api.KindNotFound, Message: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)}, http.StatusNotFound)
}

// counted counts each request of the route by its status.
func (h *handler) counted(pattern string, next http.Handler) http.Handler {
	if h.metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		h.metrics.API(pattern, cmp.Or(rec.status, http.StatusOK))
	})
}

// statusRecorder notes the status of a reply it passes on.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// authorize lets a request through when its identity has the scope and,
// for a token limited to one app, when the route is about that app, or
// shows each app's part (ofEachApp).
func (h *handler) authorize(need auth.Scope, ofEachApp bool, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := identityOf(r.Context())
		app := r.PathValue("app")
		switch {
		case !id.token.Scope.Allows(need):
			h.result(w, nil, api.Errorf(api.KindForbidden, "%s %s needs a token of scope %s; %s has scope %s", r.Method, r.URL.Path, need, id.name, scopeName(id.token.Scope)))
		case id.token.App != "" && app == "" && !ofEachApp:
			h.result(w, nil, api.Errorf(api.KindForbidden, "%s %s is the whole server's; token %s is limited to app %q", r.Method, r.URL.Path, id.name, id.token.App))
		case !id.token.Allows(need, cmp.Or(app, id.token.App)):
			h.result(w, nil, api.Errorf(api.KindForbidden, "token %s is limited to app %q, not %q", id.name, id.token.App, app))
		default:
			next(w, r)
		}
	})
}

func scopeName(s auth.Scope) string {
	if s == 0 {
		return "none"
	}
	return s.String()
}

// recovering answers a request whose handling panicked (a bug) with an
// internal error, and logs where, in one line: net/http would log a stack
// trace and drop the connection, which the client would take for an
// unknown outcome.
func (h *handler) recovering(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v) // a reply cut short on purpose: net/http drops the connection
				}
				h.log.Error("Control request panicked; please report it", "method", r.Method, "path", r.URL.Path, "panic", v, "at", panics.Site())
				h.reply(w, http.StatusInternalServerError, &api.Error{Kind: api.KindInternal, Message: fmt.Sprintf("%s %s: internal error: %v", r.Method, r.URL.Path, v)})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type handler struct {
	c api.Controller
	handlerDeps
}

// apps lists the apps, or for a token limited to one app, that one.
func (h *handler) apps(w http.ResponseWriter, r *http.Request) {
	apps, err := h.c.Apps(r.Context())
	if only := identityOf(r.Context()).token.App; only != "" {
		apps = slices.DeleteFunc(apps, func(a api.AppStatus) bool { return a.Name != only })
	}
	h.result(w, apps, err)
}

func (h *handler) plan(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	plan, err := h.c.Plan(r.Context(), r.PathValue("app"), q.Get("slot"), q.Get("with"))
	h.result(w, plan, err)
}

func (h *handler) now() time.Time { return h.clock.Now() }

// server describes the server; to a token of one app, with that app's
// zone alone.
func (h *handler) server(w http.ResponseWriter, r *http.Request) {
	info := h.info()
	if only := identityOf(r.Context()).token.App; only != "" {
		app, err := h.c.App(r.Context(), only)
		if err != nil {
			h.result(w, nil, err)
			return
		}
		info.Zones = []string{app.Zone}
	}
	h.result(w, info, nil)
}

func (h *handler) app(w http.ResponseWriter, r *http.Request) {
	app, err := h.c.App(r.Context(), r.PathValue("app"))
	h.result(w, app, err)
}

// The actor of a change is who the server knows is asking, whatever the
// request says.

func (h *handler) swap(w http.ResponseWriter, r *http.Request) {
	change(h, w, r, func(req api.SwapRequest) (api.Change, error) {
		req.Actor = identityOf(r.Context()).actor
		return h.c.Swap(r.Context(), r.PathValue("app"), req)
	})
}

func (h *handler) set(w http.ResponseWriter, r *http.Request) {
	change(h, w, r, func(req api.SetRequest) (api.Change, error) {
		req.Actor = identityOf(r.Context()).actor
		return h.c.Set(r.Context(), r.PathValue("app"), r.PathValue("slot"), req)
	})
}

func (h *handler) rollback(w http.ResponseWriter, r *http.Request) {
	change(h, w, r, func(req api.RollbackRequest) (api.Change, error) {
		req.Actor = identityOf(r.Context()).actor
		return h.c.Rollback(r.Context(), r.PathValue("app"), req)
	})
}

// change decodes the request of a change and replies with what run made
// of it. A change may wait for its checks, which may outlast the write
// timeout.
func change[Req any](h *handler, w http.ResponseWriter, r *http.Request, run func(Req) (api.Change, error)) {
	var req Req
	if !h.decode(w, r, &req) {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	ch, err := run(req)
	h.result(w, ch, err)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if text := r.URL.Query().Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 0 {
			h.result(w, nil, invalidf("limit %q: want a number, 0 for all", text))
			return
		}
		limit = n
	}
	entries, err := h.c.History(r.Context(), r.PathValue("app"), limit)
	h.result(w, entries, err)
}

func (h *handler) reload(w http.ResponseWriter, r *http.Request) {
	if !h.decode(w, r, &struct{}{}) {
		return
	}
	res, err := h.c.Reload(r.Context())
	h.result(w, res, err)
}

func (h *handler) rollover(w http.ResponseWriter, r *http.Request) {
	var req api.RolloverRequest
	if !h.decode(w, r, &req) {
		return
	}
	res, err := h.c.Rollover(r.Context(), r.PathValue("zone"), req)
	h.result(w, res, err)
}

func (h *handler) records(w http.ResponseWriter, r *http.Request) {
	res, err := h.c.Records(r.Context(), r.PathValue("zone"))
	h.result(w, res, err)
}

func (h *handler) removeRecords(w http.ResponseWriter, r *http.Request) {
	var req api.RemoveRecordsRequest
	if !h.decode(w, r, &req) {
		return
	}
	req.Actor = identityOf(r.Context()).actor
	res, err := h.c.RemoveRecords(r.Context(), r.PathValue("zone"), req)
	h.result(w, res, err)
}

// backup streams a consistent copy of the database.
func (h *handler) backup(w http.ResponseWriter, r *http.Request) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := h.c.Backup(r.Context(), w); err != nil {
		// Once bytes went out the status is sent: the connection is
		// dropped, so that the client sees the copy cut short rather
		// than a reply that ends as if whole.
		h.log.Error("Backup failed", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// decode reads one JSON object; unknown fields and trailing data are
// errors, and an empty body is an empty object. It answers the error
// itself and reports whether to go on.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	switch {
	case errors.Is(err, io.EOF):
		return true
	case err != nil:
		h.result(w, nil, invalidf("request body: %v", err))
		return false
	case dec.More():
		h.result(w, nil, invalidf("request body: more than one JSON value"))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		h.result(w, nil, invalidf("request body: data after the JSON object"))
		return false
	}
	return true
}

func (h *handler) result(w http.ResponseWriter, v any, err error) {
	if err != nil {
		e := apiError(err).(*api.Error)
		h.fail(w, e, httpStatus(e.Kind))
		return
	}
	h.reply(w, http.StatusOK, v)
}

func (h *handler) fail(w http.ResponseWriter, e *api.Error, status int) {
	if status == http.StatusInternalServerError {
		h.log.Error("Control request failed", "err", e)
	}
	h.reply(w, status, e)
}

func (h *handler) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		h.log.Debug("Control reply not sent", "err", err)
	}
}
