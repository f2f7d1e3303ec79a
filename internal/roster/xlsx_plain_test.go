package roster

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// plainMu serializes the tests that switch tokensOnly.
var plainMu sync.Mutex

// readBoth reads a workbook the way the import does (Open) and the way a
// report copies it (OpenRawSheet) and prints everything either returns:
// the header, every record or raw row, the error that ended the reading.
// It also returns how many rows were read in the plain form.
func readBoth(t testing.TB, path string) (string, int) {
	t.Helper()
	var b strings.Builder
	plain := 0
	src, err := Open(path, ReadOptions{MaxUnzipSize: 64 << 20})
	if err != nil {
		fmt.Fprintf(&b, "open: %v\n", err)
	} else {
		h := src.Header()
		fmt.Fprintf(&b, "header %d %q %v %v\n", h.Row, h.Sheet, h.Columns, h.Ignored)
		for range 20000 {
			rec, err := src.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					fmt.Fprintf(&b, "read: %v\n", err)
				}
				break
			}
			fmt.Fprintf(&b, "%d %v %q\n", rec.Row, rec.Hidden, rec.Cells)
		}
		if e, ok := src.(interface{ Extent() (int, int) }); ok {
			r, c := e.Extent()
			fmt.Fprintf(&b, "extent %d %d\n", r, c)
		}
		src.Close() // waits for the reading goroutine
		if s, ok := src.(*source); ok {
			if x, ok := s.rr.(*xlsxReader); ok {
				plain += x.plainN
			}
		}
	}
	rs, err := OpenRawSheet(path, "", ReadOptions{MaxUnzipSize: 64 << 20})
	if err != nil {
		fmt.Fprintf(&b, "raw open: %v\n", err)
		return b.String(), plain
	}
	defer rs.Close()
	var r RawRow
	for range 20000 {
		if err := rs.Next(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintf(&b, "raw read: %v\n", err)
			}
			break
		}
		fmt.Fprintf(&b, "raw %d %v %v %d:", r.Row, r.Height, r.Hidden, r.Style)
		for _, c := range r.Cells {
			fmt.Fprintf(&b, " %d/%d/%d/%q", c.Col, c.Style, c.Kind, c.Value)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "cols %v\n", rs.Columns())
	return b.String(), plain + rs.x.plainN
}

// SamePlainAndTokens is samePlainAndTokens for the package's external
// tests.
func SamePlainAndTokens(t testing.TB, path string) int { return samePlainAndTokens(t, path) }

// samePlainAndTokens fails unless reading path with the plain form and
// token by token gives the same; it returns the plain rows read.
func samePlainAndTokens(t testing.TB, path string) int {
	t.Helper()
	plainMu.Lock()
	defer plainMu.Unlock()
	tokensOnly.Store(true)
	want, n := readBoth(t, path)
	tokensOnly.Store(false)
	if n != 0 {
		t.Fatalf("%d rows read in the plain form with it turned off", n)
	}
	got, n := readBoth(t, path)
	if got != want {
		t.Fatalf("%s: the plain form reads\n%s\ntoken by token:\n%s", path, diffLines(got, want), diffLines(want, got))
	}
	return n
}

// diffLines is the first lines of a that b does not have.
func diffLines(a, b string) string {
	have := map[string]bool{}
	for _, l := range strings.Split(b, "\n") {
		have[l] = true
	}
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !have[l] && len(out) < 8 {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

const plainHeader = `<row r="1"><c r="A1" t="inlineStr"><is><t>IBX</t></is></c><c r="B1" t="inlineStr"><is><t>Cage</t></is></c>` +
	`<c r="C1" t="s"><v>0</v></c><c r="D1" t="inlineStr"><is><t>Visit Start</t></is></c><c r="E1" t="inlineStr"><is><t>Email</t></is></c></row>`

// TestPlainRowsSameAsTokens reads rows in the plain form and in every near
// form (each must give what the token loop gives: the same cells, or the
// same error).
func TestPlainRowsSameAsTokens(t *testing.T) {
	styles := `<numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="1"/></cellXfs>`
	sst := `<si><t>First Name</t></si><si><t xml:space="preserve"> Jo </t></si>`
	rows := []string{
		`<row r="2"><c r="A2" t="inlineStr"><is><t>DC2</t></is></c><c r="B2" t="inlineStr"><is><t>DC2:01:1</t></is></c><c r="C2" t="s"><v>1</v></c><c r="D2" s="1"><v>46398.5</v></c><c r="E2" t="inlineStr"><is><t>a@b.example</t></is></c></row>`,
		`<row r="3"><c t="inlineStr"><is><t>DC2</t></is></c><c s="2"><v>101.0</v></c><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c><c t="str"><v>x</v></c></row>`,
		`<row r="4" ht="30" customHeight="1" hidden="1" s="2" customFormat="1"><c r="A4" s="2"/><c r="C4" t="inlineStr"><is><t xml:space="preserve">  Ann &amp; Bo &lt;x&gt; &#233;&#x4E2D; </t></is></c><c r="E4" t="inlineStr"><is><t>_x000D_line_x000a_</t></is></c></row>`,
		`<row r="5"><c r="A5" t="d"><v>2027-01-11T08:00:00</v></c><c r="B5"></c><c r="C5" t="n"><v> 7 </v></c><c r="D5" t="s"><v>9</v></c></row>`,
		`<row r="6"><c r="A6"><f>1+1</f><v>2</v></c><c r="B6" t="inlineStr"><is><r><t>rich</t></r></is></c></row>`,
		`<row r="7"><c r="A7" t="inlineStr"><is><t>a</t></is></c> <c r="B7"><v>1</v></c></row>`,
		`<row r="8"><c r="A8" t="x"><v>1</v></c></row>`,
		`<row r="9"><c r="A9" s="x"><v>1</v></c></row>`,
		`<row r="10"><c r="1A"><v>1</v></c></row>`,
		`<row r="11"><c r="A11" cm="1"><v>1</v></c><c r="B11" s='1'><v>1</v></c></row>`,
		`<row r="12"><c r="A12" t="inlineStr"><is><t>DC2</t></is></c><c r="A12" t="inlineStr"><is><t>dup</t></is></c><c r="XFD12"><v>3</v></c></row>`,
		`<row r="13"><c r="A13" r="B13"><v>1</v></c><c r="C13" t="inlineStr"><is><t/></is></c><c r="D13"><v/></c></row>`,
		`<row r="14"><c r="A14" t="inlineStr"><is><t>x</t><rPh><t>y</t></rPh></is></c><c r="B14"><v>1</v><extLst/></c></row>`,
		`<row r="15"><c r="A15" t="inlineStr"><is><t><![CDATA[<x>]]></t></is></c><!-- c --><c r="B15"><v>2</v></c></row>`,
		`<row r="16"/><row r="17"></row><row r="18"><c r="A18" t="inlineStr"><is><t>` + strings.Repeat("long ", 3000) + `</t></is></c></row>`,
		`<row r="19"><c r="A19" t="inlineStr"><is><t>` + "\x01\xff\u00a0" + `</t></is></c><c r="B19"><v>1E+3</v></c><c r="C19"><v>-0.5e-2</v></c></row>`,
		`<row r="20"><c r="A20"`,
		`<row r="21"><c r="A21" t="inlineStr"><is><t>unterminated`,
		`<row r="22"><x:c r="A22"><x:v>1</x:v></x:c></row>`,
	}
	dir := t.TempDir()
	total := 0
	for i := range rows {
		sheet := `<sheetData>` + plainHeader + strings.Join(rows[:i+1], "")
		if strings.HasSuffix(rows[i], "</row>") {
			sheet += `</sheetData>`
		}
		p := rawBook(t, sheet, sst, styles)
		// rawBook writes into a temporary folder of its own; keep a copy
		// to name in a failure.
		q := filepath.Join(dir, fmt.Sprintf("rows-%d.xlsx", i))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(q, data, 0o644); err != nil {
			t.Fatal(err)
		}
		total += samePlainAndTokens(t, q)
		copiedRowsReadBack(t, q)
	}
	if total == 0 {
		t.Fatal("no row was read in the plain form")
	}
}

// TestPlainRowsRandomized compares the two on copies of a small sheet with
// random bytes changed, inserted or removed (generated rosters: see
// TestPlainRowsGenerated).
func TestPlainRowsRandomized(t *testing.T) {
	dir := t.TempDir()
	styles := `<cellXfs><xf numFmtId="0"/><xf numFmtId="22"/></cellXfs>`
	base := `<sheetData>` + plainHeader +
		`<row r="2"><c r="A2" t="inlineStr"><is><t>DC2</t></is></c><c r="B2" t="inlineStr"><is><t>DC2:01:1</t></is></c><c r="C2" t="s"><v>0</v></c><c r="D2" s="1"><v>46398.5</v></c><c r="E2" t="inlineStr"><is><t xml:space="preserve">a &amp; b</t></is></c></row>` +
		`<row r="3" ht="20" customHeight="1"><c r="A3" t="inlineStr"><is><t>SV1</t></is></c><c r="C3" s="1"/><c r="D3" t="b"><v>0</v></c><c t="e"><v>#REF!</v></c></row>` +
		`<row r="4"><c r="A4" t="inlineStr"><is><t>AM1</t></is></c><c r="C4" s="1"><v>46398.5</v></c><c t="inlineStr"><is><t>x</t></is></c></row></sheetData>`
	copied := 0
	alphabet := []byte(`<>/="' crstv0123456789ABisn&;_x:`)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 150 {
		b := []byte(base)
		for range 1 + rng.IntN(3) {
			at := len(`<sheetData>`) + rng.IntN(len(b)-len(`<sheetData>`))
			c := alphabet[rng.IntN(len(alphabet))]
			switch rng.IntN(3) {
			case 0:
				b[at] = c
			case 1:
				b = append(b[:at], append([]byte{c}, b[at:]...)...)
			default:
				b = append(b[:at], b[at+1:]...)
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("mut-%d.xlsx", i))
		data, err := os.ReadFile(rawBook(t, string(b), `<si><t>Cabinet</t></si>`, styles))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		samePlainAndTokens(t, p)
		copied += copiedRowsReadBack(t, p)
	}
	if copied == 0 {
		t.Fatal("no row was given as XML")
	}
}
