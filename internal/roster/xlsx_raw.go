package roster

import (
	"archive/zip"
	"os"
	"strconv"
	"strings"
)

// RawSheet streams one worksheet of an .xlsx as stored, for copying it:
// every cell with its style id and type, text neither trimmed nor
// converted, and the rows' heights, styles and hidden flags. It is the same
// reader the roster import uses, so the copy sees the rows the import saw.
type RawSheet struct {
	x         *xlsxReader
	wbp, part string
}

// RawKind is what a raw cell holds.
type RawKind uint8

// Raw cell kinds.
const (
	RawNumber RawKind = iota // a number as the sheet stores it ("46123.375")
	RawText                  // shared, inline or formula text
	RawBool                  // "1" or "0"
	RawError                 // "#N/A"
	RawDate                  // ISO 8601 text (t="d")
)

// RawCell is one stored cell. Value is valid until the next call of Next.
type RawCell struct {
	Col   int // 0-based
	Style int // the cell's style id, 0 for none
	Kind  RawKind
	Value []byte // empty for a cell that only carries a style
}

// RawRow is one stored row.
type RawRow struct {
	Row    int // 1-based
	Height float64
	Hidden bool
	Style  int // the row's style id, 0 for none
	Cells  []RawCell
	// XML, when not nil, holds the row's cells as worksheet XML instead of
	// Cells (see CopyOptions and copyCells for its form); XMLLast is the
	// column of its last cell (-1 for none) and XMLValues tells whether a
	// cell holds a value. Valid until the next call of Next.
	XML       []byte
	XMLLast   int
	XMLValues bool
	xml       bool
	buf       []byte
}

// RawColumn is a <col> range of the sheet: width and hidden flag.
type RawColumn struct {
	Min, Max int // 1-based, inclusive
	Width    float64
	Hidden   bool
}

type rawState struct {
	row  *RawRow
	cols []RawColumn
	copy *CopyOptions // nil: every row as cells
	// The <dimension> the sheet gives, 1-based; 0 without one.
	dimRow, dimCol int
}

// OpenRawSheet opens sheet ("" = the sheet the roster reader picks) of the
// .xlsx or .xlsm at path for copying.
func OpenRawSheet(path, sheet string, opt ReadOptions) (*RawSheet, error) {
	return openRaw(path, sheet, opt, nil)
}

// OpenRawSheetTee is OpenRawSheet of the sheet tee copies, read from the
// tee: the XML that Open's reader reads as it reads it. Call it once
// Open has returned.
func OpenRawSheetTee(tee *SheetTee) (*RawSheet, error) {
	path, sheet, ok := tee.Sheet()
	if !ok {
		return nil, ErrTeeDropped
	}
	return openRaw(path, sheet, ReadOptions{}, tee)
}

func openRaw(path, sheet string, opt ReadOptions, tee *SheetTee) (*RawSheet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	wb, err := openWorkbook(f, path, opt)
	if err != nil {
		return nil, err
	}
	wb.keepSpace = true
	x, err := wb.readerFrom(sheet, tee)
	if err != nil {
		wb.close()
		return nil, err
	}
	x.raw = &rawState{}
	rs := &RawSheet{x: x, wbp: wb.parts[wb.workbookPart].Name}
	if sh, err := wb.findSheet(x.sheet); err == nil {
		rs.part = wb.part(wb.relTarget(wb.rels[sh.RID])).Name
	}
	return rs, nil
}

// Name is the sheet's name.
func (s *RawSheet) Name() string { return s.x.sheet }

// Package returns the workbook's zip and the names (as stored) of the
// workbook part and of this sheet's part.
func (s *RawSheet) Package() (zr *zip.Reader, workbookPart, sheetPart string) {
	return s.x.wb.zr, s.wbp, s.part
}

// Columns are the sheet's <col> ranges with a width or hidden; complete
// once the first row has been read.
func (s *RawSheet) Columns() []RawColumn { return s.x.raw.cols }

// Dimension is the last row and column (1-based) the sheet's <dimension>
// gives, once the first row has been read; ok is false when the sheet
// gives none, or one that is not a range from A1.
func (s *RawSheet) Dimension() (lastRow, lastCol int, ok bool) {
	return s.x.raw.dimRow, s.x.raw.dimCol, s.x.raw.dimRow > 0
}

// Next reads the next row that is in the file (blank rows too); io.EOF
// after the last.
func (s *RawSheet) Next(r *RawRow) error {
	r.Cells, r.buf = r.Cells[:0], r.buf[:0]
	r.XML, r.xml = nil, false
	r.Height, r.Hidden, r.Style = 0, false, 0
	s.x.raw.row = r
	row, _, err := s.x.next()
	if err != nil {
		return err
	}
	r.Row = row
	if r.xml {
		r.XML = r.buf[:len(r.buf):len(r.buf)]
		return nil
	}
	off := 0
	for i := range r.Cells {
		n := len(r.Cells[i].Value)
		r.Cells[i].Value = r.buf[off : off+n : off+n]
		off += n
	}
	return nil
}

// Close releases the file.
func (s *RawSheet) Close() error { return s.x.close() }

// rawRowAttrs takes a <row> tag's height, style and hidden flag.
func (x *xlsxReader) rawRowAttrs() {
	r := x.raw.row
	// One pass over the tag's attributes (most rows have only r), each
	// taken the first time, as attr takes it.
	var seen [3]bool
	x.sc.eachAttr(func(key, v []byte) bool {
		switch string(key) {
		case "ht":
			if !seen[0] {
				r.Height, _ = strconv.ParseFloat(string(v), 64)
			}
			seen[0] = true
		case "hidden":
			if !seen[1] {
				r.Hidden = string(v) == "1" || string(v) == "true"
			}
			seen[1] = true
		case "s":
			if !seen[2] {
				r.Style, _ = strconv.Atoi(string(v))
			}
			seen[2] = true
		}
		return true
	})
}

// rawDimension takes the <dimension> range, when it starts at A1.
func (x *xlsxReader) rawDimension() {
	ref, _ := x.sc.attr("ref")
	first, last, ok := strings.Cut(string(ref), ":")
	if !ok || first != "A1" {
		return
	}
	col, ok := refColumn([]byte(last))
	digits := strings.TrimLeft(last, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	row, err := strconv.Atoi(digits)
	if !ok || err != nil || len(digits) == len(last) || row < 1 || row > 1<<20 {
		return
	}
	x.raw.dimRow, x.raw.dimCol = row, col+1
}

// rawCol takes a <col> range.
func (x *xlsxReader) rawCol() {
	sc := x.sc
	var c RawColumn
	lo, _ := sc.attr("min")
	hi, _ := sc.attr("max")
	var err1, err2 error
	c.Min, err1 = strconv.Atoi(string(lo))
	c.Max, err2 = strconv.Atoi(string(hi))
	if v, ok := sc.attr("width"); ok {
		c.Width, _ = strconv.ParseFloat(string(v), 64)
	}
	if v, ok := sc.attr("hidden"); ok {
		c.Hidden = string(v) == "1" || string(v) == "true"
	}
	if err1 != nil || err2 != nil || c.Min < 1 || c.Max < c.Min || c.Max > maxColumns || c.Width < 0 || c.Width > 255 {
		return
	}
	if c.Width > 0 || c.Hidden {
		x.raw.cols = append(x.raw.cols, c)
	}
}

// storeRaw keeps a cell as stored.
func (x *xlsxReader) storeRaw(col, style, typ int) error {
	r := x.raw.row
	c := RawCell{Col: col, Style: style}
	v := x.val
	switch typ {
	case cellShared:
		t := trimASCII(v)
		if len(t) > 0 {
			i, err := strconv.Atoi(string(t))
			s, ok := x.sst.get(i)
			if err != nil || !ok {
				return x.damaged(x.row, ColumnName(col), "the cell refers to shared string %q of %d", shorten(string(t), 20), len(x.sst.ends))
			}
			v = []byte(s)
		}
		c.Kind = RawText
	case cellInline, cellString:
		c.Kind = RawText
		v = unescapeOOXML(v)
	case cellBool:
		c.Kind, v = RawBool, trimASCII(v)
	case cellError:
		c.Kind, v = RawError, trimASCII(v)
	case cellDate:
		c.Kind, v = RawDate, trimASCII(v)
	default:
		c.Kind, v = RawNumber, trimASCII(v)
	}
	r.buf = append(r.buf, v...)
	c.Value = v[:len(v):len(v)] // only its length counts until the row ends
	r.Cells = append(r.Cells, c)
	return nil
}
