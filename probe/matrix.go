package probe

import (
	"context"
	"sync"

	"github.com/slotdns/slotdns/api"

	"github.com/miekg/dns"
)

// States of a Cell.
const (
	StateNew      = "new"       // the store's current answer
	StateOld      = "old"       // the answer before the app's last change
	StateOther    = "other"     // anything else
	StateNoAnswer = "no answer" // no answer within the timeout, or an error
)

// Matrix is what VerifyAll found: one row per question, one cell per
// server.
type Matrix struct {
	App     string      `json:"app"`
	OK      bool        `json:"ok"` // no server answers anything but the current answer
	Servers []Server    `json:"servers"`
	Rows    []MatrixRow `json:"rows"`
	Skipped []Skipped   `json:"skipped"` // servers not asked, and why
}

// MatrixRow is one question and every server's answer to it.
type MatrixRow struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Current  string `json:"current"`
	Previous string `json:"previous,omitempty"` // the answer before the last change
	Cells    []Cell `json:"cells"`              // in the order of Matrix.Servers
}

// Cell is one server's answer to one question.
type Cell struct {
	Server string `json:"server"`
	Answer string `json:"answer"` // as Row.Served; "-" for no answer
	State  string `json:"state"`  // StateNew, StateOld, StateOther or StateNoAnswer
	TTL    uint32 `json:"ttl"`    // the lowest TTL in the answer
	Error  string `json:"error,omitempty"`
}

// VerifyAll asks every server the questions of Verify, each question of
// every server at once with a 1s timeout, and tells for each answer
// whether it is the current one, the one before app's last change
// (app.LastChange.Before), or another. A server that does not answer does
// not make the matrix fail; one that answers otherwise does.
//
// skipped are the servers already left out (AuthServers' second result);
// a server of servers at a documentation address joins them, unasked. It
// fails only when a target does not parse.
func VerifyAll(ctx context.Context, servers []Server, skipped []Skipped, app api.AppStatus) (Matrix, error) {
	qs, err := plan(app)
	if err != nil {
		return Matrix{}, err
	}
	res := Matrix{App: app.Name, OK: true, Servers: []Server{}, Rows: make([]MatrixRow, 0, len(qs)), Skipped: append([]Skipped{}, skipped...)}
	for _, s := range servers {
		if reason := docReason(s.Address); reason != "" {
			res.Skipped = append(res.Skipped, Skipped{Server: s, Reason: reason})
			continue
		}
		res.Servers = append(res.Servers, s)
	}
	for _, q := range qs {
		row := MatrixRow{Name: q.name, Type: dns.TypeToString[q.qtype], Current: q.expected, Previous: q.previous}
		row.Cells = askAll(ctx, res.Servers, q)
		for _, cell := range row.Cells {
			if cell.State != StateNew && cell.State != StateNoAnswer {
				res.OK = false
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// askAll asks every server at once.
func askAll(ctx context.Context, servers []Server, q question) []Cell {
	cells := make([]Cell, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { cells[i] = askCell(ctx, s.Address, q) })
	}
	wg.Wait()
	return cells
}

func askCell(ctx context.Context, server string, q question) Cell {
	cell := Cell{Server: server}
	r, err := q.ask(ctx, server, matrixTimeout)
	if err != nil {
		cell.State, cell.Answer, cell.Error = StateNoAnswer, "-", err.Error()
		return cell
	}
	cell.Answer = served(r, q)
	for i, rr := range r.Answer {
		if i == 0 || rr.Header().Ttl < cell.TTL {
			cell.TTL = rr.Header().Ttl
		}
	}
	switch {
	case cell.Answer == q.expected:
		cell.State = StateNew
	case q.previous != "" && cell.Answer == q.previous:
		cell.State = StateOld
	default:
		cell.State = StateOther
	}
	return cell
}
