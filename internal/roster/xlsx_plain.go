package roster

import (
	"bytes"
	"sync/atomic"
)

// Most rows of a large worksheet are written by a program in one plain
// form: cells one after the other, each <c r=".." s=".." t=".."> holding
// <v>value</v> or <is><t>text</t></is>, with nothing between the elements.
// plainRow reads such a row with a handful of comparisons per cell instead
// of one token at a time. It stores each cell through the same code as the
// token loop (store), so what it reads is what readRow would; a row in any
// other form (whitespace between elements, formulas, rich text, other
// attributes, anything unexpected or damaged) is left to readRow.

// tokensOnly turns the plain form's reading off; tests turn it on to
// compare, while other readers may be reading.
var tokensOnly atomic.Bool

// maxPlainRow bounds the bytes of a row plainRow looks at; a longer row is
// read token by token.
const maxPlainRow = 1 << 20

// plainRow reads the row whose start tag was just read, when it is in the
// plain form, and reports whether it did. When it reports false nothing
// has been consumed and the row's cells are as they were.
func (x *xlsxReader) plainRow() bool {
	sc := x.sc
	nCells := len(x.cells)
	var nRaw, nBuf int
	if x.raw != nil {
		nRaw, nBuf = len(x.raw.row.Cells), len(x.raw.row.buf)
	}
	asXML := x.raw != nil && x.raw.copy != nil && x.raw.copy.Rows(x.row)
	for {
		if asXML {
			if n := x.copyCells(sc.buf[sc.pos:sc.end]); n > 0 {
				sc.pos += n
				return true
			}
			x.raw.row.buf = x.raw.row.buf[:nBuf]
		}
		if n := x.plainCells(sc.buf[sc.pos:sc.end]); n > 0 {
			sc.pos += n
			return true
		}
		x.cells = x.cells[:nCells]
		if x.raw != nil {
			x.raw.row.Cells, x.raw.row.buf = x.raw.row.Cells[:nRaw], x.raw.row.buf[:nBuf]
		}
		// Not plain, or not all in the buffer yet: read more, unless the
		// row's end is there already.
		if bytes.Contains(sc.buf[sc.pos:sc.end], []byte("</row>")) || sc.end-sc.pos >= maxPlainRow || !sc.fill() {
			return false
		}
	}
}

// plainCells reads the cells of a row from b, which starts right after
// the row's start tag, and returns the length of the row's content and end
// tag; 0 when b does not hold the whole row in the plain form.
func (x *xlsxReader) plainCells(row []byte) int {
	b := row
	col := -1
	for {
		if len(b) < 6 {
			return 0
		}
		if b[0] != '<' {
			return 0
		}
		if b[1] == '/' {
			if string(b[:6]) != "</row>" {
				return 0
			}
			return len(row) - len(b) + 6
		}
		if b[1] != 'c' {
			return 0
		}
		b = b[2:]
		col++
		style, typ := 0, cellNumber
		// Attributes: r, s and t, each at most once, double-quoted.
		var seen [3]bool
		for len(b) > 0 && b[0] == ' ' {
			if len(b) < 5 || b[2] != '=' || b[3] != '"' {
				return 0
			}
			name := b[1]
			end := bytes.IndexByte(b[4:], '"')
			if end < 0 {
				return 0
			}
			v := b[4 : 4+end]
			b = b[5+end:]
			// Each attribute at most once.
			k := bytes.IndexByte([]byte("rst"), name)
			if k < 0 || seen[k] {
				return 0
			}
			seen[k] = true
			var ok bool
			switch name {
			case 'r':
				col, ok = refColumn(v)
			case 's':
				style, ok = plainUint(v)
			default:
				typ, ok = cellType(v)
			}
			if !ok {
				return 0
			}
		}
		if col >= maxColumns || len(b) == 0 {
			return 0
		}
		if b[0] == '/' {
			if len(b) < 2 || b[1] != '>' {
				return 0
			}
			b = b[2:]
			if x.raw != nil && style != 0 {
				x.val = x.val[:0]
				if x.storeRaw(col, style, typ) != nil {
					return 0
				}
			}
			continue
		}
		if b[0] != '>' {
			return 0
		}
		b = b[1:]
		var open, close string
		switch {
		case bytes.HasPrefix(b, []byte("</c>")):
			open, close = "", ""
		case typ == cellInline:
			open, close = "<is><t>", "</t></is></c>"
			if bytes.HasPrefix(b, []byte(`<is><t xml:space="preserve">`)) {
				open = `<is><t xml:space="preserve">`
			}
		default:
			open, close = "<v>", "</v></c>"
		}
		if open == "" {
			x.val = x.val[:0]
			b = b[len("</c>"):]
		} else {
			if !bytes.HasPrefix(b, []byte(open)) {
				return 0
			}
			b = b[len(open):]
			end, amp := 0, false
			for end < len(b) && b[end] != '<' {
				amp = amp || b[end] == '&'
				end++
			}
			if !bytes.HasPrefix(b[end:], []byte(close)) {
				return 0
			}
			x.val = append(x.val[:0], b[:end]...)
			if amp {
				x.val = decodeEntities(x.val)
			}
			b = b[end+len(close):]
		}
		if x.store(col, style, typ) != nil {
			return 0
		}
	}
}

// plainUint reads a style id as readRow takes it.
func plainUint(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
