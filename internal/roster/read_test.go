package roster

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// writeFile writes data to a new file in a test's temp dir.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// saveBook saves a workbook built with excelize.
func saveBook(t testing.TB, f *excelize.File, name string, opts ...excelize.Options) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(p, opts...); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// book builds a workbook whose sheets hold the given rows, written cell by
// cell (strings go to the shared-strings table).
func book(t testing.TB, sheets ...sheetRows) *excelize.File {
	t.Helper()
	f := excelize.NewFile()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			for c, v := range row {
				if v == nil {
					continue
				}
				if err := f.SetCellValue(s.name, fmt.Sprintf("%s%d", ColumnName(c), r+1), v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return f
}

type sheetRows struct {
	name string
	rows [][]any
}

// rawBook writes an .xlsx from hand-written parts: the worksheet XML (the
// content of <worksheet>), the shared strings (<si> elements) and the
// styles (the content of <styleSheet>).
func rawBook(t testing.TB, sheetXML, sstXML, stylesXML string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
			`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook ` + ns + `><sheets><sheet name="Visitors" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<worksheet " + ns + `>` + sheetXML + `</worksheet>`},
		{"xl/styles.xml", `<?xml version="1.0" encoding="UTF-8"?><styleSheet ` + ns + `>` + stylesXML + `</styleSheet>`},
		{"xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8"?><sst ` + ns + `>` + sstXML + `</sst>`},
	}
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "raw.xlsx", buf.Bytes())
}

// readAll opens a roster and reads every record.
func readAll(t testing.TB, path string, opt ReadOptions) (*Header, []Record) {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	var recs []Record
	for {
		var rec Record
		err := s.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
	return s.Header(), recs
}

// cfb builds a minimal OLE compound file holding empty streams with the
// given names, as a legacy .xls or an encrypted .xlsx is.
func cfb(names ...string) []byte {
	const end, free, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
	le := binary.LittleEndian
	h := make([]byte, 512)
	copy(h, magicOLE)
	le.PutUint16(h[24:], 0x3E)
	le.PutUint16(h[26:], 3)
	le.PutUint16(h[28:], 0xFFFE)
	le.PutUint16(h[30:], 9)
	le.PutUint16(h[32:], 6)
	le.PutUint32(h[44:], 1)    // FAT sectors
	le.PutUint32(h[48:], 1)    // first directory sector
	le.PutUint32(h[56:], 4096) // mini stream cutoff
	le.PutUint32(h[60:], end)  // mini FAT
	le.PutUint32(h[68:], end)  // DIFAT
	le.PutUint32(h[76:], 0)    // the FAT is sector 0
	for i := 80; i < 512; i += 4 {
		le.PutUint32(h[i:], free)
	}
	fat := make([]byte, 512)
	for i := 0; i < 512; i += 4 {
		le.PutUint32(fat[i:], free)
	}
	le.PutUint32(fat[0:], 0xFFFFFFFD)
	le.PutUint32(fat[4:], end)
	dir := make([]byte, 512)
	entry := func(i int, name string, typ byte, child, right uint32) {
		e := dir[i*128 : (i+1)*128]
		u := utf16.Encode([]rune(name))
		for k, c := range u {
			le.PutUint16(e[2*k:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66], e[67] = typ, 1
		le.PutUint32(e[68:], nostream)
		le.PutUint32(e[72:], right)
		le.PutUint32(e[76:], child)
		le.PutUint32(e[116:], end)
	}
	entry(0, "Root Entry", 5, 1, nostream)
	for i, n := range names {
		right := uint32(nostream)
		if i+1 < len(names) {
			right = uint32(i + 2)
		}
		entry(i+1, n, 2, nostream, right)
	}
	return append(append(h, fat...), dir...)
}

func TestOLEKind(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		names []string
		want  fileKind
	}{
		{[]string{"Workbook"}, kindXLS},
		{[]string{"Book"}, kindXLS},
		{[]string{"EncryptionInfo", "EncryptedPackage"}, kindEncrypted},
		{[]string{"WordDocument"}, kindOLE},
	} {
		t.Run(strings.Join(tt.names, "+"), func(t *testing.T) {
			t.Parallel()
			b := cfb(tt.names...)
			if got := oleKind(bytes.NewReader(b), int64(len(b))); got != tt.want {
				t.Errorf("oleKind = %v, want %v", got, tt.want)
			}
		})
	}
}

const visitorHeader = "Cage,First Name,Last Name,Company,Visit Start,Visit End\n"

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	encrypted := saveBook(t, book(t, sheetRows{"Visitors", [][]any{{"Cage", "First Name"}, {"AM1:01:000111", "Anna"}}}),
		"locked.xlsx", excelize.Options{Password: "x"})
	twoSheets := saveBook(t, book(t, sheetRows{"People", [][]any{{"Cage", "First Name"}, {"c", "a"}}},
		sheetRows{"Order", nil}), "two.xlsx")
	headerOnly := saveBook(t, book(t, sheetRows{"Visitors", [][]any{{"Cage", "First Name"}, {}, {" "}}}), "header.xlsx")
	dupXLSX := saveBook(t, book(t, sheetRows{"Visitors", [][]any{{"Cage", "Start", "Name", "Visit Start"}, {"c", 1, "x", 2}}}), "dup.xlsx")
	var docx bytes.Buffer
	zw := zip.NewWriter(&docx)
	w, _ := zw.Create("word/document.xml")
	io.WriteString(w, "<w:document/>")
	zw.Close()
	var plainZip bytes.Buffer
	zw = zip.NewWriter(&plainZip)
	w, _ = zw.Create("notes.txt")
	io.WriteString(w, "hello")
	zw.Close()

	tests := []struct {
		name   string
		path   string
		opt    ReadOptions
		want   string // in Error()
		hint   string // in Hint
		row    int
		column string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.xlsx"), want: "nope.xlsx: no such file", hint: "file name"},
		{name: "directory", path: dir, want: "is a folder", hint: "inside it"},
		{name: "empty file", path: writeFile(t, "empty.csv", nil), want: "the file is empty", hint: "header row"},
		{name: "blank lines only", path: writeFile(t, "blank.csv", []byte("\n , \n\n")), want: "the roster is empty: it has no rows", hint: "header row"},
		{name: "header only csv", path: writeFile(t, "h.csv", []byte(visitorHeader+",,,\n")), want: "row 1: the roster has a header but no visitor rows", hint: "below the header", row: 1},
		{name: "header only xlsx", path: headerOnly, want: `sheet "Visitors": row 1: the roster has a header but no visitor rows`, hint: "below the header", row: 1},
		{name: "legacy xls", path: writeFile(t, "old.xls", cfb("Workbook")), want: "legacy Excel 97-2003 workbook (.xls)", hint: "File > Save As > Excel Workbook"},
		{name: "password-protected xlsx", path: encrypted, want: "the workbook is password-protected", hint: "File > Info > Protect Workbook"},
		{name: "other compound document", path: writeFile(t, "memo.doc", cfb("WordDocument")), want: "a doc file, not a spreadsheet", hint: ".xlsx"},
		{name: "pdf", path: writeFile(t, "roster.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")), want: "a pdf file, not a spreadsheet", hint: "save it as .xlsx"},
		{name: "png named csv", path: writeFile(t, "roster.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")), want: "not a spreadsheet, although its name ends in .csv", hint: ".xlsx"},
		{name: "binary junk", path: writeFile(t, "junk.bin", []byte{1, 2, 3, 0, 0, 0, 7, 200, 201, 0, 13}), want: "not a spreadsheet: it holds binary data", hint: ".xlsx"},
		{name: "word document", path: writeFile(t, "letter.docx", docx.Bytes()), want: "a Word document, not a spreadsheet", hint: ".xlsx"},
		{name: "zip of something else", path: writeFile(t, "files.xlsx", plainZip.Bytes()), want: "a zip archive, not an Excel workbook", hint: ".xlsx"},
		{name: "damaged zip", path: writeFile(t, "cut.xlsx", plainZip.Bytes()[:20]), want: "not a spreadsheet: it starts like a zip archive but cannot be opened", hint: ".xlsx"},
		{name: "unpacks too large", path: twoSheets, opt: ReadOptions{MaxUnzipSize: 2000}, want: "the workbook is too large: it unpacks to more than 2000 bytes", hint: "smaller files"},
		{name: "no such sheet", path: twoSheets, opt: ReadOptions{Sheet: "Visitor"}, want: `the workbook has no sheet "Visitor"; its sheets are "People", "Order"`, hint: "--sheet"},
		{name: "no header row", path: writeFile(t, "nohdr.csv", []byte("Name,Date\nAnna,tomorrow\n")), want: "no header row found: none of the first 2 non-blank rows names two or more visitor columns", hint: "Cage"},
		{name: "header beyond row ten", path: writeFile(t, "late.csv", []byte(strings.Repeat("note\n", 10)+visitorHeader+"c,a,b,c,d,e\n")), want: "none of the first 10 non-blank rows", hint: "Cage"},
		{name: "duplicate header csv", path: writeFile(t, "dup.csv", []byte("Cage,E-mail,Name,Email\nc,a,b,d\n")), want: `row 1: column D: columns B ("E-mail") and D ("Email") both name the Email column`, hint: "rename or delete", row: 1, column: "D"},
		{name: "duplicate header xlsx", path: dupXLSX, want: `row 1: column D: columns B ("Start") and D ("Visit Start") both name the Visit Start column`, hint: "rename", row: 1, column: "D"},
		{name: "title names a column", path: writeFile(t, "title.csv", []byte("Cage list\nCompany\n"+visitorHeader+"c,a,b,c,d,e\n")), want: "row 2: column A: row 2 looks like part of the header (it names a visitor column) but the header is row 3", hint: "one row", row: 2, column: "A"},
		{name: "bad shared string", path: rawBook(t, `<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Company</t></is></c></row>`+
			`<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>99</v></c></row></sheetData>`, `<si><t>Cage</t></si>`, ""),
			want: `sheet "Visitors": row 2: column B: the sheet is damaged: the cell refers to shared string "99" of 1`, hint: "save it again", row: 2, column: "B"},
		{name: "truncated sheet", path: rawBook(t, `<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Company</t></is></c></row><row r="2"><c r="A2"><v>1`, `<si><t>Cage</t></si>`, ""),
			want: `sheet "Visitors": row 2: the sheet is damaged: it ends in the middle of a row`, hint: "save it again", row: 2},
		{name: "bare quote", path: writeFile(t, "q.csv", []byte(visitorHeader+"c,a,b,19\" rack,d,e\n")), want: `row 2: a field has a " in it but is not quoted`, hint: `"19"" rack"`, row: 2},
		{name: "unclosed quote", path: writeFile(t, "q2.csv", []byte(visitorHeader+"c,a,b,c,d,e\nc,\"a,b\n\nc\n")), want: "row 3: a quoted field is not closed properly", row: 3, hint: "double"},
		{name: "bare quote after a quoted newline", path: writeFile(t, "q3.csv", []byte(visitorHeader+"c,\"a\nb\",b,c,d,e\nc,a,b,19\" rack,d,e\n")), want: `row 3: a field has a " in it but is not quoted`, hint: `"19"" rack"`, row: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(tt.path, tt.opt)
			if err == nil {
				// Some errors are only found while reading.
				var rec Record
				for err == nil {
					err = s.Next(&rec)
				}
				s.Close()
				if errors.Is(err, io.EOF) {
					t.Fatalf("no error; want %q", tt.want)
				}
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T): want a *FileError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.path+": ") {
				t.Errorf("error %q does not start with the path", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if !strings.Contains(fe.Hint, tt.hint) || fe.Hint == "" {
				t.Errorf("hint %q: want it to contain %q", fe.Hint, tt.hint)
			}
			if fe.Row != tt.row || fe.Column != tt.column {
				t.Errorf("row %d column %q, want row %d column %q", fe.Row, fe.Column, tt.row, tt.column)
			}
		})
	}
}

func TestMapHeader(t *testing.T) {
	t.Parallel()
	aliases := map[string]Field{
		"IBX": FieldIBX, "ibx code": FieldIBX, "Site": FieldIBX, "Data Center": FieldIBX, "DATACENTER": FieldIBX,
		"Cage": FieldCage, "Cage ID": FieldCage, "cage_number": FieldCage,
		"Cabinet": FieldCabinet, "Cabinet-ID": FieldCabinet, "Rack": FieldCabinet,
		"Account": FieldAccount, "Account Number": FieldAccount, "Account No.": FieldAccount, "Account #": FieldAccount,
		"Visit_Start": FieldStart, "visit start": FieldStart, "VISIT-START": FieldStart, "Start": FieldStart, "Start Date": FieldStart,
		"Start Time": FieldStart, "From": FieldStart, "Arrival": FieldStart, "Visit Start Date/Time": FieldStart,
		"Visit End": FieldEnd, "End": FieldEnd, "End Date": FieldEnd, "end time": FieldEnd, "To": FieldEnd, "Departure": FieldEnd,
		"Time Zone": FieldTimeZone, "Timezone": FieldTimeZone, "TZ": FieldTimeZone, "Zone": FieldTimeZone,
		"First Name": FieldFirstName, "Firstname": FieldFirstName, "Given Name": FieldFirstName, "Forename": FieldFirstName,
		"Last Name": FieldLastName, "Surname": FieldLastName, "Family Name": FieldLastName,
		"Company": FieldCompany, "Company Name": FieldCompany, "Organisation": FieldCompany, "Organization": FieldCompany, "Employer": FieldCompany,
		"Username": FieldUsername, "User Name": FieldUsername, "User ID": FieldUsername, "Registered User": FieldUsername, "Equinix Username": FieldUsername,
		"Email": FieldEmail, "E-mail": FieldEmail, "Email Address": FieldEmail, "e_mail address": FieldEmail,
		"Mobile Country Code": FieldMobileCountryCode, "Country Code": FieldMobileCountryCode, "Phone Country Code": FieldMobileCountryCode, "Dial Code": FieldMobileCountryCode,
		"Mobile Phone": FieldMobilePhone, "Mobile": FieldMobilePhone, "Phone": FieldMobilePhone, "Mobile Number": FieldMobilePhone,
		"Phone Number": FieldMobilePhone, "Cell": FieldMobilePhone,
		"Open Cabinet": FieldOpenCabinet, "Cabinet Open": FieldOpenCabinet, " open  cabinet? ": FieldOpenCabinet,
	}
	for name, want := range aliases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, err := MapHeader([]string{"Notes", name})
			if err != nil {
				t.Fatal(err)
			}
			for f := range NumFields {
				wantIdx := -1
				if f == want {
					wantIdx = 1
				}
				if h.Index[f] != wantIdx {
					t.Errorf("Index[%v] = %d, want %d", f, h.Index[f], wantIdx)
				}
			}
			if len(h.Ignored) != 1 || h.Ignored[0] != "Notes" {
				t.Errorf("Ignored = %q, want [Notes]", h.Ignored)
			}
		})
	}
	t.Run("template names", func(t *testing.T) {
		t.Parallel()
		names := make([]string, NumFields)
		for f := range NumFields {
			names[f] = f.String()
		}
		h, err := MapHeader(append(names, "", "Remarks"))
		if err != nil {
			t.Fatal(err)
		}
		for f := range NumFields {
			if h.Index[f] != int(f) {
				t.Errorf("Index[%v] = %d", f, h.Index[f])
			}
		}
		if len(h.Ignored) != 1 || h.Ignored[0] != "Remarks" || len(h.Columns) != int(NumFields)+2 {
			t.Errorf("Ignored %q, Columns %q", h.Ignored, h.Columns)
		}
	})
	t.Run("not aliases", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{"Name", "Date", "Visit", "Start End", "Notes", "Cabinets", "Mail"} {
			if f, ok := FieldByName(s); ok {
				t.Errorf("FieldByName(%q) = %v, want no field", s, f)
			}
		}
	})
}

// TestReadXLSXCells reads a hand-written worksheet with every kind of cell
// Excel and other writers produce.
func TestReadXLSXCells(t *testing.T) {
	t.Parallel()
	styles := `<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm"/><numFmt numFmtId="165" formatCode="0.00"/>` +
		`<numFmt numFmtId="166" formatCode="&quot;day &quot;0"/></numFmts>` +
		`<cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="22"/><xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="14"/></cellXfs>`
	sst := `<si><t>Cage</t></si><si><t xml:space="preserve">  Visit Start </t></si><si><r><t>Visit</t></r><r><rPr><b/></rPr><t xml:space="preserve"> End</t></r></si>` +
		`<si><t>AM1:01:000111</t></si><si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si><si><t>Line_x000D_</t></si><si/>` +
		`<si><t>Company</t></si><si><t>Phone</t></si><si><t>Open Cabinet</t></si><si><t>Account</t></si>`
	sheet := `<dimension ref="A1:H9"/><sheetData>` +
		// A title row, then the header in row 3.
		`<row r="1"><c r="A1" t="inlineStr"><is><t>Contractors, January</t></is></c></row>` +
		`<row r="3" spans="1:8"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>1</v></c><c r="C3" t="s"><v>2</v></c>` +
		`<c r="D3" t="s"><v>7</v></c><c r="E3" t="s"><v>8</v></c><c r="F3" t="s"><v>9</v></c><c r="G3" t="s"><v>10</v></c><c r="H3" t="inlineStr"><is><t>Notes</t></is></c></row>` +
		// Dates: custom and built-in date formats, General, a text date.
		`<row r="4"><c r="A4" t="s"><v>3</v></c><c r="B4" s="1"><v>46399.375</v></c><c r="C4" s="2"><v>46400.708333333336</v></c>` +
		`<c r="D4" t="s"><v>4</v></c><c r="E4"><v>612345678</v></c><c r="F4" t="b"><v>1</v></c><c r="G4"><v>100001</v></c></row>` +
		`<row r="5"><c r="A5" t="inlineStr"><is><t xml:space="preserve">  AM1:01:000112&#160;</t></is></c><c r="B5"><v>46399.375</v></c>` +
		`<c r="C5" t="inlineStr"><is><t>2027-01-11 08:00</t></is></c><c r="D5" t="s"><v>5</v></c><c r="E5" s="3"><v>612345678</v></c>` +
		`<c r="F5" t="b"><v>0</v></c><c r="G5" t="e"><v>#N/A</v></c></row>` +
		// Missing r attributes, formulas with cached values, entities, a
		// namespace prefix, rich text.
		`<row><x:c t="str"><f>A4&amp;""</f><v>AM1 &amp; co</v></x:c><c s="5"><f>TODAY()</f><v>46400</v></c><c s="4"><v>7</v></c>` +
		`<c t="inlineStr"><is><r><t>Jan</t></r><r><t xml:space="preserve"> de Vries</t></r><rPh><t>x</t></rPh></is></c><c/><c t="s"><v>6</v></c><c t="n"><v> 1.5E+3 </v></c></row>` +
		// A row with only styled empty cells is blank; a row with only an
		// ignored column is not.
		`<row r="8"><c r="A8" s="1"/><c r="B8" s="1"></c><c r="C8" t="inlineStr"><is><t> </t></is></c></row>` +
		`<row r="9"><c r="H9" t="inlineStr"><is><t>see above</t></is></c></row>` +
		`<row r="12"/>` +
		`<row r="20"><c r="D20" t="d"><v>2027-01-11T08:00:00</v></c></row>` +
		`</sheetData><pageMargins left="0.7"/>`
	path := rawBook(t, sheet, sst, styles)
	h, recs := readAll(t, path, ReadOptions{})
	if h.Row != 3 || h.Sheet != "Visitors" {
		t.Errorf("header row %d sheet %q, want row 3 of Visitors", h.Row, h.Sheet)
	}
	if got := fmt.Sprint(h.Ignored); got != "[Notes]" {
		t.Errorf("Ignored = %s", got)
	}
	type cell struct {
		f    Field
		text string
		kind CellKind
	}
	date, text, num := KindDateSerial, KindText, KindNumber
	want := []struct {
		row   int
		cells []cell
	}{
		{4, []cell{{FieldCage, "AM1:01:000111", text}, {FieldStart, "46399.375", date}, {FieldEnd, "46400.708333333336", date},
			{FieldCompany, "東京", text}, {FieldMobilePhone, "612345678", num}, {FieldOpenCabinet, "TRUE", text}, {FieldAccount, "100001", num}}},
		{5, []cell{{FieldCage, "AM1:01:000112", text}, {FieldStart, "46399.375", num}, {FieldEnd, "2027-01-11 08:00", text},
			{FieldCompany, "Line", text}, {FieldMobilePhone, "612345678", num}, {FieldOpenCabinet, "FALSE", text}, {FieldAccount, "#N/A", text}}},
		// A number is read as a General cell shows it: 1.5E+3 is 1500.
		{6, []cell{{FieldCage, "AM1 & co", text}, {FieldStart, "46400", date}, {FieldEnd, "7", num},
			{FieldCompany, "Jan de Vries", text}, {FieldMobilePhone, "", text}, {FieldOpenCabinet, "", text}, {FieldAccount, "1500", num}}},
		{9, nil},
		{20, []cell{{FieldCompany, "2027-01-11T08:00:00", text}}},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Row != w.row {
			t.Errorf("record %d: row %d, want %d", i, r.Row, w.row)
		}
		for _, c := range w.cells {
			if got := r.Cells[c.f]; got.Text != c.text || got.Kind != c.kind {
				t.Errorf("row %d %v = %q (kind %d), want %q (kind %d)", r.Row, c.f, got.Text, got.Kind, c.text, c.kind)
			}
		}
	}
}

// TestReadXLSXBooks reads workbooks as excelize writes them: shared strings
// cell by cell, inline strings from a StreamWriter, date styles.
func TestReadXLSXBooks(t *testing.T) {
	t.Parallel()
	header := []any{"IBX", "Cage", "Visit Start", "Visit End", "Mobile Phone", "Account Number", "First Name"}
	dateRow := func(f *excelize.File, sheet string, row int, style int) {
		for _, col := range []string{"C", "D"} {
			if err := f.SetCellStyle(sheet, fmt.Sprintf("%s%d", col, row), fmt.Sprintf("%s%d", col, row), style); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("shared strings and date styles", func(t *testing.T) {
		t.Parallel()
		f := book(t, sheetRows{"Help", [][]any{{"Read me"}}},
			sheetRows{"Visitors", [][]any{header,
				{"AM1", "AM1:01:000111", 46399.375, 46400.5, 612345678, 100001, " Anna "},
				{"AM1", "AM1:01:000111", 46399.375, "2027-01-12 18:00", "+31 6 1234", "100001", "Müller"},
				{nil},
				{"AM1", "AM1:01:000111", 46399.375, 46400.5, 612345678, 100001, "Bram"},
			}})
		custom := "yyyy-mm-dd hh:mm"
		ds, err := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
		if err != nil {
			t.Fatal(err)
		}
		builtin, err := f.NewStyle(&excelize.Style{NumFmt: 22})
		if err != nil {
			t.Fatal(err)
		}
		money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
		if err != nil {
			t.Fatal(err)
		}
		dateRow(f, "Visitors", 2, ds)
		dateRow(f, "Visitors", 3, builtin)
		dateRow(f, "Visitors", 5, money)
		h, recs := readAll(t, saveBook(t, f, "shared.xlsx"), ReadOptions{})
		if h.Sheet != "Visitors" || h.Row != 1 {
			t.Errorf("sheet %q row %d: want the Visitors sheet even though it is not first", h.Sheet, h.Row)
		}
		got := recordsString(recs)
		want := "2: IBX=AM1 Cage=AM1:01:000111 Account Number=100001 Visit Start=46399.375(date) Visit End=46400.5(date) First Name=Anna Mobile Phone=612345678\n" +
			"3: IBX=AM1 Cage=AM1:01:000111 Account Number=100001 Visit Start=46399.375(date) Visit End=2027-01-12 18:00 First Name=Müller Mobile Phone=+31 6 1234\n" +
			"5: IBX=AM1 Cage=AM1:01:000111 Account Number=100001 Visit Start=46399.375 Visit End=46400.5 First Name=Bram Mobile Phone=612345678\n"
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("stream writer inline strings", func(t *testing.T) {
		t.Parallel()
		p := streamBook(t, 3)
		h, recs := readAll(t, p, ReadOptions{})
		if h.Row != 1 || len(recs) != 3 {
			t.Fatalf("header row %d, %d records", h.Row, len(recs))
		}
		r := recs[2]
		if r.Row != 4 || r.Value(FieldFirstName) != "First2" || r.Cells[FieldStart].Kind != KindDateSerial ||
			r.Value(FieldStart) != "46399.375" || r.Value(FieldMobilePhone) != "612345680" {
			t.Errorf("record %+v", r)
		}
	})

	t.Run("sheet option", func(t *testing.T) {
		t.Parallel()
		f := book(t, sheetRows{"Week 1", [][]any{{"Cage", "Company"}, {"one", "x"}}},
			sheetRows{"Week 2", [][]any{{"Cage", "Company"}, {"two", "y"}}})
		p := saveBook(t, f, "weeks.xlsx")
		for _, tt := range []struct{ sheet, want string }{{"", "one"}, {"Week 2", "two"}, {"week 2", "two"}} {
			h, recs := readAll(t, p, ReadOptions{Sheet: tt.sheet})
			if recs[0].Value(FieldCage) != tt.want {
				t.Errorf("sheet %q: read %q (sheet %q), want %q", tt.sheet, recs[0].Value(FieldCage), h.Sheet, tt.want)
			}
		}
	})
}

// recordsString prints records compactly for comparison.
func recordsString(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%d:", r.Row)
		for f, c := range r.Cells {
			if c.Text == "" {
				continue
			}
			fmt.Fprintf(&b, " %v=%s", Field(f), c.Text)
			if c.Kind == KindDateSerial {
				b.WriteString("(date)")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// streamBook writes a roster of n visitors with excelize's StreamWriter, as
// the benchmarks do: 15 columns, inline strings, date-formatted start and
// end.
func streamBook(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("stream%d.xlsx", n))
	if err := writeStreamBook(p, n); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeStreamBook(path string, n int) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Visitors"); err != nil {
		return err
	}
	custom := "yyyy-mm-dd hh:mm"
	ds, err := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Visitors")
	if err != nil {
		return err
	}
	header := make([]any, NumFields)
	for i := range NumFields {
		header[i] = i.String()
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := make([]any, NumFields)
	for i := range n {
		row[FieldIBX] = "AM1"
		row[FieldCage] = "AM1:01:000111"
		row[FieldCabinet] = "AM1:01:000111:0101"
		row[FieldAccount] = "100001"
		row[FieldStart] = excelize.Cell{StyleID: ds, Value: 46399.375}
		row[FieldEnd] = excelize.Cell{StyleID: ds, Value: 46400.75}
		row[FieldTimeZone] = "Europe/Amsterdam"
		row[FieldFirstName] = fmt.Sprintf("First%d", i)
		row[FieldLastName] = fmt.Sprintf("Last%d", i)
		row[FieldCompany] = "Voltwerk Installaties B.V."
		row[FieldUsername] = ""
		row[FieldEmail] = fmt.Sprintf("visitor%d@voltwerk.example", i)
		row[FieldMobileCountryCode] = "+31"
		row[FieldMobilePhone] = 612345678 + i
		row[FieldOpenCabinet] = "N"
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

// TestReadXLSXMatchesExcelize compares every cell this reader returns with
// excelize's raw cell values.
func TestReadXLSXMatchesExcelize(t *testing.T) {
	t.Parallel()
	f := book(t, sheetRows{"Visitors", [][]any{
		{"Cage", "Company", "Email", "First Name", "Last Name"},
		{"a & b", "<tag>", "x@y", "Ünïcödé ✓", "line\nbreak"},
		{"  padded  ", 3.25, true, nil, "'quoted'"},
		{"_x0041_", "\"dq\"", "tab\there", "end", "1e5"},
	}})
	p := saveBook(t, f, "diff.xlsx")
	ef, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	rows, err := ef.GetRows("Visitors", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	h, recs := readAll(t, p, ReadOptions{})
	for _, r := range recs {
		for f := range NumFields {
			if !h.Has(f) {
				continue
			}
			want := ""
			if row := rows[r.Row-1]; h.Index[f] < len(row) {
				want = strings.TrimSpace(row[h.Index[f]])
			}
			if want == "1" && f == FieldEmail {
				want = "TRUE"
			}
			if got := r.Value(f); got != want {
				t.Errorf("row %d %v = %q, excelize says %q", r.Row, f, got, want)
			}
		}
	}
}

func TestReadCSV(t *testing.T) {
	t.Parallel()
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, u := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return b
	}
	utf16be := func(s string) []byte {
		b := []byte{0xFE, 0xFF}
		for _, u := range utf16.Encode([]rune(s)) {
			b = binary.BigEndian.AppendUint16(b, u)
		}
		return b
	}
	const body = "Cage,Last Name,Company\r\nAM1:01:000111,Müller,Señor Ltd\r\n"
	const want = "2: Cage=AM1:01:000111 Last Name=Müller Company=Señor Ltd\n"
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"utf-8", []byte(body), want},
		{"utf-8 with bom", append([]byte{0xEF, 0xBB, 0xBF}, body...), want},
		{"utf-16le with bom", utf16le(body), want},
		{"utf-16be with bom", utf16be(body), want},
		{"windows-1252", []byte("Cage,Last Name,Company\nAM1:01:000111,M\xfcller,Se\xf1or Ltd\n"), want},
		{"windows-1252 after the sniffed part", []byte("Cage,Last Name,Company\n" + strings.Repeat("c,a,b\n", 12000) +
			"AM1:01:000111,M\xfcller,Se\xf1or Ltd\n"), "12002: Cage=AM1:01:000111 Last Name=Müller Company=Señor Ltd\n"},
		{"semicolons", []byte("Cage;Last Name;Company\nAM1:01:000111;Müller;\"Señor, Ltd\"\n"), "2: Cage=AM1:01:000111 Last Name=Müller Company=Señor, Ltd\n"},
		{"tabs", []byte("Cage\tLast Name\tCompany\nAM1:01:000111\tMüller\tSeñor, Ltd; Co\n"), "2: Cage=AM1:01:000111 Last Name=Müller Company=Señor, Ltd; Co\n"},
		{"title row and semicolons", []byte("Roster, January\nCage;Last Name;Company\nc;l;x, y\n"), "3: Cage=c Last Name=l Company=x, y\n"},
		{"quoted newlines", []byte("Cage,Last Name,Company\nc1,\"two\nlines\",x\nc2,l,x\n"), "2: Cage=c1 Last Name=two\nlines Company=x\n3: Cage=c2 Last Name=l Company=x\n"},
		{"quoted newlines and a blank line", []byte("Cage,Last Name,Company\nc1,\"a\r\nb\nc\",x\n\nc2,l,x\n"), "2: Cage=c1 Last Name=a\nb\nc Company=x\n4: Cage=c2 Last Name=l Company=x\n"},
		{"ragged rows", []byte("Cage,Last Name,Company\nc1\nc2,l,x,extra,more\n,,,,\n"), "2: Cage=c1\n3: Cage=c2 Last Name=l Company=x\n"},
		{"blank rows skipped", []byte("\n\nCage,Last Name,Company\n\n , ,\u00a0\nc,l,x\n\n"), "6: Cage=c Last Name=l Company=x\n"},
		{"trimmed", []byte("  Cage , Last Name\n  c1\t,\u00a0l \n"), "2: Cage=c1 Last Name=l\n"},
		{"no final newline", []byte("Cage,Company\nc,x"), "2: Cage=c Company=x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, recs := readAll(t, writeFile(t, "roster.csv", tt.data), ReadOptions{})
			if h.Sheet != "" || !h.Has(FieldCage) {
				t.Errorf("header %+v", h)
			}
			if len(recs) > 3 {
				recs = recs[len(recs)-1:] // only the last row is of interest
			}
			if got := recordsString(recs); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestReadOrderSheet(t *testing.T) {
	t.Parallel()
	f := book(t,
		sheetRows{"Visitors", [][]any{{"Cage", "Company"}, {"c", "x"}}},
		sheetRows{"Order", [][]any{
			{"Setting", "Value", "What to write"},
			{"Description", "  Quarterly UPS maintenance ", "note"},
			{"Customer Reference Prefix", "UPS-Q1"},
			{"technical contact", "facilities.lead"},
			{"Notification Contacts", "noc.amsterdam, noc.london;\nnoc.paris"},
			{"Purchase Order", 4500012345},
			{"Report Emails", "a@x.example b@x.example"},
			{"Unknown", "ignored"},
		}})
	p := saveBook(t, f, "order.xlsx")
	of, ok, err := ReadOrderSheet(p, ReadOptions{})
	if err != nil || !ok {
		t.Fatalf("ReadOrderSheet: %v, %v", ok, err)
	}
	want := OrderFields{
		Description: "Quarterly UPS maintenance", ReferencePrefix: "UPS-Q1", TechnicalContact: "facilities.lead",
		NotificationContacts: []string{"noc.amsterdam", "noc.london", "noc.paris"}, PurchaseOrder: "4500012345",
		ReportEmails: []string{"a@x.example", "b@x.example"},
	}
	if fmt.Sprintf("%#v", of) != fmt.Sprintf("%#v", want) {
		t.Errorf("got  %#v\nwant %#v", of, want)
	}

	for _, tt := range []struct {
		name string
		path string
	}{
		{"workbook without Order sheet", saveBook(t, book(t, sheetRows{"Visitors", [][]any{{"Cage"}}}), "noorder.xlsx")},
		{"csv", writeFile(t, "r.csv", []byte(visitorHeader))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			of, ok, err := ReadOrderSheet(tt.path, ReadOptions{})
			if err != nil || ok || of.Description != "" {
				t.Errorf("got %+v, %v, %v; want nothing", of, ok, err)
			}
		})
	}
	t.Run("not a roster", func(t *testing.T) {
		t.Parallel()
		_, _, err := ReadOrderSheet(writeFile(t, "x.xls", cfb("Workbook")), ReadOptions{})
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(fe.Msg, ".xls") {
			t.Errorf("error %v: want the legacy .xls FileError", err)
		}
	})
}

func TestIsDateFormat(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"yyyy-mm-dd hh:mm": true, `yyyy\-mm\-dd`: true, "d/m/yy": true, "[h]:mm:ss": true, "h:mm AM/PM": true,
		"[$-409]mmmm d, yyyy": true, "[Red]dd/mm": true, "mm:ss.0": true,
		"General": false, "0.00": false, "#,##0": false, `0 "days"`: false, `"Day "0`: false, "[Red]0.00": false,
		"@": false, `0\h`: false, "0_s": false, "0*d": false, "[$USD]#,##0": false, `"unterminated`: false,
	} {
		if got := isDateFormat(code); got != want {
			t.Errorf("isDateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

// TestReadAhead reads rosters longer than the read-ahead, and stops early.
func TestReadAhead(t *testing.T) {
	t.Parallel()
	rows := batchRows*(batchesAhead+3) + 7
	var b strings.Builder
	b.WriteString(visitorHeader)
	for i := range rows {
		fmt.Fprintf(&b, "AM1:01:%06d,Anna,Smit,Acme,2027-01-11,2027-01-12\n", i)
	}
	path := writeFile(t, "long.csv", []byte(b.String()))

	t.Run("every row in order", func(t *testing.T) {
		t.Parallel()
		_, recs := readAll(t, path, ReadOptions{})
		if len(recs) != rows {
			t.Fatalf("%d rows, want %d", len(recs), rows)
		}
		for i, r := range recs {
			if r.Row != i+2 || r.Value(FieldCage) != fmt.Sprintf("AM1:01:%06d", i) {
				t.Fatalf("record %d: row %d cage %q", i, r.Row, r.Value(FieldCage))
			}
		}
	})
	t.Run("close before the end", func(t *testing.T) {
		t.Parallel()
		s, err := Open(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		for range 3 {
			if err := s.Next(&rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an error far into the file", func(t *testing.T) {
		t.Parallel()
		bad := writeFile(t, "bad.csv", []byte(b.String()+"AM1:01:000001,An\"na,Smit,Acme,2027-01-11,2027-01-12\n"))
		s, err := Open(bad, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var rec Record
		n := 0
		for err == nil {
			if err = s.Next(&rec); err == nil {
				n++
			}
		}
		var fe *FileError
		if !errors.As(err, &fe) || fe.Row != rows+2 || n != rows {
			t.Fatalf("after %d rows: %v; want a FileError on row %d after %d rows", n, err, rows+2, rows)
		}
		if err2 := s.Next(&rec); err2 != err {
			t.Errorf("Next after the error: %v, want the same error", err2)
		}
	})
}

// resize rewrites the .xlsx at path so that the zip's directory gives part
// name the uncompressed size size, whatever the part holds.
func resize(t *testing.T, path, name string, size uint64) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		fh := f.FileHeader
		if f.Name == name {
			fh.UncompressedSize64 = size
		}
		w, err := zw.CreateRaw(&fh)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, rc); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "resized.xlsx", buf.Bytes())
}

// TestOpenUnzipBounds: the sizes in a zip's directory are checked before
// anything is inflated, and a part that inflates to more than its size says
// (a zip bomb's trick) stops the read.
func TestOpenUnzipBounds(t *testing.T) {
	t.Parallel()
	rows := `<sheetData><row r="1"><c t="inlineStr"><is><t>Cage</t></is></c><c t="inlineStr"><is><t>Company</t></is></c></row>` +
		strings.Repeat(`<row><c t="inlineStr"><is><t>AM1:01:000111</t></is></c><c t="s"><v>0</v></c></row>`, 2000) + `</sheetData>`
	book := rawBook(t, rows, `<si><t>Acme</t></si>`, "")
	tests := []struct {
		name, part string
		size       uint64
		want       string
	}{
		{"sheet larger than it says", "xl/worksheets/sheet1.xml", 5000, `sheet "Visitors": the sheet is damaged: it unpacks to more than the workbook says`},
		{"shared strings too large", "xl/sharedStrings.xml", 3 << 29, "the workbook's text table (shared strings) is too large: it unpacks to more than 1 GB"},
		{"workbook too large", "xl/worksheets/sheet1.xml", 5 << 30, "the workbook is too large: it unpacks to more than 4 GB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := resize(t, book, tt.part, tt.size)
			s, err := Open(path, ReadOptions{})
			if err == nil {
				var rec Record
				for err == nil {
					err = s.Next(&rec)
				}
				s.Close()
			}
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || fe.Hint == "" {
				t.Errorf("error %v; want a FileError with a hint containing %q", err, tt.want)
			}
		})
	}
}
