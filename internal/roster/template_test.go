package roster

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite committed and golden files from what the code produces")

const committedTemplate = "../../templates/roster.xlsx"

func openTemplate(t *testing.T) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTemplate(&buf); err != nil {
		t.Fatalf("WriteTemplate: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("open the written template: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestTemplateSheets(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	if got, want := f.GetSheetList(), []string{"Visitors", "Order", "Help"}; !slices.Equal(got, want) {
		t.Errorf("sheets = %q, want %q", got, want)
	}
	if got := f.GetActiveSheetIndex(); got != 0 {
		t.Errorf("active sheet = %d, want 0 (Visitors)", got)
	}
}

func TestTemplateVisitorsHeader(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	rows, err := f.GetRows("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("Visitors has %d rows with values, want only the header", len(rows))
	}
	want := make([]string, NumFields)
	for i := range NumFields {
		want[i] = i.String()
	}
	if !slices.Equal(rows[0], want) {
		t.Errorf("header = %q, want %q", rows[0], want)
	}
	for i := range NumFields {
		cell := ColumnName(int(i)) + "1"
		if s := tmplCellStyle(t, f, "Visitors", cell); !s.Bold {
			t.Errorf("header %s (%s) is not bold", cell, i)
		}
	}

	comments, err := f.GetComments("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	noted := map[string]string{}
	for _, c := range comments {
		noted[c.Cell] = tmplCommentText(c)
	}
	for i := range NumFields {
		cell := ColumnName(int(i)) + "1"
		if strings.TrimSpace(noted[cell]) == "" {
			t.Errorf("header %s (%s) has no comment explaining it", cell, i)
		}
	}
	if !strings.Contains(noted["A1"], "e.g. AM1") {
		t.Errorf("IBX comment %q gives no example", noted["A1"])
	}

	panes, err := f.GetPanes("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 {
		t.Errorf("panes = %+v, want the header row frozen", panes)
	}
	for i := range NumFields {
		col := ColumnName(int(i))
		w, err := f.GetColWidth("Visitors", col)
		if err != nil {
			t.Fatal(err)
		}
		if w < 8 {
			t.Errorf("column %s (%s) is %.1f wide, too narrow", col, i, w)
		}
	}
}

func TestTemplateOpenCabinetList(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	dvs, err := f.GetDataValidations("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	col := ColumnName(int(FieldOpenCabinet))
	var found bool
	for _, dv := range dvs {
		if dv.Sqref != fmt.Sprintf("%s2:%s%d", col, col, TemplateRows) {
			continue
		}
		found = true
		if dv.Type != "list" || dv.Formula1 != `"Y,N"` {
			t.Errorf("Open Cabinet validation is %s %s, want list \"Y,N\"", dv.Type, dv.Formula1)
		}
		if !dv.AllowBlank {
			t.Error("Open Cabinet validation refuses an empty cell")
		}
	}
	if !found {
		t.Errorf("no data validation on %s2:%s%d (Open Cabinet); have %d others", col, col, TemplateRows, len(dvs))
	}
}

func TestTemplateDateCells(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	for _, fld := range []Field{FieldStart, FieldEnd} {
		col := ColumnName(int(fld))
		for _, row := range []int{2, 500, TemplateRows} {
			cell := fmt.Sprintf("%s%d", col, row)
			if s := tmplCellStyle(t, f, "Visitors", cell); s.CustomNumFmt != TemplateDateFormat {
				t.Errorf("%s (%s) number format = %q, want %q", cell, fld, s.CustomNumFmt, TemplateDateFormat)
			}
		}
	}
	// A value typed into a prepared date cell shows as a date and time.
	if err := f.SetCellValue("Visitors", "E2", time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got, err := f.GetCellValue("Visitors", "E2"); err != nil || got != "2027-01-11 08:00" {
		t.Errorf("E2 shows %q (%v), want 2027-01-11 08:00", got, err)
	}
	for _, cell := range []string{"A2", "B2", "G2", "H2", "O2"} {
		if s := tmplCellStyle(t, f, "Visitors", cell); s.CustomNumFmt != "" || s.NumFmt != 0 {
			t.Errorf("%s has a number format (%d %q); only the date and code columns should", cell, s.NumFmt, s.CustomNumFmt)
		}
	}
}

// TestTemplateCodeColumnsText: the columns holding codes are formatted as
// Text, so that Excel keeps the cabinet 0101, the account 0100001, the
// country code +31 and the phone 0612345678 as typed.
func TestTemplateCodeColumnsText(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	for _, fld := range []Field{FieldCabinet, FieldAccount, FieldMobileCountryCode, FieldMobilePhone} {
		col := ColumnName(int(fld))
		for _, row := range []int{2, 500, TemplateRows} {
			cell := fmt.Sprintf("%s%d", col, row)
			if s := tmplCellStyle(t, f, "Visitors", cell); s.NumFmt != TemplateTextFormat || s.CustomNumFmt != "" {
				t.Errorf("%s (%s) number format = %d %q, want Text (%d)", cell, fld, s.NumFmt, s.CustomNumFmt, TemplateTextFormat)
			}
		}
	}
}

func TestTemplateOrderSheet(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	rows, err := f.GetRows("Order")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(OrderSheetLabels)+1 {
		t.Fatalf("Order has %d rows, want a heading and %d settings", len(rows), len(OrderSheetLabels))
	}
	for i, label := range OrderSheetLabels {
		row := append(rows[i+1], "", "", "")
		if row[0] != label {
			t.Errorf("Order row %d label = %q, want %q", i+2, row[0], label)
		}
		if row[1] != "" {
			t.Errorf("Order row %d (%s) has value %q, want empty", i+2, label, row[1])
		}
		if len(row[2]) < 20 {
			t.Errorf("Order row %d (%s) explanation %q is missing or too short", i+2, label, row[2])
		}
	}
	if !strings.Contains(rows[3][2], "ACTIVE") {
		t.Errorf("Technical Contact explanation %q does not say the user must be active", rows[3][2])
	}
}

func TestTemplateHelpExample(t *testing.T) {
	t.Parallel()
	f := openTemplate(t)
	rows, err := f.GetRows("Help", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, r := range rows {
		if len(r) > 0 {
			text += r[0] + "\n"
		}
	}
	for _, want := range []string{"one visitor", "Username", "photo ID", "18", "50 visitors", "14 days", "local time"} {
		if !strings.Contains(text, want) {
			t.Errorf("Help does not mention %q", want)
		}
	}

	// The example row is a valid visitor.
	hdr := len(templateHelp) // 0-based index of the example's header
	if len(rows) < hdr+2 {
		t.Fatalf("Help has %d rows, want the example header and row at %d and %d", len(rows), hdr+1, hdr+2)
	}
	h := &Header{Row: hdr + 1}
	for i := range h.Index {
		h.Index[i] = -1
	}
	for i, name := range rows[hdr] {
		for fld := range NumFields {
			if fld.String() == name {
				h.Index[fld] = i
			}
		}
	}
	rec := &Record{Row: hdr + 2}
	for fld := range NumFields {
		if i := h.Index[fld]; i >= 0 && i < len(rows[hdr+1]) {
			rec.Cells[fld] = Cell{Text: rows[hdr+1][i]}
			if fld == FieldStart || fld == FieldEnd {
				rec.Cells[fld].Kind = KindDateSerial
			}
		}
	}
	if errs := MissingColumns(h, CheckConfig{}); len(errs) > 0 {
		t.Fatalf("example header lacks columns: %v", errs)
	}
	now := func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
	var v Visitor
	if errs := NewChecker(h, CheckConfig{Now: now}).Check(rec, &v, nil); len(errs) > 0 {
		t.Errorf("the Help example row is not valid: %v", errs)
	}
	if want := time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC); !v.Start.Equal(want) {
		t.Errorf("example starts %v, want %v (08:00 Amsterdam time)", v.Start, want)
	}
}

// TestTemplateCommitted checks that templates/roster.xlsx is the workbook
// WriteTemplate makes; with -update it rewrites the file.
func TestTemplateCommitted(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTemplate(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(committedTemplate), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(committedTemplate, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	got, err := excelize.OpenFile(committedTemplate)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/roster -run TestTemplateCommitted -update)", err)
	}
	defer got.Close()

	g, w := worktmplBookFacts(t, got), worktmplBookFacts(t, want)
	if !reflect.DeepEqual(g, w) {
		for _, d := range tmplDiffFacts(g, w) {
			t.Error(d)
		}
		t.Errorf("%s differs from WriteTemplate's workbook; run: go test ./internal/roster -run TestTemplateCommitted -update", committedTemplate)
	}
}

type tmplStyle struct {
	Bold         bool
	NumFmt       int
	CustomNumFmt string
	Fill         string
	Wrap         bool
}

type tmplSheetFacts struct {
	Rows            [][]string
	Styles          map[string]tmplStyle // non-default cell styles by cell
	Widths          []float64
	Panes           excelize.Panes
	DataValidations []excelize.DataValidation
	Comments        map[string]string
}

type tmplBookFacts struct {
	Sheets []string
	Active int
	Sheet  map[string]tmplSheetFacts
}

// worktmplBookFacts collects what a user of the workbook sees: values, formats,
// column widths, frozen panes, validations and comments.
func worktmplBookFacts(t *testing.T, f *excelize.File) tmplBookFacts {
	t.Helper()
	b := tmplBookFacts{Sheets: f.GetSheetList(), Active: f.GetActiveSheetIndex(), Sheet: map[string]tmplSheetFacts{}}
	for _, name := range b.Sheets {
		var s tmplSheetFacts
		var err error
		if s.Rows, err = f.GetRows(name, excelize.Options{RawCellValue: true}); err != nil {
			t.Fatal(err)
		}
		s.Styles = map[string]tmplStyle{}
		for row := 1; row <= max(len(s.Rows), TemplateRows+1); row++ {
			for col := range NumFields + 1 {
				cell := fmt.Sprintf("%s%d", ColumnName(int(col)), row)
				if st := tmplCellStyle(t, f, name, cell); st != (tmplStyle{}) {
					s.Styles[cell] = st
				}
			}
		}
		for col := range NumFields + 1 {
			wd, err := f.GetColWidth(name, ColumnName(int(col)))
			if err != nil {
				t.Fatal(err)
			}
			s.Widths = append(s.Widths, wd)
		}
		if s.Panes, err = f.GetPanes(name); err != nil {
			t.Fatal(err)
		}
		dvs, err := f.GetDataValidations(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, dv := range dvs {
			s.DataValidations = append(s.DataValidations, *dv)
		}
		comments, err := f.GetComments(name)
		if err != nil {
			t.Fatal(err)
		}
		s.Comments = map[string]string{}
		for _, c := range comments {
			s.Comments[c.Cell] = tmplCommentText(c)
		}
		b.Sheet[name] = s
	}
	return b
}

func tmplDiffFacts(got, want tmplBookFacts) []string {
	var d []string
	if !slices.Equal(got.Sheets, want.Sheets) || got.Active != want.Active {
		d = append(d, fmt.Sprintf("sheets %q (active %d), want %q (active %d)", got.Sheets, got.Active, want.Sheets, want.Active))
	}
	for _, name := range want.Sheets {
		g, w := got.Sheet[name], want.Sheet[name]
		if !reflect.DeepEqual(g.Rows, w.Rows) {
			d = append(d, fmt.Sprintf("sheet %s: cell values differ", name))
		}
		if !reflect.DeepEqual(g.Styles, w.Styles) {
			d = append(d, fmt.Sprintf("sheet %s: cell formats differ", name))
		}
		if !slices.Equal(g.Widths, w.Widths) {
			d = append(d, fmt.Sprintf("sheet %s: column widths %v, want %v", name, g.Widths, w.Widths))
		}
		if !reflect.DeepEqual(g.Panes, w.Panes) {
			d = append(d, fmt.Sprintf("sheet %s: panes %+v, want %+v", name, g.Panes, w.Panes))
		}
		if !reflect.DeepEqual(g.DataValidations, w.DataValidations) {
			d = append(d, fmt.Sprintf("sheet %s: data validations differ", name))
		}
		if !reflect.DeepEqual(g.Comments, w.Comments) {
			d = append(d, fmt.Sprintf("sheet %s: comments differ", name))
		}
	}
	return d
}

func tmplCellStyle(t *testing.T, f *excelize.File, sheet, cell string) tmplStyle {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatalf("style of %s!%s: %v", sheet, cell, err)
	}
	if id == 0 {
		return tmplStyle{}
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatalf("style %d of %s!%s: %v", id, sheet, cell, err)
	}
	var s tmplStyle
	if st.Font != nil {
		s.Bold = st.Font.Bold
	}
	s.NumFmt = st.NumFmt
	if st.CustomNumFmt != nil {
		s.CustomNumFmt = *st.CustomNumFmt
	}
	if len(st.Fill.Color) > 0 {
		s.Fill = strings.Join(st.Fill.Color, ",")
	}
	if st.Alignment != nil {
		s.Wrap = st.Alignment.WrapText
	}
	return s
}

func tmplCommentText(c excelize.Comment) string {
	if c.Text != "" {
		return c.Text
	}
	var b strings.Builder
	for _, r := range c.Paragraph {
		b.WriteString(r.Text)
	}
	return b.String()
}
