// Package scan reads an RFC 1035 master file straight into wire form, for
// zones of millions of records: the common records (A, AAAA, CNAME, NS,
// PTR, MX, TXT and SRV on one line, class IN) are packed here with no
// dns.RR in between; every other entry goes through miekg/dns's parser
// at its place in the file, with the same origin, owner and TTL.
//
// A file with $INCLUDE, $GENERATE or carriage returns gets
// ErrUnsupported, and any error is an *Error that gives the line: a
// caller that wants miekg/dns's own message, or its verdict on an odd
// file, parses the file with it again. A scan that succeeds gives the
// records dns.ZoneParser gives, only faster; FuzzScan holds it to that.
package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Record is one record as scanned. Its slices are reused for the next
// record: copy what is kept.
type Record struct {
	Owner []byte // uncompressed wire form, in the file's case
	Type  uint16
	TTL   uint32
	RDATA []byte
	Line  int // where the entry starts
}

// ErrUnsupported is returned for a file with $INCLUDE or $GENERATE, or
// with carriage returns.
var ErrUnsupported = errors.New("scan: $INCLUDE and $GENERATE are left to dns.ZoneParser")

// Error is an entry that does not parse.
type Error struct {
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// File scans text for origin (an FQDN), with defaultTTL for records
// before any TTL is known, calling f with each record in file order.
func File(text []byte, origin string, defaultTTL uint32, f func(*Record) error) error {
	if bytes.IndexByte(text, '\r') >= 0 {
		return ErrUnsupported // carriage returns: the parser's reading of them
	}
	s := scanner{text: text, line: 1, ttl: defaultTTL}
	if err := s.setOrigin(dns.Fqdn(origin)); err != nil {
		return &Error{Line: 0, Err: err}
	}
	s.rr.RDATA = make([]byte, 0, 512)
	for {
		fields, line, err := s.entry()
		if err != nil {
			return &Error{Line: line, Err: err}
		}
		if fields == nil {
			return nil
		}
		if err := s.record(fields, line, f); err != nil {
			return err
		}
	}
}

// tokenEnd marks the bytes that end an unquoted token.
var tokenEnd = func() (t [256]bool) {
	for _, c := range []byte(" \t\r\n;()\"") {
		t[c] = true
	}
	return t
}()

// delegated counts the entries handed to the parser, for the tests.
var delegated atomic.Int64

// maxPlain is the longest comment or token read here; longer ones are
// the parser's, which has limits of its own.
const maxPlain = 200

type scanner struct {
	text      []byte
	off, line int

	origin     string // FQDN, as $ORIGIN or the caller gave it
	originWire []byte
	ttl        uint32 // the TTL of a record that gives none
	byTTL      bool   // ttl came from $TTL, so records' own TTLs do not change it
	owner      []byte // the last owner, wire form
	haveOwner  bool
	fields     [][]byte
	rr         Record
	nameBuf    []byte
	packBuf    []byte // viaParser's, for the records the parser gives
	indented   bool   // the entry began with a blank: its owner is the last one
	// The entry's bytes: text[entryBegin:entryEnd], its newline included.
	entryBegin, entryEnd int
}

func (s *scanner) setOrigin(origin string) error {
	wire, err := packName(origin)
	if err != nil {
		return err
	}
	s.origin, s.originWire = origin, wire
	return nil
}

// entry gives the next entry's fields (a record or a directive: one line,
// or the lines a pair of parentheses joins), with its first line; nil at
// the end. A field in quotes keeps its quotes, for TXT.
func (s *scanner) entry() ([][]byte, int, error) {
	for s.off < len(s.text) {
		s.fields = s.fields[:0]
		begin, start := s.off, s.line
		s.entryBegin = begin
		s.indented = s.text[s.off] == ' ' || s.text[s.off] == '\t' || s.text[s.off] == '(' // "(" first: no owner, as the parser reads it
		depth, parens := 0, false
		for s.off < len(s.text) {
			c := s.text[s.off]
			switch {
			case c == '\n':
				s.off++
				s.line++
				if depth == 0 {
					goto done
				}
			case c == ' ' || c == '\t':
				s.off++
			case c == ';':
				from := s.off
				for s.off < len(s.text) && s.text[s.off] != '\n' {
					s.off++
				}
				if s.off-from > maxPlain {
					return s.fallbackEntry(begin, start) // the parser limits comments
				}
			case c == '(':
				depth++
				parens = true
				s.off++
			case c == ')':
				if depth == 0 {
					return nil, start, errors.New("a ) without its (")
				}
				depth--
				s.off++
			case c == '"':
				end := s.off + 1
				for end < len(s.text) && s.text[end] != '"' {
					if s.text[end] == '\\' || s.text[end] == '\n' {
						return s.fallbackEntry(begin, start)
					}
					end++
				}
				if end == len(s.text) {
					return nil, start, errors.New("a quote without its end")
				}
				s.fields = append(s.fields, s.text[s.off:end+1])
				s.off = end + 1
				if s.glued() {
					return s.fallbackEntry(begin, start)
				}
			default:
				end := s.off
				for end < len(s.text) && !tokenEnd[s.text[end]] {
					end++
				}
				s.fields = append(s.fields, s.text[s.off:end])
				s.off = end
				if s.glued() || len(s.fields[len(s.fields)-1]) > maxPlain {
					return s.fallbackEntry(begin, start)
				}
			}
		}
		if depth != 0 {
			return nil, start, errors.New("a ( without its )")
		}
	done:
		if parens {
			// Entries over several lines are the parser's, as it reads
			// them (it joins some tokens across a line break).
			return s.fallbackEntry(begin, start)
		}
		if len(s.fields) > 0 {
			s.entryEnd = s.off
			return s.fields, start, nil
		}
	}
	return nil, s.line, nil
}

// glued reports a field that runs straight into a quote or out of one
// ("TXT\"x\"", "\"x\"y"): how those read is the parser's call.
func (s *scanner) glued() bool {
	if s.off >= len(s.text) {
		return false
	}
	switch s.text[s.off] {
	case ' ', '\t', '\n', ';', '(', ')':
		return false
	}
	return true
}

// fallbackEntry is for a quoted string with an escape or a line break:
// the entry is read again from begin, to its newline outside quotes and
// parentheses, and record hands its text to dns.ZoneParser whole.
func (s *scanner) fallbackEntry(begin, start int) ([][]byte, int, error) {
	s.off, s.line = begin, start
	depth, quoted := 0, false
	for s.off < len(s.text) {
		c := s.text[s.off]
		s.off++
		switch {
		case c == '\\' && s.off < len(s.text):
			if s.text[s.off] == '\n' {
				s.line++
			}
			s.off++
		case c == '"':
			quoted = !quoted
		case c == '\n':
			s.line++
			if depth == 0 && !quoted {
				s.entryEnd = s.off
				return [][]byte{nil}, start, nil
			}
		case c == ';' && !quoted:
			for s.off < len(s.text) && s.text[s.off] != '\n' {
				s.off++
			}
		case c == '(' && !quoted:
			depth++
		case c == ')' && !quoted:
			depth--
		}
	}
	s.entryEnd = s.off
	return [][]byte{nil}, start, nil
}

// record turns one entry into its record, or applies a directive.
func (s *scanner) record(fields [][]byte, line int, f func(*Record) error) error {
	if s.indented && !s.haveOwner {
		return &Error{Line: line, Err: errors.New("no owner name: the first record names its owner")}
	}
	if fields[0] == nil { // fallbackEntry: the parser reads it
		return s.viaParser(s.entryBegin, s.entryEnd, line, f)
	}
	if fields[0][0] == '$' {
		if s.indented {
			return &Error{Line: line, Err: errors.New("a directive after a blank")}
		}
		return s.directive(fields, line)
	}
	i := 0
	if !s.indented {
		owner, err := s.name(fields[0])
		if err != nil {
			return s.viaParser(s.entryBegin, s.entryEnd, line, f)
		}
		s.owner, s.haveOwner = append(s.owner[:0], owner...), true
		i = 1
	}
	ttl, explicit, class := s.ttl, false, false
	typ := uint16(0)
	for ; i < len(fields) && typ == 0; i++ {
		field := fields[i]
		switch {
		case isDigits(field):
			v, err := strconv.ParseUint(string(field), 10, 32)
			if err != nil || explicit {
				return s.viaParser(s.entryBegin, s.entryEnd, line, f)
			}
			ttl, explicit = uint32(v), true
		case len(field) == 2 && field[0]|0x20 == 'i' && field[1]|0x20 == 'n':
			if class {
				return s.viaParser(s.entryBegin, s.entryEnd, line, f)
			}
			class = true
		default:
			t, ok := fastType(field)
			if !ok {
				t, ok = dns.StringToType[strings.ToUpper(string(field))]
			}
			if !ok {
				return s.viaParser(s.entryBegin, s.entryEnd, line, f)
			}
			typ = t
		}
	}
	if typ == 0 {
		return s.viaParser(s.entryBegin, s.entryEnd, line, f)
	}
	rdata, ok := s.pack(typ, fields[i:])
	if !ok {
		return s.viaParser(s.entryBegin, s.entryEnd, line, f)
	}
	if explicit && !s.byTTL {
		s.ttl = ttl
	}
	s.rr.Owner, s.rr.Type, s.rr.TTL, s.rr.RDATA, s.rr.Line = s.owner, typ, ttl, rdata, line
	return f(&s.rr)
}

func (s *scanner) directive(fields [][]byte, line int) error {
	switch strings.ToUpper(string(fields[0])) {
	case "$ORIGIN", "$TTL":
	default:
		return ErrUnsupported
	}
	// The parser judges the directive first (directives are few):
	// what it refuses is refused here.
	zp := dns.NewZoneParser(bytes.NewReader(s.text[s.entryBegin:s.entryEnd]), s.origin, "")
	for _, ok := zp.Next(); ok; _, ok = zp.Next() {
	}
	if err := zp.Err(); err != nil {
		return &Error{Line: line, Err: err}
	}
	switch strings.ToUpper(string(fields[0])) {
	case "$ORIGIN":
		if len(fields) != 2 {
			return &Error{Line: line, Err: errors.New("$ORIGIN takes one name")}
		}
		name, err := s.nameText(fields[1])
		if err != nil {
			return &Error{Line: line, Err: err}
		}
		return s.setOrigin(name)
	case "$TTL":
		if len(fields) != 2 || !isDigits(fields[1]) {
			return &Error{Line: line, Err: ErrUnsupported} // units: the parser's
		}
		v, err := strconv.ParseUint(string(fields[1]), 10, 32)
		if err != nil {
			return &Error{Line: line, Err: err}
		}
		s.ttl, s.byTTL = uint32(v), true
		return nil
	default:
		return ErrUnsupported
	}
}

// viaParser parses one entry with dns.ZoneParser, given the origin, the
// last owner and the TTL in force, and passes on its record. The parser
// reads the file itself from the entry on, as a whole-file parse would
// at this point, and must stop within the entry: a record that reads on
// into the next line (one missing fields) is an error here, and the
// caller's whole-file parse has the last word.
func (s *scanner) viaParser(begin, end, line int, f func(*Record) error) error {
	delegated.Add(1)
	text := s.text[begin:end]
	indented := s.indented
	var prefix strings.Builder // the origin is the parser's own
	if s.byTTL {
		fmt.Fprintf(&prefix, "$TTL %d\n", s.ttl)
	}
	if indented {
		// A record with the owner before, so that the entry's blank
		// owner means it; it is left out below.
		owner, _, err := dns.UnpackDomainName(s.owner, 0)
		if err != nil {
			return &Error{Line: line, Err: err}
		}
		fmt.Fprintf(&prefix, "%s %d IN TXT \"\"\n", owner, s.ttl)
	}
	rest := &countingReader{r: bytes.NewReader(s.text[begin:])}
	zp := dns.NewZoneParser(io.MultiReader(strings.NewReader(prefix.String()), rest), s.origin, "")
	zp.SetDefaultTTL(s.ttl)
	rr, ok := zp.Next()
	if ok && indented {
		rr, ok = zp.Next()
	}
	if err := zp.Err(); err != nil {
		return &Error{Line: line, Err: err}
	}
	if !ok {
		return &Error{Line: line, Err: errors.New("no record in the entry")}
	}
	if end == len(s.text) {
		// The last entry: the parser's verdict on the end of the file
		// (an unclosed brace, say) is part of it.
		if _, more := zp.Next(); more || zp.Err() != nil {
			return &Error{Line: line, Err: fmt.Errorf("the end of the file: %v", zp.Err())}
		}
	}
	if rest.n > end-begin {
		return &Error{Line: line, Err: errors.New("the record reads on past its line")}
	}
	if !blank(s.text[begin+rest.n : end]) {
		return &Error{Line: line, Err: errors.New("the entry holds more than its record")}
	}
	hdr := rr.Header()
	if hdr.Class != dns.ClassINET {
		return &Error{Line: line, Err: fmt.Errorf("class %s", dns.ClassToString[hdr.Class])}
	}
	if s.packBuf == nil {
		s.packBuf = make([]byte, 0x10000+512) // the longest record and its owner
	}
	buf := s.packBuf
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return &Error{Line: line, Err: err}
	}
	nameEnd, err := wireNameEnd(buf)
	if err == nil && n <= nameEnd+10 {
		err = errors.New("a record without its data") // "A ()": the parser decides
	}
	if err != nil {
		return &Error{Line: line, Err: err}
	}
	s.owner, s.haveOwner = append(s.owner[:0], buf[:nameEnd]...), true
	if explicitTTL(string(text), indented) && !s.byTTL {
		s.ttl = hdr.Ttl
	}
	s.rr.Owner, s.rr.Type, s.rr.TTL, s.rr.RDATA, s.rr.Line = s.owner, hdr.Rrtype, hdr.Ttl, append(s.rr.RDATA[:0], buf[nameEnd+10:n]...), line
	return f(&s.rr)
}

// blank reports text with nothing but blanks, newlines and comments.
func blank(text []byte) bool {
	comment := false
	for _, c := range text {
		switch {
		case c == '\n':
			comment = false
		case comment, c == ' ', c == '\t', c == '\r':
		case c == ';':
			comment = true
		default:
			return false
		}
	}
	return true
}

// countingReader counts the bytes read through it, one at a time as the
// parser's lexer reads them.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// explicitTTL reports whether the entry gives its own TTL: a field before
// its type that is not a class.
func explicitTTL(text string, indented bool) bool {
	fields := strings.Fields(text)
	if !indented && len(fields) > 0 {
		fields = fields[1:]
	}
	for _, f := range fields {
		up := strings.ToUpper(f)
		if _, ok := dns.StringToType[up]; ok || strings.HasPrefix(up, "TYPE") {
			return false
		}
		if _, ok := dns.StringToClass[up]; ok || strings.HasPrefix(up, "CLASS") {
			continue
		}
		return true // before the type and not a class: a TTL ("60", "1h", "S")
	}
	return false
}

func wireNameEnd(msg []byte) (int, error) {
	off := 0
	for off < len(msg) {
		l := int(msg[off])
		if l == 0 {
			return off + 1, nil
		}
		off += 1 + l
	}
	return 0, errors.New("a name runs past its end")
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// name gives the wire form of an owner or RDATA name: "@" is the origin,
// a name without a final dot is relative to it. An error is what the
// fast path leaves to the parser (escapes, a label of a bad length).
func (s *scanner) name(field []byte) ([]byte, error) {
	return s.appendName(s.nameBuf[:0], field)
}

func (s *scanner) nameText(field []byte) (string, error) {
	if len(field) == 1 && field[0] == '@' {
		return s.origin, nil
	}
	name := string(field)
	if !strings.HasSuffix(name, ".") {
		name += "." + s.origin
		if s.origin == "." {
			name = string(field) + "."
		}
	}
	if _, err := packName(name); err != nil {
		return "", err
	}
	return name, nil
}

var errName = errors.New("not a plain name")

// packName gives the wire form of an absolute name (an origin).
func packName(name string) ([]byte, error) {
	if !strings.HasSuffix(name, ".") {
		return nil, errName
	}
	var none scanner
	return none.appendName(nil, []byte(name))
}

// fastType reads the types the fast path packs, in any case, without
// a map lookup.
func fastType(field []byte) (uint16, bool) {
	var up [5]byte
	if len(field) > len(up) {
		return 0, false
	}
	for i, c := range field {
		up[i] = c &^ 0x20
	}
	switch string(up[:len(field)]) {
	case "A":
		return dns.TypeA, true
	case "AAAA":
		return dns.TypeAAAA, true
	case "CNAME":
		return dns.TypeCNAME, true
	case "NS":
		return dns.TypeNS, true
	case "MX":
		return dns.TypeMX, true
	case "TXT":
		return dns.TypeTXT, true
	case "PTR":
		return dns.TypePTR, true
	case "SRV":
		return dns.TypeSRV, true
	}
	return 0, false
}

// pack gives the RDATA of the fast path's types, ok false for anything
// else or anything it does not take as it stands.
func (s *scanner) pack(typ uint16, fields [][]byte) ([]byte, bool) {
	b := s.rr.RDATA[:0]
	var err error
	switch typ {
	case dns.TypeA, dns.TypeAAAA:
		if len(fields) != 1 {
			return nil, false
		}
		a, perr := netip.ParseAddr(string(fields[0]))
		if perr != nil || a.Zone() != "" {
			return nil, false
		}
		if typ == dns.TypeA {
			if !a.Is4() {
				return nil, false
			}
			v := a.As4()
			b = append(b, v[:]...)
		} else {
			if !a.Is6() || a.Is4In6() {
				return nil, false // the parser's judgement, not ours
			}
			v := a.As16()
			b = append(b, v[:]...)
		}
	case dns.TypeCNAME, dns.TypeNS, dns.TypePTR:
		if len(fields) != 1 {
			return nil, false
		}
		if b, err = s.appendName(b, fields[0]); err != nil {
			return nil, false
		}
	case dns.TypeMX:
		if len(fields) != 2 || !isDigits(fields[0]) {
			return nil, false
		}
		pref, perr := strconv.ParseUint(string(fields[0]), 10, 16)
		if perr != nil {
			return nil, false
		}
		b = binary.BigEndian.AppendUint16(b, uint16(pref))
		if b, err = s.appendName(b, fields[1]); err != nil {
			return nil, false
		}
	case dns.TypeSRV:
		if len(fields) != 4 {
			return nil, false
		}
		for _, field := range fields[:3] {
			v, perr := strconv.ParseUint(string(field), 10, 16)
			if perr != nil || !isDigits(field) {
				return nil, false
			}
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		}
		if b, err = s.appendName(b, fields[3]); err != nil {
			return nil, false
		}
	case dns.TypeTXT:
		if len(fields) == 0 {
			return nil, false
		}
		for _, field := range fields {
			if len(field) < 2 || field[0] != '"' || field[len(field)-1] != '"' {
				return nil, false // unquoted: the parser's rules
			}
			str := field[1 : len(field)-1]
			if len(str) > 255 {
				return nil, false
			}
			b = append(b, byte(len(str)))
			b = append(b, str...)
		}
	default:
		return nil, false
	}
	s.rr.RDATA = b
	return b, true
}

func (s *scanner) appendName(b, field []byte) ([]byte, error) {
	if len(field) == 1 && field[0] == '@' {
		return append(b, s.originWire...), nil
	}
	if len(field) == 0 || len(field) > 254 || field[0] == '.' && len(field) > 1 {
		return nil, errName
	}
	start := len(b)
	label := len(b) // where the current label's length goes
	b = append(b, 0)
	for i, c := range field {
		switch {
		case c == '.':
			n := len(b) - label - 1
			if n == 0 && i != 0 || n > 63 {
				return nil, errName // an empty or long label
			}
			if i == 0 { // the root alone
				return append(b[:start], 0), nil
			}
			b[label] = byte(n)
			label = len(b)
			b = append(b, 0)
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*', c == '/':
			b = append(b, c)
		default:
			return nil, errName // escapes and the rest: the parser's
		}
	}
	if n := len(b) - label - 1; n > 0 {
		// No final dot: relative to the origin.
		if n > 63 {
			return nil, errName
		}
		b[label] = byte(n)
		b = append(b, s.originWire...)
	}
	if len(b)-start > 255 {
		return nil, errName
	}
	return b, nil
}
