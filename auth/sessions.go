package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Sessions are the dashboard's logins: a random id in a cookie stands for
// a token until it expires, is ended, or its token is removed. They live
// in memory; a restart logs everyone out.
type Sessions struct {
	verifier *Verifier
	ttl      time.Duration
	max      int
	perToken int
	now      func() time.Time

	mu sync.Mutex
	m  map[[sha256.Size]byte]session // by the id's digest: the ids themselves are not kept
}

type session struct {
	token   [sha256.Size]byte // the digest of the token it was made from
	expires time.Time
}

// NewSessions returns sessions of tokens known to v, valid for ttl, at
// most max at once and perToken per token (the oldest go first).
func NewSessions(v *Verifier, ttl time.Duration, max, perToken int, now func() time.Time) *Sessions {
	return &Sessions{verifier: v, ttl: ttl, max: max, perToken: perToken, now: now, m: map[[sha256.Size]byte]session{}}
}

// Start makes a session for the token secret, which must be valid.
func (s *Sessions) Start(secret string) (id string, t Token, ok bool, err error) {
	d := digestOf(secret)
	t, ok, err = s.verifier.byDigest(d)
	if !ok || err != nil {
		return "", Token{}, false, err
	}
	var b [32]byte
	rand.Read(b[:])
	id = base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.expire(now)
	s.evict(func(sess session) bool { return sess.token == d }, s.perToken)
	s.evict(func(session) bool { return true }, s.max)
	s.m[digestOf(id)] = session{token: d, expires: now.Add(s.ttl)}
	return id, t, true, nil
}

// Lookup returns the token of a live session.
func (s *Sessions) Lookup(id string) (Token, bool, error) {
	s.mu.Lock()
	sess, ok := s.m[digestOf(id)]
	s.mu.Unlock()
	if !ok || !s.now().Before(sess.expires) {
		return Token{}, false, nil
	}
	return s.verifier.byDigest(sess.token)
}

// End ends a session.
func (s *Sessions) End(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, digestOf(id))
}

// expire drops expired sessions.
func (s *Sessions) expire(now time.Time) {
	for k, sess := range s.m {
		if !now.Before(sess.expires) {
			delete(s.m, k)
		}
	}
}

// evict ends the sessions of which, closest to expiry first, until fewer
// than limit are left.
func (s *Sessions) evict(which func(session) bool, limit int) {
	for {
		n, first := 0, true
		var oldest [sha256.Size]byte
		var at time.Time
		for k, sess := range s.m {
			if !which(sess) {
				continue
			}
			n++
			if first || sess.expires.Before(at) {
				oldest, at, first = k, sess.expires, false
			}
		}
		if n < limit {
			return
		}
		delete(s.m, oldest)
	}
}
