package control

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/slotdns/slotdns/store"
)

// Local is a Controller working on the database file directly, for when no
// server runs. A server started later serves what it finds.
type Local struct {
	*service
}

// OpenLocal opens cfg's database (failing with store.ErrLocked when a server
// holds it), records the config's zones and apps in it as a server would at
// start, and builds the snapshot a server would serve.
func OpenLocal(cfg *Config, logger *slog.Logger) (*Local, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(cfg.DB, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.DB, err)
	}
	s := newService(cfg, db, logger)
	if err := s.seed(); err != nil {
		db.Close()
		return nil, err
	}
	s.mu.Lock()
	err = s.rebuild()
	s.mu.Unlock()
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Local{service: s}, nil
}

// Close closes the database.
func (l *Local) Close() error { return l.db.Close() }

// Connect returns a Client when a server answers on cfg's control socket,
// and otherwise (no socket file, or nothing listening on it) a Local on the
// database file, with direct true.
func Connect(cfg *Config, logger *slog.Logger) (c Controller, direct bool, err error) {
	conn, err := net.DialTimeout("unix", cfg.Control, 2*time.Second)
	if err == nil {
		conn.Close()
		return NewClient(cfg.Control), false, nil
	}
	if !noServer(err) {
		return nil, false, fmt.Errorf("control socket %s: %w", cfg.Control, err)
	}
	local, err := OpenLocal(cfg, logger)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, false, fmt.Errorf("no server answers on %s, yet %s is locked by another process; if a server is starting, retry: %w", cfg.Control, cfg.DB, err)
		}
		return nil, false, err
	}
	return local, true, nil
}

// Dial returns a Client of the server on cfg's control socket, or an error
// wrapping ErrNoServer when none answers there.
func Dial(cfg *Config) (*Client, error) {
	conn, err := net.DialTimeout("unix", cfg.Control, 2*time.Second)
	if err != nil {
		if noServer(err) {
			return nil, fmt.Errorf("%w on %s", ErrNoServer, cfg.Control)
		}
		return nil, fmt.Errorf("control socket %s: %w", cfg.Control, err)
	}
	conn.Close()
	return NewClient(cfg.Control), nil
}

// noServer reports whether a dial error means that no server runs: the
// socket file is missing, or nothing listens on it.
func noServer(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}
