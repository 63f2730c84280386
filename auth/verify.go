package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"
)

// Verifier checks tokens against the token file, read again whenever it
// changes on disk, so that slotdns token add and remove take effect at
// once in a running server.
type Verifier struct {
	file File

	mu      sync.Mutex
	stamp   fileStamp
	tokens  []Token
	digests [][sha256.Size]byte
	err     error // the file's problem: every token is refused until it is fixed
}

// fileStamp tells a changed file from the one read last.
type fileStamp struct {
	exists bool
	ino    uint64
	size   int64
	mtime  time.Time
	mode   fs.FileMode
	ctime  syscall.Timespec // moves on chmod too
}

func stampOf(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{exists: true, size: info.Size(), mtime: info.ModTime(), mode: info.Mode()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.ino, st.ctime = sys.Ino, sys.Ctim
	}
	return st, nil
}

// NewVerifier reads the token file at path; the error is the file's
// problem, which also refuses every token until it is fixed.
func NewVerifier(path string) (*Verifier, error) {
	v := &Verifier{file: File{Path: path}}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(true)
	return v, v.err
}

// refresh reads the file again if it changed. It fails closed: a file
// that no longer loads refuses every token, rather than keep one that
// was just removed.
func (v *Verifier) refresh(force bool) {
	st, err := stampOf(v.file.Path)
	if err == nil && st == v.stamp && !force {
		return
	}
	tokens, err := v.file.Load()
	v.stamp, v.tokens, v.digests, v.err = st, nil, nil, err
	if err != nil {
		v.stamp = fileStamp{} // try again next time
		return
	}
	for _, t := range tokens {
		d, _ := parseDigest(t.Digest) // Load checked it
		v.tokens, v.digests = append(v.tokens, t), append(v.digests, d)
	}
}

// Check returns the token whose digest is secret's. Every digest is
// compared, each in constant time, so that the time taken tells nothing
// of which bytes matched.
func (v *Verifier) Check(secret string) (Token, bool, error) {
	return v.byDigest(digestOf(secret))
}

func (v *Verifier) byDigest(d [sha256.Size]byte) (Token, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(false)
	if v.err != nil {
		return Token{}, false, v.err
	}
	found := -1
	for i := range v.digests {
		if subtle.ConstantTimeCompare(v.digests[i][:], d[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Token{}, false, nil
	}
	return v.tokens[found], true, nil
}

// Tokens lists the tokens as the file holds them now.
func (v *Verifier) Tokens() ([]Token, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresh(false)
	return append([]Token{}, v.tokens...), v.err
}

// File is the token file the verifier reads.
func (v *Verifier) File() File { return v.file }
