package roster

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzRead opens a roster and reads up to a few thousand records: it must
// not panic, and every error must be a *FileError.
func fuzzRead(t *testing.T, path string) {
	t.Helper()
	if strings.HasSuffix(path, ".xlsx") {
		samePlainAndTokens(t, path)
		copiedRowsReadBack(t, path)
	}
	check := func(err error) {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("error %v (%T) is not a *FileError", err, err)
		}
		if fe.Msg == "" || fe.Hint == "" {
			t.Fatalf("error %q has no message or no hint", err)
		}
	}
	s, err := Open(path, ReadOptions{MaxUnzipSize: 64 << 20})
	if err != nil {
		check(err)
		return
	}
	defer s.Close()
	h := s.Header()
	if h.Row < 1 {
		t.Fatalf("header row %d", h.Row)
	}
	var rec Record
	last := h.Row
	for range 5000 {
		err := s.Next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			check(err)
			break
		}
		if h.Sheet != "" && rec.Row <= last {
			t.Fatalf("row %d follows row %d", rec.Row, last)
		}
		last = rec.Row
	}
	if _, _, err := ReadOrderSheet(path, ReadOptions{MaxUnzipSize: 64 << 20}); err != nil {
		check(err)
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		visitorHeader + "AM1:01:000111,Anna,de Vries,Voltwerk,2027-01-11 08:00,2027-01-12 18:00\n",
		"\xef\xbb\xbf" + visitorHeader + "c,a,b,c,d,e\n",
		"Cage;Company\r\nc;\"x;\"\"y\"\"\"\r\n",
		"Cage\tCompany\nc\tx\n\n\n",
		"title\n\nCage,Company\nc,\"multi\nline\"\n",
		"Cage,Company\nc,\"unclosed\n",
		"Cage,Company\nc,bare\"quote\n",
		"Cage,Company\nM\xfcller,Se\xf1or\n",
		"\xff\xfeC\x00a\x00g\x00e\x00,\x00F\x00i\x00r\x00s\x00t\x00 \x00N\x00a\x00m\x00e\x00\n\x00c\x00,\x00a\x00\n\x00",
		"\xfe\xff\x00C\x00a\x00g\x00e\x00,\x00C\x00o\x00m\x00p\x00a\x00n\x00y\x00\n\x00c\x00,\x00x",
		"\xff\xfeC",
		"Cage,Cage\nc,c\n",
		"Cage,Company\n",
		"",
		"\x00\x01\x02",
		"%PDF-1.4",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := os.CreateTemp(dir, "*.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p.Name())
		p.Write(data)
		p.Close()
		fuzzRead(t, p.Name())
	})
}

// FuzzXLSX builds a workbook around a fuzzed worksheet and shared-strings
// table, one holding a fuzzed cell, and reads a fuzzed file as is (seeded with
// a workbook Excel wrote).
func FuzzXLSX(f *testing.F) {
	okSheet := `<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Company</t></is></c></row>` +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>c</t></is></c><c r="B2" s="1"><v>46399.5</v></c></row></sheetData>`
	okSST := `<si><t>Cage</t></si>`
	f.Add(okSheet, okSST, "Voltwerk B.V.", []byte(nil))
	f.Add(`<sheetData><row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c><c t="str"><f>1</f><v>x</v></c></row></sheetData>`, okSST, " _x000D_ ", []byte(nil))
	f.Add(`<x:sheetData><x:row r="3"><x:c r="ZZ3" t="s"><x:v>7</x:v></x:c></x:row></x:sheetData>`, `<si><r><t>a</t></r><rPh><t>b</t></rPh></si>`, "&amp;<>", []byte(nil))
	f.Add(`<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[Cage]]></t></is></c><!-- note --><c r="B1" t="inlineStr"><is><t>Email</t></is></c></row>`+
		`<row r="2"><c r="A2"><v>1</v></c></row>`, "", "\u00a0", []byte(nil))
	f.Add(`<sheetData><row r="0"/><row r="x"><c r="1A"/></row>`, `<si><t>`, "", []byte("PK\x03\x04garbage"))
	if b, err := os.ReadFile(filepath.Join("..", "..", "samples", "contractors.xlsx")); err == nil {
		f.Add("", "", "", b)
	}
	styles := `<numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs>`
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, sheetXML, sstXML, cell string, whole []byte) {
		fuzzRead(t, rawBook(t, sheetXML, sstXML, styles))

		if len(whole) > 0 {
			p, err := os.CreateTemp(dir, "*.xlsx")
			if err != nil {
				t.Fatal(err)
			}
			defer os.Remove(p.Name())
			p.Write(whole)
			p.Close()
			fuzzRead(t, p.Name())
		}

		// A cell of any text, written as an inline and as a shared string,
		// reads back as written, trimmed.
		var esc strings.Builder
		xml.EscapeText(&esc, []byte(cell))
		p := rawBook(t, `<sheetData><row r="1"><c t="inlineStr"><is><t>Cage</t></is></c><c t="s"><v>0</v></c></row>`+
			`<row r="2"><c t="inlineStr"><is><t xml:space="preserve">`+esc.String()+`</t></is></c><c t="s"><v>1</v></c></row></sheetData>`,
			`<si><t>Company</t></si><si><t xml:space="preserve">`+esc.String()+`</t></si>`, styles)
		want := strings.TrimSpace(cell)
		if want == "" || !utf8.ValidString(cell) || strings.Contains(cell, "_x") ||
			strings.ContainsFunc(cell, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }) {
			fuzzRead(t, p) // XML cannot carry it as is, or the row is blank
			return
		}
		s, err := Open(p, ReadOptions{})
		if err != nil {
			t.Fatalf("cell %q: %v", cell, err)
		}
		defer s.Close()
		var rec Record
		if err := s.Next(&rec); err != nil {
			t.Fatalf("cell %q: %v", cell, err)
		}
		if rec.Value(FieldCage) != want || rec.Value(FieldCompany) != want {
			t.Fatalf("cell %q read back as %q and %q", cell, rec.Value(FieldCage), rec.Value(FieldCompany))
		}
	})
}
