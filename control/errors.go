package control

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
)

// apiError gives err as the control API's *api.Error, its kind taken from
// the sentinels of the store, the pipeline and this package, so that a
// caller branches the same way on a server's reply and on a change made
// on the database directly.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*api.Error](err); ok && e.Error() == err.Error() {
		return e
	}
	e := &api.Error{Kind: kindOf(err), Message: err.Error()}
	if ce, ok := errors.AsType[*CheckError](err); ok {
		e.Checks = ce.Results
	}
	return e
}

func kindOf(err error) string {
	switch {
	case errors.Is(err, ErrCheckFailed):
		return api.KindCheckFailed
	case errors.Is(err, store.ErrDamaged):
		return api.KindDamaged
	case errors.Is(err, pipeline.ErrInvalid):
		return api.KindInvalid
	case errors.Is(err, store.ErrNotFound):
		return api.KindNotFound
	case errors.Is(err, store.ErrConflict):
		return api.KindConflict
	}
	return api.KindOf(err)
}

// httpStatus is the status of an error reply of kind.
func httpStatus(kind string) int {
	switch kind {
	case api.KindInvalid:
		return http.StatusBadRequest
	case api.KindNotFound:
		return http.StatusNotFound
	case api.KindConflict:
		return http.StatusConflict
	case api.KindCheckFailed:
		return http.StatusPreconditionFailed
	case api.KindNoServer:
		return http.StatusServiceUnavailable
	case api.KindUnauthorized:
		return http.StatusUnauthorized
	case api.KindForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{pipeline.ErrInvalid}, args...)...)
}

// ErrCheckFailed marks a change refused because a "before" check failed;
// see CheckError.
var ErrCheckFailed = errors.New("check failed")

// CheckError is a change refused by its gate, with every check's result.
type CheckError struct {
	App     string
	Kind    string // "swap" or "rollback"
	Results []store.CheckResult
}

func (e *CheckError) Error() string {
	var failed []string
	for _, r := range e.Results {
		if !r.Pass {
			failed = append(failed, fmt.Sprintf("check %q failed after %s: %s", r.Name, r.Duration.Round(time.Millisecond), r.Detail))
		}
	}
	return fmt.Sprintf("%s %q refused: %s; fix the slot about to become production, or force the change (--force; recorded in history)", e.Kind, e.App, strings.Join(failed, "; "))
}

func (e *CheckError) Unwrap() error { return ErrCheckFailed }
