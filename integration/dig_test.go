package integration

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/slotdns/slotdns/internal/testkit"
)

// requireTool is testkit.RequireTool.
func requireTool(t testing.TB, name, install string) string {
	t.Helper()
	return testkit.RequireTool(t, name, install)
}

// digAnswer is dig's output read back: the status, the header flags and the
// three sections as parsed records.
type digAnswer struct {
	status     string   // NOERROR, NXDOMAIN, SERVFAIL ...
	flags      []string // qr aa rd ...
	answer     []dns.RR
	authority  []dns.RR
	additional []dns.RR
	output     string // all of it, for failure messages
}

func (a digAnswer) hasFlag(flag string) bool { return slices.Contains(a.flags, flag) }

// cname is the target of the CNAME owned by name in the answer, or "".
func (a digAnswer) cname(name string) string {
	for _, rr := range a.answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
			return strings.ToLower(c.Target)
		}
	}
	return ""
}

// addrs is the sorted text of the A and AAAA records owned by name.
func (a digAnswer) addrs(name string) []string {
	var out []string
	for _, rr := range a.answer {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}

// ofType returns the answer records of one type.
func (a digAnswer) ofType(qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range a.answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out
}

// dig runs `dig @127.0.0.1 -p port +norec NAME TYPE` (plus any extra
// arguments, which may override those) and parses what it prints.
func dig(t testing.TB, port int, name, qtype string, extra ...string) digAnswer {
	t.Helper()
	a, err := tryDig(t, port, name, qtype, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryDig is dig for polling: a timeout is an error, not a failure.
func tryDig(t testing.TB, port int, name, qtype string, extra ...string) (digAnswer, error) {
	t.Helper()
	path := requireTool(t, "dig", "apt-get install bind9-dnsutils")
	args := append([]string{"@127.0.0.1", "-p", strconv.Itoa(port), "+norec", "+time=2", "+tries=1", name, qtype}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return digAnswer{output: string(out)}, fmt.Errorf("dig %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	a, err := parseDig(string(out))
	if err != nil {
		return a, fmt.Errorf("dig %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return a, nil
}

// answerOf gives a response read with the miekg/dns client the shape of
// dig's, for the same checks.
func answerOf(m *dns.Msg) digAnswer {
	a := digAnswer{
		status:     dns.RcodeToString[m.Rcode],
		answer:     m.Answer,
		authority:  m.Ns,
		additional: m.Extra,
		output:     m.String(),
	}
	for _, f := range []struct {
		name string
		on   bool
	}{{"qr", m.Response}, {"aa", m.Authoritative}, {"tc", m.Truncated}, {"rd", m.RecursionDesired}, {"ra", m.RecursionAvailable}} {
		if f.on {
			a.flags = append(a.flags, f.name)
		}
	}
	return a
}

// parseDig reads dig's default output: the ";; ->>HEADER<<-" and
// ";; flags:" lines and the records under each section heading.
func parseDig(out string) (digAnswer, error) {
	a := digAnswer{output: out}
	var section *[]dns.RR
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, ";; ->>HEADER<<-"):
			if _, rest, ok := strings.Cut(line, "status: "); ok {
				a.status, _, _ = strings.Cut(rest, ",")
			}
		case strings.HasPrefix(line, ";; flags:"):
			flags, _, _ := strings.Cut(strings.TrimPrefix(line, ";; flags:"), ";")
			a.flags = strings.Fields(flags)
		case line == ";; ANSWER SECTION:":
			section = &a.answer
		case line == ";; AUTHORITY SECTION:":
			section = &a.authority
		case line == ";; ADDITIONAL SECTION:":
			section = &a.additional
		case line == "" || strings.HasPrefix(line, ";"):
			if line == "" || strings.HasPrefix(line, ";;") {
				section = nil
			}
		case section != nil:
			rr, err := dns.NewRR(line)
			if err != nil {
				return a, err
			}
			*section = append(*section, rr)
		}
	}
	return a, sc.Err()
}
