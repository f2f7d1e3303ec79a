package report

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/rostergen"
)

// TestCopiedRowsWriteTheSameReport: rows that keep their cells are copied
// as the roster's reader gives them as XML (a CSV's, as its text cells);
// the report is byte for byte the one written cell by cell, for generated
// rosters checked by the importer (.xlsx and .csv), randomized workbooks
// and CSVs, and a workbook of hand-written rows in
// every form the copy must take or leave to the cells (escapes, spaces,
// style ids, references, numbers, cells in the report's columns).
func TestCopiedRowsWriteTheSameReport(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	same := func(t *testing.T, in WorkbookInput, minCopied int) {
		t.Helper()
		var cells, copied bytes.Buffer
		n0, err := writeWorkbook(&cells, in, false)
		must(t, err)
		n, err := writeWorkbook(&copied, in, true)
		must(t, err)
		if n0 != 0 || n < minCopied {
			t.Errorf("%d rows copied (%d without copying), want at least %d", n, n0, minCopied)
		}
		if !bytes.Equal(cells.Bytes(), copied.Bytes()) {
			a, b := sheetOf(t, cells.Bytes()), sheetOf(t, copied.Bytes())
			i := 0
			for i < min(len(a), len(b)) && a[i] == b[i] {
				i++
			}
			t.Fatalf("the copied rows change the report at byte %d of the sheet:\ncells:  %.300s\ncopied: %.300s", i, a[max(i-100, 0):], b[max(i-100, 0):])
		}
	}
	for _, format := range []string{"xlsx", "csv"} {
		t.Run("generated-"+format, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "gen."+format)
			writeGenerated(t, p, 3000, 0.05)
			res, err := importer.Import(context.Background(), importer.Options{Path: p, Check: roster.CheckConfig{Now: now}, CountOnly: true})
			must(t, err)
			same(t, ValidationWorkbook(res), res.ValidRows*9/10)
		})
	}
	for seed := range uint64(6) {
		format := []string{"xlsx", "csv"}[seed%2]
		t.Run(fmt.Sprintf("random-%s-%d", format, seed), func(t *testing.T) {
			t.Parallel()
			in := randomRoster(t, rand.New(rand.NewPCG(seed, 7)), format)
			want := 0
			if format == "csv" {
				want = 1 // most rows: those with no problem
			}
			same(t, in, want)
		})
	}
	t.Run("hand-written", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		gen := filepath.Join(dir, "gen.xlsx")
		writeGenerated(t, gen, 20, 0)
		long := strings.Repeat("x", 32768)
		cells := []string{
			// Copied.
			`<c r="A%[1]d" t="inlineStr"><is><t>AM1</t></is></c><c r="B%[1]d" t="inlineStr"><is><t>a	b
c Müller 漢字 _x41_ 1_x0041</t></is></c>`,
			`<c r="A%[1]d" s="0" t="inlineStr"><is><t>AM1</t></is></c><c r="C%[1]d"/><c r="D%[1]d" s="2"/><c r="E%[1]d" s="2"><v>1.5E+10</v></c><c r="F%[1]d"><v>-0.25</v></c>`,
			`<c t="inlineStr"><is><t>no</t></is></c><c t="inlineStr"><is><t>references</t></is></c><c s="2"><v>0001</v></c>`,
			`<c r="b%[1]d" t="inlineStr"><is><t>lower</t></is></c><c r="D$%[1]d" t="inlineStr"><is><t>dollars</t></is></c><c r="G7" t="inlineStr"><is><t>wrong row</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t></t></is></c>`,
			`<c r="C0%[1]d" t="inlineStr"><is><t>leading zero</t></is></c><c r="AB%[1]d"><v>2</v></c><c r="AD00%[1]d"><v>3</v></c>`,
			`<c r="E%[1]d" t="inlineStr"><is><t>gap first</t></is></c><c r="G%[1]d0"><v>1</v></c>`,
			`<c r="C%[1]d" s="3"/>`,
			``,
			// Left to the cells.
			`<c r="A%[1]d" t="inlineStr"><is><t>A &amp; B</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>_x0041_</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t> lead</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t xml:space="preserve">trail </t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>` + "\u00a0" + `</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>` + "\uFFFE" + `</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>a>b</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>a` + "\r" + `b</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>` + "\xff" + `</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>` + long + `</t></is></c>`,
			`<c r="C%[1]d" t="inlineStr"><is><t>C</t></is></c><c r="A%[1]d" t="inlineStr"><is><t>A</t></is></c>`,
			`<c r="A%[1]d"><v>1e400</v></c>`,
			`<c r="A%[1]d"><v>1.</v></c><c r="B%[1]d"><v>.5</v></c>`,
			`<c r="A%[1]d"><v>+1</v></c>`,
			`<c r="A%[1]d"><v> 12 </v></c>`,
			`<c r="A%[1]d"><v></v></c>`,
			`<c r="A%[1]d" s="999" t="inlineStr"><is><t>style</t></is></c>`,
			`<c r="A%[1]d" s="02" t="inlineStr"><is><t>style</t></is></c>`,
			`<c r="A%[1]d" t="n"><v>1</v></c>`,
			`<c r="A%[1]d" t="b"><v>1</v></c>`,
			`<c r="A%[1]d" t="s"><v>0</v></c>`,
			`<c r="A%[1]d" t="inlineStr"/>`,
			`<c r="A%[1]d" t="inlineStr"></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>x</t></is></c><c r="P%[1]d" t="inlineStr"><is><t>in Status</t></is></c>`,
			`<c r="A%[1]d" t="inlineStr"><is><t>formula</t></is><f>1+1</f></c>`,
			`<c r="A%[1]d" t="inlineStr"> <is><t>space</t></is></c>`,
		}
		var rows strings.Builder
		for i, c := range cells {
			n := 22 + i
			attrs := []string{"", ` ht="30" customHeight="1"`, ` hidden="1"`, ` s="2" customFormat="1"`}[i%4]
			fmt.Fprintf(&rows, `<row r="%d"%s>`+c+`</row>`, n, attrs)
		}
		fmt.Fprintf(&rows, `<row r="%d"/>`, 22+len(cells))
		p := filepath.Join(dir, "hand.xlsx")
		rewritePart(t, gen, p, "xl/worksheets/sheet1.xml", func(sheet []byte) []byte {
			return bytes.Replace(sheet, []byte("</sheetData>"), []byte(rows.String()+"</sheetData>"), 1)
		})
		in := WorkbookInput{Source: p, Outcome: func(row int) (RowOutcome, bool) {
			if row%5 == 0 {
				return RowOutcome{Row: row, Status: StatusInvalid, Problems: []roster.RowError{{Row: row, Column: "B", Message: "bad"}}}, true
			}
			return RowOutcome{Row: row, Status: StatusValid}, true
		}}
		// The generated rows but those with a problem, and the first seven
		// hand-written rows.
		same(t, in, 20-4+7-2)
	})
	t.Run("hand-written-csv", func(t *testing.T) {
		t.Parallel()
		lines := []string{
			"IBX,Cage,First Name,Last Name",
			"AM1,AM1:01:1,Ann,Lee",
			",,,",
			"  ,  ,\u00a0,",
			" lead,trail ,_x0041_,a&b<c>d",
			`"two` + "\n" + `lines",x,"say ""hi""",` + "\x01",
			"AM1,,,Lee",
			",,Ann,",
			"AM1,AM1:01:1,Ann,Lee,past the header,and more",
			"AM1," + strings.Repeat("y", 32768) + ",Ann,Lee",
			"AM1,AM1:01:1,Ann,Lee",
			"AM1,AM1:01:1,Müller,漢字",
		}
		p := filepath.Join(t.TempDir(), "hand.csv")
		must(t, os.WriteFile(p, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o600))
		in := WorkbookInput{Source: p, Outcome: func(row int) (RowOutcome, bool) {
			if row%5 == 0 {
				return RowOutcome{Row: row, Status: StatusInvalid, Problems: []roster.RowError{{Row: row, Column: "B", Message: "bad"}}}, true
			}
			return RowOutcome{Row: row, Status: StatusValid}, true
		}}
		same(t, in, 7)
	})
}

func writeGenerated(t *testing.T, p string, rows int, errorRate float64) {
	t.Helper()
	must(t, rostergen.WriteFile(p, rostergen.Options{Rows: rows, Seed: 3, ErrorRate: errorRate}))
}

// sheetOf is the roster sheet's XML in a report.
func sheetOf(t *testing.T, report []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(report), int64(len(report)))
	must(t, err)
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			rc, err := f.Open()
			must(t, err)
			data, err := io.ReadAll(rc)
			must(t, err)
			return data
		}
	}
	t.Fatal("the report has no xl/worksheets/sheet1.xml")
	return nil
}
