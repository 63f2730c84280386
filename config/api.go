package config

import (
	"net"
	"net/netip"
)

// DefaultTokens is the token file of the remote API, beside the config.
const DefaultTokens = "slotdns.tokens"

// API is the [api] table: the HTTPS listener of the remote API and the
// dashboard, and where /metrics is served. The zero value (no [api]
// table) serves neither; the token file still has its default path, for
// slotdns token.
type API struct {
	Listen  string // host:port; "" serves no remote API
	TLSCert string // resolved PEM paths; both or neither
	TLSKey  string
	// Tokens is the token file (digests, names and scopes; mode 0600).
	Tokens string
	// MetricsListen serves /metrics on a listener of its own; "" serves
	// it on Listen, when there is one.
	MetricsListen string

	listenLine, certLine, keyLine, tokensLine, metricsLine int
}

// TLS reports whether the API listener speaks HTTPS.
func (a API) TLS() bool { return a.TLSCert != "" }

// Loopback reports whether addr (host:port) binds only to a loopback
// address: 127.0.0.0/8, ::1 or "localhost".
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// buildAPI checks the [api] table. Plain HTTP carries tokens in clear, so
// it is allowed only where nothing but this host can listen in.
func (p *parser) buildAPI(cfg *Config, fa fileAPI) {
	a := API{
		Listen:        fa.Listen,
		TLSCert:       fa.TLSCert,
		TLSKey:        fa.TLSKey,
		Tokens:        p.resolvePath(orDefault(fa.Tokens, DefaultTokens)),
		MetricsListen: fa.MetricsListen,
		listenLine:    p.line("api.listen", "api"),
		certLine:      p.line("api.tls_cert", "api"),
		keyLine:       p.line("api.tls_key", "api"),
		tokensLine:    p.line("api.tokens", "api"),
		metricsLine:   p.line("api.metrics_listen", "api"),
	}
	if a.TLSCert != "" {
		a.TLSCert = p.resolvePath(a.TLSCert)
	}
	if a.TLSKey != "" {
		a.TLSKey = p.resolvePath(a.TLSKey)
	}
	for _, l := range []struct{ key, addr string }{{"listen", a.Listen}, {"metrics_listen", a.MetricsListen}} {
		if l.addr == "" || p.bad["api."+l.key] {
			continue
		}
		if err := checkHostPort(l.addr); err != nil {
			p.addf(p.line("api."+l.key, "api"), "api %s %q: %v; write it as host:port, e.g. \"127.0.0.1:8053\"", l.key, l.addr, err)
		}
	}
	switch {
	case (a.TLSCert == "") != (a.TLSKey == ""):
		p.addf(p.line("api.tls_cert", "api.tls_key", "api"), "api: tls_cert and tls_key go together; set both, or neither for plain HTTP on loopback")
	case a.Listen != "" && !a.TLS() && !Loopback(a.Listen):
		p.addf(a.listenLine, "api listen %q: plain HTTP is allowed only on loopback addresses (127.0.0.1, ::1), since tokens would cross the network in clear; add tls_cert and tls_key, or listen on 127.0.0.1", a.Listen)
	case a.MetricsListen != "" && !a.TLS() && !Loopback(a.MetricsListen):
		p.addf(a.metricsLine, "api metrics_listen %q: plain HTTP is allowed only on loopback addresses, since the read token a scraper sends would cross the network in clear; add tls_cert and tls_key, or listen on 127.0.0.1", a.MetricsListen)
	case a.Listen == "" && a.MetricsListen == "" && a.TLS() && !p.bad["api.listen"]:
		p.addf(a.certLine, "api: tls_cert and tls_key are set but listen is not; add listen = \"0.0.0.0:8053\"")
	}
	cfg.API = a
}
