package roster

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"
)

// xmlScanner is a minimal streaming XML tokenizer for the parts of a workbook
// that can be large (worksheets, shared strings). It reports start tags (with
// their raw attributes), end tags and character data with entities decoded,
// and skips comments, processing instructions and declarations. Element
// names are reported without their namespace prefix. It is several times
// faster than encoding/xml because it allocates nothing per token; the bytes
// it returns are valid until the next call.
type xmlScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	err      error

	kind    xmlTok
	self    bool   // the start tag is self-closing (<c/>)
	name    []byte // the element's local name
	attrs   []byte // a start tag's attributes, raw
	text    []byte // character data, decoded
	textBuf []byte
}

type xmlTok uint8

const (
	tokStart xmlTok = iota + 1
	tokEnd
	tokText
)

// maxXMLBuffer bounds one tag, comment or CDATA section, and one run of
// character data.
const maxXMLBuffer = 32 << 20

var (
	errXMLTooLarge = errors.New("an XML element is too large")
	errXMLSyntax   = errors.New("malformed XML")
)

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, 64<<10)}
}

// fill reads more input, keeping buf[pos:end]. It returns false at the end
// of the input or on an error (in s.err).
func (s *xmlScanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxXMLBuffer {
			s.err = errXMLTooLarge
			return false
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.eof = true
			} else {
				s.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// next advances to the next token. It returns false at the end of the input
// or on an error, which err reports.
func (s *xmlScanner) next() bool {
	for {
		if s.pos >= s.end && !s.fill() {
			return false
		}
		if s.buf[s.pos] != '<' {
			return s.scanText()
		}
		// Make sure the tag's first bytes are in the buffer.
		for s.end-s.pos < 9 && s.fill() {
		}
		b := s.buf[s.pos:s.end]
		switch {
		case bytes.HasPrefix(b, []byte("<!--")):
			if !s.skipPast(4, "-->") {
				return false
			}
		case bytes.HasPrefix(b, []byte("<![CDATA[")):
			i, ok := s.find(9, "]]>")
			if !ok {
				return false
			}
			s.textBuf = append(s.textBuf[:0], s.buf[s.pos+9:s.pos+i]...)
			s.pos += i + 3
			s.kind, s.text = tokText, s.textBuf
			return true
		case bytes.HasPrefix(b, []byte("<?")):
			if !s.skipPast(2, "?>") {
				return false
			}
		case bytes.HasPrefix(b, []byte("<!")):
			if !s.skipPast(2, ">") {
				return false
			}
		case bytes.HasPrefix(b, []byte("</")):
			i, ok := s.find(2, ">")
			if !ok {
				return false
			}
			s.kind = tokEnd
			s.name = localName(bytes.TrimSpace(s.buf[s.pos+2 : s.pos+i]))
			s.pos += i + 1
			return true
		default:
			return s.scanStart()
		}
	}
}

// scanText reads character data up to the next '<'.
func (s *xmlScanner) scanText() bool {
	s.textBuf = s.textBuf[:0]
	for {
		b := s.buf[s.pos:s.end]
		if i := bytes.IndexByte(b, '<'); i >= 0 {
			s.textBuf = append(s.textBuf, b[:i]...)
			s.pos += i
			break
		}
		s.textBuf = append(s.textBuf, b...)
		s.pos = s.end
		if len(s.textBuf) > maxXMLBuffer {
			s.err = errXMLTooLarge
			return false
		}
		if !s.fill() {
			if s.err != nil {
				return false
			}
			break
		}
	}
	s.kind, s.text = tokText, decodeEntities(s.textBuf)
	return true
}

// scanStart reads a start tag, finding its '>' outside quoted attribute
// values.
func (s *xmlScanner) scanStart() bool {
	i, quote := 1, byte(0)
	for {
		for ; s.pos+i < s.end; i++ {
			c := s.buf[s.pos+i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				goto found
			}
		}
		if !s.fill() {
			if s.err == nil {
				s.err = errXMLSyntax
			}
			return false
		}
	}
found:
	tag := s.buf[s.pos+1 : s.pos+i]
	s.pos += i + 1
	s.self = len(tag) > 0 && tag[len(tag)-1] == '/'
	if s.self {
		tag = tag[:len(tag)-1]
	}
	n := 0
	for n < len(tag) && !isXMLSpace(tag[n]) {
		n++
	}
	if n == 0 {
		s.err = errXMLSyntax
		return false
	}
	s.kind, s.name, s.attrs = tokStart, localName(tag[:n]), tag[n:]
	return true
}

// find returns the offset from pos of delim, searching from pos+from and
// reading more input as needed.
func (s *xmlScanner) find(from int, delim string) (int, bool) {
	for {
		if from <= s.end-s.pos {
			if i := bytes.Index(s.buf[s.pos+from:s.end], []byte(delim)); i >= 0 {
				return from + i, true
			}
			from = max(from, s.end-s.pos-len(delim)+1)
		}
		if !s.fill() {
			if s.err == nil {
				s.err = errXMLSyntax
			}
			return 0, false
		}
	}
}

func (s *xmlScanner) skipPast(from int, delim string) bool {
	i, ok := s.find(from, delim)
	if ok {
		s.pos += i + len(delim)
	}
	return ok
}

// skipElement skips the content of the start tag just read, up to and
// including its end tag.
func (s *xmlScanner) skipElement() bool {
	if s.self {
		return true
	}
	depth := 1
	for s.next() {
		switch s.kind {
		case tokStart:
			if !s.self {
				depth++
			}
		case tokEnd:
			if depth--; depth == 0 {
				return true
			}
		}
	}
	return false
}

// error returns what stopped the scanner: nil at a clean end of input.
func (s *xmlScanner) error() error { return s.err }

// attr returns the value of the start tag's attribute with the given local
// name (entities not decoded).
func (s *xmlScanner) attr(name string) ([]byte, bool) {
	a := s.attrs
	for {
		key, val, rest, ok := nextAttr(a)
		if !ok {
			return nil, false
		}
		if string(key) == name {
			return val, true
		}
		a = rest
	}
}

// eachAttr calls f with each attribute of the start tag, in order, until
// f returns false or an attribute cannot be read.
func (s *xmlScanner) eachAttr(f func(key, val []byte) bool) {
	a := s.attrs
	for {
		key, val, rest, ok := nextAttr(a)
		if !ok || !f(key, val) {
			return
		}
		a = rest
	}
}

// nextAttr reads the attribute a starts with: its local name, its value
// and what follows it.
func nextAttr(a []byte) (key, val, rest []byte, ok bool) {
	i := 0
	for i < len(a) && isXMLSpace(a[i]) {
		i++
	}
	a = a[i:]
	eq := bytes.IndexByte(a, '=')
	if eq <= 0 {
		return nil, nil, nil, false
	}
	key = localName(bytes.TrimSpace(a[:eq]))
	a = a[eq+1:]
	i = 0
	for i < len(a) && isXMLSpace(a[i]) {
		i++
	}
	a = a[i:]
	if len(a) == 0 || (a[0] != '"' && a[0] != '\'') {
		return nil, nil, nil, false
	}
	end := bytes.IndexByte(a[1:], a[0])
	if end < 0 {
		return nil, nil, nil, false
	}
	return key, a[1 : 1+end], a[end+2:], true
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// localName strips a namespace prefix.
func localName(b []byte) []byte {
	if i := bytes.LastIndexByte(b, ':'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// decodeEntities replaces XML's character and predefined entity references
// in b, in place. Unknown references are kept as written.
func decodeEntities(b []byte) []byte {
	i := bytes.IndexByte(b, '&')
	if i < 0 {
		return b
	}
	w := i
	for r := i; r < len(b); {
		c := b[r]
		if c != '&' {
			b[w] = c
			w++
			r++
			continue
		}
		semi := bytes.IndexByte(b[r:min(len(b), r+12)], ';')
		rep := rune(-1)
		if semi > 1 {
			rep = entityRune(b[r+1 : r+semi])
		}
		if rep < 0 {
			b[w] = c
			w++
			r++
			continue
		}
		w += utf8.EncodeRune(b[w:], rep)
		r += semi + 1
	}
	return b[:w]
}

func entityRune(e []byte) rune {
	switch string(e) {
	case "lt":
		return '<'
	case "gt":
		return '>'
	case "amp":
		return '&'
	case "quot":
		return '"'
	case "apos":
		return '\''
	}
	if e[0] != '#' || len(e) < 2 {
		return -1
	}
	base, digits := 10, e[1:]
	if digits[0] == 'x' || digits[0] == 'X' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 {
		return -1
	}
	var n rune
	for _, d := range digits {
		var v rune
		switch {
		case d >= '0' && d <= '9':
			v = rune(d - '0')
		case base == 16 && d >= 'a' && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && d >= 'A' && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return -1
		}
		n = n*rune(base) + v
		if n > utf8.MaxRune {
			return -1
		}
	}
	if !utf8.ValidRune(n) || n == 0 {
		return -1
	}
	return n
}
