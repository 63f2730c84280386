package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slotdns/slotdns/store"
)

// Client is a Controller speaking to a running server over its unix socket.
type Client struct {
	socket string
	http   *http.Client
	// checking has no timeout of its own: a swap waits for its checks,
	// bounded by the caller's context and the checks' own timeouts.
	checking *http.Client
}

// NewClient returns a client of the server listening on socket. It does not
// connect until the first call.
func NewClient(socket string) *Client {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{socket: socket, http: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		checking: &http.Client{Transport: transport}}
}

// APIError is an error reply of the server. It unwraps to the sentinel of
// its code (store.ErrNotFound, store.ErrConflict, store.ErrSameTarget,
// ErrInvalid), so callers branch the same way as on a Local.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Checks are the results of a swap refused by its checks.
	Checks []store.CheckResult
}

func (e *APIError) Error() string { return e.Message }

func (e *APIError) Unwrap() error {
	switch e.Code {
	case codeInvalid:
		return ErrInvalid
	case codeNotFound:
		return store.ErrNotFound
	case codeConflict:
		return store.ErrConflict
	case codeSameTarget:
		return store.ErrSameTarget
	case codeCheck:
		return ErrCheckFailed
	}
	return nil
}

func (c *Client) Apps(ctx context.Context) ([]AppStatus, error) {
	var out []AppStatus
	return out, c.do(ctx, http.MethodGet, "/v1/apps", nil, &out)
}

func (c *Client) App(ctx context.Context, app string) (AppStatus, error) {
	var out AppStatus
	return out, c.do(ctx, http.MethodGet, "/v1/apps/"+url.PathEscape(app), nil, &out)
}

func (c *Client) Swap(ctx context.Context, app string, req SwapRequest) (Change, error) {
	var out Change
	return out, c.doWith(ctx, c.checking, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/swap", req, &out)
}

func (c *Client) Set(ctx context.Context, app, slot string, req SetRequest) (Change, error) {
	var out Change
	return out, c.do(ctx, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/slots/"+url.PathEscape(slot), req, &out)
}

func (c *Client) Rollback(ctx context.Context, app string, req RollbackRequest) (Change, error) {
	var out Change
	return out, c.do(ctx, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/rollback", req, &out)
}

func (c *Client) History(ctx context.Context, app string, limit int) ([]store.Entry, error) {
	var out []store.Entry
	path := "/v1/apps/" + url.PathEscape(app) + "/history"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	return out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	return c.doWith(ctx, c.http, method, path, body, out)
}

func (c *Client) doWith(ctx context.Context, client *http.Client, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://slotdns"+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("server on %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("server on %s: read reply: %w", c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("server on %s: %s", c.socket, resp.Status)
		}
		return &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Error, Checks: e.Checks}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("server on %s: decode reply: %w", c.socket, err)
	}
	return nil
}

// Reload asks the server to re-read its zone files.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	var out ReloadResult
	return out, c.do(ctx, http.MethodPost, "/v1/reload", nil, &out)
}
