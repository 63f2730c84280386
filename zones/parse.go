package zones

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/slotdns/slotdns/zones/compact"
	"github.com/slotdns/slotdns/zones/scan"

	"github.com/miekg/dns"
)

// Zone is one parsed master file: the static records of a zone, in
// wire form (see zones/compact), with the place each RRset came from.
// A Zone is immutable; any number of snapshots share it.
type Zone struct {
	Origin string   // lowercase FQDN, e.g. "yourwebapp.com."
	File   string   // path it was read from, for messages
	SOA    *dns.SOA // the apex SOA, as the file gives it

	origin    []byte        // Origin in wire form
	recs      *compact.Zone // every record of the file, empty non-terminals included
	places    placeTable    // the file and line of each RRset's first record
	delegates bool          // some name below the apex has NS records
	signing   *signing      // nil when the zone is not signed (see Sign)
}

// Len is the number of records the zone file serves (duplicates once).
func (z *Zone) Len() int { return z.recs.Records() }

// defaultTTL is the TTL of a record that gives none when neither a $TTL
// directive nor an earlier record gave one.
const defaultTTL = 3600

// ParseFile reads the master file at path for origin ($ORIGIN, $TTL and
// $INCLUDE relative to the file). Every error has the form
// "file:line: what is wrong"; several are joined with errors.Join.
//
// The file is read by zones/scan, straight into wire form. A file scan
// leaves to miekg/dns ($INCLUDE, $GENERATE), and any file that scan or
// the zone's rules find wrong, is read again by dns.ZoneParser, whose
// messages the errors give: a zone that loads pays for one fast pass.
func ParseFile(origin, path string) (*Zone, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("%s: zone origin %q is not a domain name", path, origin)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zone file: %w", err)
	}
	if z, ok := scanFile(origin, path, data); ok {
		return z, nil
	}
	return parseSlowly(origin, path, data)
}

// scanFile reads data with zones/scan. ok is false when scan cannot read
// it, or when the zone breaks a rule that check words: the file is then
// the parser's.
func scanFile(origin, path string, data []byte) (*Zone, bool) {
	z := newZone(origin, path)
	b := compact.NewBuilder(bytes.Count(data, []byte{'\n'}))
	soas, broken := 0, false
	err := scan.File(data, origin, defaultTTL, func(r *scan.Record) error {
		if !inZone(r.Owner, z.origin) {
			broken = true
			return errStop
		}
		if r.Type == dns.TypeSOA {
			soas++
		}
		return b.Add(r.Owner, r.Type, r.TTL, r.RDATA, z.places.tag(path, r.Line))
	})
	if err != nil || broken || soas != 1 {
		return nil, false
	}
	if err := z.finish(b); err != nil {
		return nil, false
	}
	return z, true
}

var errStop = errors.New("stop")

func newZone(origin, path string) *Zone {
	wire := make([]byte, 256)
	n, _ := dns.PackDomainName(origin, wire, 0, nil, false) // origin is a domain name
	return &Zone{Origin: origin, File: path, origin: wire[:n]}
}

// finish builds the zone's records and checks, over them, the rules
// check words: the SOA at the apex, NS there, CNAME alone. A zone that
// breaks one gets an error without a place; the caller reads the file
// again for the message.
func (z *Zone) finish(b *compact.Builder) error {
	b.AddEmptyNonTerminals(z.origin)
	recs, err := b.Build()
	if err != nil {
		return err
	}
	z.recs = recs
	apex, ok := z.recs.Lookup(z.origin)
	if !ok || apex.Set(dns.TypeSOA).Len() != 1 || apex.Set(dns.TypeNS).Len() == 0 {
		return errBroken
	}
	for n := range z.recs.All() {
		apex := bytes.Equal(n.Name(), z.origin)
		if !n.Empty() && !rulesHold(n, apex) {
			return errBroken
		}
		if !apex && n.Set(dns.TypeNS).Len() > 0 {
			z.delegates = true
		}
	}
	soas, err := apex.Set(dns.TypeSOA).RRs(z.Origin)
	if err != nil {
		return errBroken
	}
	z.SOA = soas[0].(*dns.SOA)
	return nil
}

var errBroken = errors.New("the zone breaks a rule")

// rulesHold reports whether the records of n follow check's rules: an
// SOA only at the apex, at most one CNAME and nothing beside it but
// DNSSEC's records.
func rulesHold(n compact.Node, apex bool) bool {
	cname, other := 0, false
	n.Sets(func(s compact.Set) bool {
		switch t := s.Type(); {
		case t == dns.TypeSOA && !apex:
			other, cname = true, 2 // an SOA below the apex
		case t == dns.TypeCNAME:
			cname += s.Len()
		case !dnssecMeta(t):
			other = true
		}
		return true
	})
	return cname == 0 || cname == 1 && !other
}

// inZone reports whether the wire name lies at or below origin (wire,
// lowercase), the name's case aside.
func inZone(name, origin []byte) bool {
	for off := 0; off < len(name); off += 1 + int(name[off]) {
		if len(name)-off == len(origin) {
			return compact.EqualFold(name[off:], origin)
		}
		if name[off] == 0 {
			break
		}
	}
	return false
}

// parseSlowly reads the file with dns.ZoneParser, which follows $INCLUDE
// and $GENERATE and words every error, and checks the zone's rules.
func parseSlowly(origin, path string, data []byte) (*Zone, error) {
	files, err := newTrackedFS(path, data)
	if err != nil {
		return nil, err
	}
	zp := dns.NewZoneParser(files.top, origin, files.parserName(path))
	zp.SetDefaultTTL(defaultTTL)
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(files)

	z := newZone(origin, path)
	var rrs []dns.RR
	var places []place
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		f := files.current
		rr.Header().Name = strings.ToLower(rr.Header().Name)
		rrs = append(rrs, rr)
		places = append(places, place{file: f.display, line: f.recordLine()})
	}
	if err := zp.Err(); err != nil {
		return nil, files.rewrite(err)
	}
	if err := check(origin, path, rrs, places); err != nil {
		return nil, err
	}
	b := compact.NewBuilder(len(rrs))
	for i, rr := range rrs {
		if err := b.AddRR(rr, z.places.tag(places[i].file, places[i].line)); err != nil {
			return nil, fmt.Errorf("%s: %w", places[i], err)
		}
	}
	if err := z.finish(b); err != nil {
		// check passed: the two readings of the rules disagree.
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return z, nil
}

// placeTable maps the tag of an RRset to the file and line of its first
// record. Tags count lines: a run of records from one file, lines going
// forward, shares a segment, and the tag is the segment's first plus the
// lines since. One file read by scan is one segment, whose tags are the
// lines themselves.
type placeTable struct {
	segs []segment
	last place
}

type segment struct {
	tag  uint32 // the first tag of the segment
	file string
	line int // the line of that tag
}

// tag gives the tag of a record at file and line, the next record of the
// file read.
func (p *placeTable) tag(file string, line int) uint32 {
	n := len(p.segs)
	if n == 0 || p.last.file != file || line < p.last.line {
		next := uint32(line) // the first segment: tags are lines
		if n > 0 {
			next = p.segs[n-1].tag + uint32(p.last.line-p.segs[n-1].line) + 1
		}
		p.segs = append(p.segs, segment{tag: next, file: file, line: line})
	}
	p.last = place{file: file, line: line}
	s := p.segs[len(p.segs)-1]
	return s.tag + uint32(line-s.line)
}

// place gives the file and line of tag.
func (p *placeTable) place(tag uint32) place {
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].tag > tag }) - 1
	if i < 0 {
		return place{}
	}
	s := p.segs[i]
	return place{file: s.file, line: s.line + int(tag-s.tag)}
}

// place is a file and line, printed as "file:line".
type place struct {
	file string
	line int
}

func (p place) String() string { return p.file + ":" + strconv.Itoa(p.line) }

// check applies the rules a zone must follow beyond its syntax to the
// records of a zone file, and collects every violation, each naming its
// place.
func check(origin, file string, records []dns.RR, places []place) error {
	var errs []error
	fail := func(p place, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...)))
	}

	byName := make(map[string][]seenType) // the types seen at each name, with the first record of each
	var soaAt *place
	haveNS := false
	for i, rr := range records {
		hdr := rr.Header()
		at := places[i]
		if hdr.Class != dns.ClassINET {
			fail(at, "%s %s: class %s is not served, only IN", hdr.Name, dns.TypeToString[hdr.Rrtype], dns.ClassToString[hdr.Class])
			continue
		}
		if !dns.IsSubDomain(origin, hdr.Name) {
			fail(at, "%s %s: the name is outside the zone %s (check $ORIGIN and trailing dots)", hdr.Name, dns.TypeToString[hdr.Rrtype], origin)
			continue
		}
		switch hdr.Rrtype {
		case dns.TypeSOA:
			switch {
			case hdr.Name != origin:
				fail(at, "SOA at %s: the SOA belongs at the zone apex %s", hdr.Name, origin)
			case soaAt != nil:
				fail(at, "second SOA at %s: a zone has exactly one SOA (the first is at %s)", hdr.Name, *soaAt)
			default:
				soaAt = &places[i]
			}
		case dns.TypeNS:
			if hdr.Name == origin {
				haveNS = true
			}
		}

		seen := byName[hdr.Name]
		for _, s := range seen {
			if clash := cnameClash(rr, s); clash != "" {
				fail(at, "%s", clash)
				break
			}
		}
		if !slices.ContainsFunc(seen, func(s seenType) bool { return s.rr.Header().Rrtype == hdr.Rrtype }) {
			byName[hdr.Name] = append(seen, seenType{rr, at})
		}
	}

	start := place{file: file, line: 1}
	if soaAt == nil {
		fail(start, "zone %s has no SOA record at its apex; add one", origin)
	}
	if !haveNS {
		fail(start, "zone %s has no NS record at its apex; add at least one", origin)
	}
	return errors.Join(errs...)
}

// seenType is the first record of a type at a name, and its place.
type seenType struct {
	rr dns.RR
	at place
}

// cnameClash says what is wrong when rr may not sit beside the earlier
// record s at the same name (RFC 1034 3.6.2, RFC 2181 10.1), or "".
func cnameClash(rr dns.RR, s seenType) string {
	name, t, st := rr.Header().Name, rr.Header().Rrtype, s.rr.Header().Rrtype
	switch {
	case t == dns.TypeCNAME && st == dns.TypeCNAME:
		if sameTarget(rr.(*dns.CNAME).Target, s.rr.(*dns.CNAME).Target) {
			return "" // the same record twice is one record
		}
		return fmt.Sprintf("second CNAME at %s: a name has at most one CNAME (the first is at %s)", name, s.at)
	case t == dns.TypeCNAME && !dnssecMeta(st):
		return fmt.Sprintf("CNAME at %s beside its %s record at %s: a CNAME owner may have no other data (RFC 1034 3.6.2); remove one of them", name, dns.TypeToString[st], s.at)
	case st == dns.TypeCNAME && !dnssecMeta(t):
		return fmt.Sprintf("%s at %s beside its CNAME at %s: a CNAME owner may have no other data (RFC 1034 3.6.2); remove one of them", dns.TypeToString[t], name, s.at)
	}
	return ""
}

// sameTarget reports whether two CNAME targets are one name: in wire
// form, case aside, so that "\065" and "a" are one label, as the zone's
// records compare (zones/compact).
func sameTarget(a, b string) bool {
	var wa, wb [256]byte
	na, errA := dns.PackDomainName(dns.Fqdn(a), wa[:], 0, nil, false)
	nb, errB := dns.PackDomainName(dns.Fqdn(b), wb[:], 0, nil, false)
	return errA == nil && errB == nil && compact.EqualFold(wa[:na], wb[:nb])
}

// dnssecMeta reports whether t may sit beside a CNAME (RFC 2181 10.1,
// RFC 4035 2.5).
func dnssecMeta(t uint16) bool {
	return t == dns.TypeRRSIG || t == dns.TypeNSEC
}

// trackedFS opens the zone file and every file it includes as a
// trackedFile, so that the line of each record can be told: ZoneParser
// reports lines only in its errors.
//
// ZoneParser joins a relative $INCLUDE path to the directory of the
// including file and strips the leading "/" before opening it through an
// fs.FS; the parser therefore gets absolute paths, and Open adds the "/"
// back.
type trackedFS struct {
	top     *trackedFile
	current *trackedFile      // the file the parser read from last
	display map[string]string // parser name -> path shown to users
	baseAbs string            // absolute directory of the zone file
	baseRel string            // that directory as the user wrote it
}

func newTrackedFS(path string, data []byte) (*trackedFS, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("zone file %s: %w", path, err)
	}
	t := &trackedFS{
		display: make(map[string]string),
		baseAbs: filepath.Dir(abs),
		baseRel: filepath.Dir(path),
	}
	t.top = &trackedFile{fs: t, display: path, data: data}
	t.current = t.top
	t.display[t.parserName(path)] = path
	return t, nil
}

// parserName is the absolute path the parser is given for the zone file.
func (t *trackedFS) parserName(path string) string {
	return filepath.Join(t.baseAbs, filepath.Base(path))
}

// displayName turns a path the parser built (absolute, maybe without its
// leading "/") into the path a user recognises: relative to the zone file
// as the user named it when the file lies beside or below it.
func (t *trackedFS) displayName(name string) string {
	if d, ok := t.display[name]; ok {
		return d
	}
	abs := filepath.Clean("/" + strings.TrimPrefix(name, "/"))
	if rel, err := filepath.Rel(t.baseAbs, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.Join(t.baseRel, rel)
	}
	return abs
}

// Open implements fs.FS for $INCLUDE.
func (t *trackedFS) Open(name string) (fs.File, error) {
	display := t.displayName(name)
	data, err := os.ReadFile("/" + name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "open", Path: display, Err: err}
	}
	f := &trackedFile{fs: t, display: display, data: data}
	t.display[name] = display
	return f, nil
}

// parseErrorText matches the text of a *dns.ParseError, whose fields are
// not exported: `file: dns: what: "token" at line: 3:14`.
var parseErrorText = regexp.MustCompile(`^(?s)(?:(.*): )?dns: (.*?)(?:: "(.*)")? at line: (\d+):\d+$`)

// rewrite turns a ZoneParser error into "file:line: what is wrong".
func (t *trackedFS) rewrite(err error) error {
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", t.top.display, err)
	}
	m := parseErrorText.FindStringSubmatch(pe.Error())
	if m == nil {
		return fmt.Errorf("%s: %w", t.top.display, err)
	}
	file, what, token, line := t.displayName(m[1]), m[2], m[3], m[4]
	if m[1] == "" {
		file = t.top.display
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("%s:%s: $INCLUDE %q: %w", file, line, token, pathErr)
	}
	if token != "" {
		what += fmt.Sprintf(": %q", token)
	}
	return &parseError{msg: fmt.Sprintf("%s:%s: %s", file, line, what), err: err}
}

// parseError is a ZoneParser error in the "file:line: what" form; it
// still unwraps to the *dns.ParseError.
type parseError struct {
	msg string
	err error
}

func (e *parseError) Error() string { return e.msg }
func (e *parseError) Unwrap() error { return e.err }

// trackedFile is a whole file in memory that counts what the parser has
// read. ZoneParser reads byte by byte through io.ByteReader when the
// reader offers it, so the offset is exactly where the lexer stands.
type trackedFile struct {
	fs      *trackedFS
	display string
	data    []byte
	off     int

	lastOff   int // offset when the previous record was returned
	lastLine  int // that record's line
	lineAtOff int // the line lastOff lies on
}

func (f *trackedFile) ReadByte() (byte, error) {
	f.fs.current = f
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	b := f.data[f.off]
	f.off++
	return b, nil
}

func (f *trackedFile) Read(p []byte) (int, error) {
	f.fs.current = f
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.off:])
	f.off += n
	return n, nil
}

func (f *trackedFile) Stat() (fs.FileInfo, error) { return nil, errors.ErrUnsupported }
func (f *trackedFile) Close() error               { return nil }

// recordLine gives the line of the record the parser has just returned:
// the first line since the previous record that holds more than blanks,
// a comment or a directive. Records made by one $GENERATE share its line.
func (f *trackedFile) recordLine() int {
	if f.off == f.lastOff && f.lastLine > 0 {
		return f.lastLine
	}
	line := 1 + f.lineAtOff
	found := line
	for pos := f.lastOff; pos < f.off; line++ {
		end := bytes.IndexByte(f.data[pos:f.off], '\n')
		if end < 0 {
			end = f.off - pos
		}
		if holdsRecord(f.data[pos : pos+end]) {
			found = line
			break
		}
		pos += end + 1
		found = line + 1
	}
	f.lineAtOff += bytes.Count(f.data[f.lastOff:f.off], []byte{'\n'})
	f.lastOff, f.lastLine = f.off, found
	return found
}

// holdsRecord reports whether a line starts a record: it is not blank, a
// comment, or a directive other than $GENERATE (which makes records).
func holdsRecord(line []byte) bool {
	line = bytes.TrimLeft(line, " \t\r")
	if len(line) == 0 || line[0] == ';' {
		return false
	}
	if line[0] != '$' {
		return true
	}
	return bytes.HasPrefix(bytes.ToUpper(line), []byte("$GENERATE"))
}
