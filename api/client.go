package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client speaks the control API of a running server: over its unix
// socket, or over HTTPS with a token (NewRemote).
type Client struct {
	socket string // where the server is, for messages: the socket path or the URL
	base   string // the URL the paths are joined to
	token  string // sent as a bearer token; "" on the socket
	remote bool
	http   *http.Client
	// long has no timeout of its own: a swap waits for its checks and a
	// backup for the copy, bounded by the caller's context.
	long *http.Client
}

// NewClient returns a client of the server listening on socket. It does
// not connect until the first call; see Dial.
func NewClient(socket string) *Client {
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{socket: socket, base: "http://slotdns", http: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		long: &http.Client{Transport: transport}}
}

// NewRemote returns a client of the remote API at base (https://host:8053)
// with token. roots are the CAs to trust; nil: the system's.
func NewRemote(base, token string, roots *x509.CertPool) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		hint := ""
		if !strings.Contains(base, "://") {
			hint = " (the DNS server verify asks is --dns HOST:PORT)"
		}
		return nil, Errorf(KindInvalid, "--server %q: want the remote API's URL, https://HOST:PORT%s", base, hint)
	}
	if token == "" {
		return nil, Errorf(KindUnauthorized, "server %s: no token; give --token-file FILE or set SLOTDNS_TOKEN", base)
	}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        2,
		IdleConnTimeout:     30 * time.Second,
	}
	where := u.Scheme + "://" + u.Host
	return &Client{socket: where, base: where, token: token, remote: true,
		http: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		long: &http.Client{Transport: transport}}, nil
}

// Dial returns a client of the server on socket, or an error wrapping
// ErrNoServer when nothing answers there (no socket file, or nobody
// listening on it).
func Dial(socket string) (*Client, error) {
	conn, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		if NoServer(err) {
			return nil, &Error{Kind: KindNoServer, Message: fmt.Sprintf("no server answers on %s", socket)}
		}
		return nil, fmt.Errorf("control socket %s: %w", socket, err)
	}
	conn.Close()
	return NewClient(socket), nil
}

// NoServer reports whether a dial error means that no server runs: the
// socket file is missing, or nothing listens on it.
func NoServer(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

func (c *Client) Apps(ctx context.Context) ([]AppStatus, error) {
	var out []AppStatus
	return out, c.do(ctx, c.http, http.MethodGet, "/v1/apps", nil, &out)
}

func (c *Client) App(ctx context.Context, app string) (AppStatus, error) {
	var out AppStatus
	return out, c.do(ctx, c.http, http.MethodGet, "/v1/apps/"+url.PathEscape(app), nil, &out)
}

func (c *Client) Swap(ctx context.Context, app string, req SwapRequest) (Change, error) {
	var out Change
	return out, c.do(ctx, c.long, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/swap", req, &out)
}

func (c *Client) Set(ctx context.Context, app, slot string, req SetRequest) (Change, error) {
	var out Change
	return out, c.do(ctx, c.http, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/slots/"+url.PathEscape(slot), req, &out)
}

func (c *Client) Rollback(ctx context.Context, app string, req RollbackRequest) (Change, error) {
	var out Change
	return out, c.do(ctx, c.long, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/rollback", req, &out)
}

func (c *Client) Plan(ctx context.Context, app, slot, with string) (SwapPlan, error) {
	var out SwapPlan
	q := url.Values{}
	if slot != "" {
		q.Set("slot", slot)
	}
	if with != "" {
		q.Set("with", with)
	}
	path := "/v1/apps/" + url.PathEscape(app) + "/plan"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return out, c.do(ctx, c.http, http.MethodGet, path, nil, &out)
}

// Whoami says who the server takes the caller for.
func (c *Client) Whoami(ctx context.Context) (Whoami, error) {
	var out Whoami
	return out, c.do(ctx, c.http, http.MethodGet, "/v1/whoami", nil, &out)
}

// Server describes the server: its version, DNS addresses and zones.
func (c *Client) Server(ctx context.Context) (ServerInfo, error) {
	var out ServerInfo
	return out, c.do(ctx, c.http, http.MethodGet, "/v1/server", nil, &out)
}

func (c *Client) Tokens(ctx context.Context) ([]TokenInfo, error) {
	var out []TokenInfo
	return out, c.do(ctx, c.http, http.MethodGet, "/v1/tokens", nil, &out)
}

func (c *Client) AddToken(ctx context.Context, req TokenRequest) (NewToken, error) {
	var out NewToken
	return out, c.do(ctx, c.http, http.MethodPost, "/v1/tokens", req, &out)
}

func (c *Client) RemoveToken(ctx context.Context, name string) error {
	var out struct{}
	return c.do(ctx, c.http, http.MethodDelete, "/v1/tokens/"+url.PathEscape(name), nil, &out)
}

func (c *Client) History(ctx context.Context, app string, limit int) ([]Entry, error) {
	var out []Entry
	path := "/v1/apps/" + url.PathEscape(app) + "/history"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	return out, c.do(ctx, c.http, http.MethodGet, path, nil, &out)
}

// Reload asks the server to re-read its zone files.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	var out ReloadResult
	return out, c.do(ctx, c.long, http.MethodPost, "/v1/reload", nil, &out)
}

// Records lists a zone's dynamic records.
func (c *Client) Records(ctx context.Context, zone string) (ZoneRecords, error) {
	var out ZoneRecords
	return out, c.do(ctx, c.http, http.MethodGet, "/v1/zones/"+url.PathEscape(zone)+"/records", nil, &out)
}

// RemoveRecords removes dynamic records of a zone.
func (c *Client) RemoveRecords(ctx context.Context, zone string, req RemoveRecordsRequest) (RecordsChange, error) {
	var out RecordsChange
	return out, c.do(ctx, c.long, http.MethodPost, "/v1/zones/"+url.PathEscape(zone)+"/records/remove", req, &out)
}

// Rollover asks the server for the next step of a zone's key rollover.
func (c *Client) Rollover(ctx context.Context, zone string, req RolloverRequest) (Rollover, error) {
	var out Rollover
	return out, c.do(ctx, c.long, http.MethodPost, "/v1/zones/"+url.PathEscape(zone)+"/rollover", req, &out)
}

// Backup writes a consistent copy of the server's database to w.
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	resp, err := c.send(ctx, c.long, http.MethodGet, "/v1/backup", "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.replyError(resp)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("server on %s: backup cut short: %w", c.socket, err)
	}
	return nil
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// do sends a request and decodes the reply into out. A POST that reached
// the server but got no whole reply has an unknown outcome: the change
// may have committed before the server went away.
//
// Every POST and DELETE carries an Idempotency-Key. To a remote server,
// one whose reply was lost is sent once more with the same key after a
// second: the server runs it once and answers the retry with the first
// reply. (net/http itself may also resend a request with that header on
// a connection that closed under it; the key makes that safe too.) A
// 502, 503 or 504 without the server's JSON, from a proxy in front, is as
// lost as a dropped connection.
func (c *Client) do(ctx context.Context, client *http.Client, method, path string, body, out any) error {
	key := ""
	if method != http.MethodGet {
		key = newIdempotencyKey()
	}
	err := c.doOnce(ctx, client, method, path, key, body, out)
	if c.remote && key != "" && errors.Is(err, ErrUnknownOutcome) {
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
		if retryErr := c.doOnce(ctx, client, method, path, key, body, out); !errors.Is(retryErr, ErrUnknownOutcome) {
			return retryErr
		}
	}
	return err
}

func (c *Client) doOnce(ctx context.Context, client *http.Client, method, path, key string, body, out any) error {
	var sent bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) { sent = info.Err == nil }}
	resp, err := c.send(httptrace.WithClientTrace(ctx, trace), client, method, path, key, body)
	if err != nil {
		if sent && method != http.MethodGet && ctx.Err() == nil {
			return c.unknownOutcome(path, err)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := c.replyError(resp)
		if method != http.MethodGet && resp.StatusCode >= 502 && resp.StatusCode <= 504 && errors.Is(err, errNotOurs) {
			return c.unknownOutcome(path, err)
		}
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err == nil {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		if method != http.MethodGet {
			return c.unknownOutcome(path, err)
		}
		return fmt.Errorf("server on %s: read the reply to %s: %w", c.socket, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, client *http.Client, method, path, key string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		if NoServer(err) {
			return nil, &Error{Kind: KindNoServer, Message: fmt.Sprintf("no server answers on %s", c.socket)}
		}
		if certErr, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
			return nil, fmt.Errorf("server %s: its certificate is not trusted (%v); give its CA with --ca FILE", c.socket, certErr.Err)
		}
		return nil, fmt.Errorf("server on %s: %w", c.socket, err)
	}
	return resp, nil
}

func (c *Client) unknownOutcome(path string, err error) error {
	look := "look at slotdns history before you try again"
	if path == "/v1/reload" {
		look = "slotdns status shows the serials served; a reload is safe to run again"
	}
	return &Error{Kind: KindUnknownOutcome, Message: fmt.Sprintf(
		"the server on %s received the request (%s) but gave no reply (%v): the change may or may not have been made; %s",
		c.socket, path, err, look)}
}

// errNotOurs marks an error reply that is not the server's JSON: a proxy's
// page, or nothing.
var errNotOurs = errors.New("not a slotdns reply")

// replyError decodes an error reply.
func (c *Client) replyError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e Error
	if json.Unmarshal(data, &e) != nil || e.Message == "" {
		kind := KindInternal
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			kind = KindUnauthorized
		case http.StatusForbidden:
			kind = KindForbidden
		}
		return fmt.Errorf("%w: %w", &Error{Kind: kind, Message: fmt.Sprintf("server on %s: %s", c.socket, resp.Status)}, errNotOurs)
	}
	if e.Kind == "" {
		e.Kind = KindInternal
	}
	return &e
}

// newIdempotencyKey is the key of one change: its retry sends the same.
func newIdempotencyKey() string { return rand.Text() }
