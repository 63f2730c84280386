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
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Zone is one parsed master file: the static records of a zone.
//
// A Zone must not be modified once it has been handed to Build: Build
// prepares its lookup tree once and reuses it for every later snapshot.
type Zone struct {
	Origin  string   // lowercase FQDN, e.g. "yourwebapp.com."
	File    string   // path it was read from, for messages
	SOA     *dns.SOA // the apex SOA
	Records []dns.RR // every record of the file, owner names lowercased
	// Lines maps a lowercase owner name to the first file line that gave it
	// records, so that a conflict can name the place.
	Lines map[string]int

	// places gives the file and line of each of Records when the zone
	// was read by ParseFile, so that a conflict names the very record.
	places []place
	// static is the lookup tree prepared from Records by the first Build,
	// guarded by staticMu.
	static *staticZone
}

// defaultTTL is the TTL of a record that gives none when neither a $TTL
// directive nor an earlier record gave one.
const defaultTTL = 3600

// ParseFile reads the master file at path for origin ($ORIGIN, $TTL and
// $INCLUDE relative to the file). Every error has the form
// "file:line: what is wrong"; several are joined with errors.Join.
func ParseFile(origin, path string) (*Zone, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("%s: zone origin %q is not a domain name", path, origin)
	}
	files, err := newTrackedFS(path)
	if err != nil {
		return nil, err
	}
	zp := dns.NewZoneParser(files.top, origin, files.parserName(path))
	zp.SetDefaultTTL(defaultTTL)
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(files)

	z := &Zone{Origin: origin, File: path, Lines: make(map[string]int)}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		f := files.current
		hdr := rr.Header()
		hdr.Name = strings.ToLower(hdr.Name)
		pl := place{file: f.display, line: f.recordLine()}
		z.Records = append(z.Records, rr)
		z.places = append(z.places, pl)
		if _, seen := z.Lines[hdr.Name]; !seen && pl.file == path {
			z.Lines[hdr.Name] = pl.line
		}
	}
	if err := zp.Err(); err != nil {
		return nil, files.rewrite(err)
	}
	// A name that only an included file gives gets its line there (the
	// place of each record names the file).
	for i, rr := range z.Records {
		if _, seen := z.Lines[rr.Header().Name]; !seen {
			z.Lines[rr.Header().Name] = z.places[i].line
		}
	}
	if err := z.check(); err != nil {
		return nil, err
	}
	return z, nil
}

// place is a file and line, printed as "file:line".
type place struct {
	file string
	line int
}

func (p place) String() string { return p.file + ":" + strconv.Itoa(p.line) }

// check applies the rules a zone must follow beyond its syntax and collects
// every violation, each naming its place.
func (z *Zone) check() error {
	var errs []error
	fail := func(p place, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...)))
	}

	byName := make(map[string][]seenType) // the types seen at each name, with the first record of each
	var soaAt *place
	haveNS := false
	for i, rr := range z.Records {
		hdr := rr.Header()
		at := z.places[i]
		if hdr.Class != dns.ClassINET {
			fail(at, "%s %s: class %s is not served, only IN", hdr.Name, dns.TypeToString[hdr.Rrtype], dns.ClassToString[hdr.Class])
			continue
		}
		if !dns.IsSubDomain(z.Origin, hdr.Name) {
			fail(at, "%s %s: the name is outside the zone %s (check $ORIGIN and trailing dots)", hdr.Name, dns.TypeToString[hdr.Rrtype], z.Origin)
			continue
		}
		switch hdr.Rrtype {
		case dns.TypeSOA:
			switch {
			case hdr.Name != z.Origin:
				fail(at, "SOA at %s: the SOA belongs at the zone apex %s", hdr.Name, z.Origin)
			case soaAt != nil:
				fail(at, "second SOA at %s: a zone has exactly one SOA (the first is at %s)", hdr.Name, *soaAt)
			default:
				soaAt = &z.places[i]
				z.SOA = rr.(*dns.SOA)
			}
		case dns.TypeNS:
			if hdr.Name == z.Origin {
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

	start := place{file: z.File, line: 1}
	if soaAt == nil {
		fail(start, "zone %s has no SOA record at its apex; add one", z.Origin)
	}
	if !haveNS {
		fail(start, "zone %s has no NS record at its apex; add at least one", z.Origin)
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
		if dns.IsDuplicate(rr, s.rr) {
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

func newTrackedFS(path string) (*trackedFS, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("zone file %s: %w", path, err)
	}
	t := &trackedFS{
		display: make(map[string]string),
		baseAbs: filepath.Dir(abs),
		baseRel: filepath.Dir(path),
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zone file: %w", err)
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
