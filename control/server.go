package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/slotdns/slotdns/dnsserver"
	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

// Server is a running slotdns: the store, the DNS server answering from the
// published snapshot, apex alias resolution and the control API on the unix
// socket.
type Server struct {
	cfg *Config
	log *slog.Logger
	db  *store.DB
	svc *service
	dns *dnsserver.Server

	aliases      *aliasResolver
	notifier     *notifier
	stopAliases  context.CancelFunc
	http         *http.Server
	controlLn    net.Listener
	serveDone    chan struct{}
	shutdownOnce sync.Once
	shutdownErr  error
}

// Start opens the store, records the config in it, publishes the first
// snapshot and starts the DNS listeners and the control API. On any error
// everything opened so far is closed again: nothing half-starts.
func Start(cfg *Config, logger *slog.Logger) (_ *Server, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: logger, serveDone: make(chan struct{})}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	s.db, err = store.Open(cfg.DB, store.Options{})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("open %s: %w; is another slotdns serving it?", cfg.DB, err)
		}
		return nil, fmt.Errorf("open %s: %w", cfg.DB, err)
	}
	cleanup = append(cleanup, func() { s.db.Close() })

	s.svc = newService(cfg, s.db, logger)
	transfer, err := s.svc.transferConfig(nil)
	if err != nil {
		return nil, err
	}
	s.dns = dnsserver.New(dnsserver.Config{Listen: cfg.Listen, Logger: logger, Transfer: transfer})
	s.svc.publish = s.dns.Publish
	if err := s.svc.seed(); err != nil {
		return nil, err
	}
	recs, err := s.db.Aliases()
	if err != nil {
		return nil, fmt.Errorf("read stored apex aliases: %w", err)
	}
	aliasCtx, stopAliases := context.WithCancel(context.Background())
	s.aliases = newAliasResolver(aliasCtx, s.svc, recs)
	s.stopAliases = stopAliases
	cleanup = append(cleanup, func() { stopAliases(); s.aliases.wait() })
	s.svc.aliases = s.aliases

	// The first snapshot is published before any listener opens, so the
	// first query already gets the stored state.
	s.svc.mu.Lock()
	err = s.svc.rebuild()
	s.svc.mu.Unlock()
	if err != nil {
		return nil, err
	}

	if err := s.dns.Start(); err != nil {
		return nil, err
	}
	// Secondaries are told once at start: the serial may have moved while
	// the server was down.
	s.notifier = newNotifier(s.svc.cfg, logger, defaultNotifyTiming, s.servedSOA)
	s.svc.mu.Lock()
	s.svc.notifier = s.notifier
	s.svc.mu.Unlock()
	s.notifier.start()
	cleanup = append(cleanup, s.notifier.stop)
	cleanup = append(cleanup, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.dns.Shutdown(ctx)
	})

	s.controlLn, err = listenControl(cfg.Control)
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           NewHandler(s.svc, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(s.serveDone)
		if err := s.http.Serve(s.controlLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("Control API stopped", "socket", cfg.Control, "err", err)
		}
	}()

	var zoneNames []string
	for _, z := range cfg.Zones {
		zoneNames = append(zoneNames, z.Origin)
	}
	logger.Info("Serving", "listen", addrStrings(s.dns.UDPAddrs()), "zones", zoneNames, "control", cfg.Control, "db", cfg.DB)
	return s, nil
}

// listenControl opens the unix socket at path with mode 0600. A socket file
// left by a server that died is removed; one a live server answers on is
// refused.
func listenControl(path string) (net.Listener, error) {
	// sockaddr_un holds 108 bytes with the terminating NUL.
	if len(path) > 107 {
		return nil, fmt.Errorf("control socket %s: the path is %d bytes, unix sockets allow 107; set a shorter control path", path, len(path))
	}
	if _, err := os.Lstat(path); err == nil {
		conn, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			conn.Close()
			return nil, fmt.Errorf("control socket %s: a server already answers on it; stop it first", path)
		}
		if !noServer(err) {
			return nil, fmt.Errorf("control socket %s: %w; remove the file if no slotdns is running", path, err)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale control socket %s: %w", path, err)
		}
	}
	// The socket is bound under a temporary name, made 0600, and only then
	// renamed into place: whoever finds the file finds it listening and
	// private, never half set up.
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return ln, nil
}

func addrStrings(addrs []net.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// DNSAddrs returns the bound UDP addresses (real ports when ":0" was asked).
func (s *Server) DNSAddrs() []net.Addr { return s.dns.UDPAddrs() }

// TCPAddrs returns the bound TCP addresses.
func (s *Server) TCPAddrs() []net.Addr { return s.dns.TCPAddrs() }

// servedSOA returns the SOA the server serves for zone now.
func (s *Server) servedSOA(zone string) (*dns.SOA, bool) {
	snap := s.dns.Snapshot()
	if snap == nil {
		return nil, false
	}
	ans := snap.Lookup(zone, dns.TypeSOA)
	if len(ans.Answer) == 0 {
		return nil, false
	}
	soa, ok := ans.Answer[0].(*dns.SOA)
	return soa, ok
}

// DNS returns the DNS server, to read the served snapshot.
func (s *Server) DNS() *dnsserver.Server { return s.dns }

// Shutdown stops the control API, then the DNS server and the alias
// refresh, then closes the store. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		var errs []error
		// Swaps waiting for their "after" checks return at once.
		s.svc.gates.stop()
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("control API: %w", err))
			s.http.Close()
		}
		<-s.serveDone
		if err := os.Remove(s.cfg.Control); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove control socket: %w", err))
		}
		if err := s.dns.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("dns: %w", err))
		}
		s.stopAliases()
		s.aliases.wait()
		s.notifier.stop()
		// Mutations in flight finish before the store closes.
		s.svc.mu.Lock()
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.cfg.DB, err))
		}
		s.svc.mu.Unlock()
		s.shutdownErr = errors.Join(errs...)
		s.log.Info("Stopped")
	})
	return s.shutdownErr
}

// Reload re-reads the zone files, as on SIGHUP; see ReloadResult.
func (s *Server) Reload(ctx context.Context) (ReloadResult, error) { return s.svc.Reload(ctx) }

// Run starts a server on cfg and serves until ctx ends, then shuts it down
// gracefully. SIGHUP re-reads the zone files (see Reload).
func Run(ctx context.Context, cfg *Config, logger *slog.Logger) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	s, err := Start(cfg, logger)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-hup:
			logger.Info("SIGHUP: reloading the zone files")
			s.Reload(ctx) // it logs each zone
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}
