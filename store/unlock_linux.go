package store

import (
	"os"
	"strconv"
	"syscall"
)

// openFiles lists the descriptors this process has open. The one that
// read the directory is closed by the time its entries are looked at, so
// it does not count.
func openFiles() map[int]bool {
	out := map[int]bool{}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil {
			continue
		}
		out[fd] = true
	}
	return out
}

// unlockLeaked releases the file lock on the descriptors of path opened
// since before: bbolt leaves one open, lock held, when it panics in the
// middle of opening a damaged file, and a process that goes on (a test,
// a tool that retries) would find its own file locked. The descriptor
// itself belongs to an *os.File that bbolt dropped; its finalizer closes
// it, so it is not closed here (that could close a reused number).
func unlockLeaked(path string, before map[int]bool) {
	want, err := os.Stat(path)
	if err != nil {
		return
	}
	for fd := range openFiles() {
		if before[fd] {
			continue
		}
		if info, err := os.Stat("/proc/self/fd/" + strconv.Itoa(fd)); err == nil && os.SameFile(info, want) {
			syscall.Flock(fd, syscall.LOCK_UN)
		}
	}
}
