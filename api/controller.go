package api

import (
	"context"
	"io"
)

// Controller is what the CLI asks of slotdns. Client serves it through a
// running server's control socket; the control package serves it on the
// database file when no server runs. Errors are *Error values, or wrap
// one, so that callers branch on KindOf(err).
type Controller interface {
	Apps(ctx context.Context) ([]AppStatus, error)
	App(ctx context.Context, app string) (AppStatus, error)
	Swap(ctx context.Context, app string, req SwapRequest) (Change, error)
	Set(ctx context.Context, app, slot string, req SetRequest) (Change, error)
	Rollback(ctx context.Context, app string, req RollbackRequest) (Change, error)
	History(ctx context.Context, app string, limit int) ([]Entry, error)
	// Plan says what a swap would change now, changing nothing.
	Plan(ctx context.Context, app, slot, with string) (SwapPlan, error)
	// Reload re-reads the zone files of a running server.
	Reload(ctx context.Context) (ReloadResult, error)
	// Rollover takes the next step of a zone's key rollover, when it is
	// safe, and says where it stands.
	Rollover(ctx context.Context, zone string, req RolloverRequest) (Rollover, error)
	// Records lists a zone's dynamic records, with who added them and
	// when; RemoveRecords removes some through the change pipeline.
	Records(ctx context.Context, zone string) (ZoneRecords, error)
	RemoveRecords(ctx context.Context, zone string, req RemoveRecordsRequest) (RecordsChange, error)
	// Backup writes a consistent copy of the database to w.
	Backup(ctx context.Context, w io.Writer) error
	Close() error
}

var _ Controller = (*Client)(nil)
