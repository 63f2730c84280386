package control

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/slotdns/slotdns/config"
	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/internal/clock"
	"github.com/slotdns/slotdns/metrics"
	"github.com/slotdns/slotdns/pipeline"
	"github.com/slotdns/slotdns/store"
	"github.com/slotdns/slotdns/update"
	"github.com/slotdns/slotdns/zones"

	"github.com/miekg/dns"
)

// updater changes the zones' dynamic records, from DNS UPDATE (RFC 2136)
// and from slotdns records rm, as changes of the pipeline: the RRsets an
// update asks for are checked against the key's policy and the names
// the zone file and the slots own, laid over the zone file, signed when
// the zone is, and committed with the records, a new serial, a journal
// entry and a history entry in one transaction.
type updater struct {
	p        *pipeline.Pipeline
	cfg      *config.Config
	db       store.Store
	signKeys map[string][]*dnssec.Key
	log      *slog.Logger
	clock    clock.Clock
	// mu is the server's reloadMu: updates, reloads, re-signs and
	// rollover steps take turns at the zones they sign.
	mu *sync.Mutex
	// files are the zone files as parsed, unsigned, by origin: what the
	// dynamic records are laid over. A reload replaces them.
	files map[string]*zones.Zone
	// layered are the files with their dynamic records, unsigned: what
	// an update's prerequisites and changes are read against.
	layered map[string]*zones.Zone
	// metrics counts the updates answered; nil: not counted.
	metrics *metrics.Metrics
}

// setFiles records the zone files served, as parsed and with their
// dynamic records. The caller holds u.mu, or no update runs yet.
func (u *updater) setFiles(parsed, layered map[string]*zones.Zone) {
	u.files, u.layered = parsed, layered
}

// Update applies one signed UPDATE message (see dnsserver.Updater).
func (u *updater) Update(req *dns.Msg, key string, _ netip.Addr) (int, string) {
	zone, rcode, why := u.apply(req, key)
	u.metrics.Update(zone, dns.RcodeToString[rcode])
	return rcode, why
}

// apply is Update; it gives the zone to count the update under too.
func (u *updater) apply(req *dns.Msg, key string) (zone string, rcode int, why string) {
	zone = "other"
	r, perr := update.Parse(req)
	if perr != nil {
		return zone, perr.Rcode, perr.Reason
	}
	zc, ok := u.cfg.Zone(r.Zone)
	if !ok {
		return zone, dns.RcodeNotAuth, fmt.Sprintf("zone %s is not served here", r.Zone)
	}
	zone = zc.Origin
	if !slices.ContainsFunc(zc.Updates, func(p config.UpdatePolicy) bool { return p.Key == key }) {
		return zone, dns.RcodeRefused, fmt.Sprintf("key %s may not update zone %s: no [[zone.update]] names it", key, r.Zone)
	}
	if err := update.Prescan(r.Zone, r.Updates); err != nil {
		return zone, err.Rcode, err.Reason
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	// The names and types asked for must be the key's, even when the
	// update would change nothing: a refusal does not depend on the data.
	for _, rr := range r.Updates {
		h := rr.Header()
		if h.Rrtype == dns.TypeANY {
			continue // a name deleted: its types are checked as changes, below
		}
		if why := u.refusal(zc, key, strings.ToLower(h.Name), h.Rrtype); why != "" {
			return zone, dns.RcodeRefused, why
		}
	}
	view, err := u.view(zc)
	if err != nil {
		return zone, dns.RcodeServerFailure, err.Error()
	}
	if err := update.CheckPrerequisites(r.Zone, r.Prereqs, view); err != nil {
		return zone, err.Rcode, err.Reason
	}
	changes := update.Apply(r.Zone, r.Updates, view)
	for _, c := range changes {
		if why := u.refusal(zc, key, c.Name, c.Type); why != "" {
			return zone, dns.RcodeRefused, why
		}
	}
	if len(changes) == 0 {
		return zone, dns.RcodeSuccess, ""
	}
	if why := unstorable(changes); why != "" {
		return zone, dns.RcodeRefused, why
	}
	if _, err := u.commit(zc, changes, pipeline.KindUpdate, key, ""); err != nil {
		return zone, dns.RcodeServerFailure, err.Error()
	}
	return zone, dns.RcodeSuccess, ""
}

// refusal says why key may not change type t at name of the zone, or ""
// when it may.
func (u *updater) refusal(zc *config.Zone, key, name string, t uint16) string {
	typ := dns.TypeToString[t]
	var allowed, fileRecords bool
	for _, p := range zc.Updates {
		if p.Key == key && p.Allows(name, t, zc.Origin) {
			allowed, fileRecords = true, fileRecords || p.FileRecords
		}
	}
	if !allowed {
		return fmt.Sprintf("key %s may not change %s %s: no [[zone.update]] of zone %s gives it that name and type (%s)", key, name, typ, zc.Origin, u.cfg.Path)
	}
	if why := protected(u.cfg, zc, name, t); why != "" {
		return why
	}
	if file := u.files[zc.Origin]; file != nil && !fileRecords && file.Owns(name) {
		return fmt.Sprintf("%s is the zone file's (%s): updates may change it only under a [[zone.update]] with file_records = true", name, zc.File)
	}
	return ""
}

// protected says why no update may change type t at name, or "": the
// slot names change only by swap and set, the apex NS only in the zone
// file, and the SOA, the keys and what signing makes only in the zone
// file and by the signer.
func protected(cfg *config.Config, zc *config.Zone, name string, t uint16) string {
	for _, app := range cfg.AppsIn(zc.Origin) {
		for _, s := range app.Slots {
			if !slices.Contains(s.Names, name) {
				continue
			}
			if name != zc.Origin || t == dns.TypeA || t == dns.TypeAAAA || t == dns.TypeCNAME {
				return fmt.Sprintf("%s is slot %q of app %q: it changes only by slotdns swap and set", name, s.Name, app.Name)
			}
		}
	}
	switch t {
	case dns.TypeSOA, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY, dns.TypeNSEC3PARAM, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
		return fmt.Sprintf("%s records are the zone file's and the signer's, never an update's", dns.TypeToString[t])
	case dns.TypeNS:
		if name == zc.Origin {
			return fmt.Sprintf("the apex NS of zone %s is never changed by an update: edit %s", zc.Origin, zc.File)
		}
	}
	return ""
}

// view gives the zone as an update sees it: the file with its dynamic
// records, the slot names as they are served, and the served SOA.
func (u *updater) view(zc *config.Zone) (updateView, error) {
	z := u.layered[zc.Origin]
	served, ok := u.p.Snapshot().SlotRecords(zc.Origin)
	if z == nil || !ok {
		return updateView{}, fmt.Errorf("zone %s is not loaded", zc.Origin)
	}
	v := updateView{z: z, origin: zc.Origin, soa: served[0], slots: map[string][]dns.RR{}}
	for _, rr := range served[1:] {
		name := strings.ToLower(rr.Header().Name)
		v.slots[name] = append(v.slots[name], rr)
	}
	return v, nil
}

// commit lays the changes over the zone's file, signs the result when
// the zone is signed, and commits it with the dynamic records it holds.
func (u *updater) commit(zc *config.Zone, changes []update.Change, kind, actor, reason string) (store.Entry, error) {
	origin := zc.Origin
	file := u.files[origin]
	if file == nil {
		return store.Entry{}, fmt.Errorf("zone %s is not loaded", origin)
	}
	var dz store.DynamicZone
	if err := u.db.Read(func(v store.View) error {
		var err error
		dz, err = v.Dynamic(origin)
		return err
	}); err != nil {
		return store.Entry{}, err
	}
	now := u.clock.Now()
	next := nextDynamic(dz, file, changes, actor, now.UTC().Round(0))
	layer, err := layerOf(next)
	if err != nil {
		return store.Entry{}, err
	}
	layered, _, err := file.WithLayer(layer)
	if err != nil {
		return store.Entry{}, err
	}
	served := layered
	if zc.DNSSEC != nil {
		served, err = layered.Sign(signingOf(zc.DNSSEC, u.signKeys[origin]), slotNames(u.cfg, origin), servedReuse(u.p)(origin), now)
		if err != nil {
			return store.Entry{}, err
		}
	}
	before, after := rrsetText(changes)
	e, err := u.p.UpdateZone(pipeline.ZoneUpdate{Zone: served, Dynamic: next, Kind: kind, Actor: actor, Reason: reason, Before: before, After: after})
	if err != nil {
		return store.Entry{}, err
	}
	u.layered[origin] = layered
	if db, ok := u.db.(*store.DB); ok {
		saveSignatures(db, served, u.log)
	}
	return e, nil
}

// unstorable says why a record the changes add cannot be kept, or "":
// dynamic records are stored as master-file text, and a record whose
// text does not read back as itself (miekg/dns prints some odd RDATA in
// a form it does not parse) would be lost, or stop the next start.
func unstorable(changes []update.Change) string {
	for _, c := range changes {
		for _, rr := range c.After {
			back, err := dns.NewRR(rr.String())
			if err != nil || back == nil || !dns.IsDuplicate(back, rr) || back.Header().Ttl != rr.Header().Ttl {
				return fmt.Sprintf("the record %q cannot be kept: its master-file form does not read back as the record sent", rr.String())
			}
		}
	}
	return ""
}

// updateView is update.View over a zone as served.
type updateView struct {
	z      *zones.Zone
	origin string
	soa    dns.RR
	slots  map[string][]dns.RR // the records the slot names serve
}

func (v updateView) RRset(name string, t uint16) []dns.RR {
	if name == v.origin && t == dns.TypeSOA {
		return []dns.RR{v.soa}
	}
	var out []dns.RR
	for _, rr := range v.slots[name] {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	if out != nil {
		return out
	}
	return v.z.RRset(name, t)
}

func (v updateView) Types(name string) []uint16 {
	types := v.z.Types(name)
	for _, rr := range v.slots[name] {
		types = append(types, rr.Header().Rrtype)
	}
	slices.Sort(types)
	return slices.Compact(types)
}

func (v updateView) Exists(name string) bool {
	return len(v.slots[name]) > 0 || v.z.Exists(name)
}
