package config

import (
	"encoding/hex"
	"fmt"
)

const exampleCookieSecret = "e5e973e5a6b2a43f48e7dc849e37bfcf"

// Cookies is the [cookies] table: DNS cookies (RFC 7873) with RFC 9018
// server cookies. Servers that share Secret accept each other's cookies;
// PreviousSecret is still accepted while a new one is rolled out.
type Cookies struct {
	Enabled        bool
	Secret         *[16]byte // nil: a random one at each start
	PreviousSecret *[16]byte
}

func (p *parser) buildCookies(cfg *Config, fc fileCookies) {
	c := Cookies{Enabled: fc.Enabled == nil || *fc.Enabled}
	for _, s := range []struct {
		key, text string
		into      **[16]byte
	}{{"secret", fc.Secret, &c.Secret}, {"previous_secret", fc.PreviousSecret, &c.PreviousSecret}} {
		if s.text == "" {
			continue
		}
		b, err := hex.DecodeString(s.text)
		if err != nil || len(b) != 16 {
			p.addf(p.line("cookies."+s.key, "cookies"), "cookies %s: want 32 hex digits (128 bits), such as %q; make one with: openssl rand -hex 16", s.key, exampleCookieSecret)
			continue
		}
		*s.into = (*[16]byte)(b)
	}
	if c.PreviousSecret != nil && c.Secret == nil {
		p.addf(p.line("cookies.previous_secret", "cookies"), "cookies: previous_secret without secret; set secret to the new one")
	}
	cfg.Cookies = c
}

// cookiesText says what Changes compares, without the secrets.
func cookiesText(c Cookies) string {
	return fmt.Sprintf("enabled %v, secret %s, previous %s", c.Enabled, fingerprint(c.Secret), fingerprint(c.PreviousSecret))
}

func fingerprint(s *[16]byte) string {
	if s == nil {
		return "none"
	}
	return "set (" + hex.EncodeToString(s[:2]) + "…)"
}
