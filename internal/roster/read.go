package roster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// headerSearchRows is how many non-blank rows Open looks through for the
// header: a title or a note above the header is tolerated.
const headerSearchRows = 10

// Hints shared by several errors.
const (
	hintSaveXLSX    = "open it in Excel and save it as .xlsx (File > Save As > Excel Workbook), or export it as .csv"
	hintNoRows      = "add a header row with the visitor columns and one row per visitor below it"
	hintHeaderOnly  = "add one row per visitor below the header"
	hintCheckPath   = "check the path and that you may read it"
	hintDamagedXLSX = "open it in Excel and save it again as .xlsx (File > Save As > Excel Workbook)"
)

// rowReader yields a sheet's or a CSV's rows, blank ones included or not.
type rowReader interface {
	// next returns the next row's number and cells, indexed by column. The
	// slice is reused by the next call. It returns io.EOF after the last row.
	next() (row int, cells []Cell, err error)
	// want tells which columns' text is needed from now on; the others are
	// only checked for being blank. nil means all.
	want(cols []bool)
	// rowHidden tells whether the row next returned last is hidden.
	rowHidden() bool
	close() error
}

// Open opens a roster file for reading, by its content: an .xlsx workbook or
// a CSV file (UTF-8, UTF-16 with a byte-order mark, or Windows-1252; comma,
// semicolon or tab separated). It finds the header row and reads ahead to the
// first visitor row, so a file that cannot be a roster fails here. All errors
// are *FileError.
func Open(path string, opt ReadOptions) (Source, error) {
	f, kind, err := openKind(path)
	if err != nil {
		return nil, err
	}
	var rr rowReader
	sheet, date1904 := "", false
	switch kind {
	case kindXLSX:
		var x *xlsxReader
		x, err = openXLSX(f, path, opt)
		if err == nil && opt.Tee != nil {
			x.rc = opt.Tee.attach(x.rc, path, x.sheet, x.wb.sharedStringsSize())
			x.sc = newXMLScanner(x.rc)
		}
		if err == nil {
			sheet, date1904 = x.sheet, x.wb.date1904
			rr = x
		}
	case kindCSV:
		rr, err = openCSV(f, path)
	default:
		f.Close()
		return nil, kindError(path, kind)
	}
	if err != nil {
		return nil, err
	}
	s, err := newSource(rr, path, sheet, date1904)
	if err != nil {
		rr.close()
		return nil, err
	}
	return s, nil
}

// fileKind is what a file's content says it is.
type fileKind int

const (
	kindCSV fileKind = iota
	kindXLSX
	kindXLS       // legacy binary workbook
	kindEncrypted // password-protected OOXML
	kindOLE       // another compound document (.doc, .msg, …)
	kindBinary    // not a spreadsheet
)

var (
	magicZip = []byte("PK\x03\x04")
	magicOLE = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// openKind opens path and tells what it holds, with a *FileError for a
// missing, unreadable, empty or directory path.
func openKind(path string) (*os.File, fileKind, error) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, 0, &FileError{Path: path, Msg: "no such file", Hint: "check the file name and folder", Err: err}
		case errors.Is(err, os.ErrPermission):
			return nil, 0, &FileError{Path: path, Msg: "permission denied", Hint: "check that you may read the file", Err: err}
		}
		return nil, 0, &FileError{Path: path, Msg: "cannot open the file: " + err.Error(), Hint: hintCheckPath, Err: err}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, &FileError{Path: path, Msg: "cannot open the file: " + err.Error(), Hint: hintCheckPath, Err: err}
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, &FileError{Path: path, Msg: "is a folder, not a roster file", Hint: "name the .xlsx or .csv file inside it"}
	}
	if st.Size() == 0 {
		f.Close()
		return nil, 0, &FileError{Path: path, Msg: "the file is empty", Hint: hintNoRows}
	}
	var head [512]byte
	n, err := f.ReadAt(head[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, 0, &FileError{Path: path, Msg: "cannot read the file: " + err.Error(), Hint: hintCheckPath, Err: err}
	}
	kind := sniff(head[:n])
	if kind == kindXLS {
		kind = oleKind(f, st.Size())
	}
	return f, kind, nil
}

// sniff tells a file's kind from its first bytes.
func sniff(b []byte) fileKind {
	switch {
	case bytes.HasPrefix(b, magicZip), bytes.HasPrefix(b, []byte("PK\x05\x06")):
		return kindXLSX
	case bytes.HasPrefix(b, magicOLE):
		return kindXLS
	}
	for _, m := range [][]byte{
		[]byte("%PDF"), []byte("\x89PNG"), []byte("GIF8"), {0xFF, 0xD8, 0xFF}, {0x1F, 0x8B},
		[]byte("\x7fELF"), []byte("Rar!"), []byte("7z\xBC\xAF"), []byte("{\\rtf"),
	} {
		if bytes.HasPrefix(b, m) {
			return kindBinary
		}
	}
	return kindCSV
}

// kindError is the error for a file that is not an .xlsx or a CSV.
func kindError(path string, kind fileKind) *FileError {
	ext := strings.ToLower(filepath.Ext(path))
	switch kind {
	case kindXLS:
		return &FileError{Path: path, Msg: "is a legacy Excel 97-2003 workbook (.xls), which wvbatch cannot read",
			Hint: "save it as .xlsx from Excel: File > Save As > Excel Workbook"}
	case kindEncrypted:
		return &FileError{Path: path, Msg: "the workbook is password-protected",
			Hint: "remove the password: File > Info > Protect Workbook > Encrypt with Password, clear it and save"}
	}
	what := "not a spreadsheet"
	switch ext {
	case ".xlsx", ".xlsm", ".xls", ".csv":
		what = "not a spreadsheet, although its name ends in " + ext
	case ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".doc", ".docx", ".zip", ".ods", ".numbers":
		what = "a " + strings.TrimPrefix(ext, ".") + " file, not a spreadsheet"
	}
	return &FileError{Path: path, Msg: what, Hint: hintSaveXLSX}
}

// source is a Source over any rowReader: it finds the header, skips blank
// rows and arranges each row's cells by field. Once the header is found, a
// goroutine reads ahead in batches of rows, so that reading the file and
// checking the rows Next returns run side by side.
type source struct {
	rr      rowReader
	header  Header
	pending bool // rec holds the first data row, read by Open
	first   Record
	path    string
	done    bool

	batches chan *rowBatch // filled batches, in file order
	free    chan *rowBatch // batches Next has finished with
	stop    chan struct{}  // closed by Close
	stopped chan struct{}  // closed when the read-ahead goroutine ends
	cur     *rowBatch
	at      int // the next record of cur

	lastRow, lastCol int // see Extent
}

// rowBatch is a run of data rows read ahead, then what ended the run, if
// anything (io.EOF after the last row).
type rowBatch struct {
	recs []Record
	err  error
}

// Read-ahead sizes: rows per batch, and batches in flight.
const (
	batchRows    = 256
	batchesAhead = 32
)

func newSource(rr rowReader, path, sheet string, date1904 bool) (*source, error) {
	s := &source{rr: rr, path: path}
	where := func(e *FileError) *FileError {
		e.Path, e.Sheet = path, sheet
		return e
	}
	var (
		titles   []int // rows skipped above the header
		titleHit = -1  // the first of them naming a visitor column
		titleCol int
		seen     int
	)
	for {
		row, cells, err := rr.next()
		s.saw(row, len(cells))
		if errors.Is(err, io.EOF) {
			if seen == 0 {
				return nil, where(&FileError{Msg: "the roster is empty: it has no rows", Hint: hintNoRows})
			}
			return nil, noHeader(where, titles)
		}
		if err != nil {
			return nil, err
		}
		if blank(cells) {
			continue
		}
		seen++
		if recognized(cells) >= 2 {
			if titleHit >= 0 {
				return nil, where(&FileError{Row: titleHit, Column: ColumnName(titleCol),
					Msg:  fmt.Sprintf("row %d looks like part of the header (it names a visitor column) but the header is row %d", titleHit, row),
					Hint: "keep the column names in one row: delete or move the text above the header"})
			}
			texts := make([]string, len(cells))
			for i := range cells {
				texts[i] = cells[i].Text
			}
			h, err := MapHeader(texts)
			if err != nil {
				fe := err.(*FileError)
				fe.Row = row
				return nil, where(fe)
			}
			h.Path, h.Sheet, h.Row, h.Date1904 = path, sheet, row, date1904
			s.header = *h
			break
		}
		if seen >= headerSearchRows {
			return nil, noHeader(where, append(titles, row))
		}
		if col, ok := firstRecognized(cells); ok && titleHit < 0 {
			titleHit, titleCol = row, col
		}
		titles = append(titles, row)
	}
	wanted := make([]bool, len(s.header.Columns))
	for _, i := range s.header.Index {
		if i >= 0 {
			wanted[i] = true
		}
	}
	rr.want(wanted)
	switch err := s.read(&s.first); {
	case errors.Is(err, io.EOF):
		return nil, where(&FileError{Row: s.header.Row, Msg: "the roster has a header but no visitor rows", Hint: hintHeaderOnly})
	case err != nil:
		return nil, err
	}
	s.pending = true
	s.batches = make(chan *rowBatch, batchesAhead)
	s.free = make(chan *rowBatch, batchesAhead+1)
	s.stop = make(chan struct{})
	s.stopped = make(chan struct{})
	go s.readAhead()
	return s, nil
}

// readAhead reads data rows into batches until the end of the file, an
// error or Close.
func (s *source) readAhead() {
	defer close(s.stopped)
	for {
		var b *rowBatch
		select {
		case b = <-s.free:
			b.recs = b.recs[:0]
		default:
			b = &rowBatch{recs: make([]Record, 0, batchRows)}
		}
		// read sets every part of a record: no need to clear them first.
		b.recs = b.recs[:batchRows]
		for i := range b.recs {
			if err := s.read(&b.recs[i]); err != nil {
				b.recs, b.err = b.recs[:i], err
				break
			}
		}
		select {
		case s.batches <- b:
		case <-s.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// noHeader is the error for a sheet whose first rows name no columns.
func noHeader(where func(*FileError) *FileError, rows []int) *FileError {
	msg := "no header row found: no row names the visitor columns"
	if len(rows) > 0 {
		msg = fmt.Sprintf("no header row found: none of the first %d non-blank rows names two or more visitor columns", len(rows))
	}
	return where(&FileError{Msg: msg,
		Hint: "the first row should hold the column names, e.g. " + expectedColumns()})
}

// blank reports whether every cell is empty.
func blank(cells []Cell) bool {
	for i := range cells {
		if cells[i].Text != "" {
			return false
		}
	}
	return true
}

func (s *source) Header() *Header { return &s.header }

func (s *source) Next(rec *Record) error {
	r, err := s.Read()
	if err == nil {
		*rec = *r
	}
	return err
}

func (s *source) Read() (*Record, error) {
	if s.pending {
		s.pending = false
		return &s.first, nil
	}
	for s.cur == nil || s.at == len(s.cur.recs) {
		if s.cur != nil {
			if s.cur.err != nil {
				return nil, s.cur.err
			}
			select {
			case s.free <- s.cur:
			default:
			}
		}
		s.cur, s.at = <-s.batches, 0
	}
	s.at++
	return &s.cur.recs[s.at-1], nil
}

// read fills rec with the next non-blank row.
func (s *source) read(rec *Record) error {
	idx := &s.header.Index
	if c, ok := s.rr.(*csvReader); ok {
		for {
			blank, err := c.readInto(idx, rec)
			rec.Hidden = false
			if err == nil {
				s.saw(rec.Row, c.width)
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					s.done = true
				}
				return err
			}
			if !blank {
				return nil
			}
		}
	}
	for {
		row, cells, err := s.rr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.done = true
			}
			return err
		}
		s.saw(row, len(cells))
		if blank(cells) {
			continue
		}
		rec.Row = row
		rec.Hidden = s.rr.rowHidden()
		for f, i := range idx {
			if i >= 0 && i < len(cells) {
				rec.Cells[f] = cells[i]
			} else {
				rec.Cells[f] = Cell{}
			}
		}
		return nil
	}
}

// saw notes a row that is in the file, for Extent.
func (s *source) saw(row, cells int) {
	if cells > 0 {
		s.lastRow = max(s.lastRow, row)
		s.lastCol = max(s.lastCol, cells)
	}
}

// Extent returns the last row and the number of columns of the rows read
// so far: of the whole sheet once Next has returned io.EOF.
func (s *source) Extent() (lastRow, lastCol int) { return s.lastRow, s.lastCol }

func (s *source) Close() error {
	if s.stop != nil {
		close(s.stop)
		<-s.stopped
		s.stop = nil
	}
	return s.rr.close()
}
