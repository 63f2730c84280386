package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotdns/slotdns/internal/logqueue"
	"github.com/slotdns/slotdns/internal/panics"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Config is what a Server needs, as plain values.
type Config struct {
	Listen         []string      // host:port; UDP and TCP on each ("[::1]:53" for IPv6)
	Logger         *slog.Logger  // nil: discard
	TCPIdleTimeout time.Duration // 0: a default (10s)
	TCP            TCPLimits     // zero fields: the defaults
	NSID           []byte        // the server's identity for RFC 5001; nil: none
	RRL            RRL           // response rate limiting; zero Rate: off
	// Cookies answers DNS cookies (RFC 7873, RFC 9018) with these
	// secrets; nil: cookies are ignored.
	Cookies  *CookieSecrets
	Transfer *Transfer // who may AXFR/IXFR which zone; nil: nobody
	// Count makes the server count requests, transfers and TSIG failures
	// for Counts. Off, it does none of that work.
	Count bool
	// Updater takes DNS UPDATE signed with a key of Transfer's; nil:
	// UPDATE gets NOTIMP. Unsigned, UPDATE is REFUSED.
	Updater Updater
}

const defaultTCPIdleTimeout = 10 * time.Second

// Server answers DNS queries from the snapshot last published.
type Server struct {
	cfg   Config
	log   *slog.Logger
	state atomic.Pointer[state]

	policy   atomic.Pointer[transferPolicy] // who may transfer what, and the TSIG keys
	refusals *refusalLimiter

	tcpGate *tcpGate      // who may open a TCP connection
	rrl     *rrlTable     // nil: responses are not rate-limited
	panics  atomic.Uint64 // queries whose handling panicked
	wg      sync.WaitGroup

	// With Config.Count: the stable ids of zones and slots, and the
	// counters of the readers. Both nil without.
	ids    *registry
	shards *shards

	logs  *logqueue.Handler // s.log's queue; nil without Config.Logger
	clock *coarseClock      // for rate limiting and cookies; nil when neither is on

	mu       sync.Mutex
	started  bool
	closed   bool
	udp      []net.PacketConn // the first socket of each listen address
	udpAll   []net.PacketConn // every UDP socket: one per reader where the system allows
	tcp      []net.Listener
	tcpConns map[net.Conn]struct{}
	done     chan struct{} // closed when Shutdown begins
}

// New returns a server that answers REFUSED for everything until the first
// Publish.
func New(cfg Config) *Server {
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = defaultTCPIdleTimeout
	}
	cfg.TCP = cfg.TCP.withDefaults()
	log := slog.New(slog.DiscardHandler)
	var logs *logqueue.Handler
	if cfg.Logger != nil {
		// Readers log (rate limiting, refusals) and must never wait for
		// a slow log output.
		logs = logqueue.New(cfg.Logger.Handler())
		log = slog.New(logs)
	}
	s := &Server{
		cfg:      cfg,
		log:      log,
		logs:     logs,
		tcpGate:  newTCPGate(cfg.TCP),
		rrl:      newRRL(cfg.RRL),
		tcpConns: make(map[net.Conn]struct{}),
		done:     make(chan struct{}),
		refusals: newRefusalLimiter(refusalLogInterval, refusalLogSources),
	}
	if s.rrl != nil || cfg.Cookies != nil {
		s.clock = startCoarseClock()
	}
	if cfg.Count {
		s.ids = newRegistry()
		s.shards = &shards{tcp: &shard{protocol: protoTCP}}
	}
	s.Publish(nil)
	s.SetTransfer(cfg.Transfer)
	return s
}

// SetTransfer replaces who may transfer which zone and the TSIG keys, for
// the queries that follow (a reloaded config). A key whose algorithm or
// secret cannot be used is left out and logged by name.
func (s *Server) SetTransfer(t *Transfer) {
	p, badKeys := newTransferPolicy(t)
	for _, name := range badKeys {
		s.log.Error("TSIG key left out: unknown algorithm or a secret that is not base64", "key", name)
	}
	s.policy.Store(p)
}

// Publish makes snap the snapshot every following query reads.
func (s *Server) Publish(snap *zones.Snapshot) {
	st := newState(snap)
	st.keepalive = uint16(min(s.cfg.TCPIdleTimeout/(100*time.Millisecond), 0xFFFF))
	st.nsid = s.cfg.NSID
	st.updates = s.cfg.Updater != nil
	if prev := s.state.Load(); prev != nil {
		st.ids = s.ids.table(snap, prev.ids)
	} else {
		st.ids = s.ids.table(snap, nil)
	}
	s.state.Store(st)
}

// Snapshot returns the snapshot being served (nil before Publish).
func (s *Server) Snapshot() *zones.Snapshot {
	return s.state.Load().snap
}

// Start opens every listener (an error names the address that failed, and
// nothing stays open) and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("dnsserver: start: server already started")
	}
	if len(s.cfg.Listen) == 0 {
		return errors.New("dnsserver: start: no listen address")
	}
	readers := udpReaders()
	var udp []net.PacketConn
	var tcp []net.Listener
	for _, addr := range s.cfg.Listen {
		pc, ln, err := listenPair(addr, readers > 1)
		if err != nil {
			closeAll(udp, tcp)
			return fmt.Errorf("dnsserver: listen on %s: %w", addr, err)
		}
		udp = append(udp, pc)
		tcp = append(tcp, ln)
	}
	s.started = true
	s.udp, s.tcp = udp, tcp
	for i, pc := range udp {
		host, _, _ := net.SplitHostPort(s.cfg.Listen[i])
		udpNet, _ := networks(host)
		s.serveUDP(pc, udpNet, readers)
		s.log.Info("Serving DNS over UDP", "addr", pc.LocalAddr().String())
	}
	for _, ln := range tcp {
		s.wg.Add(1)
		go s.acceptTCP(ln)
		s.log.Info("Serving DNS over TCP", "addr", ln.Addr().String())
	}
	return nil
}

// listenPair opens UDP and TCP on addr. When the port is 0, both get the
// same port, so that a client can retry a truncated answer where it asked.
// With share, the UDP socket lets more sockets of this process bind its
// address beside it (SO_REUSEPORT, where the system has it; see
// serveUDP); the TCP listener never does, so a second server on the same
// address still fails to start.
func listenPair(addr string, share bool) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	attempts := 1
	if port == "0" {
		attempts = 20 // the UDP port may be taken for TCP; try another
	}
	udpNet, tcpNet := networks(host)
	for i := 0; ; i++ {
		pc, err := listenUDP(udpNet, addr, share)
		if err != nil {
			return nil, nil, err
		}
		tcpAddr := net.JoinHostPort(host, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
		ln, err := net.Listen(tcpNet, tcpAddr)
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if i+1 >= attempts {
			return nil, nil, err
		}
	}
}

// networks picks the socket family from the address, so that "[::]:53"
// opens IPv6 only (IPV6_V6ONLY) and can stand beside "0.0.0.0:53" in one
// listen list, as in every other authoritative server.
func networks(host string) (udp, tcp string) {
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return "udp", "tcp" // a hostname: whatever it resolves to
	case ip.Is4():
		return "udp4", "tcp4"
	default:
		return "udp6", "tcp6"
	}
}

func closeAll(udp []net.PacketConn, tcp []net.Listener) {
	for _, pc := range udp {
		pc.Close()
	}
	for _, ln := range tcp {
		ln.Close()
	}
}

// UDPAddrs reports the bound UDP addresses (real ports when ":0" was asked).
func (s *Server) UDPAddrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := make([]net.Addr, 0, len(s.udp))
	for _, pc := range s.udp {
		addrs = append(addrs, pc.LocalAddr())
	}
	return addrs
}

// TCPAddrs reports the bound TCP addresses (real ports when ":0" was asked).
func (s *Server) TCPAddrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := make([]net.Addr, 0, len(s.tcp))
	for _, ln := range s.tcp {
		addrs = append(addrs, ln.Addr())
	}
	return addrs
}

// Shutdown stops accepting, lets queries in flight finish until ctx ends,
// then closes everything. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		if s.clock != nil {
			s.clock.close() // a reader still answering reads its last second
		}
		for _, ln := range s.tcp {
			ln.Close()
		}
		// A read deadline in the past wakes every reader; each finishes
		// the queries it holds and returns.
		for _, pc := range s.udpAll {
			pc.SetReadDeadline(time.Unix(1, 0))
		}
		for c := range s.tcpConns {
			c.SetReadDeadline(time.Unix(1, 0))
		}
	}
	s.mu.Unlock()

	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		err = fmt.Errorf("dnsserver: shutdown: %w", ctx.Err())
	}
	if s.logs != nil {
		s.logs.Close(ctx) // what the readers logged last, as long as ctx allows
	}
	s.mu.Lock()
	for _, pc := range s.udpAll {
		pc.Close()
	}
	for c := range s.tcpConns {
		c.Close()
	}
	s.mu.Unlock()
	return err
}

// shuttingDown reports whether Shutdown has begun.
func (s *Server) shuttingDown() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// respond answers req from st, and counts the query in c's counters when
// the server counts.
func (s *Server) respond(st *state, req, out []byte, c *client) []byte {
	var resp []byte
	if c.counts == nil {
		resp = s.handle(st, req, out, c, nil)
	} else {
		var tl tally
		resp = s.handle(st, req, out, c, &tl)
		c.counts.count(&tl, resp)
	}
	if s.rrl != nil && c.udp && resp != nil {
		resp = s.limit(req, resp, c)
	}
	return resp
}

// limit applies response rate limiting to a UDP response: it is sent,
// sent truncated, or dropped. A query with a valid server cookie comes
// from the address it claims, and is never limited.
func (s *Server) limit(req, resp []byte, c *client) []byte {
	addr := c.addr()
	now := s.clock.now()
	switch s.rrl.judge(req, resp, addr, now) {
	case rrlSend:
		return resp
	case rrlSlip:
		if s.validCookie(req, addr, now) {
			return resp
		}
		s.logLimited(addr, "slipped")
		return slipped(resp)
	default:
		if s.validCookie(req, addr, now) {
			return resp
		}
		s.logLimited(addr, "dropped")
		return nil
	}
}

// validCookie reports whether req carries a server cookie we made for
// addr, still valid at now.
func (s *Server) validCookie(req []byte, addr netip.Addr, now time.Time) bool {
	if s.cfg.Cookies == nil {
		return false
	}
	cookie := queryCookie(req)
	if len(cookie) <= clientCookieLen {
		return false
	}
	ok, _ := s.cfg.Cookies.valid(cookie[:clientCookieLen], cookie[clientCookieLen:], addr, now)
	return ok
}

// logLimited logs a source's limited responses at most once a minute.
func (s *Server) logLimited(addr netip.Addr, what string) {
	if s.rrl.logged.allow(addr) {
		s.log.Info("Responses rate-limited", "source", addr.String(), "action", what, "rate", s.rrl.cfg.Rate)
	}
}

// handle answers req from st: through the fast path when it can, else
// the transfer and TSIG path or the full parse, filling in tl (when not
// nil) with what the query counts as. A panic while answering (a bug,
// which a crafted query could otherwise turn into a crash of the whole
// server) is logged, sparingly, and answered with SERVFAIL.
func (s *Server) handle(st *state, req, out []byte, c *client, tl *tally) (resp []byte) {
	defer func() {
		if r := recover(); r != nil {
			// Log the 1st, 2nd, 4th, 8th... so a flood cannot fill the log.
			if n := s.panics.Add(1); n&(n-1) == 0 {
				s.log.Error("Answering a query panicked; please report it with the query", "panic", r, "at", panics.Site(),
					"query", fmt.Sprintf("%x", req), "count", n)
			}
			resp = nil
			if tl != nil {
				*tl = tally{} // whatever the query got to, it counts as no zone
			}
			if len(req) >= headerLen && req[2]&0x80 == 0 {
				resp = headerOnly(out, binary.BigEndian.Uint16(req), int(req[2]>>3)&0xF, dns.RcodeServerFailure)
			}
		}
	}()
	var ck *cookieCtx
	if s.cfg.Cookies != nil {
		ck = &cookieCtx{secrets: s.cfg.Cookies, addr: c.addr, clock: s.clock}
	}
	if resp, ok := st.respondFast(req, out, c.udp, tl, ck); ok {
		return resp
	}
	if tsigAt, ok := extendedQuery(req); ok {
		return s.respondExtended(st, req, out, c, tsigAt, tl)
	}
	return st.respondSlow(req, out, c.udp, tl, ck)
}
