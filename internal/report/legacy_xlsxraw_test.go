package report

// The report's own reader of the roster workbook, as it was: kept in the
// tests for the old writer the new one is compared with.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// rawCell is one source cell as stored: its value keeps its type (string,
// float64, bool or time.Time; nil for a cell that only carries a style).
type rawCell struct {
	col   int // 1-based
	value any
	style int // the source's style id, 0 for none
}

// rawRow is one row of a source sheet.
type rawRow struct {
	row    int // 1-based, as the spreadsheet shows it
	cells  []rawCell
	height float64 // 0 = default
	hidden bool
	style  int // the source's row style id, 0 for none
}

// colWidth is a custom column width of the source sheet.
type colWidth struct {
	min, max int
	width    float64
}

// rawSource yields a roster sheet's rows as stored, streaming.
type rawSource interface {
	// sheetName is the sheet the report copies the rows into.
	sheetName() string
	// extent returns the last row and column that hold a cell.
	extent() (lastRow, lastCol int)
	// widths returns the source's custom column widths.
	widths() []colWidth
	// style returns a source style, for copying into the report.
	style(id int) (*excelize.Style, error)
	// date1904 reports whether date serials count from 1904.
	date1904() bool
	// next fills r with the next row that has cells; io.EOF after the last.
	next(r *rawRow) error
	close() error
}

// xlsxSource reads one worksheet of an .xlsx straight from its XML, so that
// cell types and style ids survive (excelize's row iterator returns text
// only). excelize still supplies the workbook's styles.
type xlsxSource struct {
	zr        *zip.ReadCloser
	name      string
	sheetPart *zip.File
	sst       []string
	styles    *excelize.File
	is1904    bool
	lastRow   int
	lastCol   int
	cols      []colWidth

	rc  io.ReadCloser
	dec *xml.Decoder
	row int // the previous row's number, for rows without r
}

const (
	nsRelDoc    = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relSST      = "/sharedStrings"
	relWorkshet = "/worksheet"
)

type xmlRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

type xmlWorkbook struct {
	Pr struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Sheets []struct {
		Name string `xml:"name,attr"`
		RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
	} `xml:"sheets>sheet"`
}

// openXLSX opens sheet of the workbook at p ("" = "Visitors" when the
// workbook has it, else the first sheet) and measures its extent.
func openXLSX(p, sheet string) (_ *xlsxSource, err error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, err
	}
	s := &xlsxSource{zr: zr}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[f.Name] = f
	}

	wbPath := "xl/workbook.xml"
	var root xmlRels
	if err := readXML(files["_rels/.rels"], &root); err == nil {
		for _, r := range root.Rels {
			if r.Type == nsRelDoc {
				wbPath = strings.TrimPrefix(r.Target, "/")
			}
		}
	}
	var wb xmlWorkbook
	if err := readXML(files[wbPath], &wb); err != nil {
		return nil, fmt.Errorf("read workbook: %w", err)
	}
	s.is1904 = wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"
	var rels xmlRels
	relsPath := path.Join(path.Dir(wbPath), "_rels", path.Base(wbPath)+".rels")
	if err := readXML(files[relsPath], &rels); err != nil {
		return nil, fmt.Errorf("read workbook relationships: %w", err)
	}
	target := func(t string) string {
		if strings.HasPrefix(t, "/") {
			return t[1:]
		}
		return path.Join(path.Dir(wbPath), t)
	}

	if len(wb.Sheets) == 0 {
		return nil, errors.New("the workbook has no sheets")
	}
	pick := -1
	for i, sh := range wb.Sheets {
		if sheet != "" && sh.Name == sheet || sheet == "" && strings.EqualFold(sh.Name, "Visitors") {
			pick = i
		}
	}
	switch {
	case pick < 0 && sheet != "":
		return nil, fmt.Errorf("the workbook has no sheet %q", sheet)
	case pick < 0:
		pick = 0
	}
	s.name = wb.Sheets[pick].Name
	sheetParts := make(map[string]bool)
	var sstPath string
	for _, r := range rels.Rels {
		switch {
		case strings.HasSuffix(r.Type, relWorkshet):
			sheetParts[target(r.Target)] = true
			if r.ID == wb.Sheets[pick].RID {
				s.sheetPart = files[target(r.Target)]
			}
		case strings.HasSuffix(r.Type, relSST):
			sstPath = target(r.Target)
		}
	}
	if s.sheetPart == nil {
		return nil, fmt.Errorf("sheet %q is not a worksheet", s.name)
	}
	if f := files[sstPath]; f != nil {
		if s.sst, err = readSST(f); err != nil {
			return nil, fmt.Errorf("read shared strings: %w", err)
		}
	}
	if s.styles, err = openStyles(zr.File, sheetParts, sstPath); err != nil {
		return nil, fmt.Errorf("read styles: %w", err)
	}
	if err := s.measure(); err != nil {
		return nil, fmt.Errorf("read sheet %q: %w", s.name, err)
	}
	if s.rc, err = s.sheetPart.Open(); err != nil {
		return nil, err
	}
	s.dec = xml.NewDecoder(bufio.NewReaderSize(s.rc, 64<<10))
	return s, nil
}

func readXML(f *zip.File, v any) error {
	if f == nil {
		return errors.New("part missing")
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(rc).Decode(v)
}

// readSST reads the shared strings table, streaming; phonetic runs are not
// part of the text.
func readSST(f *zip.File) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(bufio.NewReader(rc))
	var (
		out        []string
		b          strings.Builder
		inT, inRPh bool
		inSI       bool
	)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				b.Reset()
			case "t":
				inT = inSI && !inRPh
			case "rPh":
				inRPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				out = append(out, unescapeBstr(b.String()))
			case "t":
				inT = false
			case "rPh":
				inRPh = false
			}
		case xml.CharData:
			if inT {
				b.Write(t)
			}
		}
	}
}

// openStyles opens the workbook without its worksheets, shared strings and
// media, to read its styles and settings with excelize cheaply.
func openStyles(files []*zip.File, sheetParts map[string]bool, sstPath string) (*excelize.File, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		var stub string
		switch {
		case sheetParts[f.Name]:
			stub = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>`
		case f.Name == sstPath:
			stub = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>`
		case strings.HasPrefix(f.Name, "xl/media/"), strings.HasPrefix(f.Name, "xl/worksheets/_rels/"):
			continue
		}
		if stub != "" {
			w, err := zw.Create(f.Name)
			if err != nil {
				return nil, err
			}
			if _, err := io.WriteString(w, stub); err != nil {
				return nil, err
			}
			continue
		}
		rc, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateRaw(&f.FileHeader)
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, rc); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return excelize.OpenReader(&buf)
}

// measure scans the worksheet's XML for the last row and column that hold a
// cell, and for custom column widths, without decoding it: the report's
// dimension must be known before its first row is written.
func (s *xlsxSource) measure() error {
	rc, err := s.sheetPart.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	row, col := 0, 0
	inData := false
	for {
		if _, err := br.ReadSlice('<'); err != nil {
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		name, err := scanName(br)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch name {
		case "sheetData":
			inData = true
		case "/sheetData":
			inData = false
		case "row", "c", "col":
			attrs, err := scanTag(br)
			if err != nil {
				return err
			}
			switch {
			case name == "row" && inData:
				if n, err := strconv.Atoi(attrValue(attrs, "r")); err == nil {
					row = n
				} else {
					row++
				}
				col = 0
				if row > s.lastRow {
					s.lastRow = row
				}
			case name == "c" && inData:
				if c, _, err := excelize.CellNameToCoordinates(attrValue(attrs, "r")); err == nil {
					col = c
				} else {
					col++
				}
				if col > s.lastCol {
					s.lastCol = col
				}
			case name == "col" && !inData:
				lo, err1 := strconv.Atoi(attrValue(attrs, "min"))
				hi, err2 := strconv.Atoi(attrValue(attrs, "max"))
				w, err3 := strconv.ParseFloat(attrValue(attrs, "width"), 64)
				if err1 == nil && err2 == nil && err3 == nil && lo >= 1 && hi >= lo && hi <= excelize.MaxColumns && w > 0 && w <= excelize.MaxColumnWidth {
					s.cols = append(s.cols, colWidth{lo, hi, w})
				}
			}
		}
	}
}

// scanName reads an element name after '<', without any namespace prefix;
// an end tag's name starts with '/'.
func scanName(br *bufio.Reader) (string, error) {
	var b [32]byte
	n := 0
	end := false
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '/' && n == 0 && !end:
			end = true
		case c == ':':
			n = 0
		case c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\n' || c == '\r':
			if err := br.UnreadByte(); err != nil {
				return "", err
			}
			if end {
				return "/" + string(b[:n]), nil
			}
			return string(b[:n]), nil
		case n < len(b):
			b[n] = c
			n++
		default:
			return "", nil // longer than any name looked for
		}
	}
}

// scanTag returns the rest of a start tag, up to '>'.
func scanTag(br *bufio.Reader) ([]byte, error) {
	b, err := br.ReadSlice('>')
	if err != nil {
		return nil, err
	}
	return b, nil
}

// attrValue finds name="value" in a tag's attributes.
func attrValue(attrs []byte, name string) string {
	for i := 0; i < len(attrs); {
		j := bytes.Index(attrs[i:], []byte(name))
		if j < 0 {
			return ""
		}
		j += i
		k := j + len(name)
		if (j == 0 || attrs[j-1] == ' ' || attrs[j-1] == '\t' || attrs[j-1] == '\n' || attrs[j-1] == '\r') &&
			k+1 < len(attrs) && attrs[k] == '=' && (attrs[k+1] == '"' || attrs[k+1] == '\'') {
			q := attrs[k+1]
			if e := bytes.IndexByte(attrs[k+2:], q); e >= 0 {
				return string(attrs[k+2 : k+2+e])
			}
			return ""
		}
		i = k
	}
	return ""
}

func (s *xlsxSource) sheetName() string                     { return s.name }
func (s *xlsxSource) extent() (int, int)                    { return s.lastRow, s.lastCol }
func (s *xlsxSource) widths() []colWidth                    { return s.cols }
func (s *xlsxSource) style(id int) (*excelize.Style, error) { return s.styles.GetStyle(id) }
func (s *xlsxSource) date1904() bool                        { return s.is1904 }

func (s *xlsxSource) close() error {
	var errs []error
	if s.rc != nil {
		errs = append(errs, s.rc.Close())
	}
	if s.styles != nil {
		errs = append(errs, s.styles.Close())
	}
	errs = append(errs, s.zr.Close())
	return errors.Join(errs...)
}

// next decodes the next <row> element.
func (s *xlsxSource) next(r *rawRow) error {
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "row" {
				continue
			}
			*r = rawRow{cells: r.cells[:0]}
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "r":
					r.row, _ = strconv.Atoi(a.Value)
				case "ht":
					r.height, _ = strconv.ParseFloat(a.Value, 64)
				case "hidden":
					r.hidden = a.Value == "1" || a.Value == "true"
				case "s":
					r.style, _ = strconv.Atoi(a.Value)
				}
			}
			if r.row <= s.row {
				r.row = s.row + 1
			}
			s.row = r.row
			if err := s.readRow(r); err != nil {
				return err
			}
			return nil
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				return io.EOF
			}
		}
	}
}

func (s *xlsxSource) readRow(r *rawRow) error {
	col := 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				continue
			}
			c := rawCell{col: col + 1}
			var typ string
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "r":
					if n, _, err := excelize.CellNameToCoordinates(a.Value); err == nil {
						c.col = n
					}
				case "s":
					c.style, _ = strconv.Atoi(a.Value)
				case "t":
					typ = a.Value
				}
			}
			col = c.col
			v, text, err := s.readCell()
			if err != nil {
				return err
			}
			c.value = s.cellValue(typ, v, text)
			if c.value != nil || c.style != 0 {
				r.cells = append(r.cells, c)
			}
		case xml.EndElement:
			if t.Name.Local == "row" {
				return nil
			}
		}
	}
}

// readCell reads the inside of a <c> element: the <v> text and the text of
// an inline string (<is>); a formula (<f>) is dropped, its cached value kept.
func (s *xlsxSource) readCell() (v string, is *string, err error) {
	var (
		b             strings.Builder
		inV, inT, rPh bool
		inIS          bool
	)
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				inV = true
			case "is":
				inIS = true
				if is == nil {
					is = new(string)
				}
			case "t":
				inT = inIS && !rPh
			case "rPh":
				rPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "c":
				if is != nil {
					*is = b.String()
				}
				return v, is, nil
			case "v":
				inV = false
			case "t":
				inT = false
			case "rPh":
				rPh = false
			case "is":
				inIS = false
			}
		case xml.CharData:
			switch {
			case inV:
				v += string(t)
			case inT:
				b.Write(t)
			}
		}
	}
}

// cellValue converts a cell's stored text to the value to write.
func (s *xlsxSource) cellValue(typ, v string, is *string) any {
	switch typ {
	case "inlineStr":
		if is != nil {
			return unescapeBstr(*is)
		}
		return nilIfEmpty(unescapeBstr(v))
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(s.sst) {
			return nil
		}
		return s.sst[i]
	case "str", "e":
		return nilIfEmpty(unescapeBstr(v))
	case "b":
		return strings.TrimSpace(v) == "1" || strings.EqualFold(strings.TrimSpace(v), "true")
	case "d":
		for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
				return t
			}
		}
		return nilIfEmpty(v)
	default:
		if v == "" {
			return nil
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return f
		}
		return v
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// unescapeBstr decodes the _xHHHH_ escapes spreadsheet XML uses for
// characters XML cannot hold; _x005F_ is a literal underscore.
func unescapeBstr(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				if n == 0x5F {
					b.WriteByte('_')
				} else if r := rune(n); utf8.ValidRune(r) {
					b.WriteRune(r)
				}
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// legacyCSV gives the CSV reader's rows to the old writer.
type legacyCSV struct{ s *csvSource }

func legacyOpenCSV(p string) (rawSource, error) {
	s, err := openCSV(p, true)
	if err != nil {
		return nil, err
	}
	return legacyCSV{s}, nil
}

func (l legacyCSV) sheetName() string                  { return csvSheetName }
func (l legacyCSV) extent() (int, int)                 { return l.s.extent() }
func (l legacyCSV) widths() []colWidth                 { return nil }
func (l legacyCSV) style(int) (*excelize.Style, error) { return &excelize.Style{}, nil }
func (l legacyCSV) date1904() bool                     { return false }
func (l legacyCSV) close() error                       { return l.s.close() }
func (l legacyCSV) next(r *rawRow) error {
	var rr roster.RawRow
	if err := l.s.next(&rr); err != nil {
		return err
	}
	*r = rawRow{row: rr.Row, cells: r.cells[:0]}
	for _, c := range rr.Cells {
		r.cells = append(r.cells, rawCell{col: c.Col + 1, value: strings.ToValidUTF8(string(c.Value), "\uFFFD")})
	}
	return nil
}
