package zones

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slotdns/slotdns/dnssec"
	"github.com/slotdns/slotdns/zones/compact"

	"github.com/miekg/dns"
)

// Signing is how a zone is signed: its keys and the life of its
// signatures.
type Signing struct {
	Keys     []*dnssec.Key
	NSEC3    bool          // NSEC3 with RFC 9276's parameters rather than NSEC
	Validity time.Duration // from a signature's inception to its expiration
	Refresh  time.Duration // a signature with less than this left is replaced
	Jitter   time.Duration // expirations spread over this much, per RRset
}

// inceptionMargin backdates every signature, for validators whose clocks
// run behind (Knot and BIND do the same).
const inceptionMargin = time.Hour

// signing is what a signed Zone keeps of its signing: what its views
// need to sign the records they make (the apex's SOA and the slot
// names' records), and to prove what does not exist.
type signing struct {
	Signing
	slotNames []string // the names the views sign, sorted
	negTTL    uint32   // of NSEC and NSEC3 records (RFC 9077), and of DNSKEY, CDS, CDNSKEY
	// chain holds the names of the NSEC chain in canonical order (NSEC),
	// or the NSEC3 owners in the order of their hashes (NSEC3).
	chain []chainName
	// viewLinks gives, for the apex and each slot name, the owner and
	// next name of its NSEC or NSEC3, which the views make since its
	// bitmap is theirs.
	viewLinks map[string]chainLink
	expires   time.Time // the earliest expiration among the zone's signatures
	signed    int       // RRsets signed anew when the zone was signed
	reused    int       // RRsets whose signatures were reused
	asSaved   bool      // signed from SavedSignatures, every one reused and no other kept
	views     *sigCache // view signatures, reused by the views that follow
}

// chainName is one name of a chain of denial.
type chainName struct {
	wire []byte // the owner in wire form (NSEC: the name; NSEC3: the hashed owner)
	name string // presentation form, lowercase
	hash string // NSEC3: the base32hex hash, uppercase, as dns.HashName gives it
}

// chainLink is the place of a name in the chain that a view fills in.
type chainLink struct {
	owner string // the NSEC's or NSEC3's owner
	next  string // NSEC: the next name; NSEC3: the next hash
}

// describe names the keys and the denial, for ContentDigest.
func (sg *signing) describe() string {
	var b strings.Builder
	b.WriteString("dnssec")
	if sg.NSEC3 {
		b.WriteString(" nsec3")
	} else {
		b.WriteString(" nsec")
	}
	signer := dnssec.Signer{Keys: sg.Keys}
	for _, k := range sg.Keys {
		fmt.Fprintf(&b, " %d/%d/%d (%s)", k.Tag(), k.DNSKEY.Algorithm, k.DNSKEY.Flags, signer.UseOf(k))
	}
	return b.String()
}

// Signed reports whether the zone is signed.
func (z *Zone) Signed() bool { return z.signing != nil }

// SignaturesExpire gives the earliest expiration among the signatures of
// the zone file's records, and the time they are due to be replaced
// (Refresh before it); zero for an unsigned zone.
func (z *Zone) SignaturesExpire() (expires, due time.Time) {
	if z.signing == nil {
		return time.Time{}, time.Time{}
	}
	return z.signing.expires, z.signing.expires.Add(-z.signing.Refresh)
}

// SignaturesMade is the number of RRsets Sign signed anew rather than
// reusing their signatures.
func (z *Zone) SignaturesMade() int {
	if z.signing == nil {
		return 0
	}
	return z.signing.signed
}

// SignedAsSaved reports whether Sign reused every one of the
// SavedSignatures it was given, and signed nothing else: saving the
// zone's signatures again would change nothing.
func (z *Zone) SignedAsSaved() bool { return z.signing != nil && z.signing.asSaved }

// SignaturesReused is the number of RRsets whose signatures Sign
// reused.
func (z *Zone) SignaturesReused() int {
	if z.signing == nil {
		return 0
	}
	return z.signing.reused
}

// generated are the types signing adds, which a zone file given to Sign
// may not hold.
var generated = []uint16{dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY}

// Sign gives z signed with s at now, for slot names (the names the
// views give records; they are signed by the views): every
// authoritative RRset of the file gets its RRSIGs (at a delegation, DS
// alone: RFC 4035 2.2), the apex gets DNSKEY, CDS and CDNSKEY (and
// NSEC3PARAM), and every name its NSEC or NSEC3, those of the apex and
// the slot names aside. The signatures of prev (the zone served before,
// signed, or the signatures saved from an earlier start, or nil) are
// reused for every RRset they still cover exactly that has more than
// s.Refresh left and was signed by the keys of s that sign its type
// now; the others are made anew, on every CPU. z may be signed already:
// with no prev it is then signed again, reusing its own signatures.
//
// A file that holds records of the types signing makes (RRSIG, NSEC,
// NSEC3, NSEC3PARAM, DNSKEY, CDS, CDNSKEY) is refused, naming the place.
func (z *Zone) Sign(s Signing, slotNames []string, prev Reuse, now time.Time) (*Zone, error) {
	if len(s.Keys) == 0 {
		return nil, fmt.Errorf("zone %s: no signing keys", z.Origin)
	}
	for _, k := range s.Keys {
		if k.Zone() != z.Origin {
			return nil, fmt.Errorf("zone %s: key %s (%s) is a key of zone %s", z.Origin, k.BaseName(), k.File, k.Zone())
		}
	}
	if s.Refresh <= 0 || s.Refresh+s.Jitter >= s.Validity || s.Jitter < 0 || s.Jitter >= s.Refresh {
		return nil, fmt.Errorf("zone %s: signature validity %v, refresh %v, jitter %v: want 0 <= jitter < refresh and refresh + jitter < validity", z.Origin, s.Validity, s.Refresh, s.Jitter)
	}
	if p, ok := prev.(*Zone); ok && (p == nil || p.signing == nil) {
		prev = nil
	}
	if saved, ok := prev.(SavedSignatures); ok && len(saved) == 0 {
		prev = nil
	}
	if prev == nil && z.signing != nil {
		prev = z
	}
	zs := &zoneSigner{
		zone: z, s: s, prev: prev, now: now,
		b:     compact.NewBuilder(2 * z.recs.Records()),
		slots: make(map[string]bool),
	}
	for _, name := range slotNames {
		zs.slots[strings.ToLower(dns.Fqdn(name))] = true
	}
	return zs.sign()
}

// zoneSigner signs one zone.
type zoneSigner struct {
	zone   *Zone
	s      Signing
	prev   Reuse
	now    time.Time
	prints map[bool][]byte // see keyPrint
	b      *compact.Builder
	slots  map[string]bool
	jobs   []*signJob
	names  []denialName // every name a chain of denial holds, in canonical order
}

// denialName is one name as the chains of denial see it.
type denialName struct {
	wire  []byte
	name  string
	types []uint16
	empty bool // an empty non-terminal: in an NSEC3 chain, not in an NSEC chain
	view  bool // the apex or a slot name: its NSEC or NSEC3 is the views'
}

// signJob is one RRset to sign, or whose signatures are reused.
type signJob struct {
	owner []byte
	name  string
	typ   uint16
	set   compact.Set // the file's RRset, unpacked only if it is signed
	rrs   []dns.RR    // or the records made here
	sigs  [][]byte    // the RRSIGs' RDATA, once done
	exp   uint32      // their earliest expiration
}

func (zs *zoneSigner) sign() (*Zone, error) {
	z := zs.zone
	ttl := min(z.SOA.Hdr.Ttl, z.SOA.Minttl)
	var cut []byte // the delegation the names being read lie below, if any
	slotWires := zs.slotWires()
	for fn := range z.recs.Canonical() {
		for len(slotWires) > 0 && compact.Compare(slotWires[0].wire, fn.Name()) < 0 {
			zs.names = append(zs.names, slotWires[0])
			slotWires = slotWires[1:]
		}
		owner := fn.Name()
		if cut != nil && isBelow(owner, cut) {
			if err := zs.copyAll(fn); err != nil { // glue, and whatever else lies in the child
				return nil, err
			}
			continue
		}
		cut = nil
		apex := bytes.Equal(owner, z.origin)
		name := lowerName(owner)
		dn := denialName{wire: owner, name: name, empty: fn.Empty(), view: apex || zs.slots[name]}
		delegation := !apex && fn.Set(dns.TypeNS).Len() > 0
		if delegation {
			cut = lowerWire(owner)
		}
		var err error
		fn.Sets(func(set compact.Set) bool {
			t := set.Type()
			if slices.Contains(generated, t) {
				if z.signing == nil {
					at := z.places.place(set.Tag())
					err = fmt.Errorf("%s: %s record at %s: zone %s is signed by slotdns ([zone.dnssec]), which makes its DNSSEC records; remove them from the zone file", at, dns.TypeToString[t], name, z.Origin)
					return false
				}
				return true // made again below
			}
			if err = zs.copySet(owner, set); err != nil {
				return false
			}
			dn.types = append(dn.types, t)
			if (apex && t == dns.TypeSOA) || (delegation && t != dns.TypeDS) {
				return true // the view signs the SOA; NS and glue at a cut are the child's
			}
			zs.jobs = append(zs.jobs, &signJob{owner: owner, name: name, typ: t, set: set})
			return true
		})
		if err != nil {
			return nil, err
		}
		if apex {
			if err := zs.addApex(&dn, ttl); err != nil {
				return nil, err
			}
		}
		zs.names = append(zs.names, dn)
	}
	zs.names = append(zs.names, slotWires...)
	sg := &signing{Signing: zs.s, negTTL: ttl, viewLinks: map[string]chainLink{}, views: newSigCache()}
	for name := range zs.slots {
		sg.slotNames = append(sg.slotNames, name)
	}
	slices.Sort(sg.slotNames)
	var err error
	if zs.s.NSEC3 {
		err = zs.nsec3Chain(sg, ttl)
	} else {
		err = zs.nsecChain(sg, ttl)
	}
	if err != nil {
		return nil, err
	}
	if err := zs.signAll(sg); err != nil {
		return nil, err
	}
	zs.b.AddEmptyNonTerminals(z.origin)
	recs, err := zs.b.Build()
	if err != nil {
		return nil, fmt.Errorf("zone %s: %w", z.Origin, err)
	}
	signed := *z
	signed.recs = recs
	signed.signing = sg
	return &signed, nil
}

// slotWires gives the slot names that the file does not hold, in
// canonical order, with the empty non-terminals above them that the
// file does not hold either: the views make both.
func (zs *zoneSigner) slotWires() []denialName {
	z := zs.zone
	seen := map[string]bool{}
	var out []denialName
	for name := range zs.slots {
		for n, slot := name, true; n != "" && dns.IsSubDomain(z.Origin, n) && n != z.Origin && !seen[n]; n, slot = parent(n), zs.slots[parent(n)] {
			seen[n] = true
			wire := packName(n)
			if wire == nil {
				break
			}
			if _, ok := z.recs.Lookup(wire); ok {
				break // the file's, and so are those above: met when its names are read
			}
			out = append(out, denialName{wire: wire, name: n, empty: !slot, view: slot})
		}
	}
	slices.SortFunc(out, func(a, b denialName) int { return compact.Compare(a.wire, b.wire) })
	return out
}

// copyAll copies every record of fn but those signing makes.
func (zs *zoneSigner) copyAll(fn compact.Node) error {
	var err error
	fn.Sets(func(set compact.Set) bool {
		if !slices.Contains(generated, set.Type()) {
			err = zs.copySet(fn.Name(), set)
		}
		return err == nil
	})
	return err
}

func (zs *zoneSigner) copySet(owner []byte, set compact.Set) error {
	var err error
	set.Each(func(ttl uint32, rdata []byte) bool {
		err = zs.b.Add(owner, set.Type(), ttl, rdata, set.Tag())
		return err == nil
	})
	return err
}

// add adds records made here, and an RRset to sign for each type.
func (zs *zoneSigner) add(owner []byte, name string, rrs []dns.RR) error {
	var job *signJob
	for _, rr := range rrs {
		if err := zs.b.AddRR(rr, 0); err != nil {
			return err
		}
		t := rr.Header().Rrtype
		if job == nil || job.typ != t {
			job = &signJob{owner: owner, name: name, typ: t}
			zs.jobs = append(zs.jobs, job)
		}
		job.rrs = append(job.rrs, rr)
	}
	return nil
}

// addApex adds DNSKEY, CDS and CDNSKEY (and NSEC3PARAM) at the apex.
func (zs *zoneSigner) addApex(dn *denialName, ttl uint32) error {
	signer := dnssec.Signer{Zone: zs.zone.Origin, Keys: zs.s.Keys}
	rrs := signer.Apex(ttl)
	slices.SortStableFunc(rrs, func(a, b dns.RR) int { return int(a.Header().Rrtype) - int(b.Header().Rrtype) })
	if zs.s.NSEC3 {
		rrs = append(rrs, dnssec.NSEC3PARAM(zs.zone.Origin))
	}
	for _, rr := range rrs {
		if !slices.Contains(dn.types, rr.Header().Rrtype) {
			dn.types = append(dn.types, rr.Header().Rrtype)
		}
	}
	return zs.add(dn.wire, dn.name, rrs)
}

// nsecChain adds the NSEC records of the names but the views'.
func (zs *zoneSigner) nsecChain(sg *signing, ttl uint32) error {
	var names []denialName
	for _, n := range zs.names {
		if !n.empty || n.view {
			names = append(names, n)
		}
	}
	for i, n := range names {
		next := names[(i+1)%len(names)].name
		sg.chain = append(sg.chain, chainName{wire: n.wire, name: n.name})
		if n.view {
			sg.viewLinks[n.name] = chainLink{owner: n.name, next: next}
			continue
		}
		if err := zs.add(n.wire, n.name, []dns.RR{dnssec.NSEC(n.name, next, n.types, ttl)}); err != nil {
			return err
		}
	}
	return nil
}

// nsec3Chain adds the NSEC3 records of the names but the views'.
func (zs *zoneSigner) nsec3Chain(sg *signing, ttl uint32) error {
	origin := zs.zone.Origin
	byHash := map[string]denialName{}
	names := make([]dnssec.Name, 0, len(zs.names))
	for _, n := range zs.names {
		names = append(names, dnssec.Name{Name: n.name, Types: n.types})
		byHash[dns.HashName(n.name, dns.SHA1, 0, "")] = n
	}
	for _, rec := range dnssec.NSEC3Chain(origin, names, ttl) {
		owner := strings.ToLower(rec.Hdr.Name)
		wire := packName(owner)
		if wire == nil {
			return fmt.Errorf("zone %s: NSEC3 owner %s is too long", origin, owner)
		}
		hash, _, _ := strings.Cut(owner, ".")
		hash = strings.ToUpper(hash)
		sg.chain = append(sg.chain, chainName{wire: wire, name: owner, hash: hash})
		if n := byHash[hash]; n.view {
			sg.viewLinks[n.name] = chainLink{owner: owner, next: rec.NextDomain}
			continue
		}
		if err := zs.add(wire, owner, []dns.RR{rec}); err != nil {
			return err
		}
	}
	return nil
}

// signAll gives every job its signatures, reused from prev where they
// still serve, made on every CPU where not, and adds them.
func (zs *zoneSigner) signAll(sg *signing) error {
	var todo []*signJob
	for _, j := range zs.jobs {
		if !zs.reuse(j) {
			todo = append(todo, j)
		}
	}
	sg.signed, sg.reused = len(todo), len(zs.jobs)-len(todo)
	if saved, ok := zs.prev.(SavedSignatures); ok && len(todo) == 0 && len(saved) == len(zs.jobs) {
		sg.asSaved = true
	}
	var wg sync.WaitGroup
	errs := make([]error, len(todo))
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = zs.signJob(todo[i])
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("zone %s: %w", zs.zone.Origin, err)
		}
	}
	for _, j := range zs.jobs {
		for _, sig := range j.sigs {
			if err := zs.b.Add(j.owner, dns.TypeRRSIG, zs.ttlOf(j), sig, 0); err != nil {
				return err
			}
		}
		if exp := time.Unix(int64(j.exp), 0); sg.expires.IsZero() || exp.Before(sg.expires) {
			sg.expires = exp
		}
	}
	return nil
}

// ttlOf is the TTL of the job's records, which their RRSIGs take.
func (zs *zoneSigner) ttlOf(j *signJob) uint32 {
	if j.rrs != nil {
		return j.rrs[0].Header().Ttl
	}
	ttl := uint32(0)
	j.set.Each(func(t uint32, _ []byte) bool { ttl = t; return false })
	return ttl
}

// signJob makes the job's signatures.
func (zs *zoneSigner) signJob(j *signJob) error {
	rrs := j.rrs
	if rrs == nil {
		var err error
		if rrs, err = j.set.RRs(j.name); err != nil {
			return err
		}
	}
	inception, expiration := signatureLife(zs.s, zs.now, j.name, j.typ)
	signer := dnssec.Signer{Zone: zs.zone.Origin, Keys: zs.s.Keys, Inception: inception, Expiration: expiration}
	sigs, err := signer.Sign(rrs)
	if err != nil {
		return err
	}
	for _, sig := range sigs {
		rdata, err := packRDATA(sig)
		if err != nil {
			return err
		}
		j.sigs = append(j.sigs, rdata)
	}
	j.exp = uint32(expiration.Unix())
	return nil
}

// signatureLife gives the inception and expiration of a new signature
// of the RRset owner/typ: the expiration Validity after now, less a
// jitter of the RRset's own, so that the zone's signatures do not all
// come due together.
func signatureLife(s Signing, now time.Time, owner string, typ uint16) (time.Time, time.Time) {
	exp := now.Add(s.Validity)
	if s.Jitter > 0 {
		h := fnv.New64a()
		h.Write([]byte(owner))
		h.Write([]byte{byte(typ >> 8), byte(typ)})
		exp = exp.Add(-time.Duration(h.Sum64() % uint64(s.Jitter)))
	}
	return now.Add(-inceptionMargin), exp
}

// reuse gives j the signatures prev holds for the same RRset, when they
// still serve: see Sign.
func (zs *zoneSigner) reuse(j *signJob) bool {
	if zs.prev == nil {
		return false
	}
	sigs := zs.prev.signatures(zs, j)
	if sigs == nil {
		return false
	}
	exp := uint32(0)
	signer := dnssec.Signer{Zone: zs.zone.Origin, Keys: zs.s.Keys}
	keys := signer.KeysFor(j.typ)
	if len(sigs) != len(keys) {
		return false
	}
	for _, k := range keys {
		found := false
		for _, sig := range sigs {
			if stillServes(sig, k, zs.now, zs.s.Refresh) {
				found = true
				if e := binary.BigEndian.Uint32(sig[8:]); exp == 0 || e < exp {
					exp = e
				}
			}
		}
		if !found {
			return false
		}
	}
	j.sigs, j.exp = sigs, exp
	return true
}

// stillServes reports whether the RRSIG rdata is key's and has more than
// refresh left after now.
func stillServes(sig []byte, k *dnssec.Key, now time.Time, refresh time.Duration) bool {
	alg, exp, inc, tag := sig[2], binary.BigEndian.Uint32(sig[8:]), binary.BigEndian.Uint32(sig[12:]), binary.BigEndian.Uint16(sig[16:])
	if alg != k.DNSKEY.Algorithm || tag != k.Tag() {
		return false
	}
	return int64(inc) <= now.Unix() && int64(exp) > now.Add(refresh).Unix()
}

// sameSet reports whether prev's set holds exactly the job's records.
func (zs *zoneSigner) sameSet(j *signJob, prev compact.Set) bool {
	if j.rrs == nil {
		if prev.Len() != j.set.Len() {
			return false
		}
		var a, b [][]byte
		var ta, tb []uint32
		j.set.Each(func(ttl uint32, rdata []byte) bool { a, ta = append(a, rdata), append(ta, ttl); return true })
		prev.Each(func(ttl uint32, rdata []byte) bool { b, tb = append(b, rdata), append(tb, ttl); return true })
		return slices.Equal(ta, tb) && slices.EqualFunc(a, b, bytes.Equal)
	}
	if prev.Len() != len(j.rrs) {
		return false
	}
	i, same := 0, true
	prev.Each(func(ttl uint32, rdata []byte) bool {
		mine, err := packRDATA(j.rrs[i])
		same = err == nil && ttl == j.rrs[i].Header().Ttl && bytes.Equal(mine, rdata)
		i++
		return same
	})
	return same
}

// packRDATA gives rr's RDATA in uncompressed wire form.
func packRDATA(rr dns.RR) ([]byte, error) {
	buf := make([]byte, dns.Len(rr)+16)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	start := nameEnd(buf) + 10
	return buf[start:end], nil
}

// packName gives name (FQDN) in wire form, nil when it is no name.
func packName(name string) []byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	return buf[:n:n]
}

// lowerName gives a wire name in presentation form, lowercase.
func lowerName(wire []byte) string {
	name, _, err := dns.UnpackDomainName(wire, 0)
	if err != nil {
		return ""
	}
	return strings.ToLower(name)
}

// lowerWire gives a copy of a wire name in lowercase, ASCII letters
// only, as DNS compares names.
func lowerWire(wire []byte) []byte {
	out := make([]byte, len(wire))
	for i, c := range wire {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// isBelow reports whether the wire name lies strictly below cut.
func isBelow(name, cut []byte) bool {
	return len(name) > len(cut) && inZone(name, cut)
}
