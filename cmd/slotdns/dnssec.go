package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"

	"github.com/miekg/dns"
	"github.com/urfave/cli/v2"
)

func dnssecCommand() *cli.Command {
	return &cli.Command{
		Name:  "dnssec",
		Usage: "make the keys of a signed zone, print the DS its parent needs, and roll its keys over",
		UsageText: `slotdns dnssec keygen ZONE [--algorithm ECDSAP256SHA256|ED25519] [--split] [--json]
   slotdns dnssec ds ZONE [--json]
   slotdns dnssec rollover ZONE [--start [--key csk|ksk|zsk]] [--ds-published [--ds-ttl SECONDS]] [--wait] [--json]

   slotdns dnssec keygen example.com
   slotdns dnssec ds example.com`,
		Description: `A zone is signed when its [[zone]] has a [zone.dnssec] table (an empty one
takes every default): slotdns serve signs it with the keys of key_dir, in
BIND's format (K<zone>+<alg>+<tag>.key and .private, mode 0600), so that
dnssec-keygen's keys work too.

keygen makes the zone's keys: one CSK, or with split_keys (--split) a KSK and
a ZSK, of the configured algorithm (--algorithm), in key_dir (created with
mode 0700). It refuses a zone that has keys already: replacing keys the
parent's DS points at takes a key rollover.

ds prints the DS record (SHA-256) and the DNSKEY of each KSK or CSK, one
record per line: what the registrar is given, once slotdns serve serves the
zone signed (check with dig +dnssec DNSKEY ZONE).

keygen and ds read the config and the key files of this machine; --server
does not apply. rollover asks the running server (or --server), which
re-signs the zone at each step: see slotdns dnssec rollover --help.`,
		Subcommands: []*cli.Command{
			{
				Name:      "keygen",
				Usage:     "make the signing keys of a zone that has none",
				ArgsUsage: "ZONE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "algorithm", Usage: "`ALG` of the keys: ECDSAP256SHA256 (13) or ED25519 (15); default the zone's algorithm"},
					&cli.BoolFlag{Name: "split", Usage: "make a KSK and a ZSK rather than one CSK; default the zone's split_keys"},
					jsonFlag(),
				},
				Action:       dnssecKeygen,
				OnUsageError: onUsageError,
			},
			{
				Name:         "ds",
				Usage:        "print the DS and DNSKEY of the zone's KSK or CSK, for its parent",
				ArgsUsage:    "ZONE",
				Flags:        []cli.Flag{jsonFlag()},
				Action:       dnssecDS,
				OnUsageError: onUsageError,
			},
			rolloverCommand(),
		},
	}
}

// dsRecord is one SEP key as --json gives it: the DS for the parent and
// the DNSKEY it digests, each in zone-file presentation.
type dsRecord struct {
	Tag       uint16 `json:"tag"`
	Algorithm uint8  `json:"algorithm"`
	DS        string `json:"ds"`
	DNSKEY    string `json:"dnskey"`
}

// keygenResult is keygen's --json.
type keygenResult struct {
	Zone   string     `json:"zone"`
	KeyDir string     `json:"key_dir"`
	Files  []string   `json:"files"`
	DS     []dsRecord `json:"ds"`
}

func dsRecords(keys []*dnssec.Key) []dsRecord {
	out := []dsRecord{}
	for _, k := range keys {
		if k.SEP() {
			out = append(out, dsRecord{Tag: k.Tag(), Algorithm: k.DNSKEY.Algorithm, DS: k.DS().String(), DNSKEY: k.DNSKEY.String()})
		}
	}
	return out
}

// signedZone reads the config and gives the zone of the command's one
// argument, which must have a [zone.dnssec] table.
func signedZone(c *cli.Context) (*config.Config, *config.Zone, error) {
	if remote(c) {
		return nil, nil, usagef("dnssec %s needs the config and the key files of the server's machine; --server does not apply: run it there", c.Command.Name)
	}
	if n := c.Args().Len(); n != 1 {
		return nil, nil, usagef("dnssec %s: want ZONE, got %d argument(s); usage: slotdns dnssec %s ZONE", c.Command.Name, n, c.Command.Name)
	}
	arg := c.Args().First()
	origin := strings.ToLower(dns.Fqdn(arg))
	if _, ok := dns.IsDomainName(origin); !ok || strings.ContainsAny(arg, " \t") {
		return nil, nil, usagef("dnssec %s: %q is not a zone name; give one such as example.com", c.Command.Name, arg)
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, nil, err
	}
	z, ok := cfg.Zone(origin)
	if !ok {
		var names []string
		for _, z := range cfg.Zones {
			names = append(names, z.Origin)
		}
		declared := "it declares none"
		if len(names) > 0 {
			declared = "it declares " + strings.Join(names, ", ")
		}
		return nil, nil, api.Errorf(api.KindNotFound, "zone %s is not in %s (%s); add it as a [[zone]] with a [zone.dnssec] table", origin, cfg.Path, declared)
	}
	if z.DNSSEC == nil {
		return nil, nil, api.Errorf(api.KindInvalid, "zone %s is not signed: its [[zone]] at %s:%d has no [zone.dnssec] table; add one below it (an empty [zone.dnssec] takes every default), then make its keys with slotdns dnssec keygen %s",
			origin, cfg.Path, z.Line, strings.TrimSuffix(origin, "."))
	}
	return cfg, z, nil
}

// zoneKeys loads the keys of a signed zone; a key folder that does not
// exist holds none.
func zoneKeys(z *config.Zone) ([]*dnssec.Key, error) {
	if _, err := os.Stat(z.DNSSEC.KeyDir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return dnssec.Load(z.DNSSEC.KeyDir, z.Origin)
}

func dnssecKeygen(c *cli.Context) error {
	alg, err := algorithmFlag(c.String("algorithm"))
	if err != nil {
		return err
	}
	cfg, z, err := signedZone(c)
	if err != nil {
		return err
	}
	if alg == 0 {
		alg = z.DNSSEC.Algorithm
	}
	split := z.DNSSEC.Split
	if c.IsSet("split") {
		split = c.Bool("split")
	}
	dir := z.DNSSEC.KeyDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("zone %s: key_dir (%s:%d): %w", z.Origin, cfg.Path, z.DNSSEC.Line, err)
	}
	existing, err := dnssec.Load(dir, z.Origin)
	if err != nil {
		return fmt.Errorf("zone %s: the key files in key_dir %s do not load, and keygen makes no keys beside them: %w", z.Origin, dir, err)
	}
	if len(existing) > 0 {
		return api.Errorf(api.KindConflict, "zone %s already has keys in key_dir %s: %s; slotdns dnssec ds %s prints their DS (replacing keys the parent's DS points at takes a key rollover, which keygen does not do)",
			z.Origin, dir, keyList(existing), strings.TrimSuffix(z.Origin, "."))
	}
	flags := []uint16{dnssec.FlagsKSK}
	if split {
		flags = append(flags, dnssec.FlagsZSK)
	}
	keys, err := writeKeys(z.Origin, alg, flags, dir, time.Now())
	if err != nil {
		return err
	}
	res := keygenResult{Zone: z.Origin, KeyDir: dir, Files: []string{}, DS: dsRecords(keys)}
	for _, k := range keys {
		base := filepath.Join(dir, k.BaseName())
		res.Files = append(res.Files, base+".key", base+".private")
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, res)
	}
	w := c.App.Writer
	for _, k := range keys {
		base := filepath.Join(dir, k.BaseName())
		fmt.Fprintf(w, "made the %s of %s: %s, tag %d\n", keyRole(k, split), z.Origin, dns.AlgorithmToString[k.DNSKEY.Algorithm], k.Tag())
		fmt.Fprintf(w, "  wrote %s.key\n  wrote %s.private (mode 0600)\n", base, base)
	}
	fmt.Fprintf(w, "DS for the parent of %s:\n", z.Origin)
	for _, r := range res.DS {
		fmt.Fprintln(w, r.DS)
	}
	fmt.Fprintf(w, "Give the DS to the registrar only once slotdns serve serves %s signed: check that %s shows the DNSKEY with an RRSIG. slotdns dnssec ds %s prints it again.\n",
		z.Origin, digCommand(cfg, z.Origin), strings.TrimSuffix(z.Origin, "."))
	return nil
}

// writeKeys makes and writes a key of zone per flags. When one fails, the
// files written before it are removed, so that the folder holds all the
// keys or none of them.
func writeKeys(zone string, alg uint8, flags []uint16, dir string, now time.Time) ([]*dnssec.Key, error) {
	var keys []*dnssec.Key
	undo := func() {
		for _, k := range keys {
			base := filepath.Join(dir, k.BaseName())
			os.Remove(base + ".key")
			os.Remove(base + ".private")
		}
	}
	for _, f := range flags {
		k, err := dnssec.Generate(zone, alg, f, now)
		if err != nil {
			undo()
			return nil, err
		}
		base := filepath.Join(dir, k.BaseName())
		_, errKey := os.Lstat(base + ".key")
		_, errPriv := os.Lstat(base + ".private")
		if err := k.Write(dir); err != nil {
			if errors.Is(errKey, fs.ErrNotExist) && errors.Is(errPriv, fs.ErrNotExist) {
				// Write may have left the .private of this key.
				os.Remove(base + ".private")
				os.Remove(base + ".key")
			}
			undo()
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func dnssecDS(c *cli.Context) error {
	cfg, z, err := signedZone(c)
	if err != nil {
		return err
	}
	keys, err := zoneKeys(z)
	if err != nil {
		return err
	}
	short := strings.TrimSuffix(z.Origin, ".")
	if len(keys) == 0 {
		return api.Errorf(api.KindNotFound, "zone %s has no keys in key_dir %s; make them with slotdns dnssec keygen %s, or set generate_keys = true in its [zone.dnssec] (%s:%d) and slotdns serve makes them at start",
			z.Origin, z.DNSSEC.KeyDir, short, cfg.Path, z.DNSSEC.Line)
	}
	records := dsRecords(keys)
	if len(records) == 0 {
		return api.Errorf(api.KindNotFound, "zone %s has keys in key_dir %s (%s) but no KSK or CSK, the key a DS points at; add one with dnssec-keygen -f KSK, or move these keys away and run slotdns dnssec keygen %s",
			z.Origin, z.DNSSEC.KeyDir, keyList(keys), short)
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, records)
	}
	fmt.Fprintf(c.App.ErrWriter, "; %s: the DS for the registrar, then the DNSKEY it digests, of each KSK or CSK in key_dir %s\n", z.Origin, z.DNSSEC.KeyDir)
	for _, r := range records {
		fmt.Fprintln(c.App.Writer, r.DS)
		fmt.Fprintln(c.App.Writer, r.DNSKEY)
	}
	return nil
}

// algorithmFlag reads --algorithm by name or number, in any case; "" is 0.
func algorithmFlag(s string) (uint8, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "":
		return 0, nil
	case "ECDSAP256SHA256", "13":
		return dnssec.ECDSAP256SHA256, nil
	case "ED25519", "15":
		return dnssec.ED25519, nil
	}
	return 0, usagef("--algorithm %s: want ECDSAP256SHA256 (13) or ED25519 (15)", s)
}

// keyRole names a key: CSK, KSK or ZSK.
func keyRole(k *dnssec.Key, split bool) string {
	switch {
	case !k.SEP():
		return "ZSK"
	case split:
		return "KSK"
	}
	return "CSK"
}

// keyList names keys by file and role: "Kexample.com.+013+12345 (KSK),
// Kexample.com.+013+23456 (ZSK)".
func keyList(keys []*dnssec.Key) string {
	split := false
	for _, k := range keys {
		split = split || !k.SEP()
	}
	words := make([]string, len(keys))
	for i, k := range keys {
		words[i] = fmt.Sprintf("%s (%s)", k.BaseName(), keyRole(k, split))
	}
	return strings.Join(words, ", ")
}

// digCommand is the dig that asks the config's first listener for the
// zone's DNSKEY.
func digCommand(cfg *config.Config, zone string) string {
	cmd := "dig +dnssec DNSKEY " + zone
	if len(cfg.Listen) == 0 {
		return cmd
	}
	host, port, err := net.SplitHostPort(cfg.Listen[0])
	if err != nil {
		return cmd
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	cmd += " @" + host
	if port != "53" {
		cmd += " -p " + port
	}
	return cmd
}
