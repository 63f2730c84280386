package auth

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokenFileRoundTrip(t *testing.T) {
	f := File{Path: filepath.Join(t.TempDir(), "tokens")}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	secret, tok, err := f.Add("ci", ScopeSwap, "yourwebapp", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) != len(tokenPrefix)+43 {
		t.Fatalf("secret %q: want %s and 43 base64url characters", secret, tokenPrefix)
	}
	data, _ := os.ReadFile(f.Path)
	if strings.Contains(string(data), secret) || strings.Contains(string(data), secret[len(tokenPrefix):]) {
		t.Fatal("the file holds the token itself")
	}
	info, _ := os.Stat(f.Path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
	if _, _, err := f.Add("ci", ScopeRead, "", now); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("second add of ci: %v, want exists", err)
	}
	if _, _, err := f.Add("root", ScopeAdmin, "yourwebapp", now); err == nil {
		t.Fatal("admin token limited to an app was accepted")
	}
	if _, _, err := f.Add("bad name", ScopeRead, "", now); err == nil {
		t.Fatal("a name with a space was accepted")
	}

	v, err := NewVerifier(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := v.Check(secret)
	if err != nil || !ok || got != tok {
		t.Fatalf("Check(secret) = %+v %v %v, want %+v", got, ok, err, tok)
	}
	if _, ok, _ := v.Check(secret + "x"); ok {
		t.Fatal("a wrong token verified")
	}
	if !got.Allows(ScopeRead, "yourwebapp") || !got.Allows(ScopeSwap, "yourwebapp") || got.Allows(ScopeAdmin, "") || got.Allows(ScopeRead, "other") {
		t.Fatal("Allows does not follow scope and app")
	}

	// A removal is seen by the running verifier at once.
	if err := f.Remove("ci"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := v.Check(secret); ok {
		t.Fatal("a removed token still verifies")
	}
	if err := f.Remove("ci"); err == nil {
		t.Fatal("removing a missing token succeeded")
	}
}

func TestTokenFileRefusedWhenReadableByOthers(t *testing.T) {
	f := File{Path: filepath.Join(t.TempDir(), "tokens")}
	secret, _, err := f.Add("ci", ScopeRead, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NewVerifier(f.Path)
	os.Chmod(f.Path, 0o644)
	_, ok, err := v.Check(secret)
	if ok || err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Check on a 0644 file: ok %v err %v, want refused with chmod 600", ok, err)
	}
	os.Chmod(f.Path, 0o600)
	if _, ok, err := v.Check(secret); !ok || err != nil {
		t.Fatalf("after chmod 600: ok %v err %v", ok, err)
	}
}

func TestTokenFileDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	for _, text := range []string{`{"tokens": [`, `{"tokens":[{"name":"a","scope":"read","digest":"md5:00"}]}`, `{"tokens":[{"name":"a","scope":"root","digest":"x"}]}`} {
		os.WriteFile(path, []byte(text), 0o600)
		if _, err := (File{Path: path}).Load(); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%s): %v, want an error naming the file", text, err)
		}
	}
}

func TestConcurrentAddsLoseNothing(t *testing.T) {
	f := File{Path: filepath.Join(t.TempDir(), "tokens")}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, _, err := f.Add("t"+string(rune('a'+i)), ScopeRead, "", time.Now()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tokens, err := f.Load()
	if err != nil || len(tokens) != 20 {
		t.Fatalf("%d tokens, %v; want 20", len(tokens), err)
	}
}

func TestSessions(t *testing.T) {
	f := File{Path: filepath.Join(t.TempDir(), "tokens")}
	secret, _, _ := f.Add("alice", ScopeSwap, "", time.Now())
	v, _ := NewVerifier(f.Path)
	now := time.Unix(1000, 0)
	s := NewSessions(v, time.Hour, 3, 2, func() time.Time { return now })
	if _, _, ok, _ := s.Start("sdt_wrong"); ok {
		t.Fatal("a session from a wrong token")
	}
	id, _, ok, err := s.Start(secret)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if tok, ok, _ := s.Lookup(id); !ok || tok.Name != "alice" {
		t.Fatal("live session not found")
	}
	s.End(id)
	if _, ok, _ := s.Lookup(id); ok {
		t.Fatal("an ended session still works")
	}
	id, _, _, _ = s.Start(secret)
	now = now.Add(2 * time.Hour)
	if _, ok, _ := s.Lookup(id); ok {
		t.Fatal("an expired session still works")
	}
	now = now.Add(-2 * time.Hour)
	id, _, _, _ = s.Start(secret)
	f.Remove("alice")
	if _, ok, _ := s.Lookup(id); ok {
		t.Fatal("the session of a removed token still works")
	}
	// Later than the sessions above, which go first when the table is full.
	now = now.Add(time.Minute)
	other, _, _ := f.Add("bob", ScopeRead, "", time.Now())
	bobs, _, _, _ := s.Start(other)
	secret, _, _ = f.Add("alice2", ScopeRead, "", time.Now())
	for range 10 {
		now = now.Add(time.Second)
		s.Start(secret)
	}
	if len(s.m) != 3 {
		t.Fatalf("%d sessions kept, want 2 of the one token and 1 of the other", len(s.m))
	}
	if _, ok, _ := s.Lookup(bobs); !ok {
		t.Fatal("one token's logins ended another token's session")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(3, 10*time.Second, 100, func() time.Time { return now })
	a := netip.MustParseAddr("127.0.0.2")
	if !l.Fail(a) {
		t.Fatal("the first failure is not logged")
	}
	if l.Fail(a) {
		t.Fatal("a second failure in the same minute is logged")
	}
	l.Fail(a)
	if blocked, wait := l.Blocked(a); !blocked || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("after 3 failures: blocked %v wait %v", blocked, wait)
	}
	if blocked, _ := l.Blocked(netip.MustParseAddr("127.0.0.3")); blocked {
		t.Fatal("another source is blocked")
	}
	now = now.Add(10 * time.Second)
	if blocked, _ := l.Blocked(a); blocked {
		t.Fatal("still blocked after one interval")
	}
	// One host's IPv6 addresses share a /64.
	l.Fail(netip.MustParseAddr("::1"))
	l.Fail(netip.MustParseAddr("::2"))
	l.Fail(netip.MustParseAddr("::3"))
	if blocked, _ := l.Blocked(netip.MustParseAddr("::4")); !blocked {
		t.Fatal("an IPv6 /64 is not one source")
	}
	for i := range 300 {
		l.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if len(l.sources) > 100 {
		t.Fatalf("%d sources kept, max 100", len(l.sources))
	}
}
