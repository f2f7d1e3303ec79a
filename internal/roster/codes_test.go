package roster

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestShownNumber reads number cells as Excel shows them: whole numbers
// without a fraction or exponent, padded by a zeros format.
func TestShownNumber(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		v    string
		pad  int
		want string
	}{
		{"101", 0, "101"},
		{"101.0", 0, "101"},
		{"1.01E2", 0, "101"},
		{"1.5E+3", 0, "1500"},
		{"101", 4, "0101"},
		{"101.0", 4, "0101"},
		{"612345678", 10, "0612345678"},
		{"12345", 4, "12345"},
		{"12.5", 4, "12.5"},
		{"-3", 2, "-03"},
		{"46398.3333333333", 0, "46398.3333333333"},
		{"1E+20", 0, "1E+20"},
	} {
		if got := string(shownNumber(nil, []byte(c.v), c.pad)); got != c.want {
			t.Errorf("shownNumber(%q, %d) = %q, want %q", c.v, c.pad, got, c.want)
		}
	}
}

func TestZeroPad(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]uint8{
		"0000": 4, "0000000000": 10, "00000": 5, "#0000": 4,
		"0": 0, "0#########": 0, "General": 0, `"No. "0000`: 0, "0.00": 0, "@": 0, "": 0,
	} {
		if got := zeroPad(code); got != want {
			t.Errorf("zeroPad(%q) = %d, want %d", code, got, want)
		}
	}
}

// TestReadZeroPaddedNumbers reads codes typed as numbers into cells whose
// format keeps their leading zeros, and into General cells, which do not.
func TestReadZeroPaddedNumbers(t *testing.T) {
	t.Parallel()
	styles := `<numFmts count="2"><numFmt numFmtId="164" formatCode="0000"/><numFmt numFmtId="165" formatCode="0000000000"/></numFmts>` +
		`<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/></cellXfs>`
	sheet := `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Cage</t></is></c><c r="B1" t="inlineStr"><is><t>Cabinet</t></is></c>` +
		`<c r="C1" t="inlineStr"><is><t>Mobile Phone</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>AM1:01:000111</t></is></c><c r="B2" s="1"><v>101</v></c><c r="C2" s="2"><v>612345678</v></c></row>` +
		`<row r="3"><c r="A3" t="inlineStr"><is><t>AM1:01:000111</t></is></c><c r="B3"><v>101</v></c><c r="C3"><v>612345678.0</v></c></row>` +
		`</sheetData>`
	_, recs := readAll(t, rawBook(t, sheet, "", styles), ReadOptions{})
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for i, want := range [][2]string{{"0101", "0612345678"}, {"101", "612345678"}} {
		r := recs[i]
		if got := [2]string{r.Value(FieldCabinet), r.Value(FieldMobilePhone)}; got != want {
			t.Errorf("row %d: Cabinet, Mobile Phone = %q, want %q", r.Row, got, want)
		}
		if r.Cells[FieldCabinet].Kind != KindNumber {
			t.Errorf("row %d: Cabinet kind %d, want KindNumber", r.Row, r.Cells[FieldCabinet].Kind)
		}
	}
}

// TestCabinetNumberCell: a Cabinet typed as a number in a General cell has
// lost its leading zeros. Offline a short one is an error with a hint to
// format the column as text; before a pre-flight it is left for it to match.
func TestCabinetNumberCell(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
	check := func(cabinet Cell, preflight bool) (Visitor, []RowError) {
		rec := record(2, goodRow())
		rec.Cells[FieldCabinet] = cabinet
		var v Visitor
		errs := NewChecker(fullHeader(), CheckConfig{Now: now, Preflight: preflight}).Check(rec, &v, nil)
		return v, errs
	}
	v, errs := check(Cell{Text: "101", Kind: KindNumber}, false)
	if len(errs) != 1 || errs[0].Code != CodeCabinetNumber || errs[0].Column != "C" ||
		!strings.Contains(errs[0].Hint, "format the Cabinet column as Text") {
		t.Fatalf("offline number 101: %+v", errs)
	}
	v, errs = check(Cell{Text: "101", Kind: KindNumber}, true)
	if len(errs) != 0 || v.Cabinet != "AM1:01:000111:101" || !v.CabinetIsNumber {
		t.Errorf("before a pre-flight: %+v %+v", v, errs)
	}
	// Four digits or more: no zero can be missing from a cabinet number.
	if v, errs = check(Cell{Text: "1234", Kind: KindNumber}, false); len(errs) != 0 || v.Cabinet != "AM1:01:000111:1234" {
		t.Errorf("offline number 1234: %+v %+v", v, errs)
	}
	// Text is as typed.
	if v, errs = check(Cell{Text: "101"}, false); len(errs) != 0 || v.Cabinet != "AM1:01:000111:101" || v.CabinetIsNumber {
		t.Errorf("text 101: %+v %+v", v, errs)
	}
}

// TestCountryCodePrefixes reads the international prefix 00 as +.
func TestCountryCodePrefixes(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
	for cc, want := range map[string]string{"0031": "+31", "001": "+1", "31": "+31", "+31": "+31", "0044": "+44"} {
		row := goodRow()
		row[FieldMobileCountryCode], row[FieldMobilePhone] = cc, "612 345 678"
		var v Visitor
		errs := NewChecker(fullHeader(), CheckConfig{Now: now}).Check(record(2, row), &v, nil)
		if len(errs) != 0 || v.MobileCountryCode != want {
			t.Errorf("%q: code %q, errors %v; want %q", cc, v.MobileCountryCode, errs, want)
		}
	}
	for _, cc := range []string{"00+31", "+31-6", "0031a"} {
		row := goodRow()
		row[FieldMobileCountryCode], row[FieldMobilePhone] = cc, "612 345 678"
		var v Visitor
		errs := NewChecker(fullHeader(), CheckConfig{Now: now}).Check(record(2, row), &v, nil)
		if len(errs) != 1 || errs[0].Code != CodeCountryCodeInvalid {
			t.Errorf("%q: errors %v, want %s", cc, errs, CodeCountryCodeInvalid)
		}
	}
}

// TestFormulaNeverCalculated: a formula cell without a saved value is a row
// error naming the column, and nothing else of the row is judged.
func TestFormulaNeverCalculated(t *testing.T) {
	t.Parallel()
	rec := record(7, goodRow())
	rec.Cells[FieldIBX] = Cell{Text: "=LEFT(B7,3)", Kind: KindFormula}
	rec.Cells[FieldEmail] = Cell{Text: "not an address"}
	var v Visitor
	errs := NewChecker(fullHeader(), CheckConfig{}).Check(rec, &v, nil)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	e := errs[0]
	if e.Code != CodeFormulaUncalculated || e.Row != 7 || e.Column != "A" || e.Value != "=LEFT(B7,3)" ||
		e.Message != "IBX has a formula that was never calculated: open and save the file in Excel" || e.Hint == "" {
		t.Errorf("got %+v", e)
	}
}

// TestReadFormulaCells tells a formula without a saved value from one whose
// value is saved, also when the value is empty text.
func TestReadFormulaCells(t *testing.T) {
	t.Parallel()
	sheet := `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>IBX</t></is></c><c r="B1" t="inlineStr"><is><t>Cage</t></is></c>` +
		`<c r="C1" t="inlineStr"><is><t>Company</t></is></c></row>` +
		// openpyxl: no value at all.
		`<row r="2"><c r="A2"><f>LEFT(B2,3)</f><v></v></c><c r="B2" t="inlineStr"><is><t>AM1:01:000111</t></is></c>` +
		`<c r="C2"><f>UPPER("x")</f></c></row>` +
		// Calculated: text, a number, and an empty text result.
		`<row r="3"><c r="A3" t="str"><f>LEFT(B3,3)</f><v>AM1</v></c><c r="B3" t="inlineStr"><is><t>AM1:01:000111</t></is></c>` +
		`<c r="C3" t="str"><f>""</f><v></v></c></row>` +
		`<row r="4"><c r="A4"><f t="shared" si="0"/></c><c r="B4"><f>1+1</f><v>2</v></c></row>` +
		`</sheetData>`
	_, recs := readAll(t, rawBook(t, sheet, "", ""), ReadOptions{})
	want := []struct {
		row  int
		ibx  Cell
		cage Cell
		co   Cell
	}{
		{2, Cell{"=LEFT(B2,3)", KindFormula}, Cell{"AM1:01:000111", KindText}, Cell{`=UPPER("x")`, KindFormula}},
		{3, Cell{"AM1", KindText}, Cell{"AM1:01:000111", KindText}, Cell{}},
		{4, Cell{"=", KindFormula}, Cell{"2", KindNumber}, Cell{}},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Row != w.row || r.Cells[FieldIBX] != w.ibx || r.Cells[FieldCage] != w.cage || r.Cells[FieldCompany] != w.co {
			t.Errorf("record %d: row %d %+v %+v %+v, want %+v", i, r.Row, r.Cells[FieldIBX], r.Cells[FieldCage], r.Cells[FieldCompany], w)
		}
	}
}

// TestDate1904 reads serials of a workbook in the 1904 date system 1462
// days later than the same serials in the 1900 system.
func TestDate1904(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cell     Cell
		date1904 bool
		want     string
	}{
		{Cell{"46398.3333333333", KindDateSerial}, false, "2027-01-11 08:00"},
		{Cell{"44936.3333333333", KindDateSerial}, true, "2027-01-11 08:00"},
		{Cell{"44936.3333333333", KindDateSerial}, false, "2023-01-10 08:00"},
		{Cell{"44936", KindNumber}, true, "2027-01-11 00:00"},
		{Cell{"0", KindDateSerial}, true, "1904-01-01 00:00"},
	} {
		w, p := parseWall(c.cell, DateOrderAuto, c.date1904)
		if p != nil {
			t.Errorf("%+v 1904=%v: %v", c.cell, c.date1904, p)
			continue
		}
		if got := time.Date(w.Year, time.Month(w.Month), w.Day, w.Hour, w.Minute, 0, 0, time.UTC).Format("2006-01-02 15:04"); got != c.want {
			t.Errorf("%+v 1904=%v: %s, want %s", c.cell, c.date1904, got, c.want)
		}
	}
}

// TestReadDate1904AndHiddenRows reads the workbook's date system and the
// rows it hides (hidden="1", or "true" as LibreOffice writes).
func TestReadDate1904AndHiddenRows(t *testing.T) {
	t.Parallel()
	styles := `<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs>`
	sheet := `<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Cage</t></is></c><c r="B1" t="inlineStr"><is><t>Visit Start</t></is></c></row>` +
		`<row r="2" hidden="1"><c r="A2" t="inlineStr"><is><t>AM1:01:000111</t></is></c><c r="B2" s="1"><v>44936.5</v></c></row>` +
		`<row r="3" hidden="false"><c r="A3" t="inlineStr"><is><t>AM1:01:000111</t></is></c></row>` +
		`<row r="4" hidden="true"><c r="A4" t="inlineStr"><is><t>AM1:01:000111</t></is></c></row>` +
		`</sheetData>`
	path := rawBook(t, sheet, "", styles)
	h, recs := readAll(t, path, ReadOptions{})
	if h.Date1904 {
		t.Error("a workbook without date1904 reads as 1904")
	}
	var hidden []int
	for _, r := range recs {
		if r.Hidden {
			hidden = append(hidden, r.Row)
		}
	}
	if len(hidden) != 2 || hidden[0] != 2 || hidden[1] != 4 {
		t.Errorf("hidden rows %v, want [2 4]", hidden)
	}
	book1904 := rewritePart(t, path, "xl/workbook.xml", func(s string) string {
		return strings.Replace(s, "<sheets>", `<workbookPr date1904="1"/><sheets>`, 1)
	})
	if h, _ := readAll(t, book1904, ReadOptions{}); !h.Date1904 {
		t.Error("date1904 not read")
	}
}

func TestRowSet(t *testing.T) {
	t.Parallel()
	var s RowSet
	for _, r := range []int{12, 13, 13, 14, 19, 23, 24} {
		s.Add(r)
	}
	if s.Len() != 6 || s.String() != "12–14, 19, 23–24" {
		t.Errorf("%d rows %q", s.Len(), s.String())
	}
	if got := HiddenRowsNote(&s); got != "rows 12–14, 19, 23–24 are hidden in the workbook; they were checked and will be ordered like the others" {
		t.Errorf("note %q", got)
	}
	var one RowSet
	one.Add(7)
	if got := HiddenRowsNote(&one); got != "row 7 is hidden in the workbook; it was checked and will be ordered like the others" {
		t.Errorf("note %q", got)
	}
	var many RowSet
	for r := 2; r < 60; r += 2 {
		many.Add(r)
	}
	if got := many.String(); !strings.HasSuffix(got, "20 and 19 more rows") {
		t.Errorf("many: %q", got)
	}
}

// rewritePart copies the .xlsx at path with one part changed by edit.
func rewritePart(t *testing.T, path, part string, edit func(string) string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == part {
			b = []byte(edit(string(b)))
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "edited.xlsx", buf.Bytes())
}

// TestReadCSVLoneCR reads lines ended by CR alone (Excel for Mac's "CSV
// (Macintosh)") as Excel shows them, CR LF and LF as before.
func TestReadCSVLoneCR(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"cr":    "Cage,Company\rAM1:01:000111,\"A\rB\"\r\rAM1:01:000112,X\r",
		"mixed": "Cage,Company\r\nAM1:01:000111,\"A\rB\"\r\n\rAM1:01:000112,X",
	} {
		_, recs := readAll(t, writeFile(t, name+".csv", []byte(text)), ReadOptions{})
		if len(recs) != 2 || recs[0].Row != 2 || recs[1].Row != 4 ||
			recs[0].Value(FieldCompany) != "A\nB" || recs[1].Value(FieldCage) != "AM1:01:000112" {
			t.Errorf("%s: %s", name, recordsString(recs))
		}
	}
	// A CR at the end of a read, before its LF, stays a CR LF.
	long := "Cage,Company\r" + strings.Repeat("AM1:01:000111,"+strings.Repeat("x", 97)+"\r\n", 2000) + "AM1:01:000112,y\r"
	_, recs := readAll(t, writeFile(t, "long.csv", []byte(long)), ReadOptions{})
	if len(recs) != 2001 || recs[2000].Row != 2002 {
		t.Errorf("long: %d records", len(recs))
	}
	for _, r := range recs {
		if strings.ContainsAny(r.Value(FieldCompany), "\r\n") {
			t.Fatalf("row %d: %q", r.Row, r.Value(FieldCompany))
		}
	}
}

// TestCRLines turns lone CRs into LFs however the input is cut up.
func TestCRLines(t *testing.T) {
	t.Parallel()
	in := "a\rb\r\nc\r\rd\n\re\r"
	got, err := io.ReadAll(&crLines{r: bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), 16)})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\nb\r\nc\n\nd\n\ne\n"; string(got) != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestOrderSheetFormula: an Order sheet value that is a formula never
// calculated stops the read, naming the cell, rather than ordering with the
// formula's text as the description.
func TestOrderSheetFormula(t *testing.T) {
	t.Parallel()
	f := book(t,
		sheetRows{"Visitors", [][]any{{"Cage", "Company"}, {"c", "x"}}},
		sheetRows{"Order", [][]any{{"Setting", "Value"}, {"Description", "x"}, {"Purchase Order", "PO-1"}}})
	if err := f.SetCellFormula("Order", "B2", `CONCAT("Quarterly ","UPS maintenance")`); err != nil {
		t.Fatal(err)
	}
	path := saveBook(t, f, "order.xlsx")
	// excelize saves the formula with the value it had; take the value out
	// as openpyxl writes it.
	path = rewritePart(t, path, "xl/worksheets/sheet2.xml", func(s string) string {
		i := strings.Index(s, `<c r="B2"`)
		j := i + strings.Index(s[i:], "</c>")
		return s[:i] + `<c r="B2"><f>CONCAT("Quarterly ","UPS maintenance")</f><v></v>` + s[j:]
	})
	_, _, err := ReadOrderSheet(path, ReadOptions{})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Sheet != "Order" || fe.Row != 2 || fe.Column != "B" ||
		fe.Msg != "Description has a formula that was never calculated: open and save the file in Excel" || fe.Hint == "" {
		t.Errorf("error %v, want the Order sheet's B2 formula", err)
	}
}

// TestReadCSVMacRoman reads Excel for Mac's "CSV (Macintosh)": CR line ends
// and Mac Roman text; other 8-bit text is Windows-1252.
func TestReadCSVMacRoman(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ text, want string }{
		"mac":     {"Cage,Company\rAM1:01:000111,Jos\x8e Garc\x92a \xafrsted\r", "José García Ørsted"},
		"windows": {"Cage,Company\r\nAM1:01:000111,Jos\xe9 Garc\xeda \xd8rsted\r\n", "José García Ørsted"},
	} {
		_, recs := readAll(t, writeFile(t, name+".csv", []byte(c.text)), ReadOptions{})
		if len(recs) != 1 || recs[0].Value(FieldCompany) != c.want {
			t.Errorf("%s: %s", name, recordsString(recs))
		}
	}
}
