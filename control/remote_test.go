package control

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/auth"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/testkit"
)

// remoteSite is a test site whose server also serves the remote API over
// TLS with a certificate of the test CA.
type remoteSite struct {
	*site
	url    string
	tokens auth.File
}

func startRemoteSite(t *testing.T) *remoteSite {
	t.Helper()
	return startRemoteSiteWith(t, "")
}

// startRemoteSiteWith is startRemoteSite with more of the config (apps,
// checks) after the test site's.
func startRemoteSiteWith(t *testing.T, more string) *remoteSite {
	t.Helper()
	cert, key, _ := testkit.APICertFiles(t, t.TempDir())
	cfg := testkit.SiteConfig + more + "\n[api]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"" + cert + "\"\ntls_key = \"" + key + "\"\n"
	st := startSite(t, cfg, Options{TLSRoots: testkit.CA()})
	return &remoteSite{site: st, url: "https://" + st.s.APIAddr().String(), tokens: auth.File{Path: filepath.Join(filepath.Dir(st.path), "slotdns.tokens")}}
}

// events opens GET /v1/events with token and gives its events as they
// come; the channel closes with the stream.
func (rs *remoteSite) events(token string) <-chan api.Event {
	rs.t.Helper()
	req, _ := http.NewRequest("GET", rs.url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := rs.httpClient().Do(req)
	if err != nil || resp.StatusCode != 200 {
		rs.t.Fatalf("events: %v %v", resp, err)
	}
	rs.t.Cleanup(func() { resp.Body.Close() })
	events := make(chan api.Event, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e api.Event
				json.Unmarshal([]byte(data), &e)
				events <- e
			}
		}
		close(events)
	}()
	return events
}

func (rs *remoteSite) token(name string, scope auth.Scope, app string) string {
	rs.t.Helper()
	secret, _, err := rs.tokens.Add(name, scope, app, time.Now())
	if err != nil {
		rs.t.Fatal(err)
	}
	return secret
}

func (rs *remoteSite) client(token string) *api.Client {
	rs.t.Helper()
	c, err := api.NewRemote(rs.url, token, testkit.CA())
	if err != nil {
		rs.t.Fatal(err)
	}
	rs.t.Cleanup(func() { c.Close() })
	return c
}

// httpClient is a browser-like client of the API: the test CA, and a
// cookie jar.
func (rs *remoteSite) httpClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: testkit.CA()}}}
}

func (rs *remoteSite) do(c *http.Client, method, path, body string, header map[string]string) (*http.Response, string) {
	rs.t.Helper()
	req, _ := http.NewRequest(method, rs.url+path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		rs.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func TestRemoteScopes(t *testing.T) {
	rs := startRemoteSite(t)
	ctx := context.Background()
	reader := rs.client(rs.token("dash", auth.ScopeRead, ""))
	if apps, err := reader.Apps(ctx); err != nil || len(apps) != 1 {
		t.Fatalf("read token: apps %v, %v", apps, err)
	}
	if _, err := reader.Swap(ctx, "site", api.SwapRequest{}); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("read token swapped: %v, want forbidden", err)
	}
	if _, err := reader.Reload(ctx); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("read token reloaded: %v, want forbidden", err)
	}
	if _, err := rs.client("sdt_wrong").Apps(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("wrong token: %v, want unauthorized", err)
	}

	// A swap token records its name and address, whatever the request says.
	ci := rs.client(rs.token("ci", auth.ScopeSwap, "site"))
	ch, err := ci.Swap(ctx, "site", api.SwapRequest{Actor: "somebody else", Reason: "release 7"})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Actor != "token ci from 127.0.0.1" {
		t.Fatalf("actor %q, want the token's name and address", ch.Actor)
	}
	if _, err := ci.Tokens(ctx); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("swap token listed tokens: %v", err)
	}

	// An admin token manages tokens; a removed token stops at once.
	admin := rs.client(rs.token("root", auth.ScopeAdmin, ""))
	added, err := admin.AddToken(ctx, api.TokenRequest{Name: "temp", Scope: "read"})
	if err != nil || !strings.HasPrefix(added.Token, "sdt_") {
		t.Fatalf("add token: %+v %v", added, err)
	}
	temp := rs.client(added.Token)
	if _, err := temp.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.RemoveToken(ctx, "temp"); err != nil {
		t.Fatal(err)
	}
	if _, err := temp.Whoami(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Fatalf("removed token: %v, want unauthorized", err)
	}
	if !strings.Contains(rs.logged.String(), "refused a wrong token") || strings.Contains(rs.logged.String(), added.Token) {
		t.Fatalf("the log should say a wrong token was refused, without it:\n%s", rs.logged)
	}
}

func TestRemoteAppLimitedToken(t *testing.T) {
	rs := startRemoteSite(t)
	other := rs.client(rs.token("other", auth.ScopeSwap, "nothere"))
	apps, err := other.Apps(context.Background())
	if err != nil || len(apps) != 0 {
		t.Fatalf("token of another app sees %d apps (%v), want none", len(apps), err)
	}
	if _, err := other.Swap(context.Background(), "site", api.SwapRequest{}); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("token of another app swapped site: %v", err)
	}
	site := rs.client(rs.token("site-only", auth.ScopeSwap, "site"))
	if info, err := site.Server(context.Background()); err != nil || !slices.Equal(info.Zones, []string{"example.com."}) {
		t.Fatalf("server info for a token of site: %+v %v, want its zone alone", info, err)
	}
	if _, err := site.Reload(context.Background()); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("a token of one app reloaded: %v", err)
	}
}

func TestRemoteFailuresRateLimited(t *testing.T) {
	rs := startRemoteSite(t)
	c := rs.httpClient()
	var last int
	for range failBurst + 1 {
		resp, _ := rs.do(c, "GET", "/v1/apps", "", map[string]string{"Authorization": "Bearer sdt_guess"})
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("after %d wrong tokens: %d, want 429", failBurst+1, last)
	}
	// Even the right token waits now: the source is out of attempts.
	good := rs.token("ok", auth.ScopeRead, "")
	resp, _ := rs.do(c, "GET", "/v1/apps", "", map[string]string{"Authorization": "Bearer " + good})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("blocked source: %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestRemoteIdempotentSwap(t *testing.T) {
	rs := startRemoteSite(t)
	token := rs.token("ci", auth.ScopeSwap, "")
	c := rs.httpClient()
	h := map[string]string{"Authorization": "Bearer " + token, "Idempotency-Key": "release-42", "Content-Type": "application/json"}
	first, body1 := rs.do(c, "POST", "/v1/apps/site/swap", `{"reason":"r42"}`, h)
	again, body2 := rs.do(c, "POST", "/v1/apps/site/swap", `{"reason":"r42"}`, h)
	if first.StatusCode != 200 || again.StatusCode != 200 || body1 != body2 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %d replayed %q; bodies equal %v", first.StatusCode, again.StatusCode, again.Header.Get("Idempotent-Replayed"), body1 == body2)
	}
	other, body := rs.do(c, "POST", "/v1/apps/site/swap", `{"reason":"another"}`, h)
	if other.StatusCode != http.StatusBadRequest || !strings.Contains(body, "another request") {
		t.Fatalf("same key, other body: %d %s", other.StatusCode, body)
	}
	hist, err := rs.c.History(context.Background(), "site", 0)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history has %d entries (%v), want the one swap", len(hist), err)
	}

	// After a restart the memory is gone; the history entry still
	// answers the retry.
	rs.stop()
	rs.start()
	rs.url = "https://" + rs.s.APIAddr().String()
	c = rs.httpClient()
	again, body3 := rs.do(c, "POST", "/v1/apps/site/swap", `{"reason":"r42"}`, h)
	var ch api.Change
	json.Unmarshal([]byte(body3), &ch)
	if again.StatusCode != 200 || ch.Seq != 1 {
		t.Fatalf("retry after restart: %d seq %d, want the first swap (seq 1): %s", again.StatusCode, ch.Seq, body3)
	}
	if hist, _ := rs.c.History(context.Background(), "site", 0); len(hist) != 1 {
		t.Fatalf("retry after restart swapped again: %d entries", len(hist))
	}
	// The key with another request is refused after the restart too,
	// not answered with the first change.
	other, body = rs.do(c, "POST", "/v1/apps/site/slots/staging", `{"target":"test3.deploy.test."}`, h)
	if other.StatusCode != http.StatusBadRequest || !strings.Contains(body, "another request") {
		t.Fatalf("same key, another request, after a restart: %d %s", other.StatusCode, body)
	}
}

func TestDashboardSession(t *testing.T) {
	rs := startRemoteSite(t)
	token := rs.token("alice", auth.ScopeSwap, "")
	c := rs.httpClient()
	resp, body := rs.do(c, "POST", "/v1/login", `{"token":"`+token+`"}`, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"slotdns_session=", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	resp, body = rs.do(c, "GET", "/v1/whoami", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"via": "session"`) {
		t.Fatalf("whoami with the cookie: %d %s", resp.StatusCode, body)
	}
	// A POST from another site's page is refused, cookie or not.
	resp, body = rs.do(c, "POST", "/v1/apps/site/swap", `{}`, map[string]string{"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site swap: %d %s, want 403", resp.StatusCode, body)
	}
	if hist, _ := rs.c.History(context.Background(), "site", 0); len(hist) != 0 {
		t.Fatal("the cross-site swap changed the app")
	}
	resp, _ = rs.do(c, "POST", "/v1/apps/site/swap", `{}`, map[string]string{"Origin": rs.url, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != 200 {
		t.Fatalf("same-origin swap: %d", resp.StatusCode)
	}
	rs.do(c, "POST", "/v1/logout", "", map[string]string{"Sec-Fetch-Site": "same-origin"})
	u, _ := url.Parse(rs.url)
	if len(c.Jar.Cookies(u)) != 0 {
		t.Fatal("logout left the cookie")
	}
	// The session itself ended, not only the cookie.
	resp, _ = rs.do(c, "GET", "/v1/whoami", "", map[string]string{"Cookie": cookie[:strings.Index(cookie, ";")]})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the ended session: %d, want 401", resp.StatusCode)
	}
}

func TestEventsAndHealth(t *testing.T) {
	rs := startRemoteSite(t)
	c := rs.httpClient()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/v1/apps": 401} {
		if resp, _ := rs.do(c, "GET", path, "", nil); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	token := rs.token("dash", auth.ScopeRead, "")
	events := rs.events(token)
	// A change on the socket reaches the remote stream.
	ch := rs.swap(api.SwapRequest{Reason: "events"})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Type == api.EventChange && e.App == "site" && e.Entry != nil && e.Entry.Seq == ch.Seq && e.Serial == ch.Serial {
				return
			}
		case <-timeout:
			t.Fatal("no change event within 10s")
		}
	}
}

func TestPlan(t *testing.T) {
	st := startSite(t, "", Options{})
	plan, err := st.c.Plan(context.Background(), "site", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Slot != "staging" || plan.With != "production" || plan.Expect != "green.deploy.test." {
		t.Fatalf("plan %+v", plan)
	}
	got := map[string]api.PlannedAnswer{}
	for _, a := range plan.Answers {
		got[a.Name] = a
	}
	if a := got["www.example.com."]; a.Type != "CNAME" || a.Before != "blue.deploy.test." || a.After != "green.deploy.test." {
		t.Errorf("www: %+v", a)
	}
	if a := got["example.com."]; a.Type != "A/AAAA" || a.Before != "198.51.100.10, 2001:db8::10" || !strings.HasPrefix(a.After, "198.51.100.20") {
		t.Errorf("apex: %+v", a)
	}
	if a := got["stage.example.com."]; a.Before != "green.deploy.test." || a.After != "blue.deploy.test." {
		t.Errorf("stage: %+v", a)
	}
	if _, err := st.c.Plan(context.Background(), "site", "nope", ""); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("plan of a missing slot: %v", err)
	}
}

// TestEventStreamEndsWithItsToken: a stream opened with a token closes at
// the next event once the token is removed.
func TestEventStreamEndsWithItsToken(t *testing.T) {
	rs := startRemoteSite(t)
	token := rs.token("dash", auth.ScopeRead, "")
	req, _ := http.NewRequest("GET", rs.url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := rs.httpClient().Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	ended := make(chan string)
	go func() {
		data, _ := io.ReadAll(resp.Body)
		ended <- string(data)
	}()
	if err := rs.tokens.Remove("dash"); err != nil {
		t.Fatal(err)
	}
	rs.swap(api.SwapRequest{})
	select {
	case data := <-ended:
		if strings.Contains(data, "event: change") {
			t.Fatalf("the stream of a removed token carried a change:\n%s", data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream of a removed token is still open")
	}
}

// TestStartRefusesABadAPISetup: a token file others may read, or a
// certificate that does not load, stops a start before anything opens,
// and slotdns check says the same.
func TestStartRefusesABadAPISetup(t *testing.T) {
	cert, _, _ := testkit.APICertFiles(t, t.TempDir())
	for _, tc := range []struct {
		name, api string
		prepare   func(dir string)
		want      string
	}{
		{"loose token file", "listen = \"127.0.0.1:0\"\n", func(dir string) {
			testkit.WriteFile(t, filepath.Join(dir, "slotdns.tokens"), `{"tokens": []}`) // 0644
		}, "chmod 600"},
		{"a key of another certificate", "listen = \"127.0.0.1:0\"\ntls_cert = \"" + cert + "\"\ntls_key = \"" + cert + "\"\n", func(string) {}, "tls_cert " + cert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := testkit.Site(t, testkit.SiteConfig+"\n[api]\n"+tc.api)
			tc.prepare(filepath.Dir(path))
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Start(cfg, testkit.Discard(), Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start: %v, want an error saying %q", err, tc.want)
			}
			if _, err := os.Stat(cfg.Control); err == nil {
				t.Error("the failed start left its control socket")
			}
			report := Check(cfg)
			if !slices.ContainsFunc(report.Problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("check: %v, want a problem saying %q", report.Problems, tc.want)
			}
		})
	}

}

// TestEventsOfOneAppsToken: a token limited to one app gets its app's and
// its zone's events, none of another app's.
func TestEventsOfOneAppsToken(t *testing.T) {
	rs := startRemoteSiteWith(t, `
[[app]]
name = "other"
zone = "deploy.test."

[app.slots.production]
names  = ["www"]
target = "blue.deploy.test."

[app.slots.staging]
names  = ["stage"]
target = "green.deploy.test."
`)
	events := rs.events(rs.token("site-only", auth.ScopeRead, "site"))
	if _, err := rs.c.Swap(context.Background(), "other", api.SwapRequest{}); err != nil {
		t.Fatal(err)
	}
	ch := rs.swap(api.SwapRequest{})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.App == "other" || e.Zone == "deploy.test." {
				t.Fatalf("a token of app site got an event of another app or zone: %+v", e)
			}
			if e.Type == api.EventChange && e.Entry != nil && e.Entry.Seq == ch.Seq && e.App == "site" {
				return
			}
		case <-timeout:
			t.Fatal("no change event of site within 10s")
		}
	}
}

// TestIdempotentRetryAfterTheCallerLeft: a caller that gave up during the
// checks never got a reply; its retry with the same key runs the swap
// (once), instead of replaying the abandoned attempt's error.
func TestIdempotentRetryAfterTheCallerLeft(t *testing.T) {
	rs := startRemoteSiteWith(t, "\n[[app.check]]\nwhen = \"before\"\ncommand = [\"sleep\", \"1\"]\n")
	h := map[string]string{"Authorization": "Bearer " + rs.token("ci", auth.ScopeSwap, ""), "Idempotency-Key": "deploy-5"}

	impatient := rs.httpClient()
	impatient.Timeout = 200 * time.Millisecond
	req, _ := http.NewRequest("POST", rs.url+"/v1/apps/site/swap", strings.NewReader(`{}`))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	if _, err := impatient.Do(req); err == nil {
		t.Fatal("the impatient caller got a reply within 200ms of a 1s check")
	}
	resp, body := rs.do(rs.httpClient(), "POST", "/v1/apps/site/swap", `{}`, h)
	if resp.StatusCode != 200 {
		t.Fatalf("the retry: %d %s, want the swap", resp.StatusCode, body)
	}
	if hist, _ := rs.c.History(context.Background(), "site", 0); len(hist) != 1 {
		t.Fatalf("%d history entries, want one swap", len(hist))
	}
}

// TestPlainListenerAnswersLoopbackNamesOnly: a plain HTTP listener refuses
// a request naming another host, as a page behind DNS rebinding sends.
func TestPlainListenerAnswersLoopbackNamesOnly(t *testing.T) {
	st := startSite(t, testkit.SiteConfig+"\n[api]\nlisten = \"127.0.0.1:0\"\n", Options{})
	addr := st.s.APIAddr().String()
	for host, want := range map[string]int{addr: 200, "localhost:1": 200, "[::1]:8053": 200, "rebound.example:8053": 403} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}
