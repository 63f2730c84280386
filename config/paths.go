package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// maxSocketPath is the longest unix socket path: sockaddr_un holds 108
// bytes with the terminating NUL.
const maxSocketPath = 107

// CheckPaths reports every problem serve would meet with the paths of
// the config: the db file's folder must exist, and be writable when the
// file is still to be created; an existing db file must be a regular
// file that is writable; the control socket path must fit a unix socket
// address, and its folder must exist and be writable. Each problem is at
// the line of its key, or names the file when the key is defaulted.
// Nothing is created.
func (c *Config) CheckPaths() error {
	var errs []error
	add := func(line int, format string, args ...any) {
		where := c.Path
		if line > 0 {
			where = fmt.Sprintf("%s:%d", c.Path, line)
		}
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}

	info, err := os.Stat(c.DB)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if problem := folderProblem(filepath.Dir(c.DB)); problem != "" {
			add(c.dbLine, "db %q: %s; create it, or set db to a file in a folder slotdns may write", c.DB, problem)
		}
	case err != nil:
		add(c.dbLine, "db %q: %v; set db to a file slotdns may read and write", c.DB, err)
	case !info.Mode().IsRegular():
		add(c.dbLine, "db %q is not a regular file (mode %s); set db to a file", c.DB, info.Mode().Type())
	case !writable(c.DB, info):
		add(c.dbLine, "db %q is not writable by this user; make it so (chown or chmod u+w) or set db to another file", c.DB)
	}

	if n := len(c.Control); n > maxSocketPath {
		add(c.controlLine, "control %q: the socket path is %d bytes, and a unix socket path holds at most %d; set a shorter control path (a relative one is relative to the config's folder)", c.Control, n, maxSocketPath)
	}
	if problem := folderProblem(filepath.Dir(c.Control)); problem != "" {
		add(c.controlLine, "control %q: %s; create it, or set control to a path in a folder slotdns may write", c.Control, problem)
	}
	return errors.Join(errs...)
}

// folderProblem says what keeps a file from being created in dir, or "".
func folderProblem(dir string) string {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("folder %s does not exist", dir)
	case err != nil:
		return fmt.Sprintf("folder %s: %v", dir, err)
	case !info.IsDir():
		return fmt.Sprintf("%s is not a folder", dir)
	case !writable(dir, info):
		return fmt.Sprintf("folder %s is not writable by this user", dir)
	}
	return ""
}
