package roster

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// rawCells reads the raw rows of the workbook at path, as cells or, with
// copy, as XML where the reader gives a row so: each row's cells printed
// by row number, and the XML rows re-wrapped as a sheet.
func rawCells(t testing.TB, path string, copy *CopyOptions) (cells map[int]string, xml string, copied int) {
	t.Helper()
	cells = map[int]string{}
	rs, err := OpenRawSheet(path, "", ReadOptions{MaxUnzipSize: 64 << 20})
	if err != nil {
		return cells, "", 0
	}
	defer rs.Close()
	if copy != nil {
		rs.CopyPlain(*copy)
	}
	var sheet strings.Builder
	var r RawRow
	for range 20000 {
		if err := rs.Next(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				cells[-1] = err.Error()
			}
			break
		}
		if r.XML != nil {
			copied++
			fmt.Fprintf(&sheet, `<row r="%d">%s</row>`, r.Row, r.XML)
			continue
		}
		var b strings.Builder
		for _, c := range r.Cells {
			fmt.Fprintf(&b, " %d/%d/%d/%q", c.Col, c.Style, c.Kind, c.Value)
		}
		cells[r.Row] = b.String()
	}
	return cells, sheet.String(), copied
}

// copiedRowsReadBack fails unless every row the raw reader gives as XML
// reads back, as a sheet of its own, to the cells it gives without copying,
// and every other row to the same cells as without copying; it returns the
// rows given as XML.
func copiedRowsReadBack(t testing.TB, path string) int {
	t.Helper()
	want, _, _ := rawCells(t, path, nil)
	got, xml, copied := rawCells(t, path, &CopyOptions{Rows: func(int) bool { return true }, Styles: 1 << 30, Columns: maxColumns})
	if copied > 0 {
		back, _, _ := rawCells(t, rawBook(t, "<sheetData>"+xml+"</sheetData>", "", `<cellXfs><xf/></cellXfs>`), nil)
		for row, c := range back {
			if row > 0 {
				got[row] = c
			}
		}
	}
	for row, c := range want {
		if got[row] != c {
			t.Fatalf("%s: row %d reads as cells\n%s\nand copied\n%s", path, row, c, got[row])
		}
	}
	return copied
}

// TestCopiedRowsReadBack: the rows of the plain-form tests, the generated
// and the randomly damaged workbooks, given as XML, read back to their cells.
func TestCopiedRowsReadBack(t *testing.T) {
	styles := `<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="1"/></cellXfs>`
	rows := []string{
		`<row r="1"><c r="A1" t="inlineStr"><is><t>IBX</t></is></c><c r="B1" t="inlineStr"><is><t>Cage</t></is></c></row>`,
		`<row r="2"><c r="A2" t="inlineStr"><is><t>DC2</t></is></c><c r="C2" s="0"/><c r="D2" s="2"/><c r="E2" s="1"><v>46398.5</v></c><c r="F2"><v>-1.5E+10</v></c></row>`,
		`<row r="3"><c t="inlineStr"><is><t>a	b` + "\n" + `c Müller 漢字 _x41_</t></is></c><c r="b3" t="inlineStr"><is><t>lower</t></is></c><c r="G7" t="inlineStr"><is><t>other row</t></is></c><c r="H$3"><v>0001</v></c></row>`,
		`<row r="4"><c r="A4" t="inlineStr"><is><t></t></is></c></row>`,
		`<row r="5"><c r="A5" t="inlineStr"><is><t>A &amp; B</t></is></c></row>`,
		`<row r="6"><c r="A6" t="inlineStr"><is><t>_x0041_</t></is></c></row>`,
		`<row r="7"><c r="C7" t="inlineStr"><is><t>C</t></is></c><c r="A7" t="inlineStr"><is><t>A</t></is></c></row>`,
		`<row r="8"><c r="A8"><v>1e400</v></c><c r="B8"><v> 2 </v></c></row>`,
		`<row r="9"><c r="A9" t="inlineStr"><is><t> lead</t></is></c></row>`,
		`<row r="10"/>`,
		`<row r="11"><c r="B11" s="02"><v>1</v></c></row>`,
	}
	p := rawBook(t, "<sheetData>"+strings.Join(rows, "")+"</sheetData>", "", styles)
	if n := copiedRowsReadBack(t, p); n != 4 {
		t.Errorf("%d rows given as XML, want 4 (rows 1 to 4)", n)
	}
}
