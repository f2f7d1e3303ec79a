package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// csvSheetName names the report's copy of a CSV roster: the sheet a roster
// reader looks for first.
const csvSheetName = "Visitors"

// csvSource reads a CSV roster's cells as text, all columns, in the same
// encodings the roster reader accepts: UTF-8 (with or without BOM), UTF-16
// with a BOM, and Windows-1252 when the file is not valid UTF-8.
type csvSource struct {
	f       *os.File
	r       *csv.Reader
	breaks  int // line breaks inside the fields of the records read so far
	lastRow int
	lastCol int
	buf     []byte
	// copy, when set, makes the rows it takes XML (see asXML).
	copy *csvCopy
}

// csvCopy makes rows XML as the report writes them: those copy.rows takes
// whose cells all lie left of column columns (0-based).
type csvCopy struct {
	rows    func(row int) bool
	columns int
	cols    []string
	stats   *textStats
	out     xmlOut
}

// rowOf is the row a spreadsheet app shows a record on, as the roster
// reader numbers it: the line the record starts on, less the line breaks
// inside earlier records' fields (blank lines are rows too).
func (s *csvSource) rowOf(rec []string) int {
	line, _ := s.r.FieldPos(0)
	row := line - s.breaks
	for _, v := range rec {
		s.breaks += strings.Count(v, "\n")
	}
	return row
}

// openCSV opens the CSV at p; with measure, it first counts its records
// and widest record (see extent).
func openCSV(p string, measure bool) (*csvSource, error) {
	s := &csvSource{}
	r, f, err := newCSVReader(p)
	if err != nil {
		return nil, err
	}
	if !measure {
		s.r, s.f = r, f
		return s, nil
	}
	s.r = r
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		s.lastRow = s.rowOf(rec)
		s.lastCol = max(s.lastCol, len(rec))
	}
	f.Close()
	s.breaks = 0
	if s.r, s.f, err = newCSVReader(p); err != nil {
		return nil, err
	}
	return s, nil
}

func newCSVReader(p string) (*csv.Reader, *os.File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(decodeText(f), 64<<10)
	head, err := br.Peek(16 << 10)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		f.Close()
		return nil, nil, err
	}
	r := csv.NewReader(br)
	r.Comma = sniffComma(head)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	return r, f, nil
}

// decodeText returns r's text as UTF-8: a UTF-8 BOM is dropped, UTF-16 is
// recognised by its BOM, and text that is not valid UTF-8 is read as
// Windows-1252 (what Excel writes as "CSV" on Western Windows).
func decodeText(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		return br
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	case !validUTF8Prefix(head):
		return charmap.Windows1252.NewDecoder().Reader(br)
	}
	return br
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing it to end in
// the middle of a character (it is a prefix of the file).
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		tail := b[len(b)-i:]
		if utf8.RuneStart(tail[0]) && !utf8.FullRune(tail) {
			return utf8.Valid(b[:len(b)-i])
		}
	}
	return false
}

// sniffComma picks the separator of the first line: the one of , ; and tab
// that occurs most outside quotes (Excel writes ; where , is the decimal
// separator).
func sniffComma(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func (s *csvSource) name() string                   { return csvSheetName }
func (s *csvSource) columns() []roster.RawColumn    { return nil }
func (s *csvSource) extent() (lastRow, lastCol int) { return s.lastRow, s.lastCol }
func (s *csvSource) close() error                   { return s.f.Close() }

// next returns the next record as text cells, on its row as the roster
// reader numbers CSV rows (see rowOf). The row is valid until the next call.
func (s *csvSource) next(r *roster.RawRow) error {
	rec, err := s.r.Read()
	if err != nil {
		return err
	}
	r.Row, r.Height, r.Hidden, r.Style = s.rowOf(rec), 0, false, 0
	r.Cells, r.XML = r.Cells[:0], nil
	s.buf = s.buf[:0]
	if s.copy != nil && s.copy.rows(r.Row) && len(rec) <= s.copy.columns {
		s.asXML(r, rec)
		return nil
	}
	for i, v := range rec {
		if v == "" {
			continue
		}
		s.buf = append(s.buf, v...)
		r.Cells = append(r.Cells, roster.RawCell{Col: i, Kind: roster.RawText})
	}
	off := 0
	for i := range r.Cells {
		n := len(rec[r.Cells[i].Col])
		r.Cells[i].Value = s.buf[off : off+n : off+n]
		off += n
	}
	return nil
}

// asXML gives a record's cells as the report's XML, the text cells the
// writer would write for them.
func (s *csvSource) asXML(r *roster.RawRow, rec []string) {
	c := s.copy
	o := &c.out
	o.buf, o.prev = o.buf[:0], -1
	r.XMLValues = false
	for i, v := range rec {
		if v == "" {
			continue
		}
		s.buf = append(s.buf[:0], v...)
		o.textCell(c.cols, i, r.Row, 0, s.buf, c.stats)
		r.XMLValues = r.XMLValues || len(bytes.TrimSpace(s.buf)) > 0
	}
	r.XML, r.XMLLast = o.buf, o.prev
}
