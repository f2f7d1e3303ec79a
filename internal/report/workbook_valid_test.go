package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// rewritePart copies the workbook at src to dst with one part's content
// changed by edit.
func rewritePart(t testing.TB, src, dst, part string, edit func([]byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	must(t, err)
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		data, err := io.ReadAll(rc)
		must(t, err)
		rc.Close()
		if f.Name == part {
			data, found = edit(data), true
		}
		w, err := zw.Create(f.Name)
		must(t, err)
		_, err = w.Write(data)
		must(t, err)
	}
	must(t, zw.Close())
	if !found {
		t.Fatalf("%s has no part %s", src, part)
	}
	must(t, os.WriteFile(dst, buf.Bytes(), 0o600))
}

// TestWorkbookOfStrictStyles: a roster whose styles hold what other
// producers write — a patternFill with no pattern type (openpyxl), theme
// and indexed colours, 6-digit and malformed rgb colours, an unknown
// pattern type — gives a report every reader opens: its colours are 8-digit
// aRGB and the source's valid styles are kept.
func TestWorkbookOfStrictStyles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := testRoster(t, dir)
	p := filepath.Join(dir, "odd-styles.xlsx")
	rewritePart(t, src, p, "xl/styles.xml", func(b []byte) []byte {
		s := string(b)
		s = strings.Replace(s, `<fill><patternFill patternType="none"/></fill>`, `<fill><patternFill/></fill>`, 1)
		s = strings.Replace(s, `</fills>`, `<fill><patternFill patternType="solid"><fgColor rgb="1F4E78"/><bgColor rgb="FF"/></patternFill></fill>`+
			`<fill><patternFill patternType="bogus"><fgColor theme="4" tint="0.5"/></patternFill></fill></fills>`, 1)
		s = regexp.MustCompile(`<fills count="(\d+)"`).ReplaceAllStringFunc(s, func(m string) string {
			var n int
			fmt.Sscanf(m, `<fills count="%d"`, &n)
			return fmt.Sprintf(`<fills count="%d"`, n+2)
		})
		return []byte(s)
	})
	var buf bytes.Buffer
	must(t, WriteWorkbook(&buf, WorkbookInput{Source: p, Outcome: testOutcomes, Orders: testOrders}))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	must(t, err)
	for _, f := range zr.File {
		if f.Name != "xl/styles.xml" {
			continue
		}
		rc, err := f.Open()
		must(t, err)
		styles, _ := io.ReadAll(rc)
		rc.Close()
		for _, m := range regexp.MustCompile(`rgb="([^"]*)"`).FindAllStringSubmatch(string(styles), -1) {
			if !regexp.MustCompile(`^[0-9A-F]{8}$`).MatchString(m[1]) {
				t.Errorf("colour rgb=%q is not 8-digit aRGB", m[1])
			}
		}
		if !strings.Contains(string(styles), `rgb="FF1F4E78"`) || strings.Contains(string(styles), "bogus") {
			t.Errorf("styles not repaired:\n%s", styles)
		}
	}
	checkOpenpyxl(t, buf.Bytes())
	f, err := excelize.OpenReader(&buf)
	must(t, err)
	defer f.Close()
	if st := styleOf(t, f, "Visitors", "B3"); !hasFill(st, fillProblem) {
		t.Errorf("B3 is not highlighted")
	}
	if st := styleOf(t, f, "Visitors", "C2"); numFmt(st) != "yyyy-mm-dd hh:mm" {
		t.Errorf("C2 lost its date format: %q", numFmt(st))
	}
}

// TestWorkbookTakesWhatTheReaderTakes: control characters and undefined
// entities in cells, more columns than a report can hold, and more rows
// than a sheet holds give a report (never an error) whose Summary sheet
// says what was replaced or left out.
func TestWorkbookTakesWhatTheReaderTakes(t *testing.T) {
	t.Parallel()
	t.Run("control characters", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		src := testRoster(t, dir)
		p := filepath.Join(dir, "ctl.xlsx")
		rewritePart(t, src, p, "xl/worksheets/sheet1.xml", func(b []byte) []byte {
			s := strings.Replace(string(b), `<c r="E2" t="s"><v>`, `<c r="E2" t="inlineStr"><is><t>An&#1;n &amp;undefined; &foo; x&#x1F;</t></is><v>`, 1)
			if s == string(b) {
				t.Fatal("no cell E2 to change")
			}
			return []byte(s)
		})
		var buf bytes.Buffer
		must(t, WriteWorkbook(&buf, WorkbookInput{Source: p, Outcome: testOutcomes, Orders: testOrders}))
		checkOpenpyxl(t, buf.Bytes())
		f, err := excelize.OpenReader(&buf)
		must(t, err)
		defer f.Close()
		if v, _ := f.GetCellValue("Visitors", "E2"); v != "An\uFFFDn &undefined; &foo; x\uFFFD" {
			t.Errorf("E2 = %q", v)
		}
		rows, _ := f.GetRows("Summary")
		if !strings.Contains(fmt.Sprint(rows), "1 cells held characters a workbook cannot carry") {
			t.Errorf("the Summary sheet does not note the replaced characters: %q", rows)
		}
	})
	t.Run("columns", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("IBX,Cage")
		for i := 3; i <= 16390; i++ {
			fmt.Fprintf(&b, ",c%d", i)
		}
		b.WriteString("\nAM1,AM1:01")
		for i := 3; i <= 16390; i++ {
			fmt.Fprintf(&b, ",%d", i)
		}
		b.WriteString("\n")
		p := filepath.Join(t.TempDir(), "wide.csv")
		must(t, os.WriteFile(p, []byte(b.String()), 0o600))
		var buf bytes.Buffer
		must(t, WriteWorkbook(&buf, WorkbookInput{Source: p, Outcome: func(row int) (RowOutcome, bool) {
			return RowOutcome{Status: StatusInvalid, Problems: []roster.RowError{{Row: row, Column: "B", Field: "Cage", Message: "bad cage"}}}, true
		}}))
		checkOpenpyxl(t, buf.Bytes())
		f, err := excelize.OpenReader(&buf)
		must(t, err)
		defer f.Close()
		if dim, _ := f.GetSheetDimension("Visitors"); dim != "A1:XFD2" {
			t.Errorf("dimension %s, want A1:XFD2", dim)
		}
		if v, _ := f.GetCellValue("Visitors", "XFA2"); v != "invalid" {
			t.Errorf("Status (XFA2) = %q, want invalid", v)
		}
		if v, _ := f.GetCellValue("Visitors", "XEZ2"); v != "16380" {
			t.Errorf("XEZ2 = %q, want 16380", v)
		}
		rows, _ := f.GetRows("Summary")
		if !strings.Contains(fmt.Sprint(rows), "columns after column XEZ are not in this workbook") {
			t.Errorf("the Summary sheet does not say what was left out: %q", rows)
		}
	})
	t.Run("rows", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes a million-row report")
		}
		t.Parallel()
		p := filepath.Join(t.TempDir(), "long.csv")
		f, err := os.Create(p)
		must(t, err)
		w := bytes.NewBufferString("Cage\n")
		for i := range 1048577 { // rows 2 to 1,048,578
			fmt.Fprintf(w, "%d\n", i)
		}
		_, err = f.Write(w.Bytes())
		must(t, err)
		must(t, f.Close())
		var buf bytes.Buffer
		must(t, WriteWorkbook(&buf, WorkbookInput{Source: p, Outcome: func(row int) (RowOutcome, bool) {
			return RowOutcome{Status: StatusValid}, true
		}}))
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		must(t, err)
		var summary, sheet string
		for _, zf := range zr.File {
			rc, err := zf.Open()
			must(t, err)
			data, err := io.ReadAll(rc)
			must(t, err)
			rc.Close()
			switch zf.Name {
			case "xl/worksheets/sheet2.xml":
				summary = string(data)
			case "xl/worksheets/sheet1.xml":
				sheet = string(data)
			}
		}
		if !strings.Contains(summary, "2 rows after row 1048576 are not in this workbook") {
			t.Errorf("the Summary sheet does not say which rows were left out")
		}
		if !strings.Contains(sheet, `<dimension ref="A1:E1048576"/>`) || strings.Contains(sheet, `<row r="1048577"`) ||
			!strings.Contains(sheet, `<row r="1048576">`) {
			t.Errorf("the sheet does not stop at row 1,048,576")
		}
	})
}

// TestWorkbookOfMacroWorkbook: the report of an .xlsm is an .xlsx Excel
// opens: a workbook's content type, without the macros.
func TestWorkbookOfMacroWorkbook(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := testRoster(t, dir)
	step := filepath.Join(dir, "step.xlsx")
	rewritePart(t, src, step, "[Content_Types].xml", func(b []byte) []byte {
		s := strings.Replace(string(b), ctWorkbook, ctMacroWorkbook, 1)
		return []byte(strings.Replace(s, "</Types>", `<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>`, 1))
	})
	p := filepath.Join(dir, "roster.xlsm")
	rewritePart(t, step, p, "xl/_rels/workbook.xml.rels", func(b []byte) []byte {
		return []byte(strings.Replace(string(b), "</Relationships>",
			`<Relationship Id="rIdVBA" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>`, 1))
	})
	// The macros themselves.
	zr, err := zip.OpenReader(p)
	must(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		w, err := zw.Create(f.Name)
		must(t, err)
		_, err = io.Copy(w, rc)
		must(t, err)
		rc.Close()
	}
	w, err := zw.Create("xl/vbaProject.bin")
	must(t, err)
	_, err = w.Write([]byte("not really macros"))
	must(t, err)
	must(t, zw.Close())
	zr.Close()
	must(t, os.WriteFile(p, buf.Bytes(), 0o600))

	var out bytes.Buffer
	must(t, WriteWorkbook(&out, WorkbookInput{Source: p, Outcome: testOutcomes, Orders: testOrders}))
	rz, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	must(t, err)
	for _, f := range rz.File {
		rc, err := f.Open()
		must(t, err)
		data, _ := io.ReadAll(rc)
		rc.Close()
		switch {
		case f.Name == "xl/vbaProject.bin":
			t.Error("the report keeps the macros")
		case strings.Contains(string(data), "macroEnabled") || strings.Contains(string(data), "vbaProject"):
			t.Errorf("%s still names the macros:\n%s", f.Name, data)
		}
	}
	checkOpenpyxl(t, out.Bytes())
}

// TestWorkbookOfReportKeepsOneSummary: the report of a report (the fixed
// report submitted again) replaces the earlier Summary sheet and keeps the
// Order sheet, whether the workbooks write their sheets' elements
// self-closed or not (excelize does not).
func TestWorkbookOfReportKeepsOneSummary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := excelize.NewFile()
	must(t, f.SetSheetName("Sheet1", "Visitors"))
	must(t, f.SetSheetRow("Visitors", "A1", &[]any{"IBX", "Cage"}))
	must(t, f.SetSheetRow("Visitors", "A2", &[]any{"AM1", "AM1:01"}))
	_, err := f.NewSheet("Order")
	must(t, err)
	must(t, f.SetSheetRow("Order", "A2", &[]any{"Description", "Quarterly maintenance"}))
	src := filepath.Join(dir, "roster.xlsx")
	must(t, f.SaveAs(src))
	must(t, f.Close())
	in := WorkbookInput{Source: src, Outcome: testOutcomes}
	first := writeReportFile(t, in, filepath.Join(dir, "roster-report.xlsx"))
	// Edited and saved by excelize, which writes <sheet …></sheet>.
	ef, err := excelize.OpenFile(first)
	must(t, err)
	must(t, ef.SetCellStr("Visitors", "B2", "AM1:01:000111"))
	resaved := filepath.Join(dir, "fixed.xlsx")
	must(t, ef.SaveAs(resaved))
	must(t, ef.Close())
	in.Source = resaved
	got := writeReport(t, in)
	if sheets := got.GetSheetList(); !slices.Equal(sheets, []string{"Visitors", "Order", "Summary"}) {
		t.Errorf("sheets of the report of a report: %q, want Visitors, Order, Summary", sheets)
	}
	if v, _ := got.GetCellValue("Order", "B2"); v != "Quarterly maintenance" {
		t.Errorf("Order!B2 = %q", v)
	}
}
