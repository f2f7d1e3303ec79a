package roster

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// A copy of a large sheet (the report's) mostly writes back what it read:
// most rows keep every cell's value, type and style. For such rows the raw
// reader can give the row's cells as worksheet XML in the one form a copy
// writes (see CopyOptions) instead of as cells, checking the bytes of a
// plain-form row as it scans them rather than decoding and storing every
// value for the copy to encode again.

// CopyOptions say which rows RawSheet.Next may give as XML (RawRow.XML)
// instead of as cells.
type CopyOptions struct {
	// Rows reports whether row may be given as XML.
	Rows func(row int) bool
	// Styles bounds the style ids a row given as XML may use: ids from it
	// on keep the row's cells.
	Styles int
	// Columns bounds the columns (0-based) a row given as XML may have
	// cells in.
	Columns int
}

// CopyPlain lets Next give rows as XML, from the next row on.
func (s *RawSheet) CopyPlain(opt CopyOptions) { s.x.raw.copy = &opt }

// maxCopyText is the longest text a row given as XML may hold in a cell:
// one a copy never cuts.
const maxCopyText = 32767

// copyCells writes the cells of a row in the plain form to the raw row as
// XML in the form a copy writes them, and returns the length of the row's
// content and end tag; 0 when b does not hold the whole row, or the row is
// not in that form. The form, cell by cell:
//
//	<c r="B7" s="3" t="inlineStr"><is><t>text</t></is></c>
//	<c s="2"><v>46398.25</v></c>
//	<c s="4"/>
//
// with r only when the cell is not right after the row's previous one, s
// only when not 0 and t only for text. Text holds no character a copy
// would escape or replace (no &, no >, no control character but tab and
// newline, no _xHHHH_, valid UTF-8 without U+FFFE or U+FFFF), no leading or
// trailing space and no more than maxCopyText bytes; a number is digits
// with an optional sign, fraction and two-digit exponent, at most 40
// bytes. Columns rise, each below Columns; a cell with no style and no
// value is left out, as the raw reader leaves it.
func (x *xlsxReader) copyCells(row []byte) int {
	r, opt := x.raw.row, x.raw.copy
	out := r.buf[:0]
	// The row's bytes are copied in spans, less what the form leaves out
	// or writes otherwise: from is the start of the span not yet copied.
	from, at := 0, 0
	col, last := -1, -1
	values := false
	for {
		b := row[at:]
		if len(b) < 6 || b[0] != '<' {
			return 0
		}
		if b[1] == '/' {
			if string(b[:6]) != "</row>" {
				return 0
			}
			r.buf, r.xml, r.XMLLast, r.XMLValues = append(out, row[from:at]...), true, last, values
			return at + 6
		}
		if b[1] != 'c' {
			return 0
		}
		start := at
		at += 2
		col++
		refAt, refEnd := at, at // the r attribute, if any
		if prefix(row[at:], ` r="`) {
			v := quoted(row[at+4:])
			if v < 0 {
				return 0
			}
			c, ok := refColumn(row[at+4 : at+4+v])
			if !ok || c < col {
				return 0
			}
			col, refEnd = c, at+5+v
			at = refEnd
		}
		if col >= opt.Columns {
			return 0
		}
		styleAt, style := at, -1 // style: -1 for none
		if prefix(row[at:], ` s="`) {
			v := quoted(row[at+4:])
			if v < 0 {
				return 0
			}
			n, ok := plainUint(row[at+4 : at+4+v])
			if !ok || n >= opt.Styles || v > 1 && row[at+4] == '0' {
				return 0
			}
			style, at = n, at+5+v
		}
		text := prefix(row[at:], ` t="inlineStr"`)
		if text {
			at += len(` t="inlineStr"`)
		}
		b = row[at:]
		switch {
		case prefix(b, "/>"):
			if text {
				return 0
			}
			at += 2
			if style <= 0 {
				// No style, no value: no cell.
				out = append(out, row[from:start]...)
				from = at
				continue
			}
		case text && prefix(b, "><is><t>"):
			n, value := copyText(b[8:])
			if n < 0 || !prefix(b[8+n:], "</t></is></c>") {
				return 0
			}
			values = values || value
			at += 8 + n + len("</t></is></c>")
		case !text && prefix(b, "><v>"):
			n := copyNumber(b[4:])
			if n <= 0 || !prefix(b[4+n:], "</v></c>") {
				return 0
			}
			values = true
			at += 4 + n + len("</v></c>")
		default:
			return 0
		}
		// The reference: none right after the previous cell, else as the
		// form writes it.
		if col == last+1 {
			out = append(out, row[from:refAt]...)
			from = refEnd
		} else if refEnd == refAt || !canonicalRef(row[refAt+4:refEnd-1], x.row) {
			var ref [16]byte
			want := strconv.AppendInt(appendColumnName(append(ref[:0], ` r="`...), col), int64(x.row), 10)
			want = append(want, '"')
			out = append(append(out, row[from:refAt]...), want...)
			from = refEnd
		}
		if style == 0 { // s="0" is left out
			out = append(out, row[from:styleAt]...)
			from = styleAt + len(` s="0"`)
		}
		last = col
	}
}

// canonicalRef reports whether ref, a reference refColumn reads, is in
// the form the copy writes it for a cell of row: capital letters, then
// the row's number without leading zeros.
func canonicalRef(ref []byte, row int) bool {
	i := 0
	for i < len(ref) && 'A' <= ref[i] && ref[i] <= 'Z' {
		i++
	}
	if i == 0 || i == len(ref) || ref[i] == '0' || len(ref)-i > 7 {
		return false
	}
	n := 0
	for _, c := range ref[i:] {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n == row
}

// prefix reports whether b starts with s; with s a constant, the compiler
// compares a word or two.
func prefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// quoted is the length of an attribute's value up to its closing quote,
// -1 when b has none.
func quoted(b []byte) int {
	for i, c := range b {
		if c == '"' {
			return i
		}
	}
	return -1
}

// copyText returns the length of the text that starts b, up to the next
// '<', and whether it holds a value (is not empty); -1 when the text is
// not written back as it is (see copyCells).
func copyText(b []byte) (n int, value bool) {
	i := PlainTextPrefix(b)
	wide := false
	for ; ; i++ {
		if i == len(b) {
			return -1, false
		}
		c := b[i]
		if c == '<' {
			break
		}
		switch {
		case c >= 0x80:
			wide = true
		case c < 0x20 && c != '\t' && c != '\n', c == '&', c == '>':
			return -1, false
		case c == '_' && IsOOXMLEscape(b[i:]):
			return -1, false
		}
	}
	t := b[:i]
	if len(t) > maxCopyText || len(t) > 0 && (isASCIISpace(t[0]) || isASCIISpace(t[len(t)-1])) {
		return -1, false
	}
	// Text of spaces alone (no-break spaces too) is a blank cell.
	if wide && (!utf8.Valid(t) || bytes.Contains(t, []byte("\uFFFE")) || bytes.Contains(t, []byte("\uFFFF")) ||
		len(bytes.TrimSpace(t)) == 0) {
		return -1, false
	}
	return i, len(t) > 0
}

// PlainTextPrefix is the length of the start of b, in whole words of
// eight bytes, that XML text carries as it is: ASCII but control
// characters, &, <, > and _. It looks at eight bytes at a time.
func PlainTextPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if w&msbs != 0 || ctlBytes(w)|hasByte(w, '<')|hasByte(w, '&')|hasByte(w, '>')|hasByte(w, '_') != 0 {
			break
		}
	}
	return i
}

// hasByte is not zero when a byte of w, a word of ASCII bytes, is c.
func hasByte(w uint64, c byte) uint64 {
	x := w ^ uint64(c)*lsbs
	return (x - lsbs) &^ x & msbs
}

func isASCIISpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// IsOOXMLEscape reports whether b, which starts with an underscore,
// starts with _xHHHH_, the escape a workbook's text uses for characters
// XML cannot carry.
func IsOOXMLEscape(b []byte) bool {
	if len(b) < 7 || b[1] != 'x' && b[1] != 'X' || b[6] != '_' {
		return false
	}
	for _, c := range b[2:6] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// copyNumber returns the length of the number that starts b, in the form
// copyCells takes: -?D+(.D+)?([eE][+-]?D{1,2})?, at most 40 bytes; 0 when
// b does not start with one.
func copyNumber(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if n := digits(); n == 0 || n > 2 {
			return 0
		}
	}
	if i > 40 {
		return 0
	}
	return i
}

// appendColumnName appends a column's letters.
func appendColumnName(b []byte, index int) []byte {
	var s [8]byte
	i := len(s)
	for n := index + 1; n > 0; n = (n - 1) / 26 {
		i--
		s[i] = byte('A' + (n-1)%26)
	}
	return append(b, s[i:]...)
}
