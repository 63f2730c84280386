package config

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// fileCheck is the TOML shape of an [[app.check]].
type fileCheck struct {
	Name               string
	When               string
	HTTP               string
	HTTPS              string
	Command            []string
	Port               *int64
	Status             []int64
	Timeout            string
	Retries            *int64
	Interval           string
	Window             string
	FollowRedirects    bool
	InsecureSkipVerify bool
}

func (p *parser) decodeCheck(at string, prims map[string]toml.Primitive) fileCheck {
	var fc fileCheck
	p.table(at, toml.Key{"app", "check"}, prims, map[string]field{
		"name":                 {&fc.Name, `write it as name = "health"`},
		"when":                 {&fc.When, `write it as when = "before" or "after"`},
		"http":                 {&fc.HTTP, `write it as http = "/healthz"`},
		"https":                {&fc.HTTPS, `write it as https = "/healthz"`},
		"command":              {&fc.Command, `write it as command = ["./scripts/check.sh", "--flag"]`},
		"port":                 {&fc.Port, `write it as port = 8080`},
		"status":               {&fc.Status, `write it as status = [200, 204]`},
		"timeout":              {&fc.Timeout, `write it as timeout = "5s"`},
		"retries":              {&fc.Retries, `write it as retries = 3`},
		"interval":             {&fc.Interval, `write it as interval = "1s"`},
		"window":               {&fc.Window, `write it as window = "60s"`},
		"follow_redirects":     {&fc.FollowRedirects, `write it as follow_redirects = true`},
		"insecure_skip_verify": {&fc.InsecureSkipVerify, `write it as insecure_skip_verify = true`},
	})
	return fc
}

// buildChecks validates the [[app.check]] entries of the app at key.
func (p *parser) buildChecks(key, app string, list []fileCheck) []Check {
	var out []Check
	for i, fc := range list {
		ckey := fmt.Sprintf("%s.check[%d]", key, i)
		lineOf := func(field string) int { return p.line(joinPath(ckey, field), ckey) }
		bad := func(field string) bool { return p.bad[joinPath(ckey, field)] }
		where := fmt.Sprintf("app %q: check %d", app, i+1)
		c := Check{When: fc.When, Timeout: DefaultCheckTimeout, Interval: DefaultCheckInterval,
			FollowRedirects: fc.FollowRedirects, InsecureSkipVerify: fc.InsecureSkipVerify}
		// A key of the wrong type is reported already; the check is not kept.
		ok := true
		for _, f := range []string{"name", "when", "http", "https", "command", "port", "status", "timeout", "retries", "interval", "window", "follow_redirects", "insecure_skip_verify"} {
			if bad(f) {
				ok = false
			}
		}
		fail := func(field, format string, args ...any) {
			p.addf(lineOf(field), where+": "+format, args...)
			ok = false
		}
		if c.When != "before" && c.When != "after" && !bad("when") {
			fail("when", "when %q: want \"before\" (against the slot about to become production) or \"after\" (against production, for window)", fc.When)
		}
		kinds := 0
		for _, k := range []bool{fc.HTTP != "" || bad("http"), fc.HTTPS != "" || bad("https"), len(fc.Command) > 0 || bad("command")} {
			if k {
				kinds++
			}
		}
		switch {
		case bad("http") || bad("https") || bad("command"):
			// What kind of check it is cannot be told.
		case kinds != 1:
			fail("", "give exactly one of http = \"/healthz\", https = \"/healthz\" or command = [\"./scripts/check.sh\"]")
		case fc.HTTP != "" || fc.HTTPS != "":
			c.Kind, c.Path, c.Port = "http", fc.HTTP, 80
			if fc.HTTPS != "" {
				c.Kind, c.Path, c.Port = "https", fc.HTTPS, 443
			}
			if !strings.HasPrefix(c.Path, "/") {
				fail(c.Kind, "%s %q: want a path starting with /, e.g. \"/healthz\"", c.Kind, c.Path)
			}
			c.Name = c.Kind + " " + c.Path
		default:
			c.Kind, c.Command = "command", append([]string(nil), fc.Command...)
			if c.Command[0] == "" {
				fail("command", "command: the program is empty")
			} else if strings.Contains(c.Command[0], "/") {
				// Relative program paths are relative to the config's folder;
				// bare names are looked up in PATH.
				// exec needs a path with a slash to skip the PATH lookup.
				if abs, err := filepath.Abs(p.resolvePath(c.Command[0])); err == nil {
					c.Command[0] = abs
				}
			}
			c.Name = "command " + fc.Command[0]
		}
		if fc.Name != "" {
			c.Name = fc.Name
		}
		if fc.Port != nil {
			if c.Kind == "command" {
				fail("port", "port: a command check has no port; remove it")
			} else if *fc.Port < 1 || *fc.Port > 65535 {
				fail("port", "port %d: want a number from 1 to 65535", *fc.Port)
			} else {
				c.Port = int(*fc.Port)
			}
		}
		if len(fc.Status) == 0 {
			c.Status = []int{http.StatusOK}
		}
		for _, st := range fc.Status {
			if st < 100 || st > 599 {
				fail("status", "status %d: want HTTP status codes from 100 to 599, e.g. [200, 204]", st)
			}
			c.Status = append(c.Status, int(st))
		}
		duration := func(field, text string, into *time.Duration) {
			if text == "" {
				return
			}
			d, err := time.ParseDuration(text)
			if err != nil || d <= 0 {
				fail(field, "%s %q: want a duration such as \"5s\" or \"500ms\"", field, text)
				return
			}
			*into = d
		}
		duration("timeout", fc.Timeout, &c.Timeout)
		duration("interval", fc.Interval, &c.Interval)
		if c.When == "after" {
			c.Window = DefaultCheckWindow
			duration("window", fc.Window, &c.Window)
		} else if fc.Window != "" && !bad("when") {
			fail("window", "window: only an \"after\" check runs for a window; remove it or set when = \"after\"")
		}
		if fc.Retries != nil {
			if *fc.Retries < 0 || *fc.Retries > 100 {
				fail("retries", "retries %d: want a number of further attempts from 0 to 100 (default 0)", *fc.Retries)
			} else {
				c.Retries = int(*fc.Retries)
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}
