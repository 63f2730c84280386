package config

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// tsigAlgorithms maps the algorithm names of tsig-keygen and BIND to the
// names miekg/dns uses.
var tsigAlgorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// keyToken is one word, quoted string or punctuation of a key file.
type keyToken struct {
	text   string
	quoted bool
	line   int
}

// parseKeys parses the text of a key file read from path (see LoadKeys
// for the format). Errors name the file and line; they never quote a
// secret.
func parseKeys(path, text string) (map[string]Key, error) {
	toks, err := tokenizeKeys(path, text)
	if err != nil {
		return nil, err
	}
	p := &keyParser{path: path, toks: toks}
	keys := map[string]Key{}
	lines := map[string]int{}
	for !p.done() {
		line, key, err := p.block()
		if err != nil {
			return nil, err
		}
		if prev, ok := lines[key.Name]; ok {
			return nil, fmt.Errorf("%s:%d: key %q is defined twice (first at line %d); keep one", path, line, key.Name, prev)
		}
		lines[key.Name] = line
		keys[key.Name] = key
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no key blocks; write one with: tsig-keygen -a hmac-sha256 xfr-key > %s", path, path)
	}
	return keys, nil
}

// tokenizeKeys splits a key file into tokens, dropping comments.
func tokenizeKeys(path, s string) ([]keyToken, error) {
	var toks []keyToken
	line := 1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			start := line
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: comment /* is never closed; add */", path, start)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, keyToken{text: string(c), line: line})
			i++
		case c == '"':
			end := strings.IndexAny(s[i+1:], "\"\n")
			if end < 0 || s[i+1+end] != '"' {
				return nil, fmt.Errorf("%s:%d: quoted string is not closed on its line; add the closing \"", path, line)
			}
			toks = append(toks, keyToken{text: s[i+1 : i+1+end], quoted: true, line: line})
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"#", rune(s[j])) && !strings.HasPrefix(s[j:], "//") && !strings.HasPrefix(s[j:], "/*") {
				j++
			}
			toks = append(toks, keyToken{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

type keyParser struct {
	path string
	toks []keyToken
	pos  int
}

func (p *keyParser) done() bool { return p.pos >= len(p.toks) }

// lastLine is the line of the previous token, for errors at the end.
func (p *keyParser) lastLine() int {
	if len(p.toks) == 0 {
		return 1
	}
	return p.toks[min(p.pos, len(p.toks))-1].line
}

func (p *keyParser) next(what string) (keyToken, error) {
	if p.done() {
		return keyToken{}, fmt.Errorf("%s:%d: the file ends where %s should come", p.path, p.lastLine(), what)
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *keyParser) expect(punct string) error {
	t, err := p.next(fmt.Sprintf("%q", punct))
	if err != nil {
		return err
	}
	if t.quoted || t.text != punct {
		return fmt.Errorf("%s:%d: got %q, want %q", p.path, t.line, t.text, punct)
	}
	return nil
}

// block parses `key "name" { algorithm X; secret "Y"; };`.
func (p *keyParser) block() (int, Key, error) {
	kw, _ := p.next("key")
	if kw.quoted || kw.text != "key" {
		return 0, Key{}, fmt.Errorf("%s:%d: got %q, want a key block: key \"name\" { algorithm hmac-sha256; secret \"...\"; };", p.path, kw.line, kw.text)
	}
	nameTok, err := p.next("the key name")
	if err != nil {
		return 0, Key{}, err
	}
	name := strings.ToLower(dns.Fqdn(nameTok.text))
	if _, ok := dns.IsDomainName(name); !ok || nameTok.text == "" || strings.ContainsAny(nameTok.text, "{};") {
		return 0, Key{}, fmt.Errorf("%s:%d: key name %q is not a domain name; write key \"xfr-key\" { ... };", p.path, nameTok.line, nameTok.text)
	}
	if err := p.expect("{"); err != nil {
		return 0, Key{}, err
	}
	key := Key{Name: name}
	where := fmt.Sprintf("key %q", nameTok.text)
	for {
		t, err := p.next("\"}\"")
		if err != nil {
			return 0, Key{}, err
		}
		if !t.quoted && t.text == "}" {
			break
		}
		val, err := p.next("a value of " + t.text)
		if err != nil {
			return 0, Key{}, err
		}
		switch strings.ToLower(t.text) {
		case "algorithm":
			alg, ok := tsigAlgorithms[strings.ToLower(strings.TrimSuffix(val.text, "."))]
			if !ok {
				return 0, Key{}, fmt.Errorf("%s:%d: %s: algorithm %q is not supported; use hmac-sha256 (or hmac-sha1, hmac-sha224, hmac-sha384, hmac-sha512)", p.path, val.line, where, val.text)
			}
			key.Algorithm = alg
		case "secret":
			// The secret is never quoted back, not even in part.
			if _, err := base64.StdEncoding.DecodeString(val.text); err != nil || val.text == "" {
				return 0, Key{}, fmt.Errorf("%s:%d: %s: the secret is not valid base64; paste it again as tsig-keygen printed it", p.path, val.line, where)
			}
			key.Secret = val.text
		default:
			return 0, Key{}, fmt.Errorf("%s:%d: %s: unknown statement %q; a key block holds algorithm and secret", p.path, t.line, where, t.text)
		}
		if err := p.expect(";"); err != nil {
			return 0, Key{}, err
		}
	}
	if err := p.expect(";"); err != nil {
		return 0, Key{}, err
	}
	switch {
	case key.Algorithm == "":
		return 0, Key{}, fmt.Errorf("%s:%d: %s has no algorithm; add algorithm hmac-sha256;", p.path, nameTok.line, where)
	case key.Secret == "":
		return 0, Key{}, fmt.Errorf("%s:%d: %s has no secret; add secret \"...\"; as tsig-keygen writes it", p.path, nameTok.line, where)
	}
	return nameTok.line, key, nil
}
