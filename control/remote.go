package control

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/config"
)

// The remote API: the control API over HTTPS (or plain HTTP on loopback)
// for tokens, with the dashboard's login, /metrics and the health
// probes beside it.

const (
	sessionCookie = "slotdns_session"
	sessionTTL    = 12 * time.Hour
	maxSessions   = 10000
	// One token's logins beyond this end its oldest sessions, so that
	// one token cannot push every other out.
	sessionsPerToken = 50
	// A source gets failBurst wrong tokens, then one per failInterval.
	failBurst    = 10
	failInterval = 6 * time.Second
	maxSources   = 10000
)

// remoteAuth finds who a remote request is from: a bearer token, or the
// session cookie of a dashboard login.
type remoteAuth struct {
	verifier *auth.Verifier
	sessions *auth.Sessions
	limiter  *auth.Limiter
	log      *slog.Logger
	tls      bool

	mu           sync.Mutex
	brokenLogged time.Time // when an unreadable token file was last logged
}

func newRemoteAuth(v *auth.Verifier, now func() time.Time, log *slog.Logger, tls bool) *remoteAuth {
	return &remoteAuth{
		verifier: v,
		sessions: auth.NewSessions(v, sessionTTL, maxSessions, sessionsPerToken, now),
		limiter:  auth.NewLimiter(failBurst, failInterval, maxSources, now),
		log:      log,
		tls:      tls,
	}
}

// clientAddr is the address a request came from (no proxy header is
// trusted: the listener faces the clients).
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// authenticate lets through requests with a valid token or session, with
// their identity; others get 401, and a source with too many failures
// 429 before its token is looked at.
func (a *remoteAuth) authenticate(h *handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := a.identify(h, w, r)
			if ok {
				next.ServeHTTP(w, r.WithContext(withIdentity(r.Context(), id)))
			}
		})
	}
}

func (a *remoteAuth) identify(h *handler, w http.ResponseWriter, r *http.Request) (identity, bool) {
	addr := clientAddr(r)
	if blocked, wait := a.limiter.Blocked(addr); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		h.reply(w, http.StatusTooManyRequests, api.Errorf(api.KindUnauthorized, "too many wrong tokens from %s; try again in %s", addr, wait.Round(time.Second)+time.Second))
		return identity{}, false
	}
	var (
		t     auth.Token
		found bool
		err   error
		via   string
	)
	var valid func() bool
	if scheme, bearer, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		via = "token"
		secret := strings.TrimSpace(bearer)
		t, found, err = a.verifier.Check(secret)
		valid = func() bool { _, ok, _ := a.verifier.Check(secret); return ok }
	} else if c, cerr := r.Cookie(sessionCookie); cerr == nil {
		via = "session"
		t, found, err = a.sessions.Lookup(c.Value)
		valid = func() bool { _, ok, _ := a.sessions.Lookup(c.Value); return ok }
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="slotdns"`)
		h.result(w, nil, api.Errorf(api.KindUnauthorized, "%s %s: no token; send Authorization: Bearer TOKEN (slotdns --token-file), or log in on the dashboard", r.Method, r.URL.Path))
		return identity{}, false
	}
	if err != nil {
		a.tokenFileBroken(h, w, err)
		return identity{}, false
	}
	if !found {
		what := "wrong or removed token"
		if via == "session" {
			// A session id is 256 random bits, not worth guessing: an
			// old cookie (a restart, an expiry) is no attack, and must
			// not lock its address out.
			what = "session ended or expired; log in again"
			a.clearCookie(w)
		} else {
			a.fail(r, addr, via)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="slotdns", error="invalid_token"`)
		h.result(w, nil, api.Errorf(api.KindUnauthorized, "%s %s: %s", r.Method, r.URL.Path, what))
		return identity{}, false
	}
	id := tokenIdentity(t, via, addr)
	id.valid = valid
	return id, true
}

// tokenFileBroken answers a request the token file cannot be read for:
// the server's fault, not the token's. It is logged once a minute.
func (a *remoteAuth) tokenFileBroken(h *handler, w http.ResponseWriter, err error) {
	a.mu.Lock()
	now := time.Now()
	logNow := now.Sub(a.brokenLogged) >= time.Minute
	if logNow {
		a.brokenLogged = now
	}
	a.mu.Unlock()
	if logNow {
		a.log.Error("Token file unreadable: every token is refused until it is fixed", "err", err)
	}
	h.result(w, nil, api.Errorf(api.KindInternal, "the server cannot read its token file; its log says why"))
}

// fail counts a failed attempt, logged at most once a minute per source
// and never with the token.
func (a *remoteAuth) fail(r *http.Request, addr netip.Addr, via string) {
	if a.limiter.Fail(addr) {
		a.log.Warn("Control API: refused a wrong token", "from", addr, "via", via, "method", r.Method, "path", r.URL.Path)
	}
}

// login trades a token for a session cookie.
func (a *remoteAuth) login(h *handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		if blocked, wait := a.limiter.Blocked(addr); blocked {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			h.reply(w, http.StatusTooManyRequests, api.Errorf(api.KindUnauthorized, "too many wrong tokens from %s; try again in %s", addr, wait.Round(time.Second)+time.Second))
			return
		}
		var req api.LoginRequest
		if !h.decode(w, r, &req) {
			return
		}
		id, t, ok, err := a.sessions.Start(strings.TrimSpace(req.Token))
		if err != nil {
			a.tokenFileBroken(h, w, err)
			return
		}
		if !ok {
			a.fail(r, addr, "login")
			h.result(w, nil, api.Errorf(api.KindUnauthorized, "wrong or removed token"))
			return
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: a.tls,
			SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
		ident := tokenIdentity(t, "session", addr)
		a.log.Info("Dashboard login", "token", t.Name, "from", addr)
		h.result(w, api.Whoami{Name: ident.name, Scope: t.Scope.String(), App: t.App, Actor: ident.actor, Via: ident.via}, nil)
	}
}

// logout ends the session of the cookie, whatever state it is in.
func (a *remoteAuth) logout(h *handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			a.sessions.End(c.Value)
		}
		a.clearCookie(w)
		h.result(w, struct{}{}, nil)
	}
}

func (a *remoteAuth) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: a.tls,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// tlsConfig is the API listener's TLS: 1.2 at least, 1.3 preferred (Go
// negotiates the highest both sides speak).
func tlsConfig(a config.API) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("api: tls_cert %s and tls_key %s: %w", a.TLSCert, a.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// checkAPI reads what the [api] listeners need before a start opens
// anything: the certificate and key, and the token file.
func checkAPI(cfg *config.Config) error {
	a := cfg.API
	if a.Listen == "" && a.MetricsListen == "" {
		return nil
	}
	var errs []error
	if a.TLS() {
		if _, err := tlsConfig(a); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := (auth.File{Path: a.Tokens}).Load(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// listenAPI opens a listener of the [api] table (key names it, for
// errors) on addr, with TLS when configured.
func listenAPI(a config.API, key, addr string) (net.Listener, error) {
	var tc *tls.Config
	if a.TLS() {
		var err error
		if tc, err = tlsConfig(a); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api %s %s: %w", key, addr, err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

// healthz answers while the process is up; readyz once ready says so.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "ok")
}

func readyz(ready func() bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "starting")
			return
		}
		fmt.Fprintln(w, "ready")
	}
}
