package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/slotdns/slotdns/internal/atomicfile"
)

// ErrNotFound is a token name the file does not hold; ErrInvalid a
// token that may not be made as asked.
var (
	ErrNotFound = errors.New("no such token")
	ErrInvalid  = errors.New("invalid token request")
)

// tokenPrefix marks a slotdns token, so that a secret scanner or a
// reader of a leaked log can tell what it is.
const tokenPrefix = "sdt_"

// Token is one entry of the token file: never the token itself.
type Token struct {
	Name    string    `json:"name"`
	Scope   Scope     `json:"scope"`
	App     string    `json:"app,omitempty"` // "" : every app
	Digest  string    `json:"digest"`        // "sha256:" and 64 hex digits
	Created time.Time `json:"created"`
}

// Allows reports whether the token may act on app with scope need. A
// token limited to one app sees only that app; what is not an app's
// (reload, backup, tokens) needs a token of every app.
func (t Token) Allows(need Scope, app string) bool {
	if !t.Scope.Allows(need) {
		return false
	}
	return t.App == "" || t.App == app
}

// tokenFile is the file's JSON.
type tokenFile struct {
	Tokens []Token `json:"tokens"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckName says what is wrong with a token name, or nil.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: token name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

// digestOf is the fixed-length digest tokens are compared by.
func digestOf(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }

func digestText(d [sha256.Size]byte) string { return "sha256:" + hex.EncodeToString(d[:]) }

func parseDigest(text string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	hexPart, ok := strings.CutPrefix(text, "sha256:")
	b, err := hex.DecodeString(hexPart)
	if !ok || err != nil || len(b) != len(d) {
		return d, fmt.Errorf("digest %q: want sha256: and 64 hex digits", text)
	}
	copy(d[:], b)
	return d, nil
}

// newSecret returns a new random token.
func newSecret() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// File is the token file at a path. Add and Remove hold a lock beside it
// and replace it whole, so that two of them never lose each other's work
// and a reader never sees half a file.
type File struct{ Path string }

// Load reads the tokens. A missing file holds none; a file that others
// may read is refused, since its digests would let them try tokens
// offline.
func (f File) Load() ([]Token, error) {
	tokens, _, err := f.load()
	return tokens, err
}

func (f File) load() ([]Token, fs.FileInfo, error) {
	file, err := os.Open(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("token file %s: %w", f.Path, err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("token file %s: %w", f.Path, err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("token file %s has mode %04o: others could read its digests; make it private with chmod 600 %s", f.Path, perm, f.Path)
	}
	var tf tokenFile
	dec := json.NewDecoder(file)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tf); err != nil {
		return nil, nil, fmt.Errorf("token file %s: %v; fix it, or remove it and add the tokens again", f.Path, err)
	}
	seen := map[string]bool{}
	for i, t := range tf.Tokens {
		where := fmt.Sprintf("token file %s: token %d", f.Path, i+1)
		if err := CheckName(t.Name); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		if seen[t.Name] {
			return nil, nil, fmt.Errorf("%s: name %q is used twice", where, t.Name)
		}
		seen[t.Name] = true
		if t.Scope == 0 {
			return nil, nil, fmt.Errorf("%s (%s): no scope", where, t.Name)
		}
		if t.Scope == ScopeAdmin && t.App != "" {
			return nil, nil, fmt.Errorf("%s (%s): an admin token cannot be limited to app %q; make it a swap token, or remove the app", where, t.Name, t.App)
		}
		if _, err := parseDigest(t.Digest); err != nil {
			return nil, nil, fmt.Errorf("%s (%s): %w", where, t.Name, err)
		}
	}
	return tf.Tokens, info, nil
}

// Add makes a token and records its digest; the token itself is returned
// once and kept nowhere by this package.
func (f File) Add(name string, scope Scope, app string, now time.Time) (secret string, t Token, err error) {
	if err := CheckName(name); err != nil {
		return "", Token{}, err
	}
	if scope == ScopeAdmin && app != "" {
		return "", Token{}, fmt.Errorf("%w: token %q: an admin token manages the whole server; --app limits read and swap tokens", ErrInvalid, name)
	}
	err = f.update(func(tokens []Token) ([]Token, error) {
		for _, old := range tokens {
			if old.Name == name {
				return nil, fmt.Errorf("%w: token %q exists already (scope %s, made %s); remove it first, or choose another name", ErrInvalid, name, old.Scope, old.Created.Format(time.RFC3339))
			}
		}
		secret = newSecret()
		t = Token{Name: name, Scope: scope, App: app, Digest: digestText(digestOf(secret)), Created: now.UTC().Truncate(time.Second)}
		return append(tokens, t), nil
	})
	return secret, t, err
}

// Remove deletes the named token; its sessions end with it.
func (f File) Remove(name string) error {
	return f.update(func(tokens []Token) ([]Token, error) {
		for i, t := range tokens {
			if t.Name == name {
				return append(tokens[:i:i], tokens[i+1:]...), nil
			}
		}
		return nil, fmt.Errorf("token %q: %w", name, ErrNotFound)
	})
}

// update changes the file under its lock: read, change, write a new file
// beside it and rename it into place.
func (f File) update(change func([]Token) ([]Token, error)) error {
	lock, err := os.OpenFile(f.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("token file %s: lock: %w", f.Path, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("token file %s: lock: %w", f.Path, err)
	}
	tokens, _, err := f.load()
	if err != nil {
		return err
	}
	tokens, err = change(tokens)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(tokenFile{Tokens: append([]Token{}, tokens...)}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(f.Path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	return nil
}
