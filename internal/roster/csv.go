package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffSize is how much of a CSV file decides its encoding and delimiter.
const sniffSize = 64 << 10

// csvReader reads a CSV roster's records.
type csvReader struct {
	f     *os.File
	cr    *csvParser
	path  string
	utf8  bool // the file is read as UTF-8: a field that is not is Windows-1252
	cells []Cell
	width int // the most fields of a record read so far
}

// openCSV detects a CSV file's encoding and delimiter. It takes ownership
// of f.
func openCSV(f *os.File, path string) (*csvReader, error) {
	fail := func(e *FileError) (*csvReader, error) {
		f.Close()
		e.Path = path
		return nil, e
	}
	br := bufio.NewReaderSize(f, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fail(&FileError{Msg: "cannot read the file: " + err.Error(), Hint: hintCheckPath, Err: err})
	}
	var (
		r      io.Reader = br
		isUTF8 bool
	)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		isUTF8 = true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		r = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		r = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.IndexByte(head, 0) >= 0:
		return fail(&FileError{Msg: "not a spreadsheet: it holds binary data, not text", Hint: hintSaveXLSX})
	case validUTF8Prefix(head, len(head) < sniffSize):
		isUTF8 = true
	case loneCR(head):
		// Lines ended by CR alone and text that is not UTF-8: Excel for
		// Mac's "CSV (Macintosh)", which is Mac Roman.
		r = transform.NewReader(br, charmap.Macintosh.NewDecoder())
	default:
		r = transform.NewReader(br, charmap.Windows1252.NewDecoder())
	}
	var text *bufio.Reader
	if r == io.Reader(br) {
		text = br
	} else {
		text = bufio.NewReaderSize(r, sniffSize)
	}
	head, err = text.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fail(&FileError{Msg: "cannot read the file as text: " + err.Error(), Hint: hintSaveCSV, Err: err})
	}
	if binaryText(head) {
		return fail(&FileError{Msg: "not a spreadsheet: it holds binary data, not text", Hint: hintSaveXLSX})
	}
	if loneCR(head) {
		// Excel for Mac's "CSV (Macintosh)" ends lines with CR alone, and
		// Excel shows each CR as a line break.
		text = bufio.NewReaderSize(&crLines{r: text}, sniffSize)
		if head, err = text.Peek(sniffSize); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return fail(&FileError{Msg: "cannot read the file as text: " + err.Error(), Hint: hintSaveCSV, Err: err})
		}
	}
	return &csvReader{f: f, cr: newCSVParser(text, detectDelimiter(head)), path: path, utf8: isUTF8}, nil
}

// loneCR reports whether b has a carriage return that no line feed follows
// (a CR at the very end of b may yet be followed by one).
func loneCR(b []byte) bool {
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		if i+1 < len(b) && b[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// crLines turns each CR that no LF follows into an LF, so that lines ended
// by CR alone read as lines; CR LF is left as it is.
type crLines struct {
	r *bufio.Reader
}

func (c *crLines) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	b := p[:n]
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		if i+1 < len(b) {
			if b[i+1] != '\n' {
				b[i] = '\n'
			}
		} else if next, perr := c.r.Peek(1); perr != nil || next[0] != '\n' {
			b[i] = '\n'
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n, err
}

const hintSaveCSV = "save it from Excel as CSV UTF-8 (File > Save As > CSV UTF-8), or as .xlsx"

// validUTF8Prefix reports whether b is UTF-8, allowing a rune cut off at its
// end when b is only the start of the file.
func validUTF8Prefix(b []byte, whole bool) bool {
	if !whole {
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// binaryText reports whether decoded text looks like binary data: a NUL, or
// many control characters.
func binaryText(b []byte) bool {
	ctl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return true
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1A:
			ctl++
		}
	}
	return ctl > 8 && ctl*20 > len(b)
}

// detectDelimiter picks comma, semicolon or tab: the one that splits some
// line of the first lines into the most fields (quotes respected). Comma
// wins ties and is the default.
func detectDelimiter(b []byte) byte {
	delims := [...]byte{',', ';', '\t'}
	var best, cur [len(delims)]int
	lines, quoted := 0, false
	for i := 0; i < len(b) && lines < headerSearchRows; i++ {
		c := b[i]
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			for k := range cur {
				best[k] = max(best[k], cur[k])
				cur[k] = 0
			}
			lines++
		default:
			for k, d := range delims {
				if c == d {
					cur[k]++
				}
			}
		}
	}
	for k := range cur {
		best[k] = max(best[k], cur[k])
	}
	pick := 0
	for k := range delims {
		if best[k] > best[pick] {
			pick = k
		}
	}
	return delims[pick]
}

func (c *csvReader) want([]bool) {}

func (c *csvReader) rowHidden() bool { return false }

func (c *csvReader) close() error { return c.f.Close() }

func (c *csvReader) next() (int, []Cell, error) {
	rec, line, err := c.cr.read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		return 0, nil, c.readError(err)
	}
	if err := c.checkCells(rec, line-c.cr.recBreaks); err != nil {
		return 0, nil, err
	}
	cells := c.cells[:0]
	for _, s := range rec {
		cells = append(cells, Cell{Text: c.clean(s)})
	}
	c.cells = cells
	return line - c.cr.recBreaks, cells, nil
}

// readInto reads the next record straight into rec, the field of each
// column index idx names, and reports whether the record is blank.
func (c *csvReader) readInto(idx *[NumFields]int, rec *Record) (blank bool, err error) {
	fields, line, err := c.cr.read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return false, io.EOF
		}
		return false, c.readError(err)
	}
	rec.Row = line - c.cr.recBreaks
	if err := c.checkCells(fields, rec.Row); err != nil {
		return false, err
	}
	c.width = max(c.width, len(fields))
	blank = true
	ascii := c.cr.ascii
	for f, i := range idx {
		var s string
		if i >= 0 && i < len(fields) {
			if s = fields[i]; ascii {
				s = cleanASCII(s)
			} else {
				s = c.clean(s)
			}
		}
		rec.Cells[f] = Cell{Text: s}
		blank = blank && s == ""
	}
	if blank {
		for _, s := range fields {
			if c.clean(s) != "" {
				return false, nil
			}
		}
	}
	return blank, nil
}

// clean trims a field and reads it as Windows-1252 when it is not UTF-8.
func (c *csvReader) clean(s string) string {
	if plainASCII(s) {
		return s
	}
	s = strings.TrimSpace(s)
	if c.utf8 && !utf8.ValidString(s) {
		// Windows-1252 bytes past the part that was sniffed.
		s = strings.TrimSpace(decodeCP1252(s))
	}
	return s
}

// cleanASCII is clean for ASCII text: it trims spaces and control
// characters, as strings.TrimSpace does.
func cleanASCII(s string) string {
	if s != "" && (s[0] <= ' ' || s[len(s)-1] <= ' ') {
		return strings.TrimSpace(s)
	}
	return s
}

// plainASCII reports whether s is ASCII that neither starts nor ends with a
// space or control character: text that needs no trimming and no decoding.
func plainASCII(s string) bool {
	if s == "" {
		return true
	}
	return s[0] > ' ' && s[len(s)-1] > ' ' && isASCII(s)
}

// decodeCP1252 reads s as Windows-1252.
func decodeCP1252(s string) string {
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

func (c *csvReader) readError(err error) *FileError {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &FileError{Path: c.path, Msg: "cannot read the file: " + err.Error(), Hint: hintSaveCSV, Err: err}
	}
	fe := &FileError{Path: c.path, Row: pe.StartLine - c.cr.recBreaks, Err: err}
	at := ""
	if pe.Line != pe.StartLine {
		at = fmt.Sprintf(" (the row starts on line %d; the problem is on line %d)", pe.StartLine, pe.Line)
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		fe.Msg = `a field has a " in it but is not quoted` + at
		fe.Hint = `put the whole field in double quotes and double the quote inside it: "19"" rack"`
	case errors.Is(pe.Err, errRecordTooLong):
		fe.Msg = "a row is longer than 1 MB" + at + "; reading stopped there"
		fe.Hint = "a roster row is a few hundred bytes: check that this is a roster saved as CSV, and that every quoted field is closed with \""
	case errors.Is(pe.Err, csv.ErrQuote):
		fe.Msg = `a quoted field is not closed properly: its closing " is missing or followed by more text` + at
		fe.Hint = `close every quoted field with " before the next separator, and double any " inside it`
	default:
		fe.Msg = pe.Err.Error() + at
		fe.Hint = hintSaveCSV
	}
	return fe
}
