// Package integration drives the built slotdns binary as a user would:
// `slotdns serve` on a loopback port, the CLI, dig, and a real recursive
// resolver (unbound). It holds tests only and is imported by nothing.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

var (
	// slotdnsBin is the binary TestMain built from ./cmd/slotdns.
	slotdnsBin string
	// repoRoot is the repository, where the demo config and zones live.
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// runMain builds the binary once for every test, so that deferred cleanup
// runs before TestMain exits.
func runMain(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "slotdns-integration-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "slotdns")
	build := exec.Command(goTool(), "build", "-o", bin, "./cmd/slotdns")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build ./cmd/slotdns: %v\n%s", err, out)
		return 1
	}
	slotdnsBin, repoRoot = bin, root
	return m.Run()
}

// goTool finds the go command: on PATH, else in the GOROOT this test was
// built with.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
