package roster

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// xlsxReader streams one worksheet's rows.
type xlsxReader struct {
	wb        *workbook
	sheet     string
	rc        io.ReadCloser
	sc        *xmlScanner
	sst       *sharedStrings
	dateStyle []bool

	cells  []Cell
	wanted []bool // nil: all columns
	row    int    // the last row's number
	inData bool
	done   bool
	val    []byte
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
func (wb *workbook) reader(sheet string) (*xlsxReader, error) {
	s, err := wb.findSheet(sheet)
	if err != nil {
		return nil, err
	}
	dates, err := wb.readDateStyles()
	if err != nil {
		return nil, err
	}
	sst, err := wb.readSharedStrings()
	if err != nil {
		return nil, err
	}
	rc, err := wb.openSheet(s)
	if err != nil {
		return nil, err
	}
	return &xlsxReader{wb: wb, sheet: s.Name, rc: rc, sc: newXMLScanner(rc), sst: sst, dateStyle: dates}, nil
}

func (x *xlsxReader) want(cols []bool) { x.wanted = cols }

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
				x.cells = x.cells[:0]
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
	cellString // a formula's text result
	cellDate   // ISO 8601 text
)

// readRow reads the cells of the row just started.
func (x *xlsxReader) readRow() error {
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
				switch string(t) {
				case "s":
					typ = cellShared
				case "inlineStr":
					typ = cellInline
				case "b":
					typ = cellBool
				case "e":
					typ = cellError
				case "str":
					typ = cellString
				case "d":
					typ = cellDate
				case "n":
				default:
					return x.damaged(x.row, ColumnName(col), "the cell's type is %q", shorten(string(t), 20))
				}
			}
			if sc.self {
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
	var inV, inT, inRPh bool
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
			case "f", "extLst":
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

// store converts a cell's raw value and puts it in its column.
func (x *xlsxReader) store(col, style, typ int) error {
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
		c.Text = x.text(v, wanted)
		if len(v) > 0 && wanted && style < len(x.dateStyle) && x.dateStyle[style] && isNumeral(v) {
			c.Kind = KindDateSerial
		}
	default:
		c.Text = x.text(cleanText(x.val), wanted)
	}
	x.cells[col] = c
	return nil
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
