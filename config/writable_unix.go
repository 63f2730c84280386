//go:build unix

package config

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// writable reports whether this process may write path (and, for a
// folder, create files in it), asking the kernel without writing.
func writable(path string, info fs.FileInfo) bool {
	mode := uint32(unix.W_OK)
	if info.IsDir() {
		mode |= unix.X_OK
	}
	return unix.Access(path, mode) == nil
}
