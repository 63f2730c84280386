package control

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/dnsserver"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/version"
	"github.com/slotdns/slotdns/metrics"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Server is a running slotdns: the store, the change pipeline, the DNS
// server answering from the snapshot the pipeline published last, NOTIFY
// to the secondaries, apex alias resolution, and the control API on the
// unix socket.
type Server struct {
	cfg   *config.Config
	log   *slog.Logger
	clock clock.Clock
	keys  map[string]config.Key
	db    *store.DB
	p     *pipeline.Pipeline
	svc   *service
	dns   *dnsserver.Server
	// reloadMu runs one reload at a time, from its reading of the files
	// to its commit, so that a reload that read older files never
	// commits after one that read newer ones.
	reloadMu sync.Mutex
	// requests is held shared by every control request being handled,
	// so that Shutdown closes the database after the last one.
	requests sync.RWMutex

	notifier    *notifier
	aliases     *aliasRefresher
	stopAliases context.CancelFunc
	// signKeys are the keys of the signed zones, read at start; the
	// resigner refreshes their signatures.
	signKeys   map[string][]*dnssec.Key
	resigner   *resigner
	updater    *updater // DNS UPDATE and slotdns records rm
	stopResign context.CancelFunc
	http       *http.Server
	controlLn  net.Listener
	serveDone  chan struct{}
	bus        *eventBus
	// remote serves the remote API, the dashboard and, unless it has a
	// listener of its own, /metrics; nil when the config has no [api].
	remote      *httpListener
	metrics     *metrics.Metrics // nil when nothing exports them: recording is then a no-op
	metricsHTTP *httpListener
	ready       atomic.Bool // every zone loaded and every listener bound

	secondaries     *secondaryWatch
	stopSecondaries context.CancelFunc
	shutdownOnce    sync.Once
	shutdownErr     error
}

// Options tune Start; the zero value is what serve runs with.
type Options struct {
	Clock clock.Clock // nil: the system clock
	// TLSRoots replaces the system's roots for HTTPS checks (tests).
	TLSRoots *x509.CertPool
	notify   notifyTiming // zero: defaultNotifyTiming
}

// Start checks the paths, reads the keys and zone files, opens the store,
// records the config in it and publishes the first snapshot through the
// change pipeline, then opens every DNS listener and the control socket;
// only then does it log that it serves. On any error everything opened
// so far is closed again: nothing half-starts.
func Start(cfg *config.Config, logger *slog.Logger, opts Options) (_ *Server, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.notify == (notifyTiming{}) {
		opts.notify = defaultNotifyTiming
	}
	s := &Server{cfg: cfg, log: logger, clock: opts.Clock, serveDone: make(chan struct{})}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	if err := cfg.CheckPaths(); err != nil {
		return nil, err
	}
	if s.keys, err = cfg.LoadKeys(); err != nil {
		return nil, err
	}
	if s.db, err = store.Open(cfg.DB, store.Options{JournalLimit: cfg.JournalLimit}); err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("%w; is another slotdns serving it?", err)
		}
		return nil, err
	}
	cleanup = append(cleanup, func() { s.db.Close() })
	rollovers, err := storedRollovers(s.db)
	if err != nil {
		return nil, err
	}
	if s.signKeys, err = loadSigningKeys(cfg, true, s.clock.Now(), logger, rollovers); err != nil {
		return nil, err
	}
	s.updater = &updater{cfg: cfg, db: s.db, log: logger, clock: s.clock, mu: &s.reloadMu}
	files, err := loadingZones(func() (map[string]*zones.Zone, error) {
		files, err := cfg.LoadZones()
		if err != nil {
			return nil, err
		}
		parsed, overlaps, err := layerDynamic(s.db, files)
		if err != nil {
			return nil, err
		}
		s.updater.setFiles(parsed, maps.Clone(files))
		for i := range cfg.Zones {
			for _, note := range overlapNotes(&cfg.Zones[i], overlaps[cfg.Zones[i].Origin]) {
				logger.Warn(note)
			}
		}
		return files, joinFailed(cfg, signZones(cfg, s.signKeys, files, savedSignatures(s.db, logger), s.clock.Now()))
	})
	if err != nil {
		return nil, err
	}
	logSigned(cfg, files, logger)
	if err := cfg.Check(files); err != nil {
		return nil, err
	}
	for i := range cfg.Zones {
		if z := files[cfg.Zones[i].Origin]; z != nil {
			if note := expireNote(&cfg.Zones[i], z.SOA); note != "" {
				logger.Warn(note)
			}
		}
	}
	if err := checkAPI(cfg); err != nil {
		return nil, err
	}

	transfer, err := transferConfig(cfg, s.keys, s.db, logger)
	if err != nil {
		return nil, err
	}
	// The data plane counts only when something exports the counts.
	exported := cfg.API.Listen != "" || cfg.API.MetricsListen != ""
	var updates dnsserver.Updater // nil: UPDATE gets NOTIMP
	if slices.ContainsFunc(cfg.Zones, func(zc config.Zone) bool { return len(zc.Updates) > 0 }) {
		updates = s.updater
	}
	s.dns = dnsserver.New(dnsserver.Config{Listen: cfg.Listen, Logger: logger, Transfer: transfer, Count: exported, Updater: updates,
		TCPIdleTimeout: cfg.TCP.IdleTimeout, NSID: nsid(cfg), Cookies: cookieSecrets(cfg),
		RRL: dnsserver.RRL{Rate: cfg.RRL.Rate, Slip: cfg.RRL.Slip, IPv4Bits: cfg.RRL.IPv4Prefix, IPv6Bits: cfg.RRL.IPv6Prefix,
			Exempt: cfg.RRL.Exempt, Buckets: cfg.RRL.TableSize},
		TCP: dnsserver.TCPLimits{MaxConns: cfg.TCP.MaxConnections, MaxPerSource: cfg.TCP.MaxPerSource, MaxQueries: cfg.TCP.MaxQueries}})
	if exported {
		s.metrics = s.newMetrics()
	}
	s.notifier = newNotifier(cfg, s.keys, logger, opts.notify, s.clock, s.servedSOA)
	if s.metrics != nil {
		s.notifier.counted = s.metrics.Notify
	}
	s.notifier.ahead = s.secondaryAhead
	sink := &serverSink{dns: s.dns, notifier: s.notifier, watch: func(*zones.Snapshot) {}}
	s.bus = newEventBus(s.clock)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	s.secondaries, s.stopSecondaries = newSecondaryWatch(watchCtx, cfg, s.bus), stopWatch
	cleanup = append(cleanup, func() { stopWatch(); s.secondaries.wait() })
	// The first snapshot is published before any listener opens, so the
	// first query already gets the stored state.
	s.p, err = pipeline.Open(s.db, cfg, files, pipeline.Options{Clock: s.clock, Logger: logger, Sink: sink})
	if err != nil {
		return nil, err
	}
	s.updater.p, s.updater.signKeys, s.updater.metrics = s.p, s.signKeys, s.metrics
	for _, zc := range cfg.Zones {
		saveSignatures(s.db, files[zc.Origin], logger)
	}
	aliasCtx, stopAliases := context.WithCancel(context.Background())
	s.aliases, s.stopAliases = newAliasRefresher(aliasCtx, s.p, cfg, logger, s.clock), stopAliases
	cleanup = append(cleanup, func() { stopAliases(); s.aliases.wait() })
	resignCtx, stopResign := context.WithCancel(context.Background())
	s.resigner = &resigner{p: s.p, cfg: cfg, keys: s.signKeys, db: s.db, log: logger, clock: s.clock, reloadMu: &s.reloadMu, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.stopResign = stopResign
	if len(s.signKeys) > 0 {
		go s.resigner.run(resignCtx)
	} else {
		close(s.resigner.done) // nothing to sign: no timer on the clock
	}
	cleanup = append(cleanup, func() { stopResign(); <-s.resigner.done })
	sink.watch = func(snap *zones.Snapshot) { s.aliases.watch(aliasTargets(cfg, snap)) }
	sink.changed = s.zonesChanged
	sink.watch(s.p.Snapshot())

	if err := s.dns.Start(); err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.dns.Shutdown(ctx)
	})
	s.notifier.start()
	cleanup = append(cleanup, s.notifier.stop)

	if s.controlLn, err = listenControl(cfg.Control); err != nil {
		return nil, err
	}
	s.svc = &service{p: s.p, db: s.db, cfg: cfg, clock: s.clock, log: logger, gates: newGateBook(), rt: serverRuntime{s}, tlsRoots: opts.TLSRoots, events: s.bus, metrics: s.metrics, upd: s.updater}
	verifier, _ := auth.NewVerifier(cfg.API.Tokens) // checkAPI read it above
	deps := handlerDeps{log: logger, clock: s.clock, bus: s.bus, idem: newIdempotency(s.clock), tokens: verifier, info: s.info, metrics: s.metrics}
	// On the socket the kernel says who connects (SO_PEERCRED).
	socketH, socketMux := newHandler(s.svc, deps, func(*handler) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler { return next }
	})
	socketMux.HandleFunc("/", socketH.notFound)
	s.http = newHTTPServer(s.tracked(socketH.recovering(socketMux)), logger)
	s.http.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return withIdentity(ctx, peerIdentity(c)) }
	s.http.RegisterOnShutdown(s.bus.close)
	go func() {
		defer close(s.serveDone)
		if err := s.http.Serve(s.controlLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("Control API stopped", "socket", cfg.Control, "err", err)
		}
	}()

	cleanup = append(cleanup, func() { s.http.Close(); <-s.serveDone; os.Remove(cfg.Control) })

	if err := s.startAPI(deps, verifier); err != nil {
		return nil, err
	}
	cleanup = append(cleanup, s.closeAPI)

	s.ready.Store(true)
	logger.Info("Serving", "listen", addrStrings(s.dns.UDPAddrs()), "zones", s.info().Zones, "control", cfg.Control, "api", cfg.API.Listen, "db", cfg.DB)
	return s, nil
}

// serverSink hands what the pipeline commits to the DNS server, the
// secondaries' NOTIFY and the alias refresher.
type serverSink struct {
	dns      *dnsserver.Server
	notifier *notifier
	// watch is the alias refresher's, once it exists (before any
	// change). Like every sink method it runs under the pipeline's lock:
	// it reads the snapshot alone.
	watch func(*zones.Snapshot)
	// changed is the server's, once it has its event bus.
	changed func(zones []string)
}

func (k *serverSink) Publish(snap *zones.Snapshot) {
	k.dns.Publish(snap)
	k.watch(snap)
}

// Changed tells the secondaries by NOTIFY, the event streams, and the
// watch that follows the secondaries to the new serial.
func (k *serverSink) Changed(zones []string) {
	k.notifier.changed(zones)
	if k.changed != nil {
		k.changed(zones)
	}
}

// serverRuntime is the runtime of the service in a server.
type serverRuntime struct{ s *Server }

func (r serverRuntime) lastNotify(zone, addr string) *api.NotifyStatus {
	return r.s.notifier.lastNotify(zone, addr)
}
func (serverRuntime) serving() bool { return true }
func (r serverRuntime) reload(ctx context.Context) (api.ReloadResult, error) {
	return r.s.Reload(ctx)
}

func (r serverRuntime) rollover(ctx context.Context, zone string, req api.RolloverRequest) (api.Rollover, error) {
	return r.s.Rollover(ctx, zone, req)
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

// Snapshot returns the snapshot served now.
func (s *Server) Snapshot() *zones.Snapshot { return s.p.Snapshot() }

// DB returns the open store, for tests that count its transactions.
func (s *Server) DB() *store.DB { return s.db }

// zonesChanged announces the new serial of each zone and follows its
// secondaries to it.
func (s *Server) zonesChanged(origins []string) {
	snap := s.p.Snapshot()
	for _, zone := range origins {
		serial, ok := snap.Serial(zone)
		if !ok {
			continue
		}
		s.bus.publish(api.Event{Type: api.EventZone, Zone: zone, Serial: serial})
		s.secondaries.changed(zone, serial)
	}
}

// cookieSecrets are the DNS cookie secrets of the config: a random one
// when none is set (the cookies of a previous start are then refused and
// made anew), nil when cookies are off.
func cookieSecrets(cfg *config.Config) *dnsserver.CookieSecrets {
	c := cfg.Cookies
	if !c.Enabled {
		return nil
	}
	s := &dnsserver.CookieSecrets{Previous: c.PreviousSecret}
	if c.Secret != nil {
		s.Current = *c.Secret
	} else {
		rand.Read(s.Current[:])
	}
	return s
}

// nsid is the configured NSID as bytes, nil when none.
func nsid(cfg *config.Config) []byte {
	if cfg.NSID == "" {
		return nil
	}
	return []byte(cfg.NSID)
}

// info is what GET /v1/server says of this server.
func (s *Server) info() api.ServerInfo {
	info := api.ServerInfo{Version: version.String(), DNS: addrStrings(s.dns.UDPAddrs()), Zones: []string{}}
	for _, z := range s.cfg.Zones {
		info.Zones = append(info.Zones, z.Origin)
	}
	return info
}

// APIAddr is the bound address of the remote API, nil without one.
func (s *Server) APIAddr() net.Addr {
	if s.remote == nil {
		return nil
	}
	return s.remote.ln.Addr()
}

// secondaryAhead moves the serial of zone past the one a secondary
// serves (see notifier.checkAhead and pipeline.SerialPast).
func (s *Server) secondaryAhead(zone, addr string, theirs uint32) {
	serial, moved, err := s.p.SerialPast(zone, theirs)
	switch {
	case err != nil:
		s.log.Error("Secondary serves a later serial than ours; moving past it failed", "zone", zone, "secondary", addr, "its_serial", theirs, "err", err)
	case moved:
		s.log.Warn("Secondary serves a later serial than ours: the database went back in time (a restored backup, or a new database); serving a later serial so that the secondary takes the zone again",
			"zone", zone, "secondary", addr, "its_serial", theirs, "serial", serial)
	}
}

// servedSOA returns the SOA the server serves for zone now.
func (s *Server) servedSOA(zone string) (*dns.SOA, bool) {
	ans := s.p.Snapshot().Lookup(zone, dns.TypeSOA)
	if len(ans.Answer) == 0 {
		return nil, false
	}
	soa, ok := ans.Answer[0].(*dns.SOA)
	return soa, ok
}

// Shutdown stops the control API (the "after" windows of swaps end
// without rolling back), then the DNS server, the alias refresh and the
// NOTIFY senders, then closes the store. It is safe to call more than
// once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		var errs []error
		s.ready.Store(false)
		s.bus.close()
		s.svc.gates.stop()
		if s.remote != nil {
			if err := s.remote.shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("remote API: %w", err))
			}
		}
		if s.metricsHTTP != nil {
			if err := s.metricsHTTP.shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("metrics: %w", err))
			}
		}
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("control API: %w", err))
			s.http.Close()
		}
		<-s.serveDone
		// A handler may outlive Shutdown's deadline and Close (its
		// context has ended): wait for it before the store closes.
		drained := make(chan struct{})
		go func() {
			s.requests.Lock() // never unlocked: no request runs after this
			close(drained)
		}()
		timer := time.NewTimer(requestDrain) // real time, whatever the clock of the changes
		select {
		case <-drained:
		case <-timer.C:
			errs = append(errs, fmt.Errorf("control API: requests still running %s after shutdown; closing the database under them", requestDrain))
		}
		timer.Stop()
		if err := os.Remove(s.cfg.Control); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove control socket: %w", err))
		}
		if err := s.dns.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("dns: %w", err))
		}
		s.stopAliases()
		s.aliases.wait()
		s.stopResign()
		<-s.resigner.done
		s.stopSecondaries()
		s.secondaries.wait()
		s.notifier.stop()
		if err := s.db.Close(); err != nil {
			errs = append(errs, err)
		}
		s.shutdownErr = errors.Join(errs...)
		s.log.Info("Stopped")
	})
	return s.shutdownErr
}

// requestDrain is how long Shutdown waits for the control requests still
// running once the API is closed: their contexts have ended, so they
// return about at once.
const requestDrain = 5 * time.Second

// tracked runs next with s.requests held shared.
func (s *Server) tracked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.RLock()
		defer s.requests.RUnlock()
		next.ServeHTTP(w, r)
	})
}

// Run starts a server on cfg and serves until ctx ends, then shuts it down
// gracefully. SIGHUP re-reads the zone files, as slotdns reload does.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	s, err := Start(cfg, logger, Options{})
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
