package api

import "time"

// Default slots of a swap.
const (
	DefaultSwapSlot = "staging"
	DefaultSwapWith = "production"
)

// Kinds of history entries.
const (
	KindSwap     = "swap"
	KindSet      = "set"
	KindRollback = "rollback"
)

// ActorSlotdns is the actor of the changes slotdns makes by itself: an
// automatic rollback after a failed "after" check.
const ActorSlotdns = "slotdns"

// SwapRequest is the body of POST /v1/apps/{app}/swap.
type SwapRequest struct {
	Slot   string `json:"slot,omitempty"` // default "staging"
	With   string `json:"with,omitempty"` // default "production"
	Reason string `json:"reason,omitempty"`
	Expect string `json:"expect,omitempty"` // Slot's current target must be this
	Actor  string `json:"actor,omitempty"`
	// Force swaps although a "before" check failed; the history entry
	// records it and the results.
	Force bool `json:"force,omitempty"`
	// NoWaitChecks returns once the swap is committed; the "after" checks
	// then run in the server on their own.
	NoWaitChecks bool `json:"no_wait_checks,omitempty"`
}

// SetRequest is the body of POST /v1/apps/{app}/slots/{slot}.
type SetRequest struct {
	Target string `json:"target"`
	Reason string `json:"reason,omitempty"`
	Expect string `json:"expect,omitempty"`
	Actor  string `json:"actor,omitempty"`
}

// RollbackRequest is the body of POST /v1/apps/{app}/rollback.
type RollbackRequest struct {
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor,omitempty"`
	// To restores the slots of history entry To (its After) instead of
	// undoing the last change; Force passes its "before" checks.
	To    uint64 `json:"to,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// Entry is one history record of an app; Seq counts from 1 without gaps.
type Entry struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	Kind    string            `json:"kind"` // "swap", "set", "rollback"
	Actor   string            `json:"actor"`
	Reason  string            `json:"reason,omitempty"`
	Before  map[string]string `json:"before"` // slot -> target, whole app
	After   map[string]string `json:"after"`
	Zone    string            `json:"zone"`
	Serial  uint32            `json:"serial"`  // the zone serial after the change
	Version uint64            `json:"version"` // the app version after the change
	// DrainedAt is when the answers served before the change have expired
	// from every cache that honours TTLs.
	DrainedAt time.Time `json:"drained_at,omitzero"`
	// Checks are the results of the checks run before (or, for an
	// automatic rollback, after) the change; Forced marks a change made
	// although a check failed.
	Checks []CheckResult `json:"checks,omitempty"`
	Forced bool          `json:"forced,omitempty"`
	// RequestID identifies the request that made the change when it
	// carried an Idempotency-Key: a digest of the key and its sender.
	RequestID string `json:"request_id,omitempty"`
}

// CheckResult is the outcome of one health check run around a change.
type CheckResult struct {
	Name     string        `json:"name"` // as configured, e.g. "http /healthz"
	Kind     string        `json:"kind"` // "http", "https" or "command"
	When     string        `json:"when"` // "before" or "after"
	Pass     bool          `json:"pass"`
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration_ns"`
	// Detail says what was seen: "status 500", "no answer within 5s
	// (timeout)", "exit status 1". Status and Body are filled for HTTP
	// checks, Output for commands; each cut to its first 200 bytes.
	Detail   string `json:"detail"`
	Target   string `json:"target,omitempty"` // the addresses asked
	Status   int    `json:"status,omitempty"`
	Body     string `json:"body,omitempty"`
	Output   string `json:"output,omitempty"`
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// Change is the reply to a swap, set or rollback: the history entry it
// wrote, and when every cache has expired the answer served before it.
type Change struct {
	App string `json:"app"`
	Entry
	TTL       uint32    `json:"ttl"`        // the longest TTL served for the changed names before the change
	DrainedAt time.Time `json:"drained_at"` // when the answers served before it have left caches
	// Secondaries are those of the zone: the server names them, and the
	// CLI asks each whether it serves the new serial yet.
	Secondaries []SecondaryResult `json:"secondaries"`
	// AfterChecks are the last results of the "after" checks of a swap
	// that waited for them. RolledBack is the automatic rollback they
	// caused; Superseded is a later change that ended their window early.
	AfterChecks []CheckResult `json:"after_checks,omitempty"`
	RolledBack  *Entry        `json:"rolled_back,omitempty"`
	Superseded  *Entry        `json:"superseded,omitempty"`
}

// AppStatus is one app as served.
type AppStatus struct {
	Name    string       `json:"name"`
	Zone    string       `json:"zone"`
	Serial  uint32       `json:"serial"`
	Version uint64       `json:"version"`
	TTL     uint32       `json:"ttl"`
	Updated time.Time    `json:"updated"`
	Slots   []SlotStatus `json:"slots"`
	// Stored is false for an app the database does not hold yet (no
	// server has started with it): the config's targets are shown.
	Stored     bool   `json:"stored"`
	LastChange *Entry `json:"last_change,omitempty"`
	// DrainedAt is when every answer served before the current ones has
	// expired from caches that honour TTLs; Draining is true until then.
	DrainedAt time.Time `json:"drained_at,omitzero"`
	Draining  bool      `json:"draining"`
	// Secondaries of the app's zone, each asked for its serial over DNS.
	Secondaries []SecondaryStatus `json:"secondaries"`
	// Checks are the app's last check results; LastAutoRollback is the
	// last rollback slotdns made by itself after a failed check.
	Checks           []CheckResult `json:"checks,omitempty"`
	LastAutoRollback *Entry        `json:"last_auto_rollback,omitempty"`
	// DNSSEC is the signing of the app's zone; nil when it is not signed.
	DNSSEC *DNSSECStatus `json:"dnssec,omitempty"`
}

// DNSSECStatus is a signed zone as status shows it: its keys, its
// signatures, its key rollover and the DS its parent should serve.
type DNSSECStatus struct {
	Zone   string      `json:"zone"`
	Denial string      `json:"denial"` // "nsec" or "nsec3"
	Keys   []DNSSECKey `json:"keys"`
	// OldestExpires is the earliest expiration among the signatures of
	// the zone's records, NextResign when they are due to be replaced,
	// SignaturesMade how many the last signing made rather than reused.
	// They are the server's: zero without one (the zone is then signed
	// afresh to be shown), and while the zone is not served signed.
	OldestExpires  time.Time `json:"oldest_expires,omitzero"`
	NextResign     time.Time `json:"next_resign,omitzero"`
	SignaturesMade int       `json:"signatures_made"`
	// Rollover is the zone's key rollover, the last one once done; nil
	// when it never had one.
	Rollover *Rollover `json:"rollover,omitempty"`
	// DS are the DS records the parent should serve, of the keys in CDS
	// (the keys a rollover has the parent point at). slotdns asks no
	// resolver, so it cannot see what the parent serves: CheckDS is the
	// command that compares.
	DS      []string `json:"ds"`
	CheckDS string   `json:"check_ds"`
	// Parent is the parent zone when slotdns serves it too: the DS it
	// serves for the zone (ParentDS) is then known, and DSMatch says
	// whether it points at the keys in CDS and no others.
	Parent   string   `json:"parent,omitempty"`
	ParentDS []string `json:"parent_ds,omitempty"`
	DSMatch  bool     `json:"ds_match,omitempty"`
}

// DNSSECKey is one key of a signed zone.
type DNSSECKey struct {
	Tag       uint16    `json:"tag"`
	Algorithm string    `json:"algorithm"` // "ECDSAP256SHA256", "ED25519"
	Role      string    `json:"role"`      // "CSK", "KSK" or "ZSK"
	Use       string    `json:"use"`       // what it does now, "published, signs all, in CDS"
	File      string    `json:"file"`      // its .private file
	Created   time.Time `json:"created,omitzero"`
}

// SlotStatus is one slot of an app.
type SlotStatus struct {
	Slot         string       `json:"slot"`
	Names        []string     `json:"names"`
	Target       string       `json:"target"`
	TTL          uint32       `json:"ttl"`
	ConfigTarget string       `json:"config_target"`
	Differs      bool         `json:"differs_from_config"`
	Alias        *AliasStatus `json:"alias,omitempty"`
}

// AliasStatus is the apex alias of a slot whose target is a hostname at
// the zone apex: the addresses served for it.
type AliasStatus struct {
	Name     string    `json:"name"`   // the apex
	Target   string    `json:"target"` // the hostname
	InZone   bool      `json:"in_zone"`
	Addrs    []string  `json:"addrs"`
	TTL      uint32    `json:"ttl"`
	Resolved time.Time `json:"resolved,omitzero"` // zero for targets in our zones
	Stale    bool      `json:"stale"`             // resolution is past its TTL
}

// SecondaryStatus is one secondary of a zone as status shows it.
type SecondaryStatus struct {
	Address    string        `json:"address"`
	Key        string        `json:"key,omitempty"` // the TSIG key's name
	Serial     uint32        `json:"serial"`        // the serial it serves, asked over DNS
	Lag        int64         `json:"lag"`           // our serial minus its serial (RFC 1982)
	Error      string        `json:"error,omitempty"`
	LastNotify *NotifyStatus `json:"last_notify,omitempty"` // nil without a server, or before the first NOTIFY
}

// NotifyStatus is the last NOTIFY sent to a secondary and its answer.
type NotifyStatus struct {
	Time     time.Time `json:"time"`
	Serial   uint32    `json:"serial"`
	Answer   string    `json:"answer"` // the rcode ("NOERROR", "NOTAUTH"...) or the error
	Acked    bool      `json:"acked"`  // a response came; retries stopped
	Attempts int       `json:"attempts"`
}

// SecondaryResult is what a secondary served after a change: the serial
// it answered last and, when it reached the change's serial, how long that
// took.
type SecondaryResult struct {
	Address  string    `json:"address"`
	Serial   uint32    `json:"serial"`             // the serial it served last; 0 when it never answered
	OK       bool      `json:"ok"`                 // it serves the change's serial (or a later one)
	AfterMS  int64     `json:"after_ms"`           // from the start of the wait to OK, or to giving up
	ServedAt time.Time `json:"served_at,omitzero"` // when it was first seen serving it
	Error    string    `json:"error,omitempty"`    // the last query's failure, when it never answered
}

// ReloadResult is what a reload did to each zone, and the changes of the
// config file it could not apply without a restart.
type ReloadResult struct {
	Zones []ZoneReload `json:"zones"`
	// NeedRestart lists the config changes found, one phrase each
	// ("listen: [127.0.0.1:1053] -> [0.0.0.0:53]"), that take effect
	// only when the server starts again.
	NeedRestart []string `json:"need_restart"`
}

// Failed lists the zones whose file could not be loaded.
func (r ReloadResult) Failed() []ZoneReload {
	var out []ZoneReload
	for _, z := range r.Zones {
		if z.Result == ReloadError {
			out = append(out, z)
		}
	}
	return out
}

// Reload results of one zone.
const (
	ReloadChanged   = "changed"   // new serial, journaled and NOTIFYed
	ReloadUnchanged = "unchanged" // nothing happened
	ReloadError     = "error"     // the file does not load; the zone keeps serving what it served
)

// ZoneReload is one zone of a reload.
type ZoneReload struct {
	Zone       string `json:"zone"`
	File       string `json:"file"`
	Result     string `json:"result"`
	Serial     uint32 `json:"serial"`      // the serial served after the reload
	FileSerial uint32 `json:"file_serial"` // the serial written in the file, 0 on error
	Removed    int    `json:"removed"`     // records the file no longer serves
	Added      int    `json:"added"`       // records it newly serves
	Error      string `json:"error,omitempty"`
}

// RolloverRequest asks for the next step of a zone's key rollover, or
// with Start for its first.
type RolloverRequest struct {
	// Start begins a rollover: a new key is made and pre-published.
	Start bool `json:"start,omitempty"`
	// Key is the key a start replaces: "csk", "ksk" or "zsk"; by default
	// the CSK, or the ZSK of a zone with split keys.
	Key string `json:"key,omitempty"`
	// DSPublished is the operator's word that the parent serves the new
	// key's DS (and no longer the old one's); DSTTL is the TTL of the
	// parent's DS records, 86400 when 0.
	DSPublished bool   `json:"ds_published,omitempty"`
	DSTTL       uint32 `json:"ds_ttl,omitempty"`
}

// Rollover is where a zone's key rollover stands.
type Rollover struct {
	Zone  string `json:"zone"`
	Kind  string `json:"kind"` // csk, ksk or zsk
	Old   uint16 `json:"old"`  // the tag of the key replaced
	New   uint16 `json:"new"`  // the tag of its replacement
	Stage string `json:"stage"`
	Next  string `json:"next,omitempty"` // the stage after, "" when done
	// Advanced says that this request moved the rollover on.
	Advanced bool      `json:"advanced"`
	Started  time.Time `json:"started"`
	Since    time.Time `json:"since"` // when the stage began to be served
	Serial   uint32    `json:"serial"`
	// SafeAt is when the next step becomes safe; zero while it waits on
	// the operator (NeedDS) or once done.
	SafeAt time.Time `json:"safe_at,omitzero"`
	// Waiting says what the next step waits for, in words.
	Waiting string `json:"waiting,omitempty"`
	// NeedDS: the parent must serve DS, the new key's, in place of the
	// old key's before the rollover goes on; say so with DSPublished.
	NeedDS bool     `json:"need_ds,omitempty"`
	DS     []string `json:"ds,omitempty"`
}

// DynamicRecord is one record DNS UPDATE changed of a zone: one it
// added, or one of the zone file's it took away (Removed).
type DynamicRecord struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	RR      string    `json:"rr"` // the record, in master file form
	Removed bool      `json:"removed,omitempty"`
	Actor   string    `json:"actor"` // the TSIG key's name, or who ran slotdns records rm
	Added   time.Time `json:"added"`
}

// ZoneRecords is a zone's dynamic records, laid over its zone file.
type ZoneRecords struct {
	Zone    string          `json:"zone"`
	Records []DynamicRecord `json:"records"`
}

// RemoveRecordsRequest removes dynamic records of a zone: those at Name
// (relative to the zone, or a FQDN; "@" for the apex), of Type when it
// is given, or with All every one. A record of the zone file's an update
// took away is served again.
type RemoveRecordsRequest struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	All    bool   `json:"all,omitempty"`
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor,omitempty"`
}

// RecordsChange is a committed removal of dynamic records.
type RecordsChange struct {
	Zone    string          `json:"zone"`
	Removed []DynamicRecord `json:"removed"`
	Serial  uint32          `json:"serial"` // the zone's serial after it; 0 when nothing changed
	Seq     uint64          `json:"seq"`    // its entry in the zone's history of updates
}
