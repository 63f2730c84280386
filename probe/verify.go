package probe

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// Result is what Verify found: one row per question.
type Result struct {
	App    string `json:"app"`
	Server string `json:"server"`
	OK     bool   `json:"ok"` // every row is OK
	Rows   []Row  `json:"rows"`
}

// Row is one question asked and compared with the store.
type Row struct {
	Name     string `json:"name"`
	Type     string `json:"type"`     // "A", "AAAA" or "CNAME"
	Served   string `json:"served"`   // the answer's data, sorted, "(none)", an rcode, or "error: ..."
	Expected string `json:"expected"` // what the store implies, in the same form
	OK       bool   `json:"ok"`
}

// Verify asks server, as a resolver would, for every name of every slot of
// app and compares each answer with the slot's target: the CNAME for a
// hostname target, A (and AAAA when the target has IPv6 addresses) for an
// address target and for the apex alias, whose addresses are those in
// app's status (SERVFAIL when it has none). It fails only when a target
// does not parse; an answer that differs, or none, is a row that is not
// OK.
func Verify(ctx context.Context, server string, app api.AppStatus) (Result, error) {
	qs, err := plan(app)
	if err != nil {
		return Result{}, err
	}
	res := Result{App: app.Name, Server: server, OK: true, Rows: make([]Row, 0, len(qs))}
	for _, q := range qs {
		row := Row{Name: q.name, Type: dns.TypeToString[q.qtype], Expected: q.expected}
		r, err := q.ask(ctx, server, verifyTimeout)
		if err != nil {
			row.Served = "error: " + err.Error()
		} else {
			row.Served = served(r, q)
			row.OK = row.Served == row.Expected
		}
		res.OK = res.OK && row.OK
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// question is one query and the answer the store implies, and for
// VerifyAll the answer before the app's last change ("" when not known).
type question struct {
	name     string
	qtype    uint16
	expected string
	previous string
}

// plan lists the questions for every name of every slot of app, in the
// order of the slots and their names.
func plan(app api.AppStatus) ([]question, error) {
	var before map[string]string
	if app.LastChange != nil {
		before = app.LastChange.Before
	}
	var out []question
	for _, slot := range app.Slots {
		target, err := zones.ParseTarget(slot.Target)
		if err != nil {
			return nil, fmt.Errorf("app %s slot %s: target %q: %w", app.Name, slot.Slot, slot.Target, err)
		}
		// The old answers; an apex alias's old addresses are not known.
		var old []question
		if text, ok := before[slot.Slot]; ok && text != slot.Target {
			if t, err := zones.ParseTarget(text); err == nil {
				for _, name := range slot.Names {
					old = append(old, questions(name, t, nil)...)
				}
			}
		}
		for _, name := range slot.Names {
			for _, q := range questions(name, target, slot.Alias) {
				for _, o := range old {
					if o.name == q.name && o.qtype == q.qtype {
						q.previous = o.expected
					}
				}
				out = append(out, q)
			}
		}
	}
	return out, nil
}

// questions lists what to ask for name: the CNAME for a hostname target,
// the addresses for an address target or an apex alias.
func questions(name string, target zones.Target, alias *api.AliasStatus) []question {
	var addrs []netip.Addr
	switch {
	case alias != nil && alias.Name == name:
		for _, text := range alias.Addrs {
			if a, err := netip.ParseAddr(text); err == nil {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return []question{{name: name, qtype: dns.TypeA, expected: dns.RcodeToString[dns.RcodeServerFailure]}}
		}
	case target.IsHost():
		return []question{{name: name, qtype: dns.TypeCNAME, expected: target.Host}}
	default:
		addrs = target.Addrs
	}
	var v4, v6 []string
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() {
			v4 = append(v4, a.Unmap().String())
		} else {
			v6 = append(v6, a.String())
		}
	}
	qs := []question{{name: name, qtype: dns.TypeA, expected: joinOrNone(v4)}}
	if len(v6) > 0 {
		qs = append(qs, question{name: name, qtype: dns.TypeAAAA, expected: joinOrNone(v6)})
	}
	return qs
}

func joinOrNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	slices.Sort(list)
	return strings.Join(list, " ")
}

// ask sends the question to server over UDP with EDNS (1232 bytes), and
// again over TCP when the answer is truncated. A CNAME question is asked
// as A, as a browser's resolver would; served then picks the CNAME.
func (q question) ask(ctx context.Context, server string, timeout time.Duration) (*dns.Msg, error) {
	qtype := q.qtype
	if qtype == dns.TypeCNAME {
		qtype = dns.TypeA
	}
	m := new(dns.Msg)
	m.SetQuestion(q.name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	return ask(ctx, m, server, timeout)
}

// served gives the answer's data for the question in the form of
// question.expected: the rcode when it is not NOERROR, else the records of
// the question's type that the name owns, sorted, or "(none)".
func served(r *dns.Msg, q question) string {
	if r.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[r.Rcode]
	}
	var found []string
	for _, rr := range r.Answer {
		if !strings.EqualFold(rr.Header().Name, q.name) {
			continue
		}
		switch rr := rr.(type) {
		case *dns.CNAME:
			if q.qtype == dns.TypeCNAME {
				found = append(found, strings.ToLower(rr.Target))
			}
		case *dns.A:
			if q.qtype == dns.TypeA {
				found = append(found, rr.A.String())
			}
		case *dns.AAAA:
			if q.qtype == dns.TypeAAAA {
				found = append(found, rr.AAAA.String())
			}
		}
	}
	return joinOrNone(found)
}
