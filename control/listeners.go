package control

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/web"
)

// newHTTPServer is an http.Server with the timeouts every listener of
// slotdns has; a change or an event stream lifts its write deadline.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// httpListener is an http.Server serving one listener in the background.
type httpListener struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

func serveHTTP(srv *http.Server, ln net.Listener, logger *slog.Logger, what string) *httpListener {
	l := &httpListener{srv: srv, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(what+" stopped", "listen", ln.Addr().String(), "err", err)
		}
	}()
	return l
}

func (l *httpListener) shutdown(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if err != nil {
		l.srv.Close()
	}
	<-l.done
	return err
}

func (l *httpListener) close() { l.srv.Close(); <-l.done }

// startAPI opens the listeners of the [api] table, if any.
func (s *Server) startAPI(deps handlerDeps, verifier *auth.Verifier) error {
	a := s.cfg.API
	if a.Listen == "" && a.MetricsListen == "" {
		return nil
	}
	ra := newRemoteAuth(verifier, s.clock.Now, s.log, a.TLS())
	var err error
	if a.Listen != "" {
		if s.remote, err = s.startRemote(ra, deps); err != nil {
			return err
		}
		if tokens, _ := verifier.Tokens(); len(tokens) == 0 {
			s.log.Warn("The remote API has no tokens yet: add one with slotdns token add NAME --scope read|swap|admin", "file", a.Tokens)
		}
	}
	if a.MetricsListen != "" {
		if s.metricsHTTP, err = s.startMetrics(ra, deps); err != nil {
			s.closeAPI()
			return err
		}
	}
	return nil
}

// closeAPI closes the [api] listeners at once (a start that failed).
func (s *Server) closeAPI() {
	for _, l := range []*httpListener{s.remote, s.metricsHTTP} {
		if l != nil {
			l.close()
		}
	}
}

// startRemote opens the API listener: the control API for tokens, the
// dashboard's login and files, the health probes, and /metrics unless it
// has a listener of its own. Cross-origin POSTs are refused, so that a
// page elsewhere cannot make a logged-in browser press the swap button.
func (s *Server) startRemote(ra *remoteAuth, deps handlerDeps) (*httpListener, error) {
	a := s.cfg.API
	h, mux := newHandler(s.svc, deps, ra.authenticate)
	mux.HandleFunc("POST /v1/login", ra.login(h))
	mux.HandleFunc("POST /v1/logout", ra.logout(h))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(s.ready.Load))
	if a.MetricsListen == "" {
		mux.Handle("GET /metrics", s.metricsHandler(a.Listen, ra, h))
	}
	mux.Handle("/", web.Handler())
	ln, err := listenAPI(a, "listen", a.Listen)
	if err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.result(w, nil, api.Errorf(api.KindForbidden, "%s %s: refused, the request comes from another site's page (Origin %q)", r.Method, r.URL.Path, r.Header.Get("Origin")))
	}))
	handler := s.tracked(h.recovering(cop.Handler(mux)))
	if !a.TLS() {
		handler = loopbackHost(h, handler)
	}
	srv := newHTTPServer(handler, s.log)
	srv.RegisterOnShutdown(s.bus.close)
	s.log.Info("Remote API listening", "listen", ln.Addr().String(), "tls", a.TLS(), "tokens", a.Tokens)
	return serveHTTP(srv, ln, s.log, "Remote API"), nil
}

// loopbackHost guards a plain HTTP listener, which is on loopback: a
// request must name a loopback host, so that a page elsewhere whose name
// was made to resolve to 127.0.0.1 (DNS rebinding) cannot read it.
func loopbackHost(h *handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !config.Loopback(r.Host) && !config.Loopback(net.JoinHostPort(r.Host, "0")) {
			h.result(w, nil, api.Errorf(api.KindForbidden, "host %q: this listener answers only to a loopback name (127.0.0.1, [::1], localhost)", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}
