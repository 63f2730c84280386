// Package dnssec holds a zone's signing keys: made, stored and read in
// the key file format of BIND's dnssec-keygen (K<zone>+<alg>+<tag>.key
// and .private), so that keys move between slotdns and the established
// tools, and what a registrar is given of them (DS, CDS, CDNSKEY).
package dnssec

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/atomicfile"
)

// The algorithms slotdns signs with (RFC 8624 recommends both).
const (
	ECDSAP256SHA256 = dns.ECDSAP256SHA256 // 13, the default
	ED25519         = dns.ED25519         // 15
)

// DNSKEY flags: a zone key, and a zone key with the SEP bit.
const (
	FlagsZSK = 256
	FlagsKSK = 257 // also a combined signing key (CSK) when no ZSK is beside it
)

// keyTTL is the TTL of a DNSKEY a key file gives; the served TTL is the
// zone's.
const keyTTL = 3600

// Key is one signing key of a zone.
type Key struct {
	DNSKEY  *dns.DNSKEY
	Signer  crypto.Signer
	Created time.Time
	File    string // the .private file it was read from or written to
	// Use is what the key does in its zone while a rollover moves keys
	// in and out; the zero Use is the key's usual role (see Signer).
	Use Use
}

// Use is what one key does in its zone. A rollover publishes a key
// before it signs, and keeps it published after it stops.
type Use struct {
	Publish  bool // in the DNSKEY RRset
	SignKeys bool // signs the DNSKEY, CDS and CDNSKEY RRsets
	SignZone bool // signs every other RRset
	Parent   bool // in CDS and CDNSKEY: a key the parent's DS should point at
}

// String names the use, as status shows it: "published", plus what the
// key signs and whether the parent should point at it.
func (u Use) String() string {
	parts := []string{}
	if u.Publish {
		parts = append(parts, "published")
	}
	if u.SignKeys && u.SignZone {
		parts = append(parts, "signs all")
	} else if u.SignKeys {
		parts = append(parts, "signs keys")
	} else if u.SignZone {
		parts = append(parts, "signs zone")
	}
	if u.Parent {
		parts = append(parts, "in CDS")
	}
	if len(parts) == 0 {
		return "unused"
	}
	return strings.Join(parts, ", ")
}

// Tag is the key tag (RFC 4034 appendix B).
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// Zone is the zone the key is for, lowercase FQDN.
func (k *Key) Zone() string { return strings.ToLower(k.DNSKEY.Hdr.Name) }

// SEP reports a key with the secure entry point bit: a KSK or a CSK, the
// key the parent's DS points at.
func (k *Key) SEP() bool { return k.DNSKEY.Flags&dns.SEP != 0 }

// DS is the DS record of the key for the parent zone, with SHA-256 (RFC
// 4509), the digest RFC 8624 requires.
func (k *Key) DS() *dns.DS { return k.DNSKEY.ToDS(dns.SHA256) }

// CDS and CDNSKEY are the records of RFC 7344 that let a parent that
// scans for them take the DS from the zone itself.
func (k *Key) CDS() *dns.CDS { return k.DS().ToCDS() }

func (k *Key) CDNSKEY() *dns.CDNSKEY { return k.DNSKEY.ToCDNSKEY() }

// BaseName is the key's file name without its extension, as
// dnssec-keygen names it: Kexample.com.+013+12345.
func (k *Key) BaseName() string {
	return fmt.Sprintf("K%s+%03d+%05d", k.Zone(), k.DNSKEY.Algorithm, k.Tag())
}

// Generate makes a key for zone with algorithm alg (ECDSAP256SHA256 or
// ED25519) and flags (FlagsKSK for a KSK or a CSK, FlagsZSK).
func Generate(zone string, alg uint8, flags uint16, now time.Time) (*Key, error) {
	if err := supported(alg); err != nil {
		return nil, err
	}
	if flags != FlagsKSK && flags != FlagsZSK {
		return nil, fmt.Errorf("DNSKEY flags %d: want %d (KSK or CSK) or %d (ZSK)", flags, FlagsKSK, FlagsZSK)
	}
	key := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: strings.ToLower(dns.Fqdn(zone)), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: keyTTL},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	bits := 256 // both algorithms have one size
	priv, err := key.Generate(bits)
	if err != nil {
		return nil, fmt.Errorf("generate a key for %s: %w", key.Hdr.Name, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("generate a key for %s: %T cannot sign", key.Hdr.Name, priv)
	}
	return &Key{DNSKEY: key, Signer: signer, Created: now.UTC().Truncate(time.Second)}, nil
}

func supported(alg uint8) error {
	if alg != ECDSAP256SHA256 && alg != ED25519 {
		return fmt.Errorf("algorithm %d (%s) is not one slotdns signs with: use %d (ECDSAP256SHA256) or %d (ED25519)",
			alg, dns.AlgorithmToString[alg], ECDSAP256SHA256, ED25519)
	}
	return nil
}

// timestamp is the form of a key file's dates: YYYYMMDDHHMMSS, UTC.
const timestamp = "20060102150405"

// Write stores the key in dir as dnssec-keygen does: the DNSKEY in
// BaseName().key (mode 0644) and the private key in BaseName().private
// (mode 0600). Each file is written to a temporary name, synced and
// renamed, so that a crash leaves the old file or the new one. An
// existing key file is never replaced.
func (k *Key) Write(dir string) error {
	base := filepath.Join(dir, k.BaseName())
	for _, ext := range []string{".key", ".private"} {
		if _, err := os.Lstat(base + ext); err == nil {
			return fmt.Errorf("key file %s exists already: a key with that tag is in %s", base+ext, dir)
		}
	}
	created := k.Created.UTC().Format(timestamp)
	kind := "zone-signing key"
	if k.SEP() {
		kind = "key-signing key"
	}
	pub := fmt.Sprintf("; This is a %s, keyid %d, for %s\n; Created: %s (%s)\n%s\n",
		kind, k.Tag(), k.Zone(), created, k.Created.UTC().Format(time.ANSIC), k.DNSKEY)
	priv := k.DNSKEY.PrivateKeyString(k.Signer)
	if priv == "" {
		return fmt.Errorf("key %s: the private key is not one of algorithm %d", k.BaseName(), k.DNSKEY.Algorithm)
	}
	priv += fmt.Sprintf("Created: %s\nPublish: %s\nActivate: %s\n", created, created, created)
	// The private file first: a public file alone is refused when read.
	if err := atomicfile.WriteFile(base+".private", []byte(priv), 0o600); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if err := atomicfile.WriteFile(base+".key", []byte(pub), 0o644); err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	k.File = base + ".private"
	return nil
}

// Load reads every key of zone in dir: each K<zone>+*.private with its
// .key beside it, sorted by tag. A private key file that others than its
// owner may read, a missing public file, a key of another zone or of
// another algorithm, and a private key that does not match its public
// key are refused, each error naming the file.
func Load(dir, zone string) ([]*Key, error) {
	zone = strings.ToLower(dns.Fqdn(zone))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("key folder: %w", err)
	}
	var keys []*Key
	var errs []error
	prefix := "k" + zone + "+"
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".private") || !strings.HasPrefix(strings.ToLower(name), prefix) {
			continue
		}
		k, err := loadKey(filepath.Join(dir, name), zone)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keys = append(keys, k)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b *Key) int { return int(a.Tag()) - int(b.Tag()) })
	return keys, nil
}

// loadKey reads one key from its .private file and the .key beside it.
func loadKey(privPath, zone string) (*Key, error) {
	st, err := os.Lstat(privPath)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("key file %s is not a regular file", privPath)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %04o, which lets others than its owner read the private key; run chmod 600 %s", privPath, perm, privPath)
	}
	pubPath := strings.TrimSuffix(privPath, ".private") + ".key"
	pubText, err := os.ReadFile(pubPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("key file %s: its public key file %s is missing", privPath, pubPath)
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	key, err := parseDNSKEY(pubPath, pubText)
	if err != nil {
		return nil, err
	}
	if got := strings.ToLower(key.Hdr.Name); got != zone {
		return nil, fmt.Errorf("key file %s is a key of %s, not of %s", pubPath, got, zone)
	}
	if err := supported(key.Algorithm); err != nil {
		return nil, fmt.Errorf("key file %s: %w", pubPath, err)
	}
	if key.Protocol != 3 || key.Flags&dns.ZONE == 0 {
		return nil, fmt.Errorf("key file %s: not a zone key (flags %d, protocol %d)", pubPath, key.Flags, key.Protocol)
	}
	privText, err := os.ReadFile(privPath)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	priv, err := key.ReadPrivateKey(bytes.NewReader(privText), privPath)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", privPath, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !matches(key, signer) {
		return nil, fmt.Errorf("key file %s does not hold the private key of %s (tag %d)", privPath, pubPath, key.KeyTag())
	}
	k := &Key{DNSKEY: key, Signer: signer, Created: st.ModTime().UTC().Truncate(time.Second), File: privPath}
	if created, ok := field(privText, "Created"); ok {
		if t, err := time.Parse(timestamp, created); err == nil {
			k.Created = t
		}
	}
	return k, nil
}

// parseDNSKEY reads the one DNSKEY of a .key file, comments aside.
func parseDNSKEY(path string, text []byte) (*dns.DNSKEY, error) {
	zp := dns.NewZoneParser(bytes.NewReader(text), ".", path)
	var key *dns.DNSKEY
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k, isKey := rr.(*dns.DNSKEY)
		if !isKey || key != nil {
			return nil, fmt.Errorf("key file %s: want one DNSKEY record, found %s", path, dns.TypeToString[rr.Header().Rrtype])
		}
		key = k
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if key == nil {
		return nil, fmt.Errorf("key file %s: no DNSKEY record in it", path)
	}
	if key.Hdr.Ttl == 0 {
		key.Hdr.Ttl = keyTTL
	}
	return key, nil
}

// matches reports whether signer's public key is the one key publishes:
// miekg/dns takes the public part of an ECDSA key from the DNSKEY, so it
// is derived anew from the private scalar here.
func matches(key *dns.DNSKEY, signer crypto.Signer) bool {
	var public []byte
	switch s := signer.(type) {
	case *ecdsa.PrivateKey:
		ek, err := s.ECDH()
		if err != nil {
			return false
		}
		p, err := ecdh.P256().NewPrivateKey(ek.Bytes())
		if err != nil {
			return false
		}
		public = p.PublicKey().Bytes()[1:] // X || Y, without the 0x04 of the uncompressed form
	case ed25519.PrivateKey:
		public = s.Public().(ed25519.PublicKey)
	default:
		return false
	}
	published, err := base64.StdEncoding.DecodeString(key.PublicKey)
	return err == nil && bytes.Equal(public, published)
}

// field gives the value of a "Name: value" line of a key file.
func field(text []byte, name string) (string, bool) {
	for line := range strings.Lines(string(text)) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
