package report

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// compressLevel is the deflate level of the report's parts. Measured on
// 200 MB of a million-row report's sheet XML with klauspost/compress:
// level 1 takes 0.47-0.51 s and makes 14 MB, level 2 0.61 s and 13 MB,
// level 3 0.60-0.64 s and 13 MB, level 5 0.84 s and 12 MB; Huffman only
// 0.51-0.56 s and 112 MB. Level 1 makes the million-row report 54 MB
// instead of 52 MB.
const compressLevel = 1

const (
	nsMain      = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRel       = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	relWorksht  = nsRel + "/worksheet"
	relComments = nsRel + "/comments"
	relVML      = nsRel + "/vmlDrawing"
	relStyles   = nsRel + "/styles"
	ctSheet     = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
	ctComments  = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
	ctVML       = "application/vnd.openxmlformats-officedocument.vmlDrawing"
	ctStyles    = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
	ctWorkbook  = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
	// ctMacroWorkbook is an .xlsm's workbook, which Excel refuses in an
	// .xlsx.
	ctMacroWorkbook = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
)

// WriteWorkbook writes the report workbook of a roster to w: the roster's
// workbook with every other sheet (the Order sheet, any other) as it was,
// the roster's sheet copied (same name, cells, types, styles, row heights
// and column widths; a CSV's cells as text on a sheet named Visitors) with
// the columns Status, Order, Problems and How to fix after the last used
// column, its problem cells highlighted and commented (see MaxComments),
// and a Summary sheet of counts and orders.
//
// The roster sheet is read and written streaming, straight as worksheet
// XML, so a large roster's report needs little memory. Every cell is
// written as a value, never as a formula: a source formula keeps its cached
// value, and text that looks like a formula stays text. What a workbook
// cannot hold (characters XML cannot carry, rows or columns past Excel's
// limits) is replaced or left out, and the Summary sheet says so.
func WriteWorkbook(w io.Writer, in WorkbookInput) error {
	_, err := writeWorkbook(w, in, true)
	return err
}

// writeWorkbook is WriteWorkbook; with copyRows, the rows that keep their
// cells as they are are copied as the roster's reader gives them (see
// roster.CopyOptions) rather than cell by cell, which writes the same
// bytes. It returns the number of rows copied so.
func writeWorkbook(w io.Writer, in WorkbookInput, copyRows bool) (copied int, err error) {
	in.HeaderRow = cmp.Or(in.HeaderRow, 1)
	rep := &reportWriter{in: in, copyRows: copyRows}
	if err := rep.open(); err != nil {
		return 0, fmt.Errorf("read roster %s: %w", in.Source, err)
	}
	defer func() { rep.src.close() }() // the source read ahead once the header is in
	if err := rep.write(w); err != nil {
		return rep.copied, fmt.Errorf("write report of %s: %w", in.Source, err)
	}
	return rep.copied, nil
}

type reportWriter struct {
	in  WorkbookInput
	src rowSource
	raw *roster.RawSheet // an .xlsx source
	// copyRows: rows that keep their cells are copied as XML; copied
	// counts them.
	copyRows bool
	copied   int
	// fromDimension: the extent is the sheet's <dimension>, read with the
	// rows (see Ahead).
	fromDimension bool
	pkg           *zip.Reader // nil for a CSV
	// The source's workbook part and the roster sheet's part.
	wbPart, sheetPart string
	sheetName         string

	lastRow, lastCol int // the source's extent, 1-based
	statusCols       [4]int
	width            int // columns of the report sheet
	cols             []string
	styles           *styleBook
	stats            textStats
	comments         []comment
	omitted          int // problem cells past MaxComments
	rowsLeft         int // source rows past the sheet's limit
	colsLeft         bool
}

type comment struct {
	col, row int
	text     string
}

func (rep *reportWriter) open() error {
	switch ext := strings.ToLower(filepath.Ext(rep.in.Source)); ext {
	case ".csv", ".txt":
		measure := rep.in.LastRow == 0 || rep.in.LastColumn == 0
		s, err := openCSV(rep.in.Source, measure)
		if err != nil {
			return err
		}
		rep.src, rep.sheetName = s, csvSheetName
		rep.lastRow, rep.lastCol = rep.in.LastRow, rep.in.LastColumn
		if measure {
			rep.lastRow, rep.lastCol = s.extent()
		}
	case ".xlsx", ".xlsm":
		if rep.in.LastRow == 0 || rep.in.LastColumn == 0 {
			if err := rep.measure(); err != nil {
				return err
			}
		} else {
			rep.lastRow, rep.lastCol = rep.in.LastRow, rep.in.LastColumn
		}
		s, err := roster.OpenRawSheet(rep.in.Source, rep.in.Sheet, roster.ReadOptions{})
		if err != nil {
			return err
		}
		rep.src, rep.raw, rep.sheetName = xlsxRows{s}, s, s.Name()
		rep.pkg, rep.wbPart, rep.sheetPart = s.Package()
	default:
		return fmt.Errorf("cannot report on %q files: the roster must be .xlsx or .csv", ext)
	}
	return nil
}

// measure reads the sheet once for its last row and column.
func (rep *reportWriter) measure() error {
	s, err := roster.OpenRawSheet(rep.in.Source, rep.in.Sheet, roster.ReadOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	var r roster.RawRow
	for {
		err := s.Next(&r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(r.Cells) > 0 {
			rep.lastRow = r.Row
			rep.lastCol = max(rep.lastCol, r.Cells[len(r.Cells)-1].Col+1)
		}
	}
}

// zipOut is the report's zip, written with a fast deflate.
type zipOut struct {
	zw   *zip.Writer
	pool sync.Pool
}

func newZipOut(w io.Writer) *zipOut {
	z := &zipOut{zw: zip.NewWriter(w)}
	z.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		if fw, ok := z.pool.Get().(*flate.Writer); ok {
			fw.Reset(w)
			return &pooledFlate{fw, &z.pool}, nil
		}
		fw, err := flate.NewWriter(w, compressLevel)
		return &pooledFlate{fw, &z.pool}, err
	})
	return z
}

type pooledFlate struct {
	*flate.Writer
	pool *sync.Pool
}

func (p *pooledFlate) Close() error {
	err := p.Writer.Close()
	p.pool.Put(p.Writer)
	return err
}

func (z *zipOut) create(name string) (io.Writer, error) {
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
}

func (z *zipOut) put(name string, data []byte) error {
	w, err := z.create(name)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// streamPart writes a part whose XML write produces, compressing it on
// another goroutine while write encodes the next chunk.
func (z *zipOut) streamPart(name string, write func(o *xmlOut) error) error {
	w, err := z.create(name)
	if err != nil {
		return err
	}
	full := make(chan []byte, 2)
	free := make(chan []byte, 3)
	for range 3 {
		free <- make([]byte, 0, chunkSize+64<<10)
	}
	done := make(chan error, 1)
	go func() {
		var werr error
		for b := range full {
			if werr == nil {
				_, werr = w.Write(b)
			}
			free <- b[:0]
		}
		done <- werr
	}()
	o := &xmlOut{buf: <-free}
	o.flush = func(b []byte) []byte {
		full <- b
		return <-free
	}
	err = write(o)
	if len(o.buf) > 0 {
		full <- o.buf
	}
	close(full)
	if werr := <-done; err == nil {
		err = werr
	}
	return err
}

// parts of the report that are not the source's.
type pkgNames struct {
	summary, comments, vml, sheetRels, styles string
}

func (rep *reportWriter) write(w io.Writer) error {
	z := newZipOut(w)
	base, err := rep.writeHead(z)
	if err != nil {
		return err
	}
	if err := z.streamPart(rep.sheetPart, rep.writeSheet); err != nil {
		return err
	}
	return rep.writeTail(z, base)
}

// writeHead writes the parts of the source kept as they are, and makes the
// package's other parts, which writeTail writes once the roster sheet is
// written.
func (rep *reportWriter) writeHead(z *zipOut) (*basePkg, error) {
	base, err := rep.basePackage()
	if err != nil {
		return nil, err
	}
	rep.styles = newStyleBook(base.styles)

	// Parts copied as they are, still compressed.
	for _, f := range base.copies {
		rc, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		fh := f.FileHeader
		cw, err := z.zw.CreateRaw(&fh)
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(cw, rc); err != nil {
			return nil, err
		}
	}
	return base, nil
}

// writeTail writes the parts that follow the roster sheet: its comments,
// the Summary sheet, the styles and the workbook's own parts.
func (rep *reportWriter) writeTail(z *zipOut, base *basePkg) error {
	names := base.names
	if len(rep.comments) > 0 {
		if err := z.streamPart(names.comments, rep.writeComments); err != nil {
			return err
		}
		if err := z.streamPart(names.vml, rep.writeVML); err != nil {
			return err
		}
		rels := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rIdWv1" Type="` + relComments + `" Target="` + relPath(rep.sheetPart, names.comments) + `"/>` +
			`<Relationship Id="rIdWv2" Type="` + relVML + `" Target="` + relPath(rep.sheetPart, names.vml) + `"/>` +
			`</Relationships>`
		if err := z.put(names.sheetRels, []byte(rels)); err != nil {
			return err
		}
		base.contentTypes = addContentType(base.contentTypes, "/"+names.comments, ctComments)
		base.contentTypes = addDefaultType(base.contentTypes, "vml", ctVML)
	}
	if err := z.streamPart(names.summary, rep.writeSummary); err != nil {
		return err
	}
	if err := z.put(names.styles, rep.styles.part()); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		data []byte
	}{{rep.wbPart, base.workbook}, {base.wbRelsName, base.wbRels}, {"[Content_Types].xml", base.contentTypes}} {
		if err := z.put(p.name, p.data); err != nil {
			return err
		}
	}
	for _, p := range base.extra {
		if err := z.put(p.name, p.data); err != nil {
			return err
		}
	}
	return z.zw.Close()
}

// relPath is target's path relative to the folder of the part from.
func relPath(from, target string) string {
	dir := path.Dir(from)
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		return "/" + target
	}
	return filepath.ToSlash(rel)
}

// basePkg is the package the report starts from: the source's parts to
// copy, and the small parts it edits.
type basePkg struct {
	copies           []*zip.File
	workbook, wbRels []byte
	wbRelsName       string
	contentTypes     []byte
	styles           []byte // nil: fresh
	names            pkgNames
	extra            []namedPart
	summaryName      string
}

type namedPart struct {
	name string
	data []byte
}

type xmlRelationships struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
		Mode   string `xml:"TargetMode,attr"`
	} `xml:"Relationship"`
}

// maxEditedPart bounds the parts the report reads whole to edit them.
const maxEditedPart = 64 << 20

func readPart(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxEditedPart {
		return nil, fmt.Errorf("%s is too large", f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxEditedPart))
}

// relsOf is the relationships part of a part.
func relsOf(part string) string {
	return path.Join(path.Dir(part), "_rels", path.Base(part)+".rels")
}

// resolve turns a relationship's target into a part name.
func resolve(from, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean("/"+path.Join(path.Dir(from), target)), "/")
}

var (
	reSheetID   = regexp.MustCompile(`\bsheetId="([0-9]+)"`)
	reOverride  = regexp.MustCompile(`<Override\b[^>]*?PartName="([^"]*)"[^>]*?(?:/>|>\s*</Override>)`)
	reSheetElem = regexp.MustCompile(`<(?:\w+:)?sheet\b[^>]*?(?:/>|>\s*</(?:\w+:)?sheet>)`)
	reSheetName = regexp.MustCompile(`\bname="([^"]*)"`)
	reRelID     = regexp.MustCompile(`\b(?:\w+:)?id="([^"]*)"`)
	reRelElem   = regexp.MustCompile(`<Relationship\b[^>]*?(?:/>|>\s*</Relationship>)`)
	reRelIDAttr = regexp.MustCompile(`\bId="([^"]*)"`)
	// reVBADefault is the content type of macros by their file extension.
	reVBADefault = regexp.MustCompile(`<Default\b[^>]*?ContentType="application/vnd\.ms-office\.vbaProject"[^>]*?(?:/>|>\s*</Default>)`)
)

// basePackage prepares the package: for a CSV a fresh one, for a workbook
// the source's, less the roster sheet's old relationships (comments,
// drawings), the calculation chain (its cells are values now) and a Summary
// sheet of an earlier report.
func (rep *reportWriter) basePackage() (*basePkg, error) {
	if rep.pkg == nil {
		return rep.freshPackage(), nil
	}
	b := &basePkg{}
	files := map[string]*zip.File{}
	for _, f := range rep.pkg.File {
		files[f.Name] = f
	}
	wbRelsName := relsOf(rep.wbPart)
	b.wbRelsName = wbRelsName
	var err error
	if b.workbook, err = readPart(files[rep.wbPart]); err != nil {
		return nil, err
	}
	if f := files[wbRelsName]; f != nil {
		if b.wbRels, err = readPart(f); err != nil {
			return nil, err
		}
	}
	if f := files["[Content_Types].xml"]; f != nil {
		if b.contentTypes, err = readPart(f); err != nil {
			return nil, err
		}
	}
	var rels xmlRelationships
	_ = xml.Unmarshal(b.wbRels, &rels)

	// drop: parts not copied; gone: those of them the report has no more.
	drop := map[string]bool{rep.sheetPart: true, rep.wbPart: true, wbRelsName: true, "[Content_Types].xml": true}
	gone := map[string]bool{}
	dropRel := map[string]bool{}
	// The roster sheet's own relationships and what only they point at.
	sheetRels := relsOf(rep.sheetPart)
	drop[sheetRels] = true
	if f := files[sheetRels]; f != nil {
		if data, err := readPart(f); err == nil {
			var sr xmlRelationships
			_ = xml.Unmarshal(data, &sr)
			for _, r := range sr.Rels {
				if r.Mode != "External" {
					t := resolve(rep.sheetPart, r.Target)
					if !rep.referencedElsewhere(files, sheetRels, t) {
						drop[t], gone[t] = true, true
					}
				}
			}
		}
	}
	// A Summary sheet of an earlier report is replaced; another sheet of
	// that name is kept, and the new one gets another name.
	taken := map[string]bool{}
	for _, m := range reSheetElem.FindAll(b.workbook, -1) {
		if n := reSheetName.FindSubmatch(m); n != nil {
			taken[strings.ToLower(xmlUnescape(string(n[1])))] = true
		}
	}
	summaryName := "Summary"
	for _, m := range reSheetElem.FindAll(b.workbook, -1) {
		n := reSheetName.FindSubmatch(m)
		id := reRelID.FindSubmatch(m)
		if n == nil || id == nil || !strings.EqualFold(xmlUnescape(string(n[1])), summaryName) {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID != string(id[1]) || !strings.HasSuffix(r.Type, "/worksheet") {
				continue
			}
			part := resolve(rep.wbPart, r.Target)
			if part != rep.sheetPart && isReportSummary(files[part]) {
				drop[part], drop[relsOf(part)], gone[part] = true, true, true
				dropRel[r.ID] = true
				b.workbook = bytes.Replace(b.workbook, m, nil, 1)
				delete(taken, "summary")
			}
		}
	}
	for i := 1; taken[strings.ToLower(summaryName)]; i++ {
		summaryName = "Run Summary"
		if i > 1 {
			summaryName = fmt.Sprintf("Run Summary %d", i)
		}
	}
	b.summaryName = summaryName

	stylesName := ""
	for _, r := range rels.Rels {
		switch {
		case strings.HasSuffix(r.Type, "/calcChain"), strings.HasSuffix(r.Type, "/vbaProject"):
			// A report is an .xlsx: it has no macros (and its cells no
			// formulas to calculate).
			t := resolve(rep.wbPart, r.Target)
			drop[t], gone[t] = true, true
			dropRel[r.ID] = true
		case strings.HasSuffix(r.Type, "/styles"):
			stylesName = resolve(rep.wbPart, r.Target)
		}
	}
	if stylesName != "" && files[stylesName] != nil {
		if b.styles, err = readPart(files[stylesName]); err != nil {
			return nil, err
		}
		drop[stylesName] = true
	} else {
		// openpyxl looks for the styles at xl/styles.xml, whatever the
		// relationship says.
		stylesName = path.Join(path.Dir(rep.wbPart), "styles.xml")
		if files[stylesName] != nil {
			stylesName = path.Join(path.Dir(rep.wbPart), "styles.wvbatch.xml")
		}
		b.wbRels = addRelationship(b.wbRels, "rIdWvStyles", relStyles, relPath(rep.wbPart, stylesName))
		b.contentTypes = addContentType(b.contentTypes, "/"+stylesName, ctStyles)
	}
	for _, r := range reRelElem.FindAll(b.wbRels, -1) {
		if id := reRelIDAttr.FindSubmatch(r); id != nil && dropRel[string(id[1])] {
			b.wbRels = bytes.Replace(b.wbRels, r, nil, 1)
		}
	}
	b.contentTypes = reOverride.ReplaceAllFunc(b.contentTypes, func(m []byte) []byte {
		if gone[strings.TrimPrefix(string(reOverride.FindSubmatch(m)[1]), "/")] {
			return nil
		}
		return m
	})
	b.contentTypes = bytes.ReplaceAll(b.contentTypes, []byte(ctMacroWorkbook), []byte(ctWorkbook))
	b.contentTypes = reVBADefault.ReplaceAll(b.contentTypes, nil)
	for _, f := range rep.pkg.File {
		if !drop[f.Name] && !strings.HasSuffix(f.Name, "/") {
			b.copies = append(b.copies, f)
		}
	}

	dir := path.Dir(rep.sheetPart)
	b.names = pkgNames{
		summary:   unusedName(files, path.Join(dir, "wvbatch-summary.xml")),
		comments:  unusedName(files, path.Join(path.Dir(rep.wbPart), "wvbatch-comments.xml")),
		vml:       unusedName(files, path.Join(path.Dir(rep.wbPart), "drawings", "wvbatch-comments.vml")),
		sheetRels: sheetRels,
		styles:    stylesName,
	}
	b.finish(rep)
	return b, nil
}

// finish adds the Summary sheet to the workbook, its relationships and
// content types.
func (b *basePkg) finish(rep *reportWriter) {
	maxID := 0
	for _, m := range reSheetID.FindAllSubmatch(b.workbook, -1) {
		if n, err := strconv.Atoi(string(m[1])); err == nil {
			maxID = max(maxID, n)
		}
	}
	sheet := `<sheet xmlns:r="` + nsRel + `" name="` + xmlEscape(b.summaryName) + `" sheetId="` + strconv.Itoa(maxID+1) + `" r:id="rIdWvSummary"/>`
	if i := bytes.LastIndex(b.workbook, []byte("</sheets>")); i >= 0 {
		b.workbook = slices.Concat(b.workbook[:i], []byte(sheet), b.workbook[i:])
	} else if i := bytes.LastIndex(b.workbook, []byte("sheets>")); i >= 0 {
		// A prefixed </x:sheets>.
		j := bytes.LastIndexByte(b.workbook[:i], '<')
		b.workbook = slices.Concat(b.workbook[:j], []byte(sheet), b.workbook[j:])
	}
	b.wbRels = addRelationship(b.wbRels, "rIdWvSummary", relWorksht, relPath(rep.wbPart, b.names.summary))
	b.contentTypes = addContentType(b.contentTypes, "/"+b.names.summary, ctSheet)
}

func addRelationship(rels []byte, id, typ, target string) []byte {
	if len(rels) == 0 {
		rels = []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>`)
	}
	rel := `<Relationship Id="` + id + `" Type="` + typ + `" Target="` + xmlEscape(target) + `"/>`
	i := bytes.LastIndex(rels, []byte("</Relationships>"))
	if i < 0 {
		return rels
	}
	return slices.Concat(rels[:i], []byte(rel), rels[i:])
}

func addContentType(ct []byte, part, typ string) []byte {
	o := `<Override PartName="` + xmlEscape(part) + `" ContentType="` + typ + `"/>`
	i := bytes.LastIndex(ct, []byte("</Types>"))
	if i < 0 {
		return ct
	}
	return slices.Concat(ct[:i], []byte(o), ct[i:])
}

func addDefaultType(ct []byte, ext, typ string) []byte {
	if bytes.Contains(ct, []byte(`Extension="`+ext+`"`)) {
		return ct
	}
	d := `<Default Extension="` + ext + `" ContentType="` + typ + `"/>`
	i := bytes.LastIndex(ct, []byte("</Types>"))
	if i < 0 {
		return ct
	}
	return slices.Concat(ct[:i], []byte(d), ct[i:])
}

// referencedElsewhere reports whether a relationships part other than
// except points at target.
func (rep *reportWriter) referencedElsewhere(files map[string]*zip.File, except, target string) bool {
	for name, f := range files {
		if name == except || !strings.HasSuffix(name, ".rels") {
			continue
		}
		data, err := readPart(f)
		if err != nil {
			continue
		}
		var rs xmlRelationships
		if xml.Unmarshal(data, &rs) != nil {
			continue
		}
		owner := strings.TrimSuffix(strings.Replace(name, "_rels/", "", 1), ".rels")
		for _, r := range rs.Rels {
			if r.Mode != "External" && resolve(owner, r.Target) == target {
				return true
			}
		}
	}
	return false
}

// isReportSummary reports whether a sheet is the Summary sheet of an
// earlier report: its first rows name the Roster and the Sheet.
func isReportSummary(f *zip.File) bool {
	if f == nil || f.UncompressedSize64 > maxEditedPart {
		return false
	}
	rc, err := f.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(rc, head)
	return bytes.Contains(head[:n], []byte(">Roster<")) && bytes.Contains(head[:n], []byte(">Sheet<"))
}

func unusedName(files map[string]*zip.File, name string) string {
	for i := 2; files[name] != nil; i++ {
		ext := path.Ext(name)
		name = strings.TrimSuffix(name, ext) + strconv.Itoa(i) + ext
	}
	return name
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func xmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var v struct {
		S string `xml:",chardata"`
	}
	if xml.Unmarshal([]byte("<a>"+s+"</a>"), &v) != nil {
		return s
	}
	return v.S
}

// freshPackage is the package of a report made from a CSV.
func (rep *reportWriter) freshPackage() *basePkg {
	b := &basePkg{summaryName: "Summary", wbRelsName: "xl/_rels/workbook.xml.rels"}
	rep.wbPart, rep.sheetPart = "xl/workbook.xml", "xl/worksheets/sheet1.xml"
	b.workbook = []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><bookViews><workbookView activeTab="0"/></bookViews><sheets>` +
		`<sheet name="` + xmlEscape(rep.sheetName) + `" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	b.wbRels = []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="` + relWorksht + `" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="` + relStyles + `" Target="styles.xml"/></Relationships>`)
	b.contentTypes = []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="` + ctWorkbook + `"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="` + ctSheet + `"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="` + ctStyles + `"/></Types>`)
	b.extra = []namedPart{{"_rels/.rels", []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="` + nsRel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`)}}
	b.names = pkgNames{summary: "xl/worksheets/sheet2.xml", comments: "xl/comments1.xml", vml: "xl/drawings/vmlDrawing1.vml",
		sheetRels: "xl/worksheets/_rels/sheet1.xml.rels", styles: "xl/styles.xml"}
	b.finish(rep)
	return b
}

// writeSheet writes the roster sheet's XML.
func (rep *reportWriter) writeSheet(o *xmlOut) error {
	hr := rep.in.HeaderRow
	// Rows up to the header are held back: where the four columns go
	// depends on the header.
	var (
		head    []*roster.RawRow
		pending *roster.RawRow
		r       roster.RawRow
		eof     bool
	)
	for {
		err := rep.src.next(&r)
		if err == io.EOF {
			eof = true
			break
		}
		if err != nil {
			return err
		}
		if r.Row > hr {
			pending = cloneRow(&r)
			break
		}
		if len(r.Cells) > 0 || r.Style != 0 || r.Hidden || r.Height > 0 {
			head = append(head, cloneRow(&r))
		}
	}
	var header *roster.RawRow
	if i := slices.IndexFunc(head, func(h *roster.RawRow) bool { return h.Row == hr }); i >= 0 {
		header = head[i]
	} else {
		header = &roster.RawRow{Row: hr}
		head = append(head, header)
		slices.SortFunc(head, func(a, b *roster.RawRow) int { return a.Row - b.Row })
	}
	if rep.fromDimension {
		lastRow, lastCol, ok := rep.raw.Dimension()
		if !ok {
			return errNoDimension
		}
		rep.lastRow, rep.lastCol = lastRow, lastCol
	}
	rep.placeColumns(header)
	rep.cols = allColumns()
	if rep.raw != nil && !eof {
		// The rows after the header are read ahead, those that keep their
		// cells as they are given as XML to copy (see plainRow).
		if rep.copyRows {
			rep.raw.CopyPlain(roster.CopyOptions{Rows: rep.plainRow, Styles: len(rep.styles.xfs),
				Columns: min(slices.Min(rep.statusCols[:]), maxSourceCols)})
		}
		if !rep.fromDimension {
			rep.src = newPrefetch(rep.src)
		}
	} else if cs, ok := rep.src.(*csvSource); ok && rep.copyRows {
		cs.copy = &csvCopy{rows: rep.plainRow, columns: min(slices.Min(rep.statusCols[:]), maxSourceCols), cols: rep.cols, stats: &rep.stats}
	}

	lastRow := min(max(rep.lastRow, hr), maxSheetRows)
	o.s(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><dimension ref="A1:`)
	o.s(rep.cols[rep.width-1])
	o.n(lastRow)
	o.s(`"/><sheetViews><sheetView workbookViewId="0">`)
	if hr < maxSheetRows {
		o.s(`<pane ySplit="`)
		o.n(hr)
		o.s(`" topLeftCell="A`)
		o.n(hr + 1)
		o.s(`" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A`)
		o.n(hr + 1)
		o.s(`" sqref="A`)
		o.n(hr + 1)
		o.s(`"/>`)
	}
	o.s(`</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`)
	rep.writeCols(o)
	o.s(`<sheetData>`)
	for _, h := range head {
		rep.writeRow(o, h)
	}
	if pending != nil {
		rep.writeRow(o, pending)
	}
	for !eof && pending != nil {
		err := rep.src.next(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rep.writeRow(o, &r)
		o.maybeFlush()
	}
	o.s(`</sheetData>`)
	if rep.omitted > 0 {
		// The comment limit is stated where the reader looks: on the
		// Problems header.
		rep.comments = append(rep.comments, comment{col: rep.statusCols[2], row: hr,
			text: fmt.Sprintf("Only the first %d problem cells have a comment; the Problems column lists every problem.", MaxComments)})
	}
	if len(rep.comments) > 0 {
		o.s(`<legacyDrawing r:id="rIdWv2"/>`)
	}
	o.s(`</worksheet>`)
	return nil
}

// placeColumns decides where Status, Order, Problems and How to fix go
// (0-based): in columns of those names the header already has, else after
// the last used column.
func (rep *reportWriter) placeColumns(header *roster.RawRow) {
	names := [4]string{ColumnStatus, ColumnOrder, ColumnProblems, ColumnHowToFix}
	for i := range rep.statusCols {
		rep.statusCols[i] = -1
	}
	last := min(rep.lastCol, maxSourceCols)
	for _, c := range header.Cells {
		if c.Kind != roster.RawText || c.Col >= maxSourceCols {
			continue
		}
		last = max(last, c.Col+1)
		for i, n := range names {
			if rep.statusCols[i] < 0 && strings.EqualFold(strings.TrimSpace(string(c.Value)), n) {
				rep.statusCols[i] = c.Col
			}
		}
	}
	if rep.lastCol > maxSourceCols {
		rep.colsLeft = true
	}
	rep.width = last
	for i := range rep.statusCols {
		if rep.statusCols[i] < 0 {
			rep.statusCols[i] = rep.width
			rep.width++
		}
	}
	rep.width = max(rep.width, 1)
}

func (rep *reportWriter) isStatusCol(col int) bool {
	return col == rep.statusCols[0] || col == rep.statusCols[1] || col == rep.statusCols[2] || col == rep.statusCols[3]
}

// writeCols writes the column widths: the source's, and the report
// columns'.
func (rep *reportWriter) writeCols(o *xmlOut) {
	type span struct {
		min, max int // 1-based
		width    float64
		hidden   bool
	}
	var spans []span
	for _, c := range rep.src.columns() {
		if c.Min > maxSourceCols {
			continue
		}
		s := span{c.Min, min(c.Max, maxSourceCols), c.Width, c.Hidden}
		// Leave out the report's columns.
		cut := []span{s}
		for _, sc := range rep.statusCols {
			col := sc + 1
			var next []span
			for _, p := range cut {
				if col < p.min || col > p.max {
					next = append(next, p)
					continue
				}
				if p.min < col {
					next = append(next, span{p.min, col - 1, p.width, p.hidden})
				}
				if col < p.max {
					next = append(next, span{col + 1, p.max, p.width, p.hidden})
				}
			}
			cut = next
		}
		spans = append(spans, cut...)
	}
	for i, w := range [4]float64{16, 24, 60, 70} {
		spans = append(spans, span{rep.statusCols[i] + 1, rep.statusCols[i] + 1, w, false})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.min - b.min })
	o.s(`<cols>`)
	for _, s := range spans {
		o.s(`<col min="`)
		o.n(s.min)
		o.s(`" max="`)
		o.n(s.max)
		o.s(`"`)
		if s.width > 0 {
			o.s(` width="`)
			o.f(s.width)
			o.s(`" customWidth="1"`)
		}
		if s.hidden {
			o.s(` hidden="1"`)
		}
		o.s(`/>`)
	}
	o.s(`</cols>`)
}

// plainRow reports whether a row after the header keeps all its cells as
// they are: it has no problem to flag. Such a row is copied as XML.
func (rep *reportWriter) plainRow(row int) bool {
	if row <= rep.in.HeaderRow || row > maxSheetRows {
		return false
	}
	if rep.in.Outcome == nil {
		return true
	}
	out, _ := rep.in.Outcome(row)
	return len(out.Problems) == 0
}

// writeRow copies one source row and fills its report columns.
func (rep *reportWriter) writeRow(o *xmlOut, r *roster.RawRow) {
	if r.Row > maxSheetRows {
		rep.rowsLeft++
		return
	}
	hr := rep.in.HeaderRow
	o.rowStart(r.Row)
	if r.Style != 0 {
		o.s(` s="`)
		o.n(rep.styles.keeps(r.Style))
		o.s(`" customFormat="1"`)
	}
	if r.Height > 0 && r.Height <= 409 {
		o.s(` ht="`)
		o.f(r.Height)
		o.s(`" customHeight="1"`)
	}
	if r.Hidden {
		o.s(` hidden="1"`)
	}
	o.s(`>`)

	var out RowOutcome
	var has bool
	skip := func(col int) bool { return r.Row >= hr && rep.isStatusCol(col) }
	if r.Row > hr && rep.in.Outcome != nil && (r.XML != nil && r.XMLValues || r.XML == nil && !blankRow(r.Cells, skip)) {
		out, has = rep.in.Outcome(r.Row)
	}
	var flagged map[int][]string // problem messages by 0-based column
	var problems, hints []string
	if has {
		for _, p := range out.Problems {
			problems = append(problems, problemLine(p))
			if p.Hint != "" && !slices.Contains(hints, p.Hint) {
				hints = append(hints, p.Hint)
			}
			col, ok := columnIndex(p.Column)
			if !ok || col >= rep.width || rep.isStatusCol(col) {
				continue
			}
			msg := p.Message
			if p.Hint != "" {
				msg += "\nHow to fix: " + p.Hint
			}
			if flagged == nil {
				flagged = map[int][]string{}
			}
			if _, seen := flagged[col]; !seen {
				flagged[col] = nil
			}
			flagged[col] = append(flagged[col], msg)
		}
	}

	// Source cells and report cells, in column order.
	var report [4][]byte
	var reportStyle [4]int
	if r.Row == hr {
		for i, n := range [4]string{ColumnStatus, ColumnOrder, ColumnProblems, ColumnHowToFix} {
			report[i] = []byte(n)
			reportStyle[i] = rep.styles.style(styleKey{kind: kindHeader, fill: fillHeader})
		}
	} else if has {
		set := func(i int, v, fill string, wrap bool) {
			if v == "" && fill == "" {
				return
			}
			k := styleKey{kind: kindReport, fill: fill}
			if wrap {
				k.kind = kindReportWrap
			}
			report[i], reportStyle[i] = []byte(v), rep.styles.style(k)
		}
		set(0, out.Status, statusFill(out.Status), false)
		set(1, strings.Join(out.OrderIDs, "\n"), "", true)
		set(2, strings.Join(problems, "\n"), ifNonEmpty(problems, fillProblem), true)
		set(3, strings.Join(hints, "\n"), "", true)
	}
	// Problem cells the row has no cell for are highlighted empty.
	var empty []int
	for col := range flagged {
		if !slices.ContainsFunc(r.Cells, func(c roster.RawCell) bool { return c.Col == col }) {
			empty = append(empty, col)
		}
	}
	slices.Sort(empty)
	ri, ei := 0, 0
	order := rep.statusOrder()
	// emitBefore writes the report's cells and the empty problem cells
	// left of column upTo.
	emitBefore := func(upTo int) {
		for {
			rc, ec := maxSheetColumns, maxSheetColumns
			if ri < 4 {
				rc = rep.statusCols[order[ri]]
			}
			if ei < len(empty) {
				ec = empty[ei]
			}
			switch {
			case rc < upTo && rc <= ec:
				i := order[ri]
				if report[i] != nil || reportStyle[i] != 0 {
					o.textCell(rep.cols, rc, r.Row, reportStyle[i], report[i], &rep.stats)
				}
				ri++
			case ec < upTo:
				o.cellStart(rep.cols, ec, r.Row, rep.styles.style(styleKey{kind: kindFlagged, fill: fillProblem}), "")
				o.s(`/>`)
				rep.comment(ec, r.Row, flagged[ec])
				ei++
			default:
				return
			}
		}
	}
	if r.XML != nil {
		// Cells left of the report's columns, as the roster has them.
		o.b(r.XML)
		o.prev = r.XMLLast
		rep.copied++
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Col >= maxSourceCols {
			rep.colsLeft = true
			break
		}
		if skip(c.Col) {
			continue
		}
		emitBefore(c.Col)
		style := rep.styles.keeps(c.Style)
		if msgs, ok := flagged[c.Col]; ok {
			style = rep.styles.style(styleKey{src: style, kind: kindFlagged, fill: fillProblem})
			rep.comment(c.Col, r.Row, msgs)
		}
		o.rawCell(rep.cols, r.Row, style, c, &rep.stats)
	}
	emitBefore(maxSheetColumns)
	o.s(`</row>`)
}

// statusOrder lists the report columns' indexes by column.
func (rep *reportWriter) statusOrder() [4]int {
	order := [4]int{0, 1, 2, 3}
	slices.SortFunc(order[:], func(a, b int) int { return rep.statusCols[a] - rep.statusCols[b] })
	return order
}

func (rep *reportWriter) comment(col, row int, msgs []string) {
	if len(rep.comments) >= MaxComments {
		rep.omitted++
		return
	}
	rep.comments = append(rep.comments, comment{col: col, row: row, text: strings.Join(msgs, "\n\n")})
}

// columnIndex is the 0-based index of column letters ("B" = 1).
func columnIndex(name string) (int, bool) {
	if name == "" || len(name) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range name {
		if c < 'A' || c > 'Z' {
			return 0, false
		}
		n = n*26 + int(c-'A') + 1
	}
	return n - 1, n <= maxSheetColumns
}

// writeComments writes the comments part.
func (rep *reportWriter) writeComments(o *xmlOut) error {
	o.s(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<comments xmlns="` + nsMain + `"><authors><author>wvbatch</author></authors><commentList>`)
	for _, c := range rep.comments {
		o.s(`<comment ref="`)
		o.ref(rep.cols, c.col, c.row)
		o.s(`" authorId="0"><text><t xml:space="preserve">`)
		o.text([]byte(c.text), &textStats{})
		o.s(`</t></text></comment>`)
		o.maybeFlush()
	}
	o.s(`</commentList></comments>`)
	return nil
}

// writeVML writes the drawing Excel shows the comments with.
func (rep *reportWriter) writeVML(o *xmlOut) error {
	o.s(`<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">` +
		`<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="`)
	blocks := (len(rep.comments) + 1023) / 1024
	for i := 1; i <= blocks; i++ {
		if i > 1 {
			o.s(",")
		}
		o.n(i)
	}
	o.s(`"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">` +
		`<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>`)
	for i, c := range rep.comments {
		o.s(`<v:shape id="_x0000_s`)
		o.n(1025 + i)
		o.s(`" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:240pt;height:90pt;z-index:`)
		o.n(i + 1)
		o.s(`;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>` +
			`<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>` +
			`<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>`)
		for j, v := range []int{c.col + 1, 15, max(c.row-2, 0), 10, c.col + 5, 15, c.row + 4, 4} {
			if j > 0 {
				o.s(", ")
			}
			o.n(v)
		}
		o.s(`</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>`)
		o.n(c.row - 1)
		o.s(`</x:Row><x:Column>`)
		o.n(c.col)
		o.s(`</x:Column></x:ClientData></v:shape>`)
		o.maybeFlush()
	}
	o.s(`</xml>`)
	return nil
}

// notes says what the report could not carry.
func (rep *reportWriter) notes() []string {
	var out []string
	if rep.rowsLeft > 0 {
		out = append(out, fmt.Sprintf("%d rows after row %d are not in this workbook (a sheet holds %d rows); the errors CSV and summary.json list every row's problems.",
			rep.rowsLeft, maxSheetRows, maxSheetRows))
	}
	if rep.colsLeft {
		out = append(out, fmt.Sprintf("The roster's columns after column %s are not in this workbook (a sheet holds %d columns, 4 of them the report's); the errors CSV and summary.json are complete.",
			roster.ColumnName(maxSourceCols-1), maxSheetColumns))
	}
	if rep.stats.replaced > 0 {
		out = append(out, fmt.Sprintf("%d cells held characters a workbook cannot carry (control characters or invalid text); they show as \uFFFD.", rep.stats.replaced))
	}
	if rep.stats.truncated > 0 {
		out = append(out, fmt.Sprintf("%d cells were longer than a cell can hold (%d characters) and are cut short.", rep.stats.truncated, maxCellChars))
	}
	return out
}

// writeSummary writes the Summary sheet: the title, counts, and one line
// per order.
func (rep *reportWriter) writeSummary(o *xmlOut) error {
	cols := []string{"Order", "Reference", "IBX", "Cages", "Start (local)", "End (local)", "Time zone", "Start (UTC)", "End (UTC)", "Visitors", "Status"}
	names := columnNames(len(cols))
	keys := make([]string, 0, len(rep.in.Counts))
	for k := range rep.in.Counts {
		if !slices.Contains(statusOrder, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var counts []string
	for _, k := range append(slices.Clone(statusOrder), keys...) {
		if _, ok := rep.in.Counts[k]; ok {
			counts = append(counts, k)
		}
	}
	notes := rep.notes()
	orders, numOrders := rep.in.orders()
	rows := 5 + len(counts) + 2 + numOrders + len(notes)
	if rep.in.Title != "" {
		rows++
	}
	bold := rep.styles.style(styleKey{kind: kindBold})
	head := rep.styles.style(styleKey{kind: kindHeader, fill: fillHeader})
	o.s(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><dimension ref="A1:`)
	o.s(names[len(cols)-1])
	o.n(rows)
	o.s(`"/><sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>`)
	for i, w := range []float64{24, 28, 8, 36, 22, 22, 20, 22, 22, 10, 14} {
		o.s(`<col min="`)
		o.n(i + 1)
		o.s(`" max="`)
		o.n(i + 1)
		o.s(`" width="`)
		o.f(w)
		o.s(`" customWidth="1"/>`)
	}
	o.s(`</cols><sheetData>`)
	row := 1
	type cell struct {
		v     any
		style int
	}
	put := func(vals ...cell) {
		o.rowStart(row)
		o.s(`>`)
		for i, c := range vals {
			switch v := c.v.(type) {
			case string:
				if v != "" || c.style != 0 {
					o.textCell(names, i, row, c.style, []byte(v), &textStats{})
				}
			case int:
				o.cellStart(names, i, row, c.style, "")
				o.s(`><v>`)
				o.n(v)
				o.s(`</v></c>`)
			}
		}
		o.s(`</row>`)
		row++
		o.maybeFlush()
	}
	if rep.in.Title != "" {
		put(cell{rep.in.Title, bold})
	}
	put(cell{"Roster", bold}, cell{filepath.Base(cmp.Or(rep.in.Name, rep.in.Source)), 0})
	put(cell{"Sheet", bold}, cell{rep.sheetName, 0})
	for _, n := range notes {
		put(cell{"Note", bold}, cell{n, 0})
	}
	row++
	put(cell{"Rows", head}, cell{"Count", head})
	for _, k := range counts {
		put(cell{k, 0}, cell{rep.in.Counts[k], 0})
	}
	row++
	header := make([]cell, len(cols))
	for i, c := range cols {
		header[i] = cell{c, head}
	}
	put(header...)
	const layout = "2006-01-02 15:04"
	zones := map[string]*time.Location{}
	for ord := range orders {
		loc, ok := zones[ord.Zone]
		if !ok {
			loc = time.UTC
			if ord.Zone != "" {
				if l, err := time.LoadLocation(ord.Zone); err == nil {
					loc = l
				}
			}
			zones[ord.Zone] = loc
		}
		local := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format(layout + " MST")
		}
		utc := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(layout) + " UTC"
		}
		put(cell{ord.OrderID, 0}, cell{ord.Reference, 0}, cell{ord.IBX, 0}, cell{strings.Join(ord.Cages, ", "), 0},
			cell{local(ord.Start), 0}, cell{local(ord.End), 0}, cell{ord.Zone, 0}, cell{utc(ord.Start), 0}, cell{utc(ord.End), 0},
			cell{ord.Visitors, 0}, cell{ord.Status, 0})
	}
	o.s(`</sheetData></worksheet>`)
	return nil
}
