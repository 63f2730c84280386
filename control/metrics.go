package control

import (
	"net/http"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/version"
	"github.com/slotdns/slotdns/metrics"
)

// newMetrics is the server's /metrics: the DNS counters, and the state of
// apps, zones and secondaries, all read at scrape time.
func (s *Server) newMetrics() *metrics.Metrics {
	return metrics.New(version.String(), metrics.Sources{
		DNS:         s.dns.Counts,
		Apps:        s.appStates,
		Zones:       s.zoneStates,
		Secondaries: s.secondaryStates,
	})
}

func (s *Server) appStates() []metrics.AppState {
	snap, now := s.p.Snapshot(), s.clock.Now()
	out := make([]metrics.AppState, 0, len(s.cfg.Apps))
	for _, ac := range s.cfg.Apps {
		st := metrics.AppState{App: ac.Name, Zone: ac.Zone}
		st.Serial, _ = snap.Serial(ac.Zone)
		if drained := s.p.DrainState(ac.Name).DrainedAt; drained.After(now) {
			st.DrainRemaining = drained.Sub(now)
		}
		out = append(out, st)
	}
	return out
}

func (s *Server) zoneStates() []metrics.ZoneState {
	snap := s.p.Snapshot()
	out := make([]metrics.ZoneState, 0, len(s.cfg.Zones))
	for _, z := range s.cfg.Zones {
		serial, _ := snap.Serial(z.Origin)
		out = append(out, metrics.ZoneState{Zone: z.Origin, Serial: serial})
	}
	return out
}

// secondaryStates are the serials last seen served by each secondary,
// as the watch after each change found them: a scrape asks nobody.
func (s *Server) secondaryStates() []metrics.SecondaryState {
	snap := s.p.Snapshot()
	var out []metrics.SecondaryState
	for _, z := range s.cfg.Zones {
		ours, _ := snap.Serial(z.Origin)
		for _, sec := range z.Secondaries {
			st := metrics.SecondaryState{Zone: z.Origin, Address: sec.Address}
			if res, ok := s.secondaries.last(z.Origin, sec.Address); ok {
				st.Serial, st.Known = res.Serial, true
				st.Lag = int64(int32(ours - res.Serial))
			}
			out = append(out, st)
		}
	}
	return out
}

// metricsHandler serves /metrics: to anyone on a loopback listener, else
// to a read token.
func (s *Server) metricsHandler(listen string, ra *remoteAuth, h *handler) http.Handler {
	serve := s.metrics.Handler()
	if config.Loopback(listen) {
		return serve
	}
	// Every app's series: not for a token limited to one app.
	return ra.authenticate(h)(h.authorize(auth.ScopeRead, false, serve.ServeHTTP))
}

// startMetrics opens metrics_listen: /metrics and the health probes.
func (s *Server) startMetrics(ra *remoteAuth, deps handlerDeps) (*httpListener, error) {
	addr := s.cfg.API.MetricsListen
	h, mux := newHandler(s.svc, deps, ra.authenticate)
	mux.Handle("GET /metrics", s.metricsHandler(addr, ra, h))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", readyz(s.ready.Load))
	ln, err := listenAPI(s.cfg.API, "metrics_listen", addr)
	if err != nil {
		return nil, err
	}
	s.log.Info("Metrics listening", "listen", ln.Addr().String())
	// Only /metrics and the probes: the control API stays on listen.
	only := http.NewServeMux()
	for _, p := range []string{"GET /metrics", "GET /healthz", "GET /readyz"} {
		only.Handle(p, mux)
	}
	only.HandleFunc("/", h.notFound)
	var handler http.Handler = h.recovering(only)
	if !s.cfg.API.TLS() {
		handler = loopbackHost(h, handler)
	}
	return serveHTTP(newHTTPServer(handler, s.log), ln, s.log, "Metrics"), nil
}

// resultOf names the outcome of a change for its counter.
func resultOf(err error) string {
	if err == nil {
		return "ok"
	}
	switch api.KindOf(err) {
	case api.KindConflict:
		return "conflict"
	case api.KindCheckFailed, api.KindInvalid, api.KindNotFound:
		return "refused"
	}
	return "error"
}
