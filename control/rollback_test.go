package control

import (
	"context"
	"errors"
	"testing"

	"github.com/slotdns/slotdns/store"

	"github.com/miekg/dns"
)

func TestRollbackTo(t *testing.T) {
	cfg := loadTestConfig(t, "")
	_, addr, c := startWithClient(t, cfg)
	ctx := context.Background()

	if _, err := c.Swap(ctx, "site", SwapRequest{}); err != nil { // #1: www on green
		t.Fatal(err)
	}
	if _, err := c.Set(ctx, "site", "production", SetRequest{Target: "test3.deploy.test."}); err != nil { // #2
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, "site", RollbackRequest{To: 3}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rollback --to 3 of 2 entries: got %v, want ErrNotFound", err)
	}
	ch, err := c.Rollback(ctx, "site", RollbackRequest{To: 1, Reason: "test3 is slow"})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Kind != store.KindRollback || ch.Seq != 3 || ch.Reason != "back to #1: test3 is slow" || ch.After["production"] != "green.deploy.test." {
		t.Errorf("change: got %+v, want #3, a rollback to #1's slots naming #1", ch.Entry)
	}
	if got, want := answerText(query(t, addr, "www.example.com.", dns.TypeCNAME)), "CNAME green.deploy.test."; got != want {
		t.Errorf("www after rollback --to 1: got %q, want %q", got, want)
	}
	if _, err := c.Rollback(ctx, "site", RollbackRequest{To: 1}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rollback --to 1 again: got %v, want ErrConflict (nothing to change)", err)
	}
}

// rollback --to passes the "before" checks against the production target
// it restores, as a swap does, unless forced.
func TestRollbackToGate(t *testing.T) {
	cfg := loadTestConfig(t, testConfig+`
[[app.check]]
when    = "before"
command = ["false"]
`)
	startServer(t, cfg)
	c := NewClient(cfg.Control)
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Set(ctx, "site", "production", SetRequest{Target: "test3.deploy.test."}); err != nil { // #1, not gated
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, "site", RollbackRequest{To: 1}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rollback --to the current slots: got %v, want ErrConflict (nothing to change)", err)
	}
	if _, err := c.Set(ctx, "site", "production", SetRequest{Target: "blue.deploy.test."}); err != nil { // #2
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, "site", RollbackRequest{To: 1}); !errors.Is(err, ErrCheckFailed) {
		t.Errorf("rollback --to 1 with a failing check: got %v, want ErrCheckFailed", err)
	}
	ch, err := c.Rollback(ctx, "site", RollbackRequest{To: 1, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Forced || len(ch.Checks) != 1 || ch.After["production"] != "test3.deploy.test." {
		t.Errorf("forced rollback: got %+v, want forced with one check result", ch.Entry)
	}
}
