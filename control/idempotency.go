package control

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/store"
)

// A POST with an Idempotency-Key header runs once: a retry with the same
// key, from the same caller, gets the first reply instead of a second
// change. The replies are kept in memory for idempotencyTTL; a change
// also records the request's id in its history entry, in the same
// transaction, so that a retry after a restart finds the change it made
// (see service.replay).

const (
	idempotencyTTL = 24 * time.Hour
	maxIdempotent  = 10000
	maxKeyLen      = 255
)

type idempotency struct {
	clock clock.Clock

	mu      sync.Mutex
	replies map[string]*reply // by request id
}

// reply is the first reply to a keyed request; done is closed once it is
// known, so that a retry sent while the first runs waits for it.
type reply struct {
	fingerprint [sha256.Size]byte // method, path and body
	done        chan struct{}
	status      int
	header      http.Header
	body        []byte
	at          time.Time
}

func newIdempotency(c clock.Clock) *idempotency {
	return &idempotency{clock: c, replies: map[string]*reply{}}
}

type requestIDKey struct{}

// requestIDOf is what the history entry of a keyed request records, ""
// for others: the request id, then "/" and the request's fingerprint, so
// that a replay from history tells the same request from another one sent
// with the key.
func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID scopes a key to its caller, in a fixed length that says
// nothing of either.
func requestID(principal, key string) string {
	sum := sha256.Sum256([]byte(principal + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// wrap runs next once per key and caller.
func (ip *idempotency) wrap(h *handler, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		if len(key) > maxKeyLen || api.CheckText("Idempotency-Key", key) != nil {
			h.result(w, nil, invalidf("Idempotency-Key: want printable text of 1 to %d bytes, such as a UUID", maxKeyLen))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			h.result(w, nil, invalidf("request body: %v", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fp := sha256.Sum256(fmt.Appendf(nil, "%s %s\x00%s", r.Method, r.URL.RequestURI(), body))
		recorded := requestID(identityOf(r.Context()).principal(), key) + "/" + hex.EncodeToString(fp[:8])
		id := requestID(identityOf(r.Context()).principal(), key)

		first, rep := ip.claim(id, fp)
		if rep.fingerprint != fp {
			h.result(w, nil, invalidf("Idempotency-Key %q was sent before with another request; use a new key for each change", key))
			return
		}
		if !first {
			select {
			case <-rep.done:
			case <-r.Context().Done():
				return
			}
			if rep.status == 0 {
				// The first attempt died without a reply; this one runs.
				ip.forget(id, rep)
				ip.wrap(h, next)(w, r)
				return
			}
			for k, v := range rep.header {
				w.Header()[k] = v
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rep.status)
			w.Write(rep.body)
			return
		}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			rep.status, rep.header, rep.body = rec.status, w.Header().Clone(), rec.body.Bytes()
			if r.Context().Err() != nil {
				// The caller went away: it never got this reply, and a
				// retry must run again (a change that committed is then
				// found in the history).
				rep.status = 0
				ip.forget(id, rep)
			}
			close(rep.done)
		}()
		next(rec, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, recorded)))
	}
}

// claim returns the reply of id, and whether this request is the first.
func (ip *idempotency) claim(id string, fp [sha256.Size]byte) (first bool, rep *reply) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	now := ip.clock.Now()
	if rep, ok := ip.replies[id]; ok && now.Sub(rep.at) < idempotencyTTL {
		return false, rep
	}
	if len(ip.replies) >= maxIdempotent {
		ip.expire(now)
	}
	rep = &reply{fingerprint: fp, done: make(chan struct{}), at: now}
	ip.replies[id] = rep
	return true, rep
}

func (ip *idempotency) forget(id string, rep *reply) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	if ip.replies[id] == rep {
		delete(ip.replies, id)
	}
}

// expire drops replies past their time and, if none is, the oldest half
// of those finished.
func (ip *idempotency) expire(now time.Time) {
	for id, rep := range ip.replies {
		if now.Sub(rep.at) >= idempotencyTTL {
			delete(ip.replies, id)
		}
	}
	if len(ip.replies) < maxIdempotent {
		return
	}
	cut := now.Add(-idempotencyTTL / 2)
	for id, rep := range ip.replies {
		select {
		case <-rep.done:
			if rep.at.Before(cut) || len(ip.replies) >= maxIdempotent {
				delete(ip.replies, id)
			}
		default:
		}
	}
}

// recorder keeps a copy of the reply it passes on.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// replay finds the change a keyed request made before a restart (or
// before the caller went away): the history entry that records its id,
// among the app's latest and within idempotencyTTL. The same key sent
// with another request is refused, as in memory.
func (s *service) replay(ctx context.Context, app string) (api.Change, bool, error) {
	recorded := requestIDOf(ctx)
	if recorded == "" {
		return api.Change{}, false, nil
	}
	id, _, _ := strings.Cut(recorded, "/")
	var found *store.Entry
	err := s.db.Read(func(v store.View) error {
		entries, err := v.History(app, replayDepth)
		if err != nil {
			return err
		}
		for i := range entries {
			if strings.HasPrefix(entries[i].RequestID, id+"/") {
				found = &entries[i]
			}
		}
		return nil
	})
	if err != nil || found == nil || s.clock.Now().Sub(found.Time) >= idempotencyTTL {
		return api.Change{}, false, err
	}
	if found.RequestID != recorded {
		return api.Change{}, false, invalidf("the Idempotency-Key of this request made change #%d of %q, with another request; use a new key for each change", found.Seq, app)
	}
	return s.changeReply(app, *found, 0), true, nil
}

// replayDepth is how far back in an app's history replay looks.
const replayDepth = 100
