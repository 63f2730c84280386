package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/slotdns/slotdns/store"
)

// maxBody bounds a request body; every request is a few hundred bytes.
const maxBody = 64 << 10

// errorBody is every error reply: {"error": "...", "code": "..."}.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// Checks are the results of a swap refused by its checks.
	Checks []store.CheckResult `json:"checks,omitempty"`
}

// Error codes, one per status a caller branches on.
const (
	codeInvalid    = "invalid"
	codeNotFound   = "not_found"
	codeConflict   = "conflict"
	codeSameTarget = "same_target"
	codeInternal   = "internal"
	codeCheck      = "check_failed"
)

// NewHandler serves the control API of c:
//
//	GET  /v1/apps
//	GET  /v1/apps/{app}
//	POST /v1/apps/{app}/swap          {"slot","with","reason","expect","actor"}
//	POST /v1/apps/{app}/slots/{slot}  {"target","reason","expect","actor"}
//	POST /v1/apps/{app}/rollback      {"reason","actor"}
//	GET  /v1/apps/{app}/history?limit=N
//	POST /v1/reload                   re-read the zone files
//
// A mutation replies once its snapshot is published.
func NewHandler(c Controller, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{c: c, log: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/apps", h.apps)
	mux.HandleFunc("GET /v1/apps/{app}", h.app)
	mux.HandleFunc("POST /v1/apps/{app}/swap", h.swap)
	mux.HandleFunc("POST /v1/apps/{app}/slots/{slot}", h.set)
	mux.HandleFunc("POST /v1/apps/{app}/rollback", h.rollback)
	mux.HandleFunc("GET /v1/apps/{app}/history", h.history)
	mux.HandleFunc("POST /v1/reload", h.reload)
	// The same paths without a method answer 405 in JSON; anything else 404.
	for _, path := range []string{"/v1/apps", "/v1/apps/{app}", "/v1/apps/{app}/swap", "/v1/apps/{app}/slots/{slot}", "/v1/apps/{app}/rollback", "/v1/apps/{app}/history", "/v1/reload"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			h.reply(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("%s %s: method not allowed", r.Method, r.URL.Path), Code: codeInvalid})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.reply(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("no route %s %s", r.Method, r.URL.Path), Code: codeNotFound})
	})
	return mux
}

type handler struct {
	c   Controller
	log *slog.Logger
}

func (h *handler) apps(w http.ResponseWriter, r *http.Request) {
	apps, err := h.c.Apps(r.Context())
	h.result(w, apps, err)
}

func (h *handler) app(w http.ResponseWriter, r *http.Request) {
	app, err := h.c.App(r.Context(), r.PathValue("app"))
	h.result(w, app, err)
}

func (h *handler) swap(w http.ResponseWriter, r *http.Request) {
	var req SwapRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	// A swap waits for its checks, which may outlast the write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	change, err := h.c.Swap(r.Context(), r.PathValue("app"), req)
	h.result(w, change, err)
}

func (h *handler) set(w http.ResponseWriter, r *http.Request) {
	var req SetRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	change, err := h.c.Set(r.Context(), r.PathValue("app"), r.PathValue("slot"), req)
	h.result(w, change, err)
}

func (h *handler) rollback(w http.ResponseWriter, r *http.Request) {
	var req RollbackRequest
	if err := decodeBody(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	change, err := h.c.Rollback(r.Context(), r.PathValue("app"), req)
	h.result(w, change, err)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if text := r.URL.Query().Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 0 {
			h.fail(w, invalidf("limit %q: want a number, 0 for all", text))
			return
		}
		limit = n
	}
	entries, err := h.c.History(r.Context(), r.PathValue("app"), limit)
	h.result(w, entries, err)
}

// decodeBody reads one JSON object; unknown fields and trailing data are
// errors. An empty body is an empty object.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return invalidf("request body: %v", err)
	}
	if dec.More() {
		return invalidf("request body: more than one JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidf("request body: data after the JSON object")
	}
	return nil
}

func (h *handler) result(w http.ResponseWriter, v any, err error) {
	if err != nil {
		h.fail(w, err)
		return
	}
	h.reply(w, http.StatusOK, v)
}

func (h *handler) fail(w http.ResponseWriter, err error) {
	status, code := statusOf(err)
	if status == http.StatusInternalServerError {
		h.log.Error("Control request failed", "err", err)
	}
	body := errorBody{Error: err.Error(), Code: code}
	var ce *CheckError
	if errors.As(err, &ce) {
		body.Checks = ce.Results
	}
	h.reply(w, status, body)
}

func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, ErrCheckFailed):
		return http.StatusPreconditionFailed, codeCheck
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, codeInvalid
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, codeNotFound
	case errors.Is(err, store.ErrSameTarget):
		return http.StatusConflict, codeSameTarget
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, codeConflict
	default:
		return http.StatusInternalServerError, codeInternal
	}
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

func (h *handler) reload(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(w, r, &struct{}{}); err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.c.Reload(r.Context())
	h.result(w, res, err)
}
