package config

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Key is one TSIG key of the tsig_keys file.
type Key struct {
	Name      string // lowercase FQDN
	Algorithm string // miekg/dns name, e.g. dns.HmacSHA256
	Secret    string // base64, as tsig-keygen writes it
}

// String names the key and its algorithm; it never shows the secret, so
// that printing a Key with %v cannot leak it.
func (k Key) String() string { return k.Name + " (" + k.Algorithm + ")" }

// LoadKeys reads the tsig_keys file, by lowercase FQDN key name, and
// checks that every [[zone.secondary]] key names one of its keys. The file
// is in the format tsig-keygen writes:
//
//	key "xfr-key" {
//		algorithm hmac-sha256;
//		secret "base64...";
//	};
//
// with any number of key blocks and #, // and /* */ comments, and its mode
// must not let group or others read it. LoadKeys returns nil, nil when no
// tsig_keys file is configured. Errors name the file and line; they never
// quote a secret.
func (c *Config) LoadKeys() (map[string]Key, error) {
	if c.KeysFile == "" {
		return nil, nil
	}
	keys, err := loadKeyFile(c.KeysFile)
	if err != nil {
		if c.keysLine > 0 {
			return nil, fmt.Errorf("%s:%d: tsig_keys: %w", c.Path, c.keysLine, err)
		}
		return nil, err
	}
	var errs []error
	for _, z := range c.Zones {
		for _, sec := range z.Secondaries {
			if sec.Key == "" || keys[sec.Key].Name != "" {
				continue
			}
			line := sec.keyLine
			if line == 0 {
				line = sec.Line
			}
			errs = append(errs, fmt.Errorf("%s:%d: zone %q: secondary %s: key %q is not in %s (it has %s); add it there or fix the name",
				c.Path, line, z.Origin, sec.Address, strings.TrimSuffix(sec.Key, "."), c.KeysFile, keyList(keys)))
		}
	}
	for _, z := range c.Zones {
		for _, u := range z.Updates {
			line := cmp.Or(u.keyLine, u.Line)
			k := keys[u.Key]
			switch {
			case k.Name == "":
				errs = append(errs, fmt.Errorf("%s:%d: zone %q: update: key %q is not in %s (it has %s); add it there or fix the name",
					c.Path, line, z.Origin, strings.TrimSuffix(u.Key, "."), c.KeysFile, keyList(keys)))
			case k.Algorithm == dns.HmacSHA1 && !u.AllowSHA1:
				errs = append(errs, fmt.Errorf("%s:%d: zone %q: update: key %q is hmac-sha1; make it hmac-sha256 (tsig-keygen -a hmac-sha256), or set allow_hmac_sha1 = true for a client that speaks nothing else (lego defaults to it)",
					c.Path, line, z.Origin, strings.TrimSuffix(u.Key, ".")))
			case k.Algorithm != dns.HmacSHA1 && k.Algorithm != dns.HmacSHA256 && k.Algorithm != dns.HmacSHA384 && k.Algorithm != dns.HmacSHA512:
				errs = append(errs, fmt.Errorf("%s:%d: zone %q: update: key %q is %s; updates take hmac-sha256, hmac-sha384 or hmac-sha512",
					c.Path, line, z.Origin, strings.TrimSuffix(u.Key, "."), strings.TrimSuffix(k.Algorithm, ".")))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, nil
}

// loadKeyFile reads the key file at path, which must not be readable by
// group or others.
func loadKeyFile(path string) (map[string]Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tsig keys: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %04o lets group or others read the secrets; run: chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tsig keys: %w", err)
	}
	return parseKeys(path, string(data))
}

// keyList names the keys for a message: "a" and "b", or no keys.
func keyList(keys map[string]Key) string {
	var names []string
	for name := range keys {
		names = append(names, fmt.Sprintf("%q", strings.TrimSuffix(name, ".")))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no keys"
	}
	return joinWords(names)
}
