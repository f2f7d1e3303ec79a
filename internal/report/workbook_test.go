package report

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/wvbatch/wvbatch/internal/report/openpyxl"
	"github.com/wvbatch/wvbatch/internal/roster"
)

var rosterHeader = []string{"IBX", "Cage", "Visit Start", "Visit End", "First Name", "Last Name", "Company", "Mobile Phone", "Notes"}

// testRoster writes a roster workbook: text, numbers, date-formatted cells,
// an empty cell and formula-looking text.
func testRoster(t testing.TB, dir string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must(t, f.SetSheetName("Sheet1", "Visitors"))
	dateFmt := "yyyy-mm-dd hh:mm"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	must(t, err)
	must(t, f.SetColWidth("Visitors", "C", "D", 19))
	for i, h := range rosterHeader {
		must(t, f.SetCellStr("Visitors", cell(i, 1), h))
	}
	start := time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)
	rows := [][]any{
		{"AM1", "AM1:01:000111", start, start.Add(9 * time.Hour), "Ann", "Smith", "Acme", 612345678, "=HYPERLINK(\"http://x\",\"y\")"},
		{"AM1", "AM1:01", start, start.Add(-time.Hour), "Bob", "Jones", "", 612345679, "+31 6 1234"},
		{"AM1", "AM1:01:000111", start, start.Add(9 * time.Hour), "Cy", "Lee", "Acme", nil, "-5"},
		{"AM1", "AM1:01:000111", start, start.Add(9 * time.Hour), "Di", "Ray", "Acme", 3.5, "@SUM(A1)"},
	}
	for r, row := range rows {
		for c, v := range row {
			if v == nil {
				continue
			}
			ref := cell(c, r+2)
			must(t, f.SetCellValue("Visitors", ref, v))
			if _, ok := v.(time.Time); ok {
				must(t, f.SetCellStyle("Visitors", ref, ref, dateStyle))
			}
		}
	}
	p := filepath.Join(dir, "roster.xlsx")
	must(t, f.SaveAs(p))
	return p
}

func cell(col, row int) string { return roster.ColumnName(col) + strconv.Itoa(row) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testOutcomes: row 2 ordered, row 3 invalid (cage, end and the empty
// company), row 4 rejected by Equinix, row 5 not reached.
func testOutcomes(row int) (RowOutcome, bool) {
	switch row {
	case 2:
		return RowOutcome{Row: 2, Status: StatusOrdered, OrderIDs: []string{"1-234"}}, true
	case 3:
		return RowOutcome{Row: 3, Status: StatusInvalid, Problems: []roster.RowError{
			{Row: 3, Column: "B", Field: "Cage", Value: "AM1:01", Code: roster.CodeCageInvalid,
				Message: `"AM1:01" is not a cage id`, Hint: "write the cage as IBX:floor:cage"},
			{Row: 3, Column: "D", Field: "Visit End", Code: roster.CodeEndBeforeStart,
				Message: "the visit ends before it starts", Hint: "=check both dates"},
			{Row: 3, Column: "G", Field: "Company", Code: roster.CodeRequired,
				Message: "the company is empty", Hint: "write the company"},
		}}, true
	case 4:
		return RowOutcome{Row: 4, Status: StatusRejected, Problems: []roster.RowError{
			{Row: 4, Message: "Equinix rejected the order: cage not found", Hint: "check the cage in the portal"},
		}}, true
	}
	return RowOutcome{}, false
}

var testOrders = []OrderLine{{
	OrderID: "1-234", Reference: "WV-AM1-1", IBX: "AM1", Cages: []string{"AM1:01:000111"},
	Start: time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 11, 16, 0, 0, 0, time.UTC),
	Zone: "Europe/Amsterdam", Visitors: 1, Status: StatusOrdered,
}}

func writeReport(t testing.TB, in WorkbookInput) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteWorkbook(&buf, in); err != nil {
		t.Fatalf("WriteWorkbook: %v", err)
	}
	assertNoFormulas(t, buf.Bytes())
	checkOpenpyxl(t, buf.Bytes())
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkOpenpyxl fails the test when openpyxl cannot open the workbook.
// Without openpyxl it does nothing (TestOpenpyxlInstalled says so, and fails
// under CI); while fuzzing it does nothing, to keep the fuzzer fast.
func checkOpenpyxl(t testing.TB, xlsx []byte) {
	t.Helper()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" || !openpyxl.Available() {
		return
	}
	p := filepath.Join(t.TempDir(), "report.xlsx")
	must(t, os.WriteFile(p, xlsx, 0o600))
	openpyxl.Check(t, p)
}

func TestOpenpyxlInstalled(t *testing.T) { openpyxl.Need(t) }

// assertNoFormulas fails if any worksheet of the workbook has a formula.
func assertNoFormulas(t testing.TB, xlsx []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	must(t, err)
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			continue
		}
		rc, err := zf.Open()
		must(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		must(t, err)
		if bytes.Contains(b, []byte("<f>")) || bytes.Contains(b, []byte("<f ")) {
			t.Fatalf("%s has a formula:\n%s", zf.Name, b)
		}
	}
}

func styleOf(t testing.TB, f *excelize.File, sheet, ref string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, ref)
	must(t, err)
	st, err := f.GetStyle(id)
	must(t, err)
	// excelize gives no fill colour in a workbook without a theme part (a
	// report made from a CSV has none): read it from the styles part.
	if st.Fill.Type == "pattern" && strings.Join(st.Fill.Color, "") == "" && f.Styles != nil && f.Styles.CellXfs != nil && id < len(f.Styles.CellXfs.Xf) {
		if fid := f.Styles.CellXfs.Xf[id].FillID; fid != nil && f.Styles.Fills != nil && *fid < len(f.Styles.Fills.Fill) {
			if pf := f.Styles.Fills.Fill[*fid].PatternFill; pf != nil && pf.FgColor != nil && pf.FgColor.RGB != "" {
				st.Fill.Color = []string{pf.FgColor.RGB}
			}
		}
	}
	return st
}

func hasFill(st *excelize.Style, color string) bool {
	return st.Fill.Type == "pattern" && slices.ContainsFunc(st.Fill.Color, func(c string) bool { return strings.EqualFold(rgb6(c), rgb6(color)) })
}

// rgb6 is a colour without its alpha.
func rgb6(c string) string { return c[max(0, len(c)-6):] }

func highlighted(st *excelize.Style) bool { return st.Fill.Pattern != 0 || len(st.Fill.Color) > 0 }

func numFmt(st *excelize.Style) string {
	if st.CustomNumFmt != nil {
		return *st.CustomNumFmt
	}
	return strconv.Itoa(st.NumFmt)
}

func TestWriteWorkbookXLSX(t *testing.T) {
	t.Parallel()
	srcPath := testRoster(t, t.TempDir())
	src, err := excelize.OpenFile(srcPath)
	must(t, err)
	defer src.Close()

	got := writeReport(t, WorkbookInput{
		Source: srcPath, Outcome: testOutcomes, Orders: testOrders, Title: "AM1 work visits",
		Counts: map[string]int{StatusOrdered: 1, StatusInvalid: 1, StatusRejected: 1, "rows": 4},
	})

	if sheets := got.GetSheetList(); !slices.Equal(sheets, []string{"Visitors", "Summary"}) {
		t.Fatalf("sheets = %q, want Visitors, Summary", sheets)
	}
	if dim, err := got.GetSheetDimension("Visitors"); err != nil || dim != "A1:M5" {
		t.Errorf("dimension = %q, %v; want A1:M5", dim, err)
	}
	if w, err := got.GetColWidth("Visitors", "C"); err != nil || w != 19 {
		t.Errorf("width of column C = %v, %v; want 19", w, err)
	}

	// The roster's cells, unchanged: values, types and number formats.
	for row := 1; row <= 5; row++ {
		for col := range rosterHeader {
			ref := cell(col, row)
			want, _ := src.GetCellValue("Visitors", ref, excelize.Options{RawCellValue: true})
			have, _ := got.GetCellValue("Visitors", ref, excelize.Options{RawCellValue: true})
			if have != want {
				t.Errorf("%s = %q, want %q", ref, have, want)
			}
			wt, _ := src.GetCellType("Visitors", ref)
			ht, _ := got.GetCellType("Visitors", ref)
			if wt != ht && !(wt == excelize.CellTypeSharedString && ht == excelize.CellTypeInlineString) {
				t.Errorf("%s type = %v, want %v", ref, ht, wt)
			}
			if wf, hf := numFmt(styleOf(t, src, "Visitors", ref)), numFmt(styleOf(t, got, "Visitors", ref)); wf != hf {
				t.Errorf("%s number format = %q, want %q", ref, hf, wf)
			}
		}
	}
	// Dates stay dates: a number with a date format, shown as a date.
	if v, _ := got.GetCellValue("Visitors", "C2"); v != "2027-01-11 08:00" {
		t.Errorf("C2 shows %q, want 2027-01-11 08:00", v)
	}
	if ty, _ := got.GetCellType("Visitors", "C2"); ty != excelize.CellTypeUnset && ty != excelize.CellTypeNumber {
		t.Errorf("C2 type = %v, want a number", ty)
	}

	want := map[string]string{
		"J1": "Status", "K1": "Order", "L1": "Problems", "M1": "How to fix",
		"J2": "ordered", "K2": "1-234", "L2": "", "M2": "",
		"J3": "invalid", "K3": "",
		"L3": "Cage (B): \"AM1:01\" is not a cage id\nVisit End (D): the visit ends before it starts\nCompany (G): the company is empty",
		"M3": "write the cage as IBX:floor:cage\n=check both dates\nwrite the company",
		"J4": "rejected", "L4": "Equinix rejected the order: cage not found", "M4": "check the cage in the portal",
		"J5": "", "L5": "",
	}
	for ref, w := range want {
		if v, _ := got.GetCellValue("Visitors", ref); v != w {
			t.Errorf("%s = %q, want %q", ref, v, w)
		}
	}

	// Problem cells are highlighted and keep their number format.
	for _, ref := range []string{"B3", "D3", "G3", "L3"} {
		if st := styleOf(t, got, "Visitors", ref); !hasFill(st, fillProblem) {
			t.Errorf("%s is not highlighted: fill %+v", ref, st.Fill)
		}
	}
	if st := styleOf(t, got, "Visitors", "D3"); numFmt(st) != "yyyy-mm-dd hh:mm" {
		t.Errorf("highlighted D3 lost its date format: %q", numFmt(st))
	}
	for _, ref := range []string{"B2", "D2", "A3", "B4", "G2"} {
		if st := styleOf(t, got, "Visitors", ref); highlighted(st) {
			t.Errorf("%s is highlighted but has no problem: %+v", ref, st.Fill)
		}
	}

	comments, err := got.GetComments("Visitors")
	must(t, err)
	byCell := map[string]string{}
	for _, c := range comments {
		byCell[c.Cell] = c.Text
		for _, p := range c.Paragraph {
			byCell[c.Cell] += p.Text
		}
	}
	for ref, w := range map[string]string{"B3": "is not a cage id", "D3": "ends before it starts", "G3": "the company is empty"} {
		if !strings.Contains(byCell[ref], w) {
			t.Errorf("comment on %s = %q, want it to say %q", ref, byCell[ref], w)
		}
	}
	if len(byCell) != 3 {
		t.Errorf("comments on %d cells, want 3: %v", len(byCell), byCell)
	}

	rows, err := got.GetRows("Summary")
	must(t, err)
	text := fmt.Sprint(rows)
	for _, w := range []string{
		"[AM1 work visits]", "[ordered 1]", "[rejected 1]", "[invalid 1]", "[rows 4]",
		"[1-234 WV-AM1-1 AM1 AM1:01:000111 2027-01-11 08:00 CET 2027-01-11 17:00 CET Europe/Amsterdam 2027-01-11 07:00 UTC 2027-01-11 16:00 UTC 1 ordered]",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("Summary lacks %s:\n%v", w, text)
		}
	}
	if i, j := strings.Index(text, "[ordered 1]"), strings.Index(text, "[rows 4]"); i > j {
		t.Errorf("Summary counts out of order:\n%v", text)
	}
}

func TestWriteWorkbookCSV(t *testing.T) {
	t.Parallel()
	header := "IBX,Cage,Visit Start,First Name,Last Name,Company,Notes\r\n"
	rows := "AM1,AM1:01:000111,2027-01-11 08:00,Ann,Müller,Acme,\"=cmd|' /C calc'!A0\"\r\n" +
		"AM1,AM1:01,2027-01-11 08:00,Bob,Jones,,+31 6\r\n"
	want := [][]string{
		{"IBX", "Cage", "Visit Start", "First Name", "Last Name", "Company", "Notes", "Status", "Order", "Problems", "How to fix"},
		{"AM1", "AM1:01:000111", "2027-01-11 08:00", "Ann", "Müller", "Acme", "=cmd|' /C calc'!A0", "ordered", "1-234"},
		{"AM1", "AM1:01", "2027-01-11 08:00", "Bob", "Jones", "", "+31 6", "invalid", "", "Cage (B): \"AM1:01\" is not a cage id", "write the cage as IBX:floor:cage"},
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(header + rows)
	must(t, err)
	cp1252, err := charmap.Windows1252.NewEncoder().String(header + rows)
	must(t, err)
	for _, tc := range []struct {
		name, data string
	}{
		{"utf8", header + rows},
		{"utf8-bom", "\uFEFF" + header + rows},
		{"utf16", utf16},
		{"windows-1252", cp1252},
		{"semicolons", strings.ReplaceAll(header+rows, ",", ";")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "roster.csv")
			must(t, os.WriteFile(p, []byte(tc.data), 0o600))
			outcome := func(row int) (RowOutcome, bool) {
				switch row {
				case 2:
					return RowOutcome{Status: StatusOrdered, OrderIDs: []string{"1-234"}}, true
				case 3:
					return RowOutcome{Status: StatusInvalid, Problems: []roster.RowError{{
						Row: 3, Column: "B", Field: "Cage", Message: `"AM1:01" is not a cage id`, Hint: "write the cage as IBX:floor:cage"}}}, true
				}
				return RowOutcome{}, false
			}
			got := writeReport(t, WorkbookInput{Source: p, Outcome: outcome, Orders: testOrders})
			if sheets := got.GetSheetList(); !slices.Equal(sheets, []string{"Visitors", "Summary"}) {
				t.Fatalf("sheets = %q", sheets)
			}
			rows, err := got.GetRows("Visitors")
			must(t, err)
			if fmt.Sprintf("%q", rows) != fmt.Sprintf("%q", want) {
				t.Errorf("rows:\n%q\nwant\n%q", rows, want)
			}
			if ty, _ := got.GetCellType("Visitors", "G2"); ty != excelize.CellTypeInlineString {
				t.Errorf("G2 type = %v, want a string", ty)
			}
			if dim, _ := got.GetSheetDimension("Visitors"); dim != "A1:K3" {
				t.Errorf("dimension = %q, want A1:K3", dim)
			}
			if st := styleOf(t, got, "Visitors", "B3"); !hasFill(st, fillProblem) {
				t.Errorf("B3 is not highlighted")
			}
			if c, _ := got.GetComments("Visitors"); len(c) != 1 || c[0].Cell != "B3" {
				t.Errorf("comments = %+v, want one on B3", c)
			}
		})
	}
}

// A report uploaded again gets its report columns filled in place, not a
// second set appended.
func TestWriteWorkbookOfReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := writeReportFile(t, WorkbookInput{Source: testRoster(t, dir), Outcome: testOutcomes}, filepath.Join(dir, "roster-report.xlsx"))
	again := writeReport(t, WorkbookInput{Source: first, Outcome: func(row int) (RowOutcome, bool) {
		if row == 3 {
			return RowOutcome{Status: StatusOrdered, OrderIDs: []string{"1-999"}}, true
		}
		return RowOutcome{}, false
	}})
	rows, err := again.GetRows("Visitors")
	must(t, err)
	if h := rows[0]; !slices.Equal(h[len(h)-4:], []string{"Status", "Order", "Problems", "How to fix"}) || len(h) != 13 {
		t.Fatalf("header = %q", h)
	}
	for ref, w := range map[string]string{"J2": "", "J3": "ordered", "K3": "1-999", "L3": "", "M3": "", "J4": ""} {
		if v, _ := again.GetCellValue("Visitors", ref); v != w {
			t.Errorf("%s = %q, want %q", ref, v, w)
		}
	}
	if st := styleOf(t, again, "Visitors", "L3"); highlighted(st) {
		t.Errorf("L3 keeps the old highlight")
	}
}

func writeReportFile(t testing.TB, in WorkbookInput, out string) string {
	t.Helper()
	var buf bytes.Buffer
	must(t, WriteWorkbook(&buf, in))
	must(t, os.WriteFile(out, buf.Bytes(), 0o600))
	checkOpenpyxl(t, buf.Bytes())
	return out
}

func TestWriteWorkbookCommentLimit(t *testing.T) {
	t.Parallel()
	rows := MaxComments + 50
	var b strings.Builder
	b.WriteString("IBX,Cage\n")
	for range rows {
		b.WriteString("AM1,bad\n")
	}
	p := filepath.Join(t.TempDir(), "big.csv")
	must(t, os.WriteFile(p, []byte(b.String()), 0o600))
	got := writeReport(t, WorkbookInput{Source: p, Outcome: func(row int) (RowOutcome, bool) {
		return RowOutcome{Status: StatusInvalid, Problems: []roster.RowError{{Row: row, Column: "B", Field: "Cage", Message: "bad cage"}}}, true
	}})
	comments, err := got.GetComments("Visitors")
	must(t, err)
	if len(comments) != MaxComments+1 {
		t.Errorf("%d comments, want %d and one on the Problems header", len(comments), MaxComments+1)
	}
	last := "B" + strconv.Itoa(rows+1)
	if st := styleOf(t, got, "Visitors", last); !hasFill(st, fillProblem) {
		t.Errorf("%s past the comment limit is not highlighted", last)
	}
	if v, _ := got.GetCellValue("Visitors", "E"+strconv.Itoa(rows+1)); v != "Cage (B): bad cage" {
		t.Errorf("Problems of the last row = %q", v)
	}
}

func TestWriteWorkbookErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		in   WorkbookInput
		want string
	}{
		{"missing file", WorkbookInput{Source: filepath.Join(dir, "nope.xlsx")}, "nope.xlsx"},
		{"not a workbook", WorkbookInput{Source: writeFile(t, dir, "x.xlsx", "hello")}, "not a valid zip"},
		{"unknown sheet", WorkbookInput{Source: testRoster(t, dir), Sheet: "People"}, `no sheet "People"`},
		{"other type", WorkbookInput{Source: writeFile(t, dir, "x.ods", "")}, ".ods"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := WriteWorkbook(io.Discard, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func writeFile(t testing.TB, dir, name, data string) string {
	p := filepath.Join(dir, name)
	must(t, os.WriteFile(p, []byte(data), 0o600))
	return p
}

// FuzzWorkbookInert writes arbitrary text as a roster cell and as a problem
// message and hint: the report must hold no formula, and the cell must read
// back as excelize reads it from the roster.
func FuzzWorkbookInert(f *testing.F) {
	for _, s := range []string{"=1+1", "+SUM(A1:A2)", "-2+3", "@A1", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://x\",\"y\")",
		"=cmd|' /C calc'!A0", "_x0041_", "_x005F_x0041_", " lead", "trail\n", "<f>1</f>", "a\x00b", "Müller", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dir := t.TempDir()
		src := excelize.NewFile()
		must(t, src.SetSheetName("Sheet1", "Visitors"))
		must(t, src.SetCellStr("Visitors", "A1", "Notes"))
		must(t, src.SetCellStr("Visitors", "A2", s))
		p := filepath.Join(dir, "r.xlsx")
		must(t, src.SaveAs(p))
		src.Close()
		// What excelize makes of s (it cuts and replaces what XML cannot hold).
		ref, err := excelize.OpenFile(p)
		must(t, err)
		want, _ := ref.GetCellValue("Visitors", "A2")
		ref.Close()

		got := writeReport(t, WorkbookInput{Source: p, Outcome: func(row int) (RowOutcome, bool) {
			return RowOutcome{Status: s, Problems: []roster.RowError{{Row: row, Column: "A", Message: s, Hint: s}}}, true
		}})
		for _, c := range []string{"A2", "B2", "C2", "D2", "E2"} {
			if fm, _ := got.GetCellFormula("Visitors", c); fm != "" {
				t.Fatalf("%s has formula %q", c, fm)
			}
		}
		if v, _ := got.GetCellValue("Visitors", "A2"); v != want {
			t.Errorf("A2 = %q, want %q", v, want)
		}
		if !xmlSafe(s) {
			return
		}
		for c, w := range map[string]string{"B2": s, "D2": s, "E2": s} {
			if v, _ := got.GetCellValue("Visitors", c); v != w {
				t.Errorf("%s = %q, want %q", c, v, w)
			}
		}
	})
}

// xmlSafe reports whether a cell can hold s exactly: valid UTF-8 of
// characters XML 1.0 allows, within a cell's length limit.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) || len(s) > excelize.TotalCellChars/2 {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// The report's roster sheet reads as the roster it copies: same header row,
// same records, the report columns ignored.
func TestWorkbookReadsAsRoster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "visitors.csv",
		"IBX;Cage;Visit Start;Visit End;First Name;Last Name;Company\n"+
			"AM1;AM1:01:000111;2027-01-11 08:00;2027-01-11 17:00;Ann;Smith;Acme\n"+
			"\n"+ // a blank line is a row too
			"AM1;AM1:01:000111;2027-01-11 08:00;2027-01-11 17:00;Cy;Lee;\"Acme\nFacilities\"\n"+
			"AM1;AM1:01;11/01/2027;;Bob;Jones;=1+1\n")
	for _, src := range []string{testRoster(t, dir), csvPath} {
		t.Run(filepath.Ext(src), func(t *testing.T) {
			t.Parallel()
			rep := writeReportFile(t, WorkbookInput{Source: src, Outcome: testOutcomes},
				filepath.Join(t.TempDir(), "report.xlsx"))
			want := readRoster(t, src)
			got := readRoster(t, rep)
			if got.header.Row != want.header.Row || got.header.Index != want.header.Index {
				t.Errorf("header row %d, columns %v; want row %d, columns %v", got.header.Row, got.header.Index, want.header.Row, want.header.Index)
			}
			if ign := got.header.Ignored; !slices.Equal(ign[len(ign)-4:], []string{"Status", "Order", "Problems", "How to fix"}) {
				t.Errorf("ignored columns = %q", ign)
			}
			if len(got.recs) != len(want.recs) {
				t.Fatalf("%d records, want %d", len(got.recs), len(want.recs))
			}
			for i := range want.recs {
				if got.recs[i] != want.recs[i] {
					t.Errorf("record %d:\n%+v\nwant\n%+v", i, got.recs[i], want.recs[i])
				}
			}
		})
	}
}

type rosterRead struct {
	header roster.Header
	recs   []roster.Record
}

func readRoster(t *testing.T, p string) rosterRead {
	t.Helper()
	src, err := roster.Open(p, roster.ReadOptions{})
	if err != nil {
		t.Fatalf("read %s as a roster: %v", p, err)
	}
	defer src.Close()
	out := rosterRead{header: *src.Header()}
	for {
		var rec roster.Record
		err := src.Next(&rec)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out.recs = append(out.recs, rec)
	}
}

// bigRoster writes a roster of n visitor rows with a StreamWriter.
func bigRoster(b testing.TB, dir string, n int) string {
	f := excelize.NewFile()
	defer f.Close()
	must(b, f.SetSheetName("Sheet1", "Visitors"))
	dateFmt := "yyyy-mm-dd hh:mm"
	ds, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	must(b, err)
	must(b, f.SetSheetDimension("Visitors", "A1:I"+strconv.Itoa(n+1)))
	sw, err := f.NewStreamWriter("Visitors")
	must(b, err)
	head := make([]any, len(rosterHeader))
	for i, h := range rosterHeader {
		head[i] = h
	}
	must(b, sw.SetRow("A1", head))
	start := time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)
	for i := range n {
		must(b, sw.SetRow("A"+strconv.Itoa(i+2), []any{"AM1", "AM1:01:000111",
			excelize.Cell{StyleID: ds, Value: start}, excelize.Cell{StyleID: ds, Value: start.Add(9 * time.Hour)},
			"Ann", "Smith" + strconv.Itoa(i), "Acme", 612345678 + i, "note"}))
	}
	must(b, sw.Flush())
	p := filepath.Join(dir, "big.xlsx")
	must(b, f.SaveAs(p))
	return p
}

// BenchmarkWriteWorkbook compares writing the report of a 100,000-row
// roster (every tenth row with a problem) with a bare excelize row loop over
// the same roster.
func BenchmarkWriteWorkbook(b *testing.B) {
	const rows = 100_000
	p := bigRoster(b, b.TempDir(), rows)
	b.Run("baseline-excelize-raw-rows", func(b *testing.B) {
		for b.Loop() {
			f, err := excelize.OpenFile(p)
			must(b, err)
			r, err := f.Rows("Visitors")
			must(b, err)
			n := 0
			for r.Next() {
				cols, err := r.Columns(excelize.Options{RawCellValue: true})
				must(b, err)
				n += len(cols)
			}
			must(b, r.Close())
			f.Close()
		}
	})
	b.Run("report", func(b *testing.B) {
		outcome := func(row int) (RowOutcome, bool) {
			if row%10 == 0 {
				return RowOutcome{Status: StatusInvalid, Problems: []roster.RowError{{Row: row, Column: "B", Field: "Cage", Message: "bad cage", Hint: "fix it"}}}, true
			}
			return RowOutcome{Status: StatusOrdered, OrderIDs: []string{"1-234"}}, true
		}
		for b.Loop() {
			must(b, WriteWorkbook(io.Discard, WorkbookInput{Source: p, Outcome: outcome}))
		}
	})
}

// Rows above a header that is not on row 1 are copied; the report columns
// go on the header row.
func TestWriteWorkbookHeaderBelowTitle(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	must(t, f.SetCellStr("Sheet1", "A1", "Visitors for January"))
	must(t, f.SetCellStr("Sheet1", "A3", "IBX"))
	must(t, f.SetCellStr("Sheet1", "B3", "Cage"))
	must(t, f.SetCellStr("Sheet1", "A4", "AM1"))
	must(t, f.SetCellStr("Sheet1", "B4", "AM1:01:000111"))
	p := filepath.Join(t.TempDir(), "titled.xlsx")
	must(t, f.SaveAs(p))
	f.Close()
	got := writeReport(t, WorkbookInput{Source: p, HeaderRow: 3, Outcome: func(row int) (RowOutcome, bool) {
		return RowOutcome{Status: StatusPending}, row == 4
	}})
	if sheets := got.GetSheetList(); sheets[0] != "Sheet1" {
		t.Errorf("sheets = %q, want the roster's Sheet1 first", sheets)
	}
	for ref, w := range map[string]string{"A1": "Visitors for January", "C1": "", "A3": "IBX", "C3": "Status", "F3": "How to fix", "B4": "AM1:01:000111", "C4": "pending"} {
		if v, _ := got.GetCellValue("Sheet1", ref); v != w {
			t.Errorf("%s = %q, want %q", ref, v, w)
		}
	}
	if dim, _ := got.GetSheetDimension("Sheet1"); dim != "A1:F4" {
		t.Errorf("dimension = %q, want A1:F4", dim)
	}
}

// A 1904-based workbook keeps its date system, and a formula in the roster
// becomes a plain cell.
func TestWriteWorkbookDate1904AndFormula(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	yes := true
	must(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}))
	must(t, f.SetCellStr("Sheet1", "A1", "Visit Start"))
	must(t, f.SetCellStr("Sheet1", "B1", "Total"))
	must(t, f.SetCellFloat("Sheet1", "A2", 44000.5, -1, 64))
	must(t, f.SetCellFormula("Sheet1", "B2", "=1+1"))
	p := filepath.Join(t.TempDir(), "mac.xlsx")
	must(t, f.SaveAs(p))
	f.Close()
	got := writeReport(t, WorkbookInput{Source: p})
	props, err := got.GetWorkbookProps()
	must(t, err)
	if props.Date1904 == nil || !*props.Date1904 {
		t.Errorf("the report lost the 1904 date system")
	}
	if v, _ := got.GetCellValue("Sheet1", "A2", excelize.Options{RawCellValue: true}); v != "44000.5" {
		t.Errorf("A2 = %q, want 44000.5", v)
	}
	if fm, _ := got.GetCellFormula("Sheet1", "B2"); fm != "" {
		t.Errorf("B2 has formula %q", fm)
	}
}
