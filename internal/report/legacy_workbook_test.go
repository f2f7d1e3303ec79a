package report

// The report writer as it was before the workbook was streamed as XML: kept
// in the tests to compare the new writer's reports with, cell by cell.

import (
	"archive/zip"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// WriteWorkbook writes the report workbook of a roster to w: a copy of the
// roster's sheet (same name, cells, types, styles and column widths; a CSV's
// cells as text on a sheet named Visitors) with the columns Status, Order,
// Problems and How to fix after the last used column, its problem cells
// highlighted and commented (see MaxComments), and a Summary sheet of
// counts and orders.
//
// The roster sheet is read and written streaming, so a large roster's
// report needs little memory. Every cell is written as a value, never as a
// formula: a source formula keeps its cached value, and text that looks
// like a formula stays text.
func legacyWriteWorkbook(w io.Writer, in WorkbookInput) error {
	src, err := legacyOpenSource(in)
	if err != nil {
		return fmt.Errorf("read roster %s: %w", in.Source, err)
	}
	defer src.close()

	f := excelize.NewFile()
	defer f.Close()
	sheet := src.sheetName()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	if src.date1904() {
		yes := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
			return err
		}
	}
	ww := &workbookWriter{f: f, src: src, in: in, sheet: sheet, styles: map[legacyStyleKey]int{}}
	ww.in.HeaderRow = cmp.Or(in.HeaderRow, 1)
	if err := ww.writeRoster(); err != nil {
		return fmt.Errorf("write report of %s: %w", in.Source, err)
	}
	if err := ww.writeSummary(); err != nil {
		return fmt.Errorf("write report summary: %w", err)
	}
	f.SetActiveSheet(0)
	// excelize's WriteTo builds the whole zip in a buffer before it writes
	// it out; given a zip writer of w itself, it leaves the buffer empty and
	// a large report never has to fit in memory.
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	if _, err := f.WriteTo(io.Discard); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func legacyOpenSource(in WorkbookInput) (rawSource, error) {
	switch ext := strings.ToLower(filepath.Ext(in.Source)); ext {
	case ".csv", ".txt":
		return legacyOpenCSV(in.Source)
	case ".xlsx", ".xlsm":
		return openXLSX(in.Source, in.Sheet)
	default:
		return nil, fmt.Errorf("cannot report on %q files: the roster must be .xlsx or .csv", ext)
	}
}

type legacyStyleKey struct {
	src  int
	fill string
	head bool
}

type workbookWriter struct {
	f      *excelize.File
	src    rawSource
	in     WorkbookInput
	sheet  string
	styles map[legacyStyleKey]int

	// 1-based columns of Status, Order, Problems, How to fix.
	statusCols [4]int
	lastCol    int
	comments   int
	omitted    int // problem cells past MaxComments
}

// styleFor returns the report's style for a source style, with a fill
// colour ("" = the source's own) and bold for the header.
func (ww *workbookWriter) styleFor(src int, fill string, head bool) (int, error) {
	fill = strings.TrimPrefix(fill, "FF")
	k := legacyStyleKey{src, fill, head}
	if id, ok := ww.styles[k]; ok {
		return id, nil
	}
	if k == (legacyStyleKey{}) {
		return 0, nil
	}
	st, err := ww.src.style(src)
	if err != nil || st == nil {
		st = &excelize.Style{}
	}
	st = copyStyle(st)
	if fill != "" {
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fill}}
	}
	if head {
		if st.Font == nil {
			st.Font = &excelize.Font{}
		}
		st.Font.Bold = true
	}
	id, err := ww.f.NewStyle(st)
	if err != nil {
		return 0, err
	}
	ww.styles[k] = id
	return id, nil
}

func copyStyle(st *excelize.Style) *excelize.Style {
	c := *st
	if st.Font != nil {
		f := *st.Font
		c.Font = &f
	}
	return &c
}

func (ww *workbookWriter) writeRoster() error {
	hr := ww.in.HeaderRow
	// Rows up to the header are held back: where the four columns go
	// depends on the header.
	var (
		head    []rawRow
		pending *rawRow
		r       rawRow
	)
	for {
		err := ww.src.next(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		cp := rawRow{row: r.row, height: r.height, hidden: r.hidden, style: r.style, cells: slices.Clone(r.cells)}
		if r.row > hr {
			pending = &cp
			break
		}
		head = append(head, cp)
	}
	var header []rawCell
	if i := slices.IndexFunc(head, func(h rawRow) bool { return h.row == hr }); i >= 0 {
		header = head[i].cells
	} else {
		head = append(head, rawRow{row: hr}) // the report's header row
	}

	lastRow, lastCol := ww.src.extent()
	ww.placeColumns(header, lastCol)
	dim := "A1:" + roster.ColumnName(ww.lastCol-1) + strconv.Itoa(max(lastRow, hr))
	if err := ww.f.SetSheetDimension(ww.sheet, dim); err != nil {
		return err
	}
	sw, err := ww.f.NewStreamWriter(ww.sheet)
	if err != nil {
		return err
	}
	if err := ww.setColumns(sw); err != nil {
		return err
	}

	for i := range head {
		if err := ww.writeRow(sw, &head[i]); err != nil {
			return err
		}
	}
	if pending != nil {
		if err := ww.writeRow(sw, pending); err != nil {
			return err
		}
		for {
			err := ww.src.next(&r)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if err := ww.writeRow(sw, &r); err != nil {
				return err
			}
		}
	}
	if ww.omitted > 0 {
		// The comment limit is stated where the reader looks: on the
		// Problems header.
		ref := roster.ColumnName(ww.statusCols[2]-1) + strconv.Itoa(hr)
		if err := ww.f.AddComment(ww.sheet, excelize.Comment{Cell: ref, Author: "wvbatch",
			Text: fmt.Sprintf("Only the first %d problem cells have a comment; the Problems column lists every problem.", MaxComments)}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// placeColumns decides where Status, Order, Problems and How to fix go: in
// columns of those names the header already has, else after lastCol.
func (ww *workbookWriter) placeColumns(header []rawCell, lastCol int) {
	names := [4]string{ColumnStatus, ColumnOrder, ColumnProblems, ColumnHowToFix}
	ww.lastCol = lastCol
	for _, c := range header {
		s, ok := c.value.(string)
		if !ok {
			continue
		}
		for i, n := range names {
			if ww.statusCols[i] == 0 && strings.EqualFold(strings.TrimSpace(s), n) {
				ww.statusCols[i] = c.col
			}
		}
	}
	for i := range ww.statusCols {
		if ww.statusCols[i] == 0 {
			ww.lastCol++
			ww.statusCols[i] = ww.lastCol
		}
	}
	ww.lastCol = max(ww.lastCol, 1)
}

func (ww *workbookWriter) setColumns(sw *excelize.StreamWriter) error {
	for _, c := range ww.src.widths() {
		if err := sw.SetColWidth(c.min, c.max, c.width); err != nil {
			return err
		}
	}
	for i, w := range [4]float64{16, 24, 60, 70} {
		c := ww.statusCols[i]
		if err := sw.SetColWidth(c, c, w); err != nil {
			return err
		}
	}
	hr := ww.in.HeaderRow
	return sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: hr, TopLeftCell: "A" + strconv.Itoa(hr+1), ActivePane: "bottomLeft",
	})
}

// writeRow copies one source row and fills its report columns.
func (ww *workbookWriter) writeRow(sw *excelize.StreamWriter, r *rawRow) error {
	hr := ww.in.HeaderRow
	width := ww.lastCol
	for _, c := range r.cells {
		width = max(width, c.col)
	}
	vals := make([]any, width)
	styles := make([]int, width) // source style per column, for highlighting
	blank := true
	for _, c := range r.cells {
		if slices.Contains(ww.statusCols[:], c.col) && r.row >= hr {
			continue // the previous report's columns are replaced
		}
		if str, ok := c.value.(string); c.value != nil && (!ok || strings.TrimSpace(str) != "") {
			blank = false
		}
		st, err := ww.styleFor(c.style, "", false)
		if err != nil {
			return err
		}
		vals[c.col-1] = excelize.Cell{StyleID: st, Value: c.value}
		styles[c.col-1] = c.style
	}

	switch {
	case r.row == hr:
		names := [4]string{ColumnStatus, ColumnOrder, ColumnProblems, ColumnHowToFix}
		for i, col := range ww.statusCols {
			st, err := ww.styleFor(0, fillHeader, true)
			if err != nil {
				return err
			}
			vals[col-1] = excelize.Cell{StyleID: st, Value: names[i]}
		}
	case r.row > hr && ww.in.Outcome != nil && !blank:
		// A blank row is no visitor: the roster reader skips it.
		if out, ok := ww.in.Outcome(r.row); ok {
			if err := ww.fillOutcome(r.row, vals, styles, out); err != nil {
				return err
			}
		}
	}

	opts := excelize.RowOpts{Hidden: r.hidden}
	if r.height > 0 && r.height <= excelize.MaxRowHeight {
		opts.Height = r.height
	}
	if r.style != 0 {
		st, err := ww.styleFor(r.style, "", false)
		if err != nil {
			return err
		}
		opts.StyleID = st
	}
	return sw.SetRow("A"+strconv.Itoa(r.row), vals, opts)
}

func (ww *workbookWriter) fillOutcome(row int, vals []any, styles []int, out RowOutcome) error {
	type cellProblems struct {
		col  int
		msgs []string
	}
	var cells []cellProblems
	var problems, hints []string
	for _, p := range out.Problems {
		problems = append(problems, problemLine(p))
		if p.Hint != "" && !slices.Contains(hints, p.Hint) {
			hints = append(hints, p.Hint)
		}
		col, err := excelize.ColumnNameToNumber(p.Column)
		if p.Column == "" || err != nil || col > len(vals) || slices.Contains(ww.statusCols[:], col) {
			continue
		}
		msg := p.Message
		if p.Hint != "" {
			msg += "\nHow to fix: " + p.Hint
		}
		i := slices.IndexFunc(cells, func(c cellProblems) bool { return c.col == col })
		if i < 0 {
			cells = append(cells, cellProblems{col: col})
			i = len(cells) - 1
		}
		cells[i].msgs = append(cells[i].msgs, msg)
	}

	for _, c := range cells {
		st, err := ww.styleFor(styles[c.col-1], fillProblem, false)
		if err != nil {
			return err
		}
		var v any
		if cell, ok := vals[c.col-1].(excelize.Cell); ok {
			v = cell.Value
		}
		vals[c.col-1] = excelize.Cell{StyleID: st, Value: v}
		if ww.comments >= MaxComments {
			ww.omitted++
			continue
		}
		ww.comments++
		if err := ww.f.AddComment(ww.sheet, excelize.Comment{
			Cell: roster.ColumnName(c.col-1) + strconv.Itoa(row), Author: "wvbatch",
			Text: strings.Join(c.msgs, "\n\n"), Width: 320, Height: 120,
		}); err != nil {
			return err
		}
	}

	set := func(i int, v string, fill string, wrap bool) error {
		if v == "" && fill == "" {
			return nil
		}
		st, err := ww.reportStyle(fill, wrap)
		if err != nil {
			return err
		}
		vals[ww.statusCols[i]-1] = excelize.Cell{StyleID: st, Value: v}
		return nil
	}
	errs := []error{
		set(0, out.Status, statusFill(out.Status), false),
		set(1, strings.Join(out.OrderIDs, "\n"), "", true),
		set(2, strings.Join(problems, "\n"), ifNonEmpty(problems, fillProblem), true),
		set(3, strings.Join(hints, "\n"), "", true),
	}
	return errors.Join(errs...)
}

// reportStyle is the style of a report column's cell.
func (ww *workbookWriter) reportStyle(fill string, wrap bool) (int, error) {
	fill = strings.TrimPrefix(fill, "FF")
	k := legacyStyleKey{src: -1, fill: fill, head: wrap}
	if id, ok := ww.styles[k]; ok {
		return id, nil
	}
	st := &excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: wrap}}
	if fill != "" {
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fill}}
	}
	id, err := ww.f.NewStyle(st)
	if err != nil {
		return 0, err
	}
	ww.styles[k] = id
	return id, nil
}

// writeSummary adds the Summary sheet: the title, counts, and one line per
// order. It is streamed like the roster sheet: a run of a million rows has
// a hundred thousand orders.
func (ww *workbookWriter) writeSummary() error {
	name := "Summary"
	if strings.EqualFold(ww.sheet, name) {
		name = "Run Summary"
	}
	if _, err := ww.f.NewSheet(name); err != nil {
		return err
	}
	f := ww.f
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	head, err := ww.styleFor(0, fillHeader, true)
	if err != nil {
		return err
	}
	cols := []string{"Order", "Reference", "IBX", "Cages", "Start (local)", "End (local)", "Time zone", "Start (UTC)", "End (UTC)", "Visitors", "Status"}
	keys := make([]string, 0, len(ww.in.Counts))
	for k := range ww.in.Counts {
		if !slices.Contains(statusOrder, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var counts []string
	for _, k := range append(slices.Clone(statusOrder), keys...) {
		if _, ok := ww.in.Counts[k]; ok {
			counts = append(counts, k)
		}
	}
	seq, _ := ww.in.orders()
	allOrders := slices.Collect(seq)
	rows := 5 + len(counts) + 2 + len(allOrders)
	if ww.in.Title != "" {
		rows++
	}
	if err := f.SetSheetDimension(name, "A1:"+roster.ColumnName(len(cols)-1)+strconv.Itoa(rows)); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	for i, w := range []float64{24, 28, 8, 36, 22, 22, 20, 22, 22, 10, 14} {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	row := 1
	put := func(vals ...any) error {
		err := sw.SetRow("A"+strconv.Itoa(row), vals)
		row++
		return err
	}
	cell := func(v any, style int) excelize.Cell { return excelize.Cell{StyleID: style, Value: v} }
	var errs []error
	if ww.in.Title != "" {
		errs = append(errs, put(cell(ww.in.Title, bold)))
	}
	errs = append(errs,
		put(cell("Roster", bold), filepath.Base(ww.in.Source)),
		put(cell("Sheet", bold), ww.sheet))
	row++
	errs = append(errs, put(cell("Rows", head), cell("Count", head)))
	for _, k := range counts {
		errs = append(errs, put(k, ww.in.Counts[k]))
	}
	row++
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = cell(c, head)
	}
	errs = append(errs, put(header...))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	const layout = "2006-01-02 15:04"
	zones := map[string]*time.Location{}
	for _, o := range allOrders {
		loc, ok := zones[o.Zone]
		if !ok {
			loc = time.UTC
			if o.Zone != "" {
				if l, err := time.LoadLocation(o.Zone); err == nil {
					loc = l
				}
			}
			zones[o.Zone] = loc
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
		if err := put(o.OrderID, o.Reference, o.IBX, strings.Join(o.Cages, ", "),
			local(o.Start), local(o.End), o.Zone, utc(o.Start), utc(o.End), o.Visitors, o.Status); err != nil {
			return err
		}
	}
	return sw.Flush()
}
