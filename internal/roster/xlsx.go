package roster

import (
	kflate "github.com/klauspost/compress/flate"

	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// An .xlsx is read straight from its zip: the workbook, its relationships and
// styles are small and decoded with encoding/xml; the worksheet and the
// shared strings are streamed with xmlScanner. Nothing is unpacked to disk,
// and memory holds only the shared strings (packed into one string) and one
// row. (excelize's own row iterator copies a large worksheet to a temporary
// file first, formats or re-parses every cell, and keeps a large
// shared-strings table in a temporary file it reads once per cell.)

// maxSmallPart bounds the parts decoded whole: workbook, relationships, styles.
const maxSmallPart = 64 << 20

// maxSharedStrings bounds the shared-strings part, which is held in memory:
// a full-size sheet of distinct texts needs a few hundred MB.
const maxSharedStrings = 1 << 30

// maxColumns is Excel's column limit (XFD).
const maxColumns = 16384

// workbook is an opened .xlsx package.
type workbook struct {
	path   string
	file   *os.File
	zr     *zip.Reader
	parts  map[string]*zip.File // by lower-case name
	sheets []wbSheet
	base   string // the folder of the workbook part, e.g. "xl"
	rels   map[string]wbRel
	// date1904: date serials count from 1904-01-01.
	date1904 bool

	workbookPart string // lower case
	keepSpace    bool   // shared strings as stored, not trimmed (OpenRawSheet)
}

type wbSheet struct {
	Name string `xml:"name,attr"`
	RID  string `xml:"id,attr"`
}

type wbRel struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
	Mode   string `xml:"TargetMode,attr"`
}

func (w *workbook) errorf(hint, format string, args ...any) *FileError {
	return &FileError{Path: w.path, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// damaged is the error for a workbook whose structure cannot be read.
func (w *workbook) damaged(what string, err error) *FileError {
	msg := "the workbook is damaged: " + what
	if err != nil {
		msg += ": " + err.Error()
	}
	return &FileError{Path: w.path, Msg: msg, Hint: hintDamagedXLSX, Err: err}
}

// openWorkbook reads an .xlsx package's structure. It checks the unpacked
// size from the zip's directory before inflating anything. It takes
// ownership of f.
func openWorkbook(f *os.File, filePath string, opt ReadOptions) (wb *workbook, err error) {
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, &FileError{Path: filePath, Msg: "cannot read the file: " + err.Error(), Hint: hintCheckPath, Err: err}
	}
	w := &workbook{path: filePath, file: f}
	w.zr, err = zip.NewReader(f, st.Size())
	if err != nil {
		return nil, &FileError{Path: filePath, Msg: "not a spreadsheet: it starts like a zip archive but cannot be opened (" + err.Error() + ")",
			Hint: hintSaveXLSX, Err: err}
	}
	w.zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return kflate.NewReader(r) })
	limit := opt.MaxUnzipSize
	if limit <= 0 {
		limit = DefaultMaxUnzipSize
	}
	var total uint64
	w.parts = make(map[string]*zip.File, len(w.zr.File))
	for _, zf := range w.zr.File {
		total += zf.UncompressedSize64
		if total > uint64(limit) || total < zf.UncompressedSize64 {
			return nil, w.errorf("split the roster into smaller files, or export the sheet as .csv",
				"the workbook is too large: it unpacks to more than %s", byteSize(limit))
		}
		w.parts[strings.ToLower(strings.ReplaceAll(zf.Name, "\\", "/"))] = zf
	}
	wbPath := "xl/workbook.xml"
	var root struct {
		Rels []wbRel `xml:"Relationship"`
	}
	if ok, err := w.decodeSmall("_rels/.rels", &root); err != nil {
		return nil, err
	} else if ok {
		for _, r := range root.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = strings.TrimPrefix(path.Clean("/"+r.Target), "/")
			}
		}
	}
	if w.parts[strings.ToLower(wbPath)] == nil {
		return nil, w.notWorkbook()
	}
	w.base = path.Dir(wbPath)
	w.workbookPart = strings.ToLower(wbPath)
	var book struct {
		Sheets []wbSheet `xml:"sheets>sheet"`
		Pr     struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
	}
	if _, err := w.decodeSmall(wbPath, &book); err != nil {
		return nil, err
	}
	w.sheets = book.Sheets
	w.date1904 = xmlTrue(book.Pr.Date1904)
	if len(w.sheets) == 0 {
		return nil, w.damaged("it lists no sheets", nil)
	}
	var rels struct {
		Rels []wbRel `xml:"Relationship"`
	}
	if _, err := w.decodeSmall(path.Join(w.base, "_rels", path.Base(wbPath)+".rels"), &rels); err != nil {
		return nil, err
	}
	w.rels = make(map[string]wbRel, len(rels.Rels))
	for _, r := range rels.Rels {
		w.rels[r.ID] = r
	}
	return w, nil
}

// notWorkbook names what a zip that holds no workbook is, when it can tell.
func (w *workbook) notWorkbook() *FileError {
	what := "a zip archive, not an Excel workbook"
	switch {
	case w.parts["word/document.xml"] != nil:
		what = "a Word document, not a spreadsheet"
	case w.parts["ppt/presentation.xml"] != nil:
		what = "a PowerPoint presentation, not a spreadsheet"
	case w.parts["mimetype"] != nil && w.parts["content.xml"] != nil:
		what = "an OpenDocument file (.ods), which wvbatch cannot read"
	case w.parts["index/document.iwa"] != nil:
		what = "an Apple Numbers file, which wvbatch cannot read"
	}
	return &FileError{Path: w.path, Msg: what, Hint: hintSaveXLSX}
}

// part returns a package part by its name, or nil.
func (w *workbook) part(name string) *zip.File {
	return w.parts[strings.ToLower(strings.TrimPrefix(name, "/"))]
}

// decodeSmall decodes a small XML part into v. It reports false when the
// part does not exist.
func (w *workbook) decodeSmall(name string, v any) (bool, error) {
	zf := w.part(name)
	if zf == nil {
		return false, nil
	}
	if zf.UncompressedSize64 > maxSmallPart {
		return false, w.damaged(name+" is too large", nil)
	}
	rc, err := zf.Open()
	if err != nil {
		return false, w.damaged("cannot unpack "+name, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(io.LimitReader(rc, maxSmallPart)).Decode(v); err != nil {
		return false, w.damaged("cannot read "+name, err)
	}
	return true, nil
}

// relTarget resolves a workbook relationship to a part name.
func (w *workbook) relTarget(r wbRel) string {
	if strings.HasPrefix(r.Target, "/") {
		return strings.TrimPrefix(path.Clean(r.Target), "/")
	}
	return strings.TrimPrefix(path.Clean("/"+path.Join(w.base, r.Target)), "/")
}

// relOfType returns the part of the workbook's first relationship whose type
// ends in suffix ("/sharedStrings"), or "".
func (w *workbook) relOfType(suffix, fallback string) string {
	for _, r := range w.rels {
		if strings.HasSuffix(r.Type, suffix) {
			return w.relTarget(r)
		}
	}
	if w.part(fallback) != nil {
		return fallback
	}
	return ""
}

func (w *workbook) sheetNames() string {
	names := make([]string, len(w.sheets))
	for i, s := range w.sheets {
		names[i] = strconv.Quote(s.Name)
	}
	return strings.Join(names, ", ")
}

// findSheet returns the sheet named name (matched as Excel does, ignoring
// case), or the default sheet when name is "".
func (w *workbook) findSheet(name string) (wbSheet, error) {
	want := name
	if want == "" {
		want = TemplateVisitorsSheet
	}
	for _, s := range w.sheets {
		if s.Name == want {
			return s, nil
		}
	}
	for _, s := range w.sheets {
		if strings.EqualFold(s.Name, want) {
			return s, nil
		}
	}
	if name == "" {
		return w.sheets[0], nil
	}
	return wbSheet{}, &FileError{Path: w.path, Msg: fmt.Sprintf("the workbook has no sheet %q; its sheets are %s", name, w.sheetNames()),
		Hint: "name one of those sheets (--sheet)"}
}

// openSheet starts streaming a sheet.
func (w *workbook) openSheet(s wbSheet) (io.ReadCloser, error) {
	r, ok := w.rels[s.RID]
	if !ok {
		return nil, w.damaged(fmt.Sprintf("sheet %q has no part", s.Name), nil)
	}
	if !strings.HasSuffix(r.Type, "/worksheet") {
		kind := r.Type[strings.LastIndexByte(r.Type, '/')+1:]
		if kind == "chartsheet" {
			kind = "chart"
		}
		return nil, &FileError{Path: w.path, Sheet: s.Name, Msg: fmt.Sprintf("the sheet is a %s, not a table of rows", kind),
			Hint: "name the sheet that holds the visitors (--sheet); the workbook's sheets are " + w.sheetNames()}
	}
	name := w.relTarget(r)
	zf := w.part(name)
	if zf == nil {
		return nil, w.damaged(fmt.Sprintf("sheet %q: part %s is missing", s.Name, name), nil)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, w.damaged("cannot unpack "+name, err)
	}
	return rc, nil
}

func (w *workbook) close() error { return w.file.Close() }

// sharedStrings is a workbook's shared-strings table, each string trimmed,
// packed into one string.
type sharedStrings struct {
	all  string
	ends []int
}

func (t *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i >= len(t.ends) {
		return "", false
	}
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.all[start:t.ends[i]], true
}

// readSharedStrings streams the shared-strings part, if there is one.
// sharedStringsSize is the unpacked size of the shared strings part; 0
// when there is none.
func (w *workbook) sharedStringsSize() uint64 {
	name := w.relOfType("/sharedStrings", path.Join(w.base, "sharedStrings.xml"))
	if zf := w.part(name); name != "" && zf != nil {
		return zf.UncompressedSize64
	}
	return 0
}

func (w *workbook) readSharedStrings() (*sharedStrings, error) {
	t := &sharedStrings{}
	name := w.relOfType("/sharedStrings", path.Join(w.base, "sharedStrings.xml"))
	if name == "" {
		return t, nil
	}
	zf := w.part(name)
	if zf == nil {
		return nil, w.damaged("the shared strings part "+name+" is missing", nil)
	}
	if zf.UncompressedSize64 > maxSharedStrings {
		// They are held in memory while the sheet is read.
		return nil, w.errorf("export the sheet as .csv (File > Save As > CSV UTF-8), or split the roster into smaller files",
			"the workbook's text table (shared strings) is too large: it unpacks to more than %s", byteSize(maxSharedStrings))
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, w.damaged("cannot unpack "+name, err)
	}
	defer rc.Close()
	maxCount, maxText := sharedStringsLimits(w.worksheetBytes())
	var b strings.Builder
	b.Grow(int(min(zf.UncompressedSize64/3, uint64(maxText))))
	sc := newXMLScanner(rc)
	var (
		si            []byte
		inSI, inRPh   bool
		inT           bool
		uniqueCounted bool
	)
	for sc.next() {
		switch sc.kind {
		case tokStart:
			switch string(sc.name) {
			case "sst":
				if n, ok := sc.attr("uniqueCount"); ok && !uniqueCounted {
					uniqueCounted = true
					if c, err := strconv.Atoi(string(n)); err == nil && c > 0 {
						t.ends = make([]int, 0, min(c, 1<<20, maxCount))
					}
				}
			case "si":
				inSI, si = true, si[:0]
				if len(t.ends) >= maxCount {
					return nil, w.sharedStringsError("more than " + strconv.Itoa(maxCount) + " strings")
				}
				if sc.self {
					inSI = false
					t.ends = append(t.ends, b.Len())
				}
			case "rPh":
				inRPh = !sc.self
			case "t":
				inT = !sc.self
			}
		case tokEnd:
			switch string(sc.name) {
			case "si":
				if inSI {
					inSI = false
					if cellTooLong(si) {
						return nil, w.errorf("keep each cell under 32,767 characters, as Excel does",
							"text %d of the workbook's text table is longer than Excel's %d characters per cell", len(t.ends)+1, maxCellChars)
					}
					if b.Len()+len(si) > maxText {
						return nil, w.sharedStringsError("more than " + byteSize(int64(maxText)) + " of text")
					}
					if w.keepSpace {
						b.Write(unescapeOOXML(si))
					} else {
						b.Write(cleanText(si))
					}
					t.ends = append(t.ends, b.Len())
				}
			case "rPh":
				inRPh = false
			case "t":
				inT = false
			}
		case tokText:
			if inSI && inT && !inRPh {
				si = append(si, sc.text...)
			}
		}
	}
	if err := sc.error(); err != nil {
		return nil, w.damaged("cannot read "+name, err)
	}
	t.all = b.String()
	return t, nil
}

// xmlTrue reads an XML boolean attribute: "1" or "true".
func xmlTrue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "1" || strings.EqualFold(s, "true")
}

// cellStyle is what a cell style's number format says of how a number shows.
type cellStyle struct {
	date bool  // a date or a time
	pad  uint8 // digits a whole number is padded to with zeros ("0000": 4)
}

// readStyles returns, for each cell style (the index in a cell's s
// attribute), how its number format shows a number.
func (w *workbook) readStyles() ([]cellStyle, error) {
	name := w.relOfType("/styles", path.Join(w.base, "styles.xml"))
	if name == "" {
		return nil, nil
	}
	var ss struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if _, err := w.decodeSmall(name, &ss); err != nil {
		return nil, err
	}
	custom := make(map[int]cellStyle, len(ss.NumFmts))
	for _, nf := range ss.NumFmts {
		custom[nf.ID] = cellStyle{date: isDateFormat(nf.Code), pad: zeroPad(nf.Code)}
	}
	styles := make([]cellStyle, len(ss.Xfs))
	for i, xf := range ss.Xfs {
		if st, ok := custom[xf.NumFmtID]; ok {
			styles[i] = st
		} else {
			styles[i].date = isBuiltInDateFormat(xf.NumFmtID)
		}
	}
	return styles, nil
}

// zeroPad returns how many digits at least a number format of zeros (and
// #) shows a whole number with, "0000" giving 4: a format that keeps the
// leading zeros of codes typed as numbers. It returns 0 for any other
// format, and for one that pads to a single digit ("0", "0###").
func zeroPad(code string) uint8 {
	if code == "" || len(code) > 40 {
		return 0
	}
	zeros := 0
	for i := 0; i < len(code); i++ {
		switch code[i] {
		case '0':
			zeros++
		case '#':
		default:
			return 0
		}
	}
	if zeros < 2 {
		return 0 // "0" and "#" show a number as General does
	}
	return uint8(zeros)
}

// isBuiltInDateFormat reports whether a built-in number format (one a
// workbook uses by id without defining it) shows a date or a time.
func isBuiltInDateFormat(id int) bool {
	switch {
	case id >= 14 && id <= 22, id >= 27 && id <= 36, id >= 45 && id <= 47,
		id >= 50 && id <= 58, id >= 71 && id <= 81:
		return true
	}
	return false
}

// isDateFormat reports whether a number format code shows a date or a time:
// whether it has a y, m, d, h or s outside quoted text, escapes and brackets
// (or an elapsed-time bracket such as [h]).
func isDateFormat(code string) bool {
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				return false
			}
			i += j + 1
		case '\\', '_', '*':
			i++
		case '[':
			j := strings.IndexByte(code[i+1:], ']')
			if j < 0 {
				return false
			}
			inner := strings.ToLower(code[i+1 : i+1+j])
			if inner != "" && strings.Trim(inner, "hms") == "" {
				return true
			}
			i += j + 1
		case 'y', 'Y', 'm', 'M', 'd', 'D', 'h', 'H', 's', 'S':
			return true
		}
	}
	return false
}

// cleanText trims a cell's text (spaces, tabs, newlines, no-break spaces)
// and undoes Excel's _xHHHH_ escapes of control characters.
func cleanText(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if bytes.Contains(b, []byte("_x")) {
		b = bytes.TrimSpace(unescapeOOXML(b))
	}
	return b
}

// unescapeOOXML replaces _xHHHH_ with the character U+HHHH, in place.
func unescapeOOXML(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); {
		if b[r] == '_' && IsOOXMLEscape(b[r:]) {
			v, _ := strconv.ParseUint(string(b[r+2:r+6]), 16, 16) // four hex digits
			if v < 0x80 {
				b[w] = byte(v)
				w++
			} else {
				w += copy(b[w:], string(rune(v)))
			}
			r += 7
			continue
		}
		b[w] = b[r]
		w++
		r++
	}
	return b[:w]
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
