package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Changes lists every difference between two configs that a running
// server cannot apply without a restart, one phrase each naming the key
// and both values, in file order: the top-level keys, then the zones,
// then the apps. Identical configs give nil. Zone file contents are not
// compared: a reload re-reads those.
func Changes(old, new *Config) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !slices.Equal(old.Listen, new.Listen) {
		add("listen: %q -> %q", old.Listen, new.Listen)
	}
	for _, k := range []struct{ key, old, new string }{
		{"db", old.DB, new.DB},
		{"control", old.Control, new.Control},
		{"resolver", old.Resolver, new.Resolver},
		{"log_format", old.LogFormat, new.LogFormat},
		{"log_level", levelName(old), levelName(new)},
		{"alias_max_stale", old.AliasMaxStale.String(), new.AliasMaxStale.String()},
		{"tsig_keys", old.KeysFile, new.KeysFile},
		{"journal_limit", strconv.Itoa(old.JournalLimit), strconv.Itoa(new.JournalLimit)},
		{"nsid", old.NSID, new.NSID},
		{"api.listen", old.API.Listen, new.API.Listen},
		{"api.tls_cert", old.API.TLSCert, new.API.TLSCert},
		{"api.tls_key", old.API.TLSKey, new.API.TLSKey},
		{"api.tokens", old.API.Tokens, new.API.Tokens},
		{"api.metrics_listen", old.API.MetricsListen, new.API.MetricsListen},
		{"tcp", fmt.Sprintf("%+v", old.TCP), fmt.Sprintf("%+v", new.TCP)},
		{"cookies", cookiesText(old.Cookies), cookiesText(new.Cookies)},
		{"rrl", fmt.Sprintf("%+v", old.RRL), fmt.Sprintf("%+v", new.RRL)},
	} {
		if k.old == k.new {
			continue
		}
		if k.key == "alias_max_stale" || k.key == "journal_limit" {
			add("%s: %s -> %s", k.key, k.old, k.new)
		} else {
			add("%s: %s -> %s", k.key, quoteOrNone(k.old), quoteOrNone(k.new))
		}
	}
	for _, oz := range old.Zones {
		nz, ok := new.Zone(oz.Origin)
		if !ok {
			add("zone %q: removed", oz.Origin)
			continue
		}
		if oz.File != nz.File {
			add("zone %q: file %q -> %q", oz.Origin, oz.File, nz.File)
		}
		if was, is := secondaryList(oz.Secondaries), secondaryList(nz.Secondaries); was != is {
			add("zone %q: secondaries: %s -> %s", oz.Origin, was, is)
		}
		for _, d := range dnssecChanges(oz.DNSSEC, nz.DNSSEC) {
			add("zone %q: %s", oz.Origin, d)
		}
		if was, is := updateList(oz.Updates), updateList(nz.Updates); was != is {
			add("zone %q: update policies: %s -> %s", oz.Origin, was, is)
		}
	}
	for _, nz := range new.Zones {
		if _, ok := old.Zone(nz.Origin); !ok {
			add("zone %q: added", nz.Origin)
		}
	}
	for _, oa := range old.Apps {
		na, ok := new.App(oa.Name)
		if !ok {
			add("app %q: removed", oa.Name)
			continue
		}
		out = append(out, appChanges(&oa, na)...)
	}
	for _, na := range new.Apps {
		if _, ok := old.App(na.Name); !ok {
			add("app %q: added", na.Name)
		}
	}
	return out
}

// updateList gives the [[zone.update]] tables of a zone in a line.
func updateList(list []UpdatePolicy) string {
	if len(list) == 0 {
		return "none"
	}
	var parts []string
	for _, u := range list {
		var names, types []string
		for _, n := range u.Names {
			names = append(names, n.String())
		}
		for _, t := range u.Types {
			types = append(types, dns.TypeToString[t])
		}
		parts = append(parts, fmt.Sprintf("%s: names %s, types %s, file_records %v, allow_hmac_sha1 %v",
			strings.TrimSuffix(u.Key, "."), strings.Join(names, " "), strings.Join(types, " "), u.FileRecords, u.AllowSHA1))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// appChanges lists the differences of one app.
func appChanges(old, new *App) []string {
	var out []string
	add := func(format string, args ...any) {
		out = append(out, fmt.Sprintf("app %q: ", old.Name)+fmt.Sprintf(format, args...))
	}
	if old.Zone != new.Zone {
		add("zone %q -> %q", old.Zone, new.Zone)
	}
	if old.TTL != new.TTL {
		add("ttl %d -> %d", old.TTL, new.TTL)
	}
	names := map[string]bool{}
	for _, s := range old.Slots {
		names[s.Name] = true
	}
	for _, s := range new.Slots {
		names[s.Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		o, inOld := old.Slot(name)
		n, inNew := new.Slot(name)
		switch {
		case !inNew:
			add("slot %q removed", name)
		case !inOld:
			add("slot %q added", name)
		default:
			if !slices.Equal(o.Names, n.Names) {
				add("slot %q: names %s -> %s", name, wordsOrNone(o.Names), wordsOrNone(n.Names))
			}
			if was, is := o.Target.String(), n.Target.String(); was != is {
				add("slot %q: target %s -> %s", name, was, is)
			}
		}
	}
	for i := range max(len(old.Checks), len(new.Checks)) {
		switch {
		case i >= len(new.Checks):
			add("check %d (%s) removed", i+1, old.Checks[i].Name)
		case i >= len(old.Checks):
			add("check %d (%s) added", i+1, new.Checks[i].Name)
		default:
			for _, d := range checkChanges(old.Checks[i], new.Checks[i]) {
				add("check %d (%s): %s", i+1, old.Checks[i].Name, d)
			}
		}
	}
	return out
}

// checkChanges lists the differing keys of two checks, as "key old -> new".
func checkChanges(old, new Check) []string {
	var out []string
	for _, k := range []struct{ key, old, new string }{
		{"name", strconv.Quote(old.Name), strconv.Quote(new.Name)},
		{"when", strconv.Quote(old.When), strconv.Quote(new.When)},
		{"", checkWhat(old), checkWhat(new)},
		{"port", strconv.Itoa(old.Port), strconv.Itoa(new.Port)},
		{"status", fmt.Sprint(old.Status), fmt.Sprint(new.Status)},
		{"timeout", old.Timeout.String(), new.Timeout.String()},
		{"retries", strconv.Itoa(old.Retries), strconv.Itoa(new.Retries)},
		{"interval", old.Interval.String(), new.Interval.String()},
		{"window", old.Window.String(), new.Window.String()},
		{"follow_redirects", strconv.FormatBool(old.FollowRedirects), strconv.FormatBool(new.FollowRedirects)},
		{"insecure_skip_verify", strconv.FormatBool(old.InsecureSkipVerify), strconv.FormatBool(new.InsecureSkipVerify)},
	} {
		switch {
		case k.old == k.new:
		case k.key == "":
			out = append(out, k.old+" -> "+k.new)
		default:
			out = append(out, fmt.Sprintf("%s %s -> %s", k.key, k.old, k.new))
		}
	}
	return out
}

// checkWhat is what a check asks, as its key is written: http "/healthz",
// command ["./x.sh" "--strict"].
func checkWhat(c Check) string {
	if c.Kind == "command" {
		return fmt.Sprintf("command %q", c.Command)
	}
	return fmt.Sprintf("%s %q", c.Kind, c.Path)
}

func levelName(c *Config) string { return strings.ToLower(c.LogLevel.String()) }

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.Quote(s)
}

func wordsOrNone(words []string) string {
	if len(words) == 0 {
		return "none"
	}
	return strings.Join(words, ", ")
}

// secondaryList gives the secondaries as "127.0.0.1:5400 (key xfr-key.),
// 127.0.0.2:53", or none.
func secondaryList(list []Secondary) string {
	var words []string
	for _, s := range list {
		w := s.Address
		if s.Key != "" {
			w += " (key " + s.Key + ")"
		}
		words = append(words, w)
	}
	return wordsOrNone(words)
}

// dnssecChanges lists the differences of two [zone.dnssec] tables (nil
// for none) as "key old -> new", or one phrase when the table is added or
// removed. The keys hold no secret.
func dnssecChanges(old, new *DNSSEC) []string {
	switch {
	case old == nil && new == nil:
		return nil
	case old == nil:
		return []string{"dnssec: added (" + strings.Join(dnssecWords(new), ", ") + ")"}
	case new == nil:
		return []string{"dnssec: removed (the zone is no longer signed)"}
	}
	was, is := dnssecWords(old), dnssecWords(new)
	var out []string
	for i := range was {
		if was[i] != is[i] {
			key, before, _ := strings.Cut(was[i], " ")
			_, after, _ := strings.Cut(is[i], " ")
			out = append(out, fmt.Sprintf("dnssec %s %s -> %s", key, before, after))
		}
	}
	return out
}

// dnssecWords gives each key of the table as "key value".
func dnssecWords(d *DNSSEC) []string {
	denial := "nsec"
	if d.NSEC3 {
		denial = "nsec3"
	}
	return []string{
		"key_dir " + strconv.Quote(d.KeyDir),
		"algorithm " + algorithmName(d.Algorithm),
		"split_keys " + strconv.FormatBool(d.Split),
		"denial " + denial,
		"generate_keys " + strconv.FormatBool(d.GenerateKeys),
		"signature_validity " + FormatDays(d.Validity),
		"signature_refresh " + FormatDays(d.Refresh),
		"signature_jitter " + FormatDays(d.Jitter),
	}
}

func algorithmName(alg uint8) string {
	if name, ok := dns.AlgorithmToString[alg]; ok {
		return name
	}
	return strconv.Itoa(int(alg))
}
