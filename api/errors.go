package api

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Kinds of error, as the "kind" of an error reply and of the CLI's JSON
// errors. A caller branches on the kind, never on the message.
const (
	KindInvalid        = "invalid"         // the request can never succeed as written
	KindNotFound       = "not_found"       // no such app, slot, zone or history entry
	KindConflict       = "conflict"        // the state is not what the request expects: --expect, a concurrent change, a change in its checks
	KindCheckFailed    = "check_failed"    // a "before" check failed; Checks has the results
	KindNoServer       = "no_server"       // the request needs a running server
	KindUnknownOutcome = "unknown_outcome" // the server went away after receiving a change: it may or may not have committed
	KindDamaged        = "damaged"         // the database file is damaged
	KindUnauthorized   = "unauthorized"    // no token, a wrong one, or too many wrong ones from this source (HTTP 401, 429)
	KindForbidden      = "forbidden"       // the token's scope or app does not cover the request (HTTP 403)
	KindInternal       = "internal"        // anything else
)

// Sentinels, one per kind: errors.Is(err, api.ErrConflict) holds for an
// *Error of that kind, whether it came over the socket or from a change
// made on the database directly.
var (
	ErrInvalid        = errors.New(KindInvalid)
	ErrNotFound       = errors.New(KindNotFound)
	ErrConflict       = errors.New(KindConflict)
	ErrCheckFailed    = errors.New(KindCheckFailed)
	ErrNoServer       = errors.New(KindNoServer)
	ErrUnknownOutcome = errors.New(KindUnknownOutcome)
	ErrDamaged        = errors.New(KindDamaged)
	ErrUnauthorized   = errors.New(KindUnauthorized)
	ErrForbidden      = errors.New(KindForbidden)
)

var sentinels = map[string]error{
	KindInvalid:        ErrInvalid,
	KindNotFound:       ErrNotFound,
	KindConflict:       ErrConflict,
	KindCheckFailed:    ErrCheckFailed,
	KindUnauthorized:   ErrUnauthorized,
	KindForbidden:      ErrForbidden,
	KindNoServer:       ErrNoServer,
	KindUnknownOutcome: ErrUnknownOutcome,
	KindDamaged:        ErrDamaged,
}

// Error is an error of the control API: its kind, a message for people,
// and for a swap refused by its checks, their results. It is the body of
// every error reply: {"error": "...", "kind": "...", "checks": [...]}.
type Error struct {
	Message string        `json:"error"`
	Kind    string        `json:"kind"`
	Checks  []CheckResult `json:"checks,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap gives the sentinel of the error's kind.
func (e *Error) Unwrap() error { return sentinels[e.Kind] }

// Errorf returns an *Error of kind.
func Errorf(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf gives the kind of err: that of the *Error in its chain, of the
// sentinel it wraps, or KindInternal.
func KindOf(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Kind != "" {
		return e.Kind
	}
	for kind, sentinel := range sentinels {
		if errors.Is(err, sentinel) {
			return kind
		}
	}
	return KindInternal
}

// CheckText reports whether s may go into a reason or an actor: UTF-8
// text of at most MaxText bytes without control characters or
// bidirectional overrides, so that one change cannot forge rows of
// slotdns history or send escape sequences to the terminal printing it.
// field names s in the error, which is of KindInvalid.
func CheckText(field, s string) error {
	if len(s) > MaxText {
		return Errorf(KindInvalid, "%s is %d bytes long; keep it to %d", field, len(s), MaxText)
	}
	if !utf8.ValidString(s) {
		return Errorf(KindInvalid, "%s is not UTF-8 text", field)
	}
	for i, r := range s {
		if unicode.IsControl(r) || isBidiControl(r) {
			return Errorf(KindInvalid, "%s has the control character %U at byte %d; give plain text on one line", field, r, i)
		}
	}
	return nil
}

// MaxText bounds a reason or an actor.
const MaxText = 1000

// isBidiControl reports the characters that reorder how text around them
// is shown (Unicode's bidirectional embeddings, overrides and isolates).
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}
