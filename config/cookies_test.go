package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotdns/slotdns/internal/testkit"
)

func TestCookiesSection(t *testing.T) {
	t.Parallel()
	load := func(text string) (*Config, error) {
		dir := testkit.WriteFiles(t, map[string]string{"slotdns.toml": text})
		return Load(filepath.Join(dir, "slotdns.toml"))
	}
	if cfg, err := load(""); err != nil || !cfg.Cookies.Enabled || cfg.Cookies.Secret != nil {
		t.Fatalf("default: %+v %v, want on with a random secret", cfg.Cookies, err)
	}
	cfg, err := load("[cookies]\nsecret = \"" + exampleCookieSecret + "\"\nprevious_secret = \"00112233445566778899aabbccddeeff\"\n")
	if err != nil || cfg.Cookies.Secret == nil || cfg.Cookies.Secret[0] != 0xe5 || cfg.Cookies.PreviousSecret[15] != 0xff {
		t.Fatalf("secrets: %+v %v", cfg.Cookies, err)
	}
	if cfg, err := load("[cookies]\nenabled = false\n"); err != nil || cfg.Cookies.Enabled {
		t.Fatalf("off: %+v %v", cfg.Cookies, err)
	}
	_, err = load("[cookies]\nsecret = \"abc\"\n")
	if err == nil || !strings.Contains(err.Error(), "slotdns.toml:2: cookies secret: want 32 hex digits") {
		t.Fatalf("a short secret: %v", err)
	}
}
