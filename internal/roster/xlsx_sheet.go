package roster

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// xlsxReader streams one worksheet's rows.
type xlsxReader struct {
	wb     *workbook
	sheet  string
	rc     io.ReadCloser
	sc     *xmlScanner
	sst    *sharedStrings
	styles []cellStyle

	cells  []Cell
	wanted []bool // nil: all columns
	row    int    // the last row's number
	hidden bool   // the last row is hidden
	inData bool
	done   bool
	val    []byte
	num    []byte // a number cell's text, as shown
	// formula is the formula of the cell being read.
	formula []byte

	raw *rawState // non-nil: cells are kept as stored (OpenRawSheet)

	plainN int // rows read in the plain form (see plainRow)
}

// nonEmpty stands for the text of a cell in a column nobody reads: it only
// makes the row non-blank.
const nonEmpty = "\x00"

// openXLSX opens the sheet opt names (or the default one) of an .xlsx. It
// takes ownership of f.
func openXLSX(f *os.File, path string, opt ReadOptions) (*xlsxReader, error) {
	wb, err := openWorkbook(f, path, opt)
	if err != nil {
		return nil, err
	}
	x, err := wb.reader(opt.Sheet)
	if err != nil {
		wb.close()
		return nil, err
	}
	return x, nil
}

// reader starts reading a sheet of the workbook.
func (wb *workbook) reader(sheet string) (*xlsxReader, error) { return wb.readerFrom(sheet, nil) }

// readerFrom starts reading a sheet of the workbook: its part's XML from
// tee when not nil (what another reader reads of it), else from the part.
func (wb *workbook) readerFrom(sheet string, tee *SheetTee) (*xlsxReader, error) {
	s, err := wb.findSheet(sheet)
	if err != nil {
		return nil, err
	}
	styles, err := wb.readStyles()
	if err != nil {
		return nil, err
	}
	sst, err := wb.readSharedStrings()
	if err != nil {
		return nil, err
	}
	var rc io.ReadCloser
	if tee != nil {
		rc = tee.Reader()
	} else {
		part, err := wb.openSheet(s)
		if err != nil {
			return nil, err
		}
		rc = newAheadReader(part)
	}
	return &xlsxReader{wb: wb, sheet: s.Name, rc: rc, sc: newXMLScanner(rc), sst: sst, styles: styles}, nil
}

func (x *xlsxReader) want(cols []bool) { x.wanted = cols }

func (x *xlsxReader) rowHidden() bool { return x.hidden }

func (x *xlsxReader) close() error {
	x.rc.Close()
	return x.wb.close()
}

// damaged is the error for a worksheet that cannot be read.
func (x *xlsxReader) damaged(row int, col string, format string, args ...any) *FileError {
	return &FileError{Path: x.wb.path, Sheet: x.sheet, Row: row, Column: col,
		Msg: "the sheet is damaged: " + fmt.Sprintf(format, args...), Hint: hintDamagedXLSX}
}

func (x *xlsxReader) scanError() error {
	err := x.sc.error()
	if err == nil {
		return x.damaged(x.row, "", "it ends in the middle of a row")
	}
	var fe *FileError
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) {
		// archive/zip stops a part that inflates to more than the
		// workbook's directory says, as a zip bomb does.
		fe = x.damaged(x.row, "", "it unpacks to more than the workbook says, or not to what it says (%v)", err)
	} else {
		fe = x.damaged(x.row, "", "%v", err)
	}
	fe.Err = err
	return fe
}

func (x *xlsxReader) next() (int, []Cell, error) {
	if x.done {
		return 0, nil, io.EOF
	}
	sc := x.sc
	for sc.next() {
		switch sc.kind {
		case tokStart:
			switch string(sc.name) {
			case "sheetData":
				x.inData = true
				if sc.self {
					x.done = true
					return 0, nil, io.EOF
				}
			case "col":
				if x.raw != nil && !x.inData {
					x.rawCol()
				}
			case "dimension":
				if x.raw != nil && !x.inData {
					x.rawDimension()
				}
			case "row":
				if !x.inData {
					continue
				}
				row := x.row + 1
				if r, ok := sc.attr("r"); ok {
					n, err := strconv.Atoi(string(r))
					if err != nil || n < 1 {
						return 0, nil, x.damaged(x.row, "", "a row is numbered %q", shorten(string(r), 20))
					}
					row = n
				}
				x.row = row
				h, _ := sc.attr("hidden")
				x.hidden = xmlTrue(string(h))
				x.cells = x.cells[:0]
				if x.raw != nil {
					x.rawRowAttrs()
				}
				if sc.self {
					return row, x.cells, nil
				}
				if err := x.readRow(); err != nil {
					return 0, nil, err
				}
				return row, x.cells, nil
			}
		case tokEnd:
			if string(sc.name) == "sheetData" {
				x.done = true
				return 0, nil, io.EOF
			}
		}
	}
	if sc.error() != nil {
		return 0, nil, x.scanError()
	}
	x.done = true
	return 0, nil, io.EOF
}

// Cell types, from a cell's t attribute.
const (
	cellNumber = iota
	cellShared
	cellInline
	cellBool
	cellError
	cellString  // a formula's text result
	cellDate    // ISO 8601 text
	cellFormula // a formula with no saved value
)

// cellType is the type a cell's t attribute names.
func cellType(t []byte) (int, bool) {
	switch string(t) {
	case "s":
		return cellShared, true
	case "inlineStr":
		return cellInline, true
	case "b":
		return cellBool, true
	case "e":
		return cellError, true
	case "str":
		return cellString, true
	case "d":
		return cellDate, true
	case "n":
		return cellNumber, true
	}
	return 0, false
}

// readRow reads the cells of the row just started.
func (x *xlsxReader) readRow() error {
	if !tokensOnly.Load() && x.plainRow() {
		x.plainN++
		return nil
	}
	sc := x.sc
	col := -1
	for sc.next() {
		switch sc.kind {
		case tokStart:
			if string(sc.name) != "c" {
				if !sc.skipElement() {
					return x.scanError()
				}
				continue
			}
			col++
			if r, ok := sc.attr("r"); ok {
				c, ok := refColumn(r)
				if !ok {
					return x.damaged(x.row, "", "a cell is named %q", shorten(string(r), 20))
				}
				col = c
			}
			if col >= maxColumns {
				return x.damaged(x.row, "", "a cell lies beyond column XFD")
			}
			style := 0
			if s, ok := sc.attr("s"); ok {
				n, err := strconv.Atoi(string(s))
				if err != nil || n < 0 {
					return x.damaged(x.row, ColumnName(col), "the cell's style is %q", shorten(string(s), 20))
				}
				style = n
			}
			typ := cellNumber
			if t, ok := sc.attr("t"); ok {
				if typ, ok = cellType(t); !ok {
					return x.damaged(x.row, ColumnName(col), "the cell's type is %q", shorten(string(t), 20))
				}
			}
			if sc.self {
				if x.raw != nil && style != 0 {
					x.val = x.val[:0]
					if err := x.storeRaw(col, style, typ); err != nil {
						return err
					}
				}
				continue
			}
			if err := x.readCell(col, style, typ); err != nil {
				return err
			}
		case tokEnd:
			if string(sc.name) == "row" {
				return nil
			}
		}
	}
	return x.scanError()
}

// readCell reads a cell's content up to its end tag and stores its value.
func (x *xlsxReader) readCell(col, style, typ int) error {
	sc := x.sc
	x.val = x.val[:0]
	var inV, inT, inRPh, formula bool
	for {
		if !sc.next() {
			return x.scanError()
		}
		switch sc.kind {
		case tokStart:
			switch string(sc.name) {
			case "v":
				inV = !sc.self
			case "t":
				inT = !sc.self
			case "rPh":
				inRPh = !sc.self
			case "f":
				formula = true
				if !x.readFormula() {
					return x.scanError()
				}
			case "extLst":
				if !sc.skipElement() {
					return x.scanError()
				}
			}
			continue
		case tokEnd:
			switch string(sc.name) {
			case "v":
				inV = false
			case "t":
				inT = false
			case "rPh":
				inRPh = false
			case "c":
				if formula && typ != cellString && typ != cellInline && len(trimASCII(x.val)) == 0 {
					// A formula whose value was never saved: it would read
					// as empty, or as 0.
					typ = cellFormula
				}
				return x.store(col, style, typ)
			}
			continue
		}
		if typ == cellInline {
			if inT && !inRPh {
				x.val = append(x.val, sc.text...)
			}
		} else if inV {
			x.val = append(x.val, sc.text...)
		}
	}
}

// readFormula reads the formula element just started into x.formula.
func (x *xlsxReader) readFormula() bool {
	sc := x.sc
	x.formula = x.formula[:0]
	if sc.self {
		return true
	}
	for depth := 1; sc.next(); {
		switch sc.kind {
		case tokStart:
			if !sc.self {
				depth++
			}
		case tokEnd:
			if depth--; depth == 0 {
				return true
			}
		case tokText:
			if len(x.formula) < maxFormulaText {
				x.formula = append(x.formula, sc.text...)
			}
		}
	}
	return false
}

// maxFormulaText bounds the formula text kept for a message.
const maxFormulaText = 256

// store converts a cell's raw value and puts it in its column.
func (x *xlsxReader) store(col, style, typ int) error {
	if x.raw != nil {
		return x.storeRaw(col, style, typ)
	}
	for len(x.cells) <= col {
		x.cells = append(x.cells, Cell{})
	}
	wanted := x.wanted == nil || col < len(x.wanted) && x.wanted[col]
	var c Cell
	switch typ {
	case cellShared:
		v := trimASCII(x.val)
		if len(v) == 0 {
			break
		}
		i, err := strconv.Atoi(string(v))
		s, ok := x.sst.get(i)
		if err != nil || !ok {
			return x.damaged(x.row, ColumnName(col), "the cell refers to shared string %q of %d", shorten(string(v), 20), len(x.sst.ends))
		}
		c.Text = s
	case cellBool:
		switch string(trimASCII(x.val)) {
		case "1":
			c.Text = "TRUE"
		case "0":
			c.Text = "FALSE"
		default:
			c.Text = x.text(cleanText(x.val), wanted)
		}
	case cellNumber:
		v := trimASCII(x.val)
		if len(v) == 0 || !wanted || !isNumeral(v) {
			c.Text = x.text(v, wanted)
			break
		}
		var st cellStyle
		if style < len(x.styles) {
			st = x.styles[style]
		}
		if st.date {
			c.Text, c.Kind = string(v), KindDateSerial
			break
		}
		x.num = shownNumber(x.num[:0], v, int(st.pad))
		c.Text, c.Kind = string(x.num), KindNumber
	case cellFormula:
		c.Text, c.Kind = "="+string(trimASCII(x.formula)), KindFormula
		if !wanted {
			c.Text = nonEmpty
		}
	default:
		c.Text = x.text(cleanText(x.val), wanted)
	}
	x.cells[col] = c
	return nil
}

// shownNumber appends the text Excel shows for a number cell's value v in a
// General cell, or with a format padding whole numbers to pad digits: a
// whole number without a fraction or exponent ("101.0" and "1.01E2" show as
// 101), zero-padded; any other number as it is stored.
func shownNumber(dst, v []byte, pad int) []byte {
	plain := true
	for _, c := range v {
		if c < '0' || c > '9' {
			plain = false
			break
		}
	}
	if plain && len(v) >= pad {
		return append(dst, v...)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1e15 {
		return append(dst, v...)
	}
	digits := strconv.AppendInt(nil, int64(math.Abs(f)), 10)
	if f < 0 {
		dst = append(dst, '-')
	}
	for n := len(digits); n < pad; n++ {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

// text returns b as a string, or nonEmpty for a column nobody reads.
func (x *xlsxReader) text(b []byte, wanted bool) string {
	switch {
	case len(b) == 0:
		return ""
	case !wanted:
		return nonEmpty
	}
	return string(b)
}

func trimASCII(b []byte) []byte {
	for len(b) > 0 && isXMLSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isXMLSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// refColumn returns the 0-based column of a cell reference such as "AB12".
func refColumn(r []byte) (int, bool) {
	n, i := 0, 0
	for ; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= 'A' && c <= 'Z':
			n = n*26 + int(c-'A') + 1
		case c >= 'a' && c <= 'z':
			n = n*26 + int(c-'a') + 1
		default:
			goto digits
		}
		if n > maxColumns {
			return 0, false
		}
	}
digits:
	if n == 0 {
		return 0, false
	}
	for ; i < len(r); i++ {
		if c := r[i]; c < '0' || c > '9' {
			if c != '$' {
				return 0, false
			}
		}
	}
	return n - 1, true
}

// isNumeral reports whether b is a number as a worksheet stores it:
// "46123.375", "-1", "4.6E+4".
func isNumeral(b []byte) bool {
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		i++
	}
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			i++
		}
		start := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}
