package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/miekg/dns"
)

// Defaults of a [zone.dnssec] table: Knot's and BIND's order of magnitude,
// signatures valid for two weeks and refreshed at their half-life.
const (
	DefaultSignatureValidity = 14 * 24 * time.Hour
	DefaultSignatureRefresh  = 7 * 24 * time.Hour
	DefaultSignatureJitter   = 12 * time.Hour
	DefaultKeyDir            = "keys"
)

// DNSSEC is a zone's [zone.dnssec] table: the zone is signed by slotdns
// with the keys found in KeyDir.
type DNSSEC struct {
	KeyDir    string // resolved folder of the key files (BIND's K<zone>+<alg>+<tag> format)
	Algorithm uint8  // dns.ECDSAP256SHA256 (default) or dns.ED25519, for keys made by slotdns
	Split     bool   // keys made by slotdns are a KSK and a ZSK rather than one CSK
	NSEC3     bool   // denial with NSEC3 (RFC 9276 parameters) rather than NSEC
	// GenerateKeys makes the keys on start when KeyDir has none for the
	// zone. Off by default: keys that vanish must not be silently
	// replaced, since the parent's DS points at them.
	GenerateKeys bool
	Validity     time.Duration // how long a signature is valid from its inception
	Refresh      time.Duration // a signature is replaced when less than this remains
	Jitter       time.Duration // expirations are spread over this much, so re-signing spreads too
	Line         int           // the line of [zone.dnssec]
}

// maxSignatureValidity is the longest validity an RRSIG can express: its
// inception and expiration compare in serial number arithmetic, over
// 2^31 seconds at most (RFC 4034 section 3.1.5).
const maxSignatureValidity = (1<<31 - 1) * time.Second

// fileDNSSEC is the TOML shape of a [zone.dnssec] table.
type fileDNSSEC struct {
	KeyDir       string
	Algorithm    string
	SplitKeys    bool
	Denial       string
	GenerateKeys bool
	Validity     string
	Refresh      string
	Jitter       string
}

// dnssecKeys lists the keys of a [zone.dnssec] table, for messages.
const dnssecKeys = "key_dir, algorithm, split_keys, denial, generate_keys, signature_validity, signature_refresh, signature_jitter"

// decodeDNSSEC decodes the [zone.dnssec] table at (an indexed path,
// "zone[0].dnssec").
func (p *parser) decodeDNSSEC(at string, prims map[string]toml.Primitive) *fileDNSSEC {
	fd := &fileDNSSEC{}
	p.table(at, toml.Key{"zone", "dnssec"}, prims, map[string]field{
		"key_dir":            {&fd.KeyDir, `write it as key_dir = "keys"`},
		"algorithm":          {&fd.Algorithm, `write it as algorithm = "ECDSAP256SHA256" or "ED25519"`},
		"split_keys":         {&fd.SplitKeys, `write it as split_keys = true`},
		"denial":             {&fd.Denial, `write it as denial = "nsec" or "nsec3"`},
		"generate_keys":      {&fd.GenerateKeys, `write it as generate_keys = true`},
		"signature_validity": {&fd.Validity, `write it as signature_validity = "14d"`},
		"signature_refresh":  {&fd.Refresh, `write it as signature_refresh = "7d"`},
		"signature_jitter":   {&fd.Jitter, `write it as signature_jitter = "12h"`},
	})
	return fd
}

// buildDNSSEC checks the [zone.dnssec] table at (an indexed path) of the
// zone origin. Keys of the wrong type were left empty by decode, and take
// their defaults.
func (p *parser) buildDNSSEC(at, origin string, fd *fileDNSSEC) *DNSSEC {
	d := &DNSSEC{
		KeyDir:       p.resolvePath(orDefault(fd.KeyDir, DefaultKeyDir)),
		Algorithm:    dns.ECDSAP256SHA256,
		Split:        fd.SplitKeys,
		GenerateKeys: fd.GenerateKeys,
		Line:         p.line(at),
	}
	where := fmt.Sprintf("zone %q: dnssec", origin)
	lineOf := func(key string) int { return p.line(at+"."+key, at) }
	if fd.Algorithm != "" {
		alg, ok := parseAlgorithm(fd.Algorithm)
		if ok {
			d.Algorithm = alg
		} else {
			p.addf(lineOf("algorithm"), "%s algorithm %q: want \"ECDSAP256SHA256\" (13, the default) or \"ED25519\" (15)", where, fd.Algorithm)
		}
	}
	switch strings.ToLower(fd.Denial) {
	case "", "nsec":
	case "nsec3":
		d.NSEC3 = true
	default:
		p.addf(lineOf("denial"), "%s denial %q: want \"nsec\" (the default) or \"nsec3\"", where, fd.Denial)
	}

	durs := []*signatureDuration{
		{key: "signature_validity", text: fd.Validity, value: DefaultSignatureValidity, example: "14d", other: "336h"},
		{key: "signature_refresh", text: fd.Refresh, value: DefaultSignatureRefresh, example: "7d", other: "168h"},
		{key: "signature_jitter", text: fd.Jitter, value: DefaultSignatureJitter, example: "12h", other: "1d"},
	}
	validity, refresh, jitter := durs[0], durs[1], durs[2]
	for _, s := range durs {
		s.line = lineOf(s.key)
		if s.text == "" {
			continue
		}
		v, err := parseDays(s.text)
		if err != nil {
			p.addf(s.line, "%s %s %q: want a duration in hours or whole days, such as %s = %q (or %q)", where, s.key, s.text, s.key, s.example, s.other)
			s.bad = true
			continue
		}
		s.value = v
	}
	switch {
	case validity.bad:
	case validity.value < time.Hour:
		p.addf(validity.line, "%s signature_validity %s: want at least 1h, such as signature_validity = \"14d\"", where, validity.show())
		validity.bad = true
	case validity.value > maxSignatureValidity:
		p.addf(validity.line, "%s signature_validity %s: want at most 24855d (2^31 seconds, the most an RRSIG can span), such as signature_validity = \"14d\"", where, validity.show())
		validity.bad = true
	}
	if !refresh.bad && refresh.value <= 0 {
		p.addf(refresh.line, "%s signature_refresh %s: want more than 0, such as signature_refresh = \"7d\"", where, refresh.show())
		refresh.bad = true
	}
	if !jitter.bad && jitter.value < 0 {
		p.addf(jitter.line, "%s signature_jitter %s: want 0 or more, such as signature_jitter = \"12h\"", where, jitter.show())
		jitter.bad = true
	}
	if !validity.bad && !refresh.bad && refresh.value >= validity.value {
		p.addf(lineOfPair(refresh, validity, d.Line), "%s signature_refresh %s must be less than signature_validity %s, so that signatures are replaced before they expire; e.g. signature_refresh = %q",
			where, refresh.show(), validity.show(), FormatDays(example(validity.value/2)))
		refresh.bad = true
	}
	if !refresh.bad && !jitter.bad && jitter.value >= refresh.value {
		p.addf(lineOfPair(jitter, refresh, d.Line), "%s signature_jitter %s must be less than signature_refresh %s, so that a signature is replaced before it expires however its expiration is spread; e.g. signature_jitter = %q",
			where, jitter.show(), refresh.show(), FormatDays(example(refresh.value/10)))
		jitter.bad = true
	}
	// A signature lives validity less up to jitter; were that no more
	// than refresh, it would be due as soon as made, and the zone signed
	// again every second.
	if !validity.bad && !refresh.bad && !jitter.bad && refresh.value+jitter.value >= validity.value {
		p.addf(lineOfPair(validity, refresh, d.Line), "%s signature_refresh %s plus signature_jitter %s must be less than signature_validity %s: a signature expires up to the jitter early, and would be due for replacing as soon as it is made; e.g. signature_validity = %q",
			where, refresh.show(), jitter.show(), validity.show(), FormatDays(example(2*(refresh.value+jitter.value))))
	}
	d.Validity, d.Refresh, d.Jitter = validity.value, refresh.value, jitter.value
	return d
}

// parseAlgorithm reads an algorithm by name or number, in any case.
func parseAlgorithm(s string) (uint8, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ECDSAP256SHA256", "13":
		return dns.ECDSAP256SHA256, true
	case "ED25519", "15":
		return dns.ED25519, true
	}
	return 0, false
}

// signatureDuration is one of the signature_* keys, as written and read.
type signatureDuration struct {
	key, text string
	value     time.Duration // the default until text is read
	example   string        // the default, as written in a message
	other     string        // another way to write a value
	line      int
	bad       bool // already reported
}

// show is the value for a message: as written, or the default's.
func (s *signatureDuration) show() string {
	if s.text == "" {
		return FormatDays(s.value) + " (the default)"
	}
	return strconv.Quote(s.text)
}

// lineOfPair is the line of a problem between two keys: that of the first
// when it is written, else that of the second, else def.
func lineOfPair(first, second *signatureDuration, def int) int {
	switch {
	case first.text != "":
		return first.line
	case second.text != "":
		return second.line
	}
	return def
}

var daysPattern = regexp.MustCompile(`^([0-9]{1,6})d$`)

// parseDays reads a Go duration ("336h", "90m") or whole days ("14d").
func parseDays(s string) (time.Duration, error) {
	if m := daysPattern.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1]) // six digits at most: no overflow
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// FormatDays writes a duration as parseDays reads it, shortest first:
// "14d", "12h", "90m", else Go's form.
func FormatDays(d time.Duration) string {
	switch {
	case d != 0 && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d != 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d != 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// example rounds d down to a value that reads well in a message: whole
// days, hours or minutes.
func example(d time.Duration) time.Duration {
	for _, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if d >= unit {
			return d.Truncate(unit)
		}
	}
	return d
}
