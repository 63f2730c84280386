package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/api"
	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/internal/serial"

	"github.com/miekg/dns"
)

// notifyTiming is how NOTIFY is retried (RFC 1996 §3.6: until answered).
type notifyTiming struct {
	attempt time.Duration // how long one attempt waits for the answer
	first   time.Duration // the wait after the first unanswered attempt; doubled after each
	max     time.Duration // the longest wait between attempts
	giveUp  time.Duration // stop retrying one serial after this long
	// confirm is how long after an answered NOTIFY the secondary is
	// asked whether it serves the serial: a secondary whose transfer
	// failed says nothing, and would wait for its own refresh timer.
	confirm time.Duration
}

var defaultNotifyTiming = notifyTiming{attempt: 2 * time.Second, first: time.Second, max: time.Minute, giveUp: 10 * time.Minute, confirm: 5 * time.Second}

// notifier tells the secondaries of every zone of each change. There is one
// goroutine per (zone, secondary); a change only wakes it, and it sends the
// SOA served at the time of sending, so changes that come faster than a
// secondary answers coalesce into one NOTIFY of the latest serial.
type notifier struct {
	log     *slog.Logger
	timing  notifyTiming
	clock   clock.Clock
	soa     func(zone string) (*dns.SOA, bool) // the SOA served now
	targets map[string][]*notifyTarget         // by zone
	// ahead is told of a secondary that, having answered a NOTIFY,
	// serves a later serial than the one sent: see checkAhead.
	ahead func(zone, addr string, serial uint32)
	// counted is told of each NOTIFY's outcome; nil: not counted.
	counted func(zone, addr, result string)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type notifyTarget struct {
	zone, addr string
	key        config.Key    // Name "" when unsigned
	wake       chan struct{} // capacity 1: a pending wake-up is never lost nor doubled
	// checked is set once the secondary's serial was compared with ours
	// (see checkAhead); only the target's sender touches it.
	checked bool

	mu   sync.Mutex
	last *api.NotifyStatus
}

func newNotifier(cfg *config.Config, keys map[string]config.Key, logger *slog.Logger, timing notifyTiming, clk clock.Clock, soa func(string) (*dns.SOA, bool)) *notifier {
	n := &notifier{log: logger, timing: timing, clock: clk, soa: soa, targets: map[string][]*notifyTarget{}}
	for _, zc := range cfg.Zones {
		for _, sec := range zc.Secondaries {
			t := &notifyTarget{zone: zc.Origin, addr: sec.Address, wake: make(chan struct{}, 1)}
			if sec.Key != "" {
				t.key = keys[sec.Key]
			}
			n.targets[zc.Origin] = append(n.targets[zc.Origin], t)
		}
	}
	return n
}

// start runs the senders and NOTIFYs every secondary once: a serial may
// have moved while no server ran.
func (n *notifier) start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for _, list := range n.targets {
		for _, t := range list {
			n.wg.Go(func() { n.run(ctx, t) })
			wake(t)
		}
	}
}

// stop ends every sender and waits for them.
func (n *notifier) stop() {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
}

// changed wakes the senders of the zones. It never blocks.
func (n *notifier) changed(zones []string) {
	for _, zone := range zones {
		for _, t := range n.targets[zone] {
			wake(t)
		}
	}
}

func wake(t *notifyTarget) {
	select {
	case t.wake <- struct{}{}:
	default: // already woken; it will send the latest serial
	}
}

// lastNotify returns the last NOTIFY to addr for zone, nil before the
// first.
func (n *notifier) lastNotify(zone, addr string) *api.NotifyStatus {
	for _, t := range n.targets[zone] {
		if t.addr == addr {
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.last == nil {
				return nil
			}
			st := *t.last
			return &st
		}
	}
	return nil
}

func (n *notifier) run(ctx context.Context, t *notifyTarget) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		}
		if n.delivered(t) {
			continue
		}
		n.deliver(ctx, t)
	}
}

// deliver sends NOTIFY of the current serial until the secondary answers,
// starting over with the then current serial whenever a change wakes it.
func (n *notifier) deliver(ctx context.Context, t *notifyTarget) {
	start := n.clock.Now()
	wait := n.timing.first
	for attempt := 1; ; attempt++ {
		soa, ok := n.soa(t.zone)
		if !ok {
			return
		}
		answer, err := n.send(ctx, t, soa)
		if ctx.Err() != nil {
			return
		}
		st := &api.NotifyStatus{Time: n.clock.Now(), Serial: soa.Serial, Attempts: attempt}
		if err != nil {
			st.Answer = err.Error()
		} else {
			st.Answer, st.Acked = dns.RcodeToString[answer.Rcode], true
		}
		t.mu.Lock()
		t.last = st
		t.mu.Unlock()
		n.count(t, st, err, start)
		switch {
		case st.Acked && answer.Rcode == dns.RcodeSuccess:
			n.log.Debug("NOTIFY answered", "zone", t.zone, "secondary", t.addr, "serial", soa.Serial, "attempts", attempt)
			n.checkAhead(ctx, t, soa.Serial)
			if !n.behind(ctx, t, soa.Serial) {
				return
			}
			if n.clock.Now().Sub(start) >= n.timing.giveUp {
				n.log.Warn("Secondary answers NOTIFY but does not take the zone; giving up until the next change (check its transfer settings and log)", "zone", t.zone, "secondary", t.addr, "serial", soa.Serial, "attempts", attempt)
				return
			}
			n.log.Info("Secondary answered NOTIFY but still serves an older serial; notifying it again", "zone", t.zone, "secondary", t.addr, "serial", soa.Serial, "attempts", attempt)
		case st.Acked:
			// An error answer is an answer: repeating cannot change it.
			n.log.Warn("Secondary refused NOTIFY; check its config and key", "zone", t.zone, "secondary", t.addr, "serial", soa.Serial, "rcode", st.Answer)
			return
		case n.clock.Now().Sub(start) >= n.timing.giveUp:
			n.log.Warn("Secondary did not answer NOTIFY; giving up until the next change", "zone", t.zone, "secondary", t.addr, "serial", soa.Serial, "attempts", attempt, "err", err)
			return
		case attempt == 1:
			n.log.Info("Secondary did not answer NOTIFY; retrying", "zone", t.zone, "secondary", t.addr, "serial", soa.Serial, "err", err)
		}
		timer := n.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.wake:
			// A newer change: send its serial now, with a fresh schedule.
			timer.Stop()
			start, wait, attempt = n.clock.Now(), n.timing.first, 0
		case <-timer.C():
			wait = min(2*wait, n.timing.max)
		}
	}
}

// count counts one NOTIFY attempt: answered (acked, with any rcode),
// unanswered (error), or the last of a serial the secondary never
// answered (gave_up).
func (n *notifier) count(t *notifyTarget, st *api.NotifyStatus, err error, start time.Time) {
	if n.counted == nil {
		return
	}
	switch {
	case st.Acked:
		n.counted(t.zone, t.addr, "acked")
	case n.clock.Now().Sub(start) >= n.timing.giveUp:
		n.counted(t.zone, t.addr, "gave_up")
	default:
		n.counted(t.zone, t.addr, "error")
	}
}

// behind waits timing.confirm after an answered NOTIFY of sent, then asks
// the secondary for its serial: true when it still serves an older one,
// or when a newer change came meanwhile (NOTIFY it now). A secondary that
// cannot be asked is taken to have the zone: the NOTIFY was answered.
func (n *notifier) behind(ctx context.Context, t *notifyTarget, sent uint32) bool {
	if n.timing.confirm <= 0 {
		return false
	}
	timer := n.clock.NewTimer(n.timing.confirm)
	select {
	case <-ctx.Done():
		timer.Stop()
		return false
	case <-t.wake:
		timer.Stop()
		wake(t) // for the loop: a newer serial to send
		return true
	case <-timer.C():
	}
	theirs, err := n.askSerial(ctx, t)
	if err != nil {
		n.log.Debug("Secondary's serial unknown after NOTIFY", "zone", t.zone, "secondary", t.addr, "err", err)
		return false
	}
	return serial.Less(theirs, sent)
}

// checkAhead asks a secondary that answered a NOTIFY of sent for the
// serial it serves, once per process. A secondary serves a later one than
// ours only when our database went back in time (restored from a backup,
// or removed to start anew): it ignores our NOTIFYs then, and would go on
// serving the answers it holds, so ahead is told. Every secondary is
// notified at start, so a restore is caught as soon as one answers.
//
// Once per process, so that a secondary that also follows another
// primary, or rewrites serials as it signs, moves ours at most once per
// start. The question goes over TCP, signed with the secondary's key when
// it has one, and a secondary further ahead than maxResyncStep is not
// followed: a forged or mistaken answer must not push the serial so far
// that the secondaries behind it see ours as older. A secondary at the
// very serial we serve is taken to hold what we serve: the serials alone
// cannot tell otherwise.
func (n *notifier) checkAhead(ctx context.Context, t *notifyTarget, sent uint32) {
	if n.ahead == nil || t.checked {
		return
	}
	theirs, err := n.askSerial(ctx, t)
	if err != nil {
		n.log.Debug("Secondary's serial unknown after NOTIFY", "zone", t.zone, "secondary", t.addr, "err", err)
		return
	}
	t.checked = true
	switch {
	case !serial.Less(sent, theirs):
	case theirs-sent > maxResyncStep:
		n.log.Warn("Secondary serves a serial far ahead of ours; not following it (check that it is our secondary and that nothing rewrites its serials)",
			"zone", t.zone, "secondary", t.addr, "its_serial", theirs, "serial", sent)
	default:
		n.ahead(t.zone, t.addr, theirs)
	}
}

// maxResyncStep bounds how far ahead of ours a secondary's serial is
// followed: far more changes than are made between a backup and its
// restore, far less than the 2^31 that RFC 1982 can order.
const maxResyncStep = 1 << 24

// askSerial asks the secondary for the SOA serial of its zone over TCP,
// signed with its key when it has one (the answer's signature is then
// checked).
func (n *notifier) askSerial(ctx context.Context, t *notifyTarget) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(t.zone, dns.TypeSOA)
	r, err := n.exchange(ctx, t, "tcp", m)
	if err != nil {
		return 0, fmt.Errorf("ask %s for the SOA of %s: %w", t.addr, t.zone, err)
	}
	if t.key.Name != "" && r.IsTsig() == nil {
		return 0, fmt.Errorf("ask %s for the SOA of %s: the answer is not signed", t.addr, t.zone)
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("ask %s for the SOA of %s: %s", t.addr, t.zone, dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, t.zone) {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("ask %s for the SOA of %s: no SOA in the answer", t.addr, t.zone)
}

// delivered reports whether the secondary already acknowledged the serial
// served now, so that a wake-up that came during a send is not repeated.
func (n *notifier) delivered(t *notifyTarget) bool {
	soa, ok := n.soa(t.zone)
	if !ok {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last != nil && t.last.Acked && t.last.Serial == soa.Serial
}

var errNotNotify = errors.New("the answer is not a NOTIFY response")

// send sends one NOTIFY (RFC 1996 §3.7) of soa over UDP, signed when the
// secondary has a key, and waits for the response.
func (n *notifier) send(ctx context.Context, t *notifyTarget, soa *dns.SOA) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetNotify(t.zone)
	m.Authoritative = true
	m.Answer = []dns.RR{soa}
	r, err := n.exchange(ctx, t, "udp", m)
	if err != nil {
		return nil, fmt.Errorf("notify %s: %w", t.addr, err)
	}
	if r.Id != m.Id || r.Opcode != dns.OpcodeNotify || !r.Response {
		return nil, fmt.Errorf("notify %s: %w", t.addr, errNotNotify)
	}
	return r, nil
}

// exchange sends m to the secondary over network, signed with its key
// when it has one; the answer's signature is then checked.
func (n *notifier) exchange(ctx context.Context, t *notifyTarget, network string, m *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: n.timing.attempt}
	if t.key.Name != "" {
		c.TsigSecret = map[string]string{t.key.Name: t.key.Secret}
		m.SetTsig(t.key.Name, t.key.Algorithm, 300, time.Now().Unix())
	}
	r, _, err := c.ExchangeContext(ctx, m, t.addr)
	return r, err
}
