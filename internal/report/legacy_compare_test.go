package report

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/rostergen"
)

// TestWorkbookMatchesLegacy compares the streamed writer's reports with the
// old writer's (excelize's StreamWriter), cell by cell: values and types,
// the styles of every cell (number format, fill, bold) and so those of the
// flagged cells, comments, column widths, row heights and hidden rows, and
// the Summary sheet. Rosters: generated ones checked by the importer (.xlsx
// and .csv, with 5% invalid rows) and randomized workbooks and CSVs with
// random outcomes.
func TestWorkbookMatchesLegacy(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	for _, format := range []string{"xlsx", "csv"} {
		t.Run("generated-"+format, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "gen."+format)
			must(t, rostergen.WriteFile(p, rostergen.Options{Rows: 600, Seed: 7, ErrorRate: 0.05}))
			res, err := importer.Import(context.Background(), importer.Options{Path: p, Check: roster.CheckConfig{Now: now}, CountOnly: true})
			must(t, err)
			if res.InvalidRows == 0 {
				t.Fatal("the generated roster has no invalid rows")
			}
			in := ValidationWorkbook(res)
			if in.LastRow != 601 || in.LastColumn != 15 {
				t.Errorf("the import gives the extent %d×%d, want 601×15", in.LastRow, in.LastColumn)
			}
			compareWithLegacy(t, in)
			// Without the import's extent, the writer measures the sheet.
			in.LastRow, in.LastColumn = 0, 0
			compareWithLegacy(t, in)
		})
	}
	for seed := range uint64(6) {
		format := []string{"xlsx", "csv"}[seed%2]
		t.Run(fmt.Sprintf("random-%s-%d", format, seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 99))
			in := randomRoster(t, rng, format)
			compareWithLegacy(t, in)
		})
	}
}

func compareWithLegacy(t *testing.T, in WorkbookInput) {
	t.Helper()
	var nb, ob bytes.Buffer
	must(t, WriteWorkbook(&nb, in))
	must(t, legacyWriteWorkbook(&ob, in))
	checkOpenpyxl(t, nb.Bytes())
	nf, err := excelize.OpenReader(&nb)
	must(t, err)
	defer nf.Close()
	of, err := excelize.OpenReader(&ob)
	must(t, err)
	defer of.Close()

	sheet := of.GetSheetList()[0]
	if got := nf.GetSheetList(); !slices.Contains(got, sheet) || !slices.Contains(got, "Summary") {
		t.Fatalf("sheets %q, want %s and Summary", got, sheet)
	}
	odim, _ := of.GetSheetDimension(sheet)
	ndim, _ := nf.GetSheetDimension(sheet)
	if odim != ndim {
		t.Errorf("dimension %s, legacy %s", ndim, odim)
	}
	lastCol, lastRow, err := excelize.CellNameToCoordinates(strings.Split(odim, ":")[1])
	must(t, err)
	diffs := 0
	report := func(format string, args ...any) {
		if diffs++; diffs <= 20 {
			t.Errorf(format, args...)
		}
	}
	for row := 1; row <= lastRow; row++ {
		oh, _ := of.GetRowHeight(sheet, row)
		nh, _ := nf.GetRowHeight(sheet, row)
		ov, _ := of.GetRowVisible(sheet, row)
		nv, _ := nf.GetRowVisible(sheet, row)
		if oh != nh || ov != nv {
			report("row %d: height %v visible %v, legacy %v %v", row, nh, nv, oh, ov)
		}
		for col := 1; col <= lastCol; col++ {
			ref, _ := excelize.CoordinatesToCellName(col, row)
			o, _ := of.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
			n, _ := nf.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
			if o != n && !sameNumber(o, n) {
				report("%s = %q, legacy %q", ref, n, o)
			}
			ot, _ := of.GetCellType(sheet, ref)
			nt, _ := nf.GetCellType(sheet, ref)
			if cellKind(ot, o) != cellKind(nt, n) {
				report("%s type %v, legacy %v (%q)", ref, nt, ot, o)
			}
			os, ns := styleOf(t, of, sheet, ref), styleOf(t, nf, sheet, ref)
			if numFmt(os) != numFmt(ns) || fillOf(os) != fillOf(ns) || bold(os) != bold(ns) {
				report("%s style: format %q fill %q bold %v, legacy %q %q %v", ref, numFmt(ns), fillOf(ns), bold(ns), numFmt(os), fillOf(os), bold(os))
			}
		}
	}
	for col := 1; col <= lastCol; col++ {
		name, _ := excelize.ColumnNumberToName(col)
		ow, _ := of.GetColWidth(sheet, name)
		nw, _ := nf.GetColWidth(sheet, name)
		if ow != nw {
			report("column %s width %v, legacy %v", name, nw, ow)
		}
	}
	commentsOf := func(f *excelize.File) []string {
		cs, err := f.GetComments(sheet)
		must(t, err)
		var out []string
		for _, c := range cs {
			text := c.Text
			for _, p := range c.Paragraph {
				text += p.Text
			}
			text = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "wvbatch:"))
			out = append(out, c.Cell+": "+strings.TrimSpace(text))
		}
		slices.Sort(out)
		return out
	}
	if oc, nc := commentsOf(of), commentsOf(nf); !slices.Equal(oc, nc) {
		report("comments differ: %d, legacy %d\n%q\n%q", len(nc), len(oc), head(nc), head(oc))
	}
	orows, err := of.GetRows("Summary")
	must(t, err)
	nrows, err := nf.GetRows("Summary")
	must(t, err)
	if fmt.Sprintf("%q", orows) != fmt.Sprintf("%q", nrows) {
		report("Summary sheet:\n%q\nlegacy\n%q", nrows, orows)
	}
	for _, ref := range []string{"A1", "A2", "A4", "B4"} {
		if bold(styleOf(t, of, "Summary", ref)) != bold(styleOf(t, nf, "Summary", ref)) ||
			fillOf(styleOf(t, of, "Summary", ref)) != fillOf(styleOf(t, nf, "Summary", ref)) {
			report("Summary %s style differs", ref)
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// cellKind folds the cell types both writers may use for the same value.
func cellKind(t excelize.CellType, v string) string {
	switch t {
	case excelize.CellTypeSharedString, excelize.CellTypeInlineString, excelize.CellTypeFormula:
		return "text"
	case excelize.CellTypeUnset, excelize.CellTypeNumber:
		if v == "" {
			return "empty"
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return "number"
		}
		return "text"
	}
	return fmt.Sprint(t)
}

func sameNumber(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

func fillOf(st *excelize.Style) string {
	if st.Fill.Pattern == 0 || len(st.Fill.Color) == 0 {
		return ""
	}
	return strings.ToUpper(rgb6(st.Fill.Color[0]))
}

func bold(st *excelize.Style) bool { return st.Font != nil && st.Font.Bold }

// randomRoster writes a roster of random cells (text with spaces, accents
// and line breaks, numbers, booleans, dates, empty strings, styled empty
// cells, fills and bold fonts, row heights and hidden rows; a title above
// the header in some) and gives random outcomes with problems on random
// columns, some with no cell.
func randomRoster(t *testing.T, rng *rand.Rand, format string) WorkbookInput {
	cols := 4 + rng.IntN(10)
	rows := 20 + rng.IntN(60)
	hr := 1
	if format == "xlsx" && rng.IntN(2) == 0 {
		hr = 2 + rng.IntN(2)
	}
	words := []string{"AM1", "Ann", " lead", "trail ", "Müller", "a\nb", "=1+1", "x;y", "0101", "", "  ", "ÅÄÖ 漢字", "_x0041_"}
	value := func() any {
		switch rng.IntN(8) {
		case 0:
			return rng.IntN(100000)
		case 1:
			return rng.Float64() * 1000
		case 2:
			return time.Date(2027, 1, 1+rng.IntN(300), rng.IntN(24), 0, 0, 0, time.UTC)
		case 3:
			return rng.IntN(2) == 0
		case 4:
			return nil
		}
		return words[rng.IntN(len(words))]
	}
	dir := t.TempDir()
	var p string
	var lastRow int
	if format == "csv" {
		var b strings.Builder
		for r := 1; r <= rows; r++ {
			for c := range cols {
				if c > 0 {
					b.WriteByte(',')
				}
				if r == 1 {
					fmt.Fprintf(&b, "Col %d", c+1)
					continue
				}
				if v := value(); v != nil {
					s := fmt.Sprint(v)
					if tm, ok := v.(time.Time); ok {
						s = tm.Format("2006-01-02 15:04")
					}
					b.WriteString(`"` + strings.ReplaceAll(s, `"`, `""`) + `"`)
				}
			}
			b.WriteString("\r\n")
		}
		p = filepath.Join(dir, "random.csv")
		must(t, os.WriteFile(p, []byte(b.String()), 0o600))
		lastRow = rows
	} else {
		f := excelize.NewFile()
		defer f.Close()
		must(t, f.SetSheetName("Sheet1", "Visitors"))
		dateFmt := "yyyy-mm-dd hh:mm"
		var styles []int
		for _, st := range []*excelize.Style{
			{CustomNumFmt: &dateFmt},
			{Font: &excelize.Font{Bold: true}},
			{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}},
			{NumFmt: 49},
			{Alignment: &excelize.Alignment{WrapText: true}},
		} {
			id, err := f.NewStyle(st)
			must(t, err)
			styles = append(styles, id)
		}
		if hr > 1 {
			must(t, f.SetCellStr("Visitors", "A1", "Roster of visitors"))
		}
		for c := range cols {
			ref, _ := excelize.CoordinatesToCellName(c+1, hr)
			must(t, f.SetCellStr("Visitors", ref, fmt.Sprintf("Col %d", c+1)))
			if rng.IntN(3) == 0 {
				name, _ := excelize.ColumnNumberToName(c + 1)
				must(t, f.SetColWidth("Visitors", name, name, float64(5+rng.IntN(40))))
			}
		}
		for r := hr + 1; r <= hr+rows; r++ {
			for c := range cols {
				ref, _ := excelize.CoordinatesToCellName(c+1, r)
				v := value()
				if v != nil {
					must(t, f.SetCellValue("Visitors", ref, v))
				}
				if _, ok := v.(time.Time); ok {
					must(t, f.SetCellStyle("Visitors", ref, ref, styles[0]))
				} else if rng.IntN(4) == 0 {
					must(t, f.SetCellStyle("Visitors", ref, ref, styles[rng.IntN(len(styles))]))
				}
			}
			if rng.IntN(10) == 0 {
				must(t, f.SetRowHeight("Visitors", r, float64(10+rng.IntN(40))))
			}
			if rng.IntN(15) == 0 {
				must(t, f.SetRowVisible("Visitors", r, false))
			}
		}
		p = filepath.Join(dir, "random.xlsx")
		must(t, f.SaveAs(p))
		lastRow = hr + rows
	}
	outcomes := map[int]RowOutcome{}
	statuses := []string{StatusOrdered, StatusInvalid, StatusRejected, StatusPending, StatusAlreadyOrdered, StatusCancelled, StatusValid}
	for r := hr + 1; r <= lastRow; r++ {
		o := RowOutcome{Row: r, Status: statuses[rng.IntN(len(statuses))]}
		if o.Status == StatusOrdered {
			o.OrderIDs = []string{fmt.Sprintf("1-%d", 1000+r)}
		}
		for range rng.IntN(3) {
			col := rng.IntN(cols + 2)
			o.Problems = append(o.Problems, roster.RowError{Row: r, Column: roster.ColumnName(col), Field: fmt.Sprintf("Col %d", col+1),
				Message: fmt.Sprintf("problem %d & <more>", rng.IntN(100)), Hint: []string{"", "fix it", "fix <it> & more"}[rng.IntN(3)]})
		}
		outcomes[r] = o
	}
	return WorkbookInput{
		Source: p, HeaderRow: hr, Title: "Random", Counts: map[string]int{StatusOrdered: 3, "other": 2},
		Outcome: func(row int) (RowOutcome, bool) {
			o, ok := outcomes[row]
			return o, ok
		},
		Orders: testOrders,
	}
}
