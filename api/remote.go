package api

import "time"

// Whoami is GET /v1/whoami: who the server takes the caller for.
type Whoami struct {
	Name  string `json:"name"`          // the token's name, or the user on the unix socket
	Scope string `json:"scope"`         // "read", "swap" or "admin"
	App   string `json:"app,omitempty"` // the one app a token is limited to
	Actor string `json:"actor"`         // as history records it
	Via   string `json:"via"`           // "socket", "token" or "session"
}

// LoginRequest is the body of POST /v1/login, which answers Whoami and
// sets the dashboard's session cookie.
type LoginRequest struct {
	Token string `json:"token"`
}

// TokenInfo is a token as the token file holds it: never the token.
type TokenInfo struct {
	Name    string    `json:"name"`
	Scope   string    `json:"scope"`
	App     string    `json:"app,omitempty"`
	Created time.Time `json:"created"`
}

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`
	App   string `json:"app,omitempty"`
}

// NewToken is the reply to POST /v1/tokens: the token, shown this once.
type NewToken struct {
	TokenInfo
	Token string `json:"token"`
}

// SwapPlan is GET /v1/apps/{app}/plan?slot=&with=: what a swap would
// change now, for a confirmation to show. Expect is the slot's target as
// planned; a swap sent with it is refused if the slot changed meanwhile.
type SwapPlan struct {
	App     string          `json:"app"`
	Zone    string          `json:"zone"`
	Slot    string          `json:"slot"`
	With    string          `json:"with"`
	Expect  string          `json:"expect"`
	Version uint64          `json:"version"`
	Answers []PlannedAnswer `json:"answers"`
	Checks  []PlannedCheck  `json:"checks"`
}

// PlannedAnswer is one name whose answer a swap changes.
type PlannedAnswer struct {
	Name   string `json:"name"`
	Slot   string `json:"slot"`
	Type   string `json:"type"` // "CNAME", or "A/AAAA" at the apex and for addresses
	Before string `json:"before"`
	After  string `json:"after"`
}

// PlannedCheck is a check a swap would run.
type PlannedCheck struct {
	Name string `json:"name"`
	When string `json:"when"` // "before" or "after"
}

// ServerInfo is GET /v1/server: what a remote CLI needs to know of the
// server it talks to.
type ServerInfo struct {
	Version string   `json:"version"`
	DNS     []string `json:"dns"`   // the DNS listen addresses, as bound
	Zones   []string `json:"zones"` // the zones served
}

// Event types of GET /v1/events, a stream of server-sent events whose
// data is an Event in JSON.
const (
	EventChange    = "change"    // a change committed: Entry, Serial
	EventCheck     = "check"     // a check of a swap started (Check nil) or ended
	EventSecondary = "secondary" // a secondary was seen serving Serial
	EventZone      = "zone"      // a zone got a new serial: with every change, and alone on a reload or an alias refresh
	EventResync    = "resync"    // events were dropped: read the state again
)

// Event is one server-sent event.
type Event struct {
	Type      string           `json:"type"`
	Time      time.Time        `json:"time"`
	App       string           `json:"app,omitempty"`
	Zone      string           `json:"zone,omitempty"`
	Serial    uint32           `json:"serial,omitempty"`
	Entry     *Entry           `json:"entry,omitempty"`
	Phase     string           `json:"phase,omitempty"` // of a check: "before" or "after"
	CheckName string           `json:"check_name,omitempty"`
	Check     *CheckResult     `json:"check,omitempty"`
	Secondary *SecondaryResult `json:"secondary,omitempty"`
}
