//go:build !unix

package config

import "io/fs"

// writable reports whether path may be written, from its mode bits
// (systems without access(2) have no owner and group bits to weigh).
func writable(_ string, info fs.FileInfo) bool {
	return info.Mode().Perm()&0o200 != 0
}
