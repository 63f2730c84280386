package control

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/slotdns/slotdns/api"
)

// maxSocketPath is the longest unix socket path: sockaddr_un holds 108
// bytes with the terminating NUL.
const maxSocketPath = 107

// listenControl opens the unix socket at path with mode 0600. A socket file
// left by a server that died is removed; one a live server answers on is
// refused.
func listenControl(path string) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("control socket %s: the path is %d bytes, unix sockets allow %d; set a shorter control path", path, len(path), maxSocketPath)
	}
	if _, err := os.Lstat(path); err == nil {
		conn, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			conn.Close()
			return nil, fmt.Errorf("control socket %s: a server already answers on it; stop it first", path)
		}
		if !api.NoServer(err) {
			return nil, fmt.Errorf("control socket %s: %w; remove the file if no slotdns is running", path, err)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale control socket %s: %w", path, err)
		}
	}
	// The socket is bound under a short temporary name beside it, made
	// 0600, and only then renamed into place: whoever finds the file
	// finds it listening and private, never half set up.
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".s%x", os.Getpid()))
	var ln net.Listener
	var err error
	if len(tmp) > maxSocketPath {
		// No room for the temporary name: bind in place, private from
		// the start.
		tmp = path
		old := syscall.Umask(0o177)
		ln, err = net.Listen("unix", path)
		syscall.Umask(old)
	} else {
		os.Remove(tmp)
		ln, err = net.Listen("unix", tmp)
	}
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if tmp != path {
		if err := os.Rename(tmp, path); err != nil {
			return fail(err)
		}
	}
	return ln, nil
}
