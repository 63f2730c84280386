package testkit

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Eventually polls cond every 10ms until it holds, and fails t naming
// what when it does not within 10 seconds.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Discard is a logger that drops everything.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// WriteFile writes text at path, creating its folder.
func WriteFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WriteFiles writes files (name relative to the folder: text) into a
// new temporary folder and returns it.
func WriteFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		WriteFile(t, filepath.Join(dir, name), text)
	}
	return dir
}

// ReadFile returns the text at path.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Secret is the base64 TSIG secret of the tests' key, "xfr-key".
const Secret = "K2tf3TRjvQkVCmJF3/Z9vA1pPmU8hkWmSNbpBfOhXXE="

// WriteKeyFile writes the key file of the tests, in tsig-keygen's format,
// with xfr-key and Secret, readable by its owner alone.
func WriteKeyFile(t testing.TB, path string) {
	t.Helper()
	WriteFile(t, path, "key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \""+Secret+"\";\n};\n")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Buffer is a bytes.Buffer that a process or goroutine writes (a log)
// while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StalledWriter is an output that takes nothing until Release, as a pipe
// nobody reads: every Write waits, then goes into the Buffer.
type StalledWriter struct {
	Buffer
	release chan struct{}
	once    sync.Once
}

func NewStalledWriter() *StalledWriter { return &StalledWriter{release: make(chan struct{})} }

func (w *StalledWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.Buffer.Write(p)
}

// Release lets every Write through, now and after.
func (w *StalledWriter) Release() { w.once.Do(func() { close(w.release) }) }
