package report

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// rowSource yields a roster sheet's rows as stored.
type rowSource interface {
	name() string
	// next fills r with the next row; io.EOF after the last. r is valid
	// until the next call.
	next(r *roster.RawRow) error
	// columns are the sheet's column ranges (complete after the first row).
	columns() []roster.RawColumn
	close() error
}

type xlsxRows struct{ s *roster.RawSheet }

func (x xlsxRows) name() string                { return x.s.Name() }
func (x xlsxRows) next(r *roster.RawRow) error { return x.s.Next(r) }
func (x xlsxRows) columns() []roster.RawColumn { return x.s.Columns() }
func (x xlsxRows) close() error                { return x.s.Close() }
func cloneRow(r *roster.RawRow) *roster.RawRow {
	c := &roster.RawRow{Row: r.Row, Height: r.Height, Hidden: r.Hidden, Style: r.Style, Cells: slices.Clone(r.Cells),
		XML: bytes.Clone(r.XML), XMLLast: r.XMLLast, XMLValues: r.XMLValues}
	for i := range c.Cells {
		c.Cells[i].Value = bytes.Clone(c.Cells[i].Value)
	}
	return c
}

// xmlOut is the XML of a part being written: bytes are appended to buf and
// handed on in chunks (see chunker), so that encoding and compressing run
// side by side.
type xmlOut struct {
	prev  int // the column of the row's last cell, -1 at a row's start
	buf   []byte
	flush func([]byte) []byte // hands a full buffer on, returns an empty one
}

const chunkSize = 256 << 10

func (o *xmlOut) s(s string) { o.buf = append(o.buf, s...) }
func (o *xmlOut) b(b []byte) { o.buf = append(o.buf, b...) }
func (o *xmlOut) n(n int)    { o.buf = strconv.AppendInt(o.buf, int64(n), 10) }
func (o *xmlOut) f(f float64) {
	o.buf = strconv.AppendFloat(o.buf, f, 'f', -1, 64)
}

// maybeFlush hands the buffer on once it is full enough.
func (o *xmlOut) maybeFlush() {
	if len(o.buf) >= chunkSize {
		o.buf = o.flush(o.buf)
	}
}

// textStats counts what cell text had to lose to fit in a workbook.
type textStats struct {
	replaced  int // cells with characters XML cannot carry
	truncated int // cells longer than Excel's 32,767 characters
}

// text appends s escaped for XML character data. Characters XML 1.0 cannot
// carry (control characters, invalid UTF-8, U+FFFE/U+FFFF) become U+FFFD,
// visibly; a literal _xHHHH_ gets its underscore escaped so that Excel
// does not decode it; text past Excel's cell limit is cut.
func (o *xmlOut) text(s []byte, st *textStats) {
	clean := true
	for _, c := range s[roster.PlainTextPrefix(s):] {
		if c < 0x20 && c != '\t' && c != '\n' || c == '&' || c == '<' || c == '>' || c >= 0x80 || c == '_' {
			clean = false
			break
		}
	}
	if clean && len(s) <= maxCellChars {
		o.buf = append(o.buf, s...)
		return
	}
	bad, chars := false, 0
	for i := 0; i < len(s); {
		if chars == maxCellChars {
			st.truncated++
			break
		}
		chars++
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '&':
				o.s("&amp;")
			case c == '<':
				o.s("&lt;")
			case c == '>':
				o.s("&gt;")
			case c == '\r':
				o.s("&#13;") // as a character, XML would read it as \n
			case c < 0x20 && c != '\t' && c != '\n':
				o.s("\uFFFD")
				bad = true
			case c == '_' && roster.IsOOXMLEscape(s[i:]):
				o.s("_x005F_")
			default:
				o.buf = append(o.buf, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 || r == 0xFFFE || r == 0xFFFF {
			o.s("\uFFFD")
			bad = true
		} else {
			o.b(s[i : i+n])
		}
		i += n
	}
	if bad {
		st.replaced++
	}
}

// needsPreserve reports whether text must keep its spaces.
func needsPreserve(s []byte) bool {
	return len(s) > 0 && (isSpace(s[0]) || isSpace(s[len(s)-1]))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isNumber reports whether b is a number as a worksheet stores it.
func isNumber(b []byte) bool {
	if len(b) == 0 || len(b) > 40 {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'E' || c == 'e') {
			return false
		}
	}
	_, err := strconv.ParseFloat(string(b), 64)
	return err == nil
}

// cellRef appends a cell reference.
func (o *xmlOut) ref(cols []string, col, row int) {
	o.s(cols[col])
	o.n(row)
}

// rowStart writes a row's start tag up to its attributes.
func (o *xmlOut) rowStart(row int) {
	o.s(`<row r="`)
	o.n(row)
	o.s(`"`)
	o.prev = -1
}

// cellStart writes <c r=".." s=".." and a type attribute. A cell right
// after the row's previous one has no reference: it is the next column,
// as readers take it (it makes a large report a tenth smaller).
func (o *xmlOut) cellStart(cols []string, col, row, style int, typ string) {
	if col == o.prev+1 {
		o.s(`<c`)
	} else {
		o.s(`<c r="`)
		o.ref(cols, col, row)
		o.s(`"`)
	}
	o.prev = col
	if style != 0 {
		o.s(` s="`)
		o.n(style)
		o.s(`"`)
	}
	if typ != "" {
		o.s(` t="`)
		o.s(typ)
		o.s(`"`)
	}
}

// textCell writes an inline string cell.
func (o *xmlOut) textCell(cols []string, col, row, style int, v []byte, st *textStats) {
	if col == o.prev+1 && style == 0 && !needsPreserve(v) {
		// The common cell of a CSV's copy, in one piece.
		o.prev = col
		o.buf = append(o.buf, `<c t="inlineStr"><is><t>`...)
		o.text(v, st)
		o.buf = append(o.buf, `</t></is></c>`...)
		return
	}
	o.cellStart(cols, col, row, style, "inlineStr")
	if needsPreserve(v) {
		o.s(`><is><t xml:space="preserve">`)
	} else {
		o.s(`><is><t>`)
	}
	o.text(v, st)
	o.s(`</t></is></c>`)
}

// numberCell writes a number cell.
func (o *xmlOut) numberCell(cols []string, col, row, style int, v []byte) {
	o.cellStart(cols, col, row, style, "")
	o.s(`><v>`)
	o.b(v)
	o.s(`</v></c>`)
}

// rawCell writes a source cell as a value (never a formula).
func (o *xmlOut) rawCell(cols []string, row, style int, c *roster.RawCell, st *textStats) {
	switch {
	case len(c.Value) == 0 && c.Kind != roster.RawText:
		o.cellStart(cols, c.Col, row, style, "")
		o.s(`/>`)
	case c.Kind == roster.RawNumber && isNumber(c.Value):
		o.numberCell(cols, c.Col, row, style, c.Value)
	case c.Kind == roster.RawBool && (string(c.Value) == "0" || string(c.Value) == "1"):
		o.cellStart(cols, c.Col, row, style, "b")
		o.s(`><v>`)
		o.b(c.Value)
		o.s(`</v></c>`)
	case c.Kind == roster.RawError:
		o.cellStart(cols, c.Col, row, style, "e")
		o.s(`><v>`)
		o.text(c.Value, st)
		o.s(`</v></c>`)
	default:
		o.textCell(cols, c.Col, row, style, c.Value, st)
	}
}

var (
	columnsOnce sync.Once
	columnsAll  []string
)

// allColumns are the letters of every column of a sheet.
func allColumns() []string {
	columnsOnce.Do(func() { columnsAll = columnNames(maxSheetColumns) })
	return columnsAll
}

// columnNames caches column letters up to n columns.
func columnNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = roster.ColumnName(i)
	}
	return out
}

// blankRow reports whether a row holds no value but spaces, as the roster
// reader sees it: such a row is no visitor.
func blankRow(cells []roster.RawCell, skip func(col int) bool) bool {
	for i := range cells {
		if skip(cells[i].Col) {
			continue
		}
		if len(bytes.TrimSpace(cells[i].Value)) > 0 {
			return false
		}
	}
	return true
}

func ifNonEmpty(s []string, v string) string {
	if len(s) == 0 {
		return ""
	}
	return v
}

// prefetch reads a source's rows on another goroutine, in batches, so that
// reading the roster (inflating and scanning its XML) runs beside encoding
// the report's XML, while a third goroutine compresses it.
type prefetch struct {
	src  rowSource
	full chan *rowBatch
	free chan *rowBatch
	stop chan struct{}
	done chan struct{}
	cur  *rowBatch
	at   int
}

type rowBatch struct {
	rows []roster.RawRow
	n    int
	err  error // what ended the batch early (io.EOF after the last row)
}

const (
	prefetchRows    = 256
	prefetchBatches = 8
)

func newPrefetch(src rowSource) *prefetch {
	p := &prefetch{src: src, full: make(chan *rowBatch, prefetchBatches), free: make(chan *rowBatch, prefetchBatches+2),
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *prefetch) run() {
	defer close(p.done)
	defer close(p.full)
	for {
		var b *rowBatch
		select {
		case b = <-p.free:
		default:
			b = &rowBatch{rows: make([]roster.RawRow, prefetchRows)}
		}
		b.n, b.err = 0, nil
		for b.n < len(b.rows) {
			if err := p.src.next(&b.rows[b.n]); err != nil {
				b.err = err
				break
			}
			b.n++
		}
		select {
		case p.full <- b:
		case <-p.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

func (p *prefetch) name() string { return p.src.name() }

// columns are complete once the first batch is in: the source reads them
// before its first row.
func (p *prefetch) columns() []roster.RawColumn { return p.src.columns() }

// next gives the next row; r shares its cells with the batch, valid until
// the next call.
func (p *prefetch) next(r *roster.RawRow) error {
	for p.cur == nil || p.at == p.cur.n {
		if p.cur != nil {
			if p.cur.err != nil {
				return p.cur.err
			}
			p.free <- p.cur
		}
		b, ok := <-p.full
		if !ok {
			return io.ErrUnexpectedEOF
		}
		p.cur, p.at = b, 0
	}
	*r = p.cur.rows[p.at]
	p.at++
	return nil
}

func (p *prefetch) close() error {
	close(p.stop)
	for range p.full { // let the reader finish its batch
	}
	<-p.done
	return p.src.close()
}
