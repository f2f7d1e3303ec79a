package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// TestErrorsCSVSeparators opens the errors CSV as a spreadsheet would in a
// "," locale and in a ";" locale: each way every record has the same seven
// fields, and no field starts a formula.
func TestErrorsCSVSeparators(t *testing.T) {
	payloads := []string{
		"x;=cmd|' /C calc'!A0;",
		"a,b",
		"tab\t=1+1",
		"@SUM(1)",
		"-2+3",
		"+31 6",
		"\r=2",
		`quote " ;=HYPERLINK("x")`,
		"line\nbreak;=1",
		" leading space",
	}
	var buf bytes.Buffer
	ec, err := NewErrorsCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range payloads {
		re := roster.RowError{Row: i + 2, Column: "=A1", Field: "First;Name", Value: p, Code: "@x", Message: "m;=1", Hint: "h,=2"}
		if err := ec.Write(re); err != nil {
			t.Fatal(err)
		}
	}
	if err := ec.Close(); err != nil {
		t.Fatal(err)
	}
	// Read properly with ",": the values come back, made inert.
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(recs) != len(payloads)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(payloads)+1)
	}
	for i, p := range payloads {
		if got := recs[i+1][3]; strings.ReplaceAll(got, "'", "") != strings.ReplaceAll(p, "'", "") {
			t.Errorf("value %q read back as %q", p, got)
		}
		if got := recs[i+1][5]; got != "m;'=1" {
			t.Errorf("message read back as %q", got)
		}
	}
	// Opened with ";" (or tab) by a reader that may not honour quotes that
	// start mid-field, as spreadsheets do: no cell starts a formula, however
	// the line splits.
	for _, sep := range []string{",", ";", "\t"} {
		for _, line := range strings.FieldsFunc(buf.String(), func(r rune) bool { return r == '\n' || r == '\r' }) {
			for _, f := range strings.Split(line, sep) {
				f = strings.TrimLeft(f, `"`)
				if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
					t.Errorf("sep %q: the cell %q starts a formula", sep, f)
				}
			}
		}
		if sep == ";" {
			r := csv.NewReader(bytes.NewReader(buf.Bytes()))
			r.Comma, r.LazyQuotes, r.FieldsPerRecord = ';', true, -1
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				for _, f := range rec {
					if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
						t.Errorf("sep ';': the cell %q starts a formula", f)
					}
				}
			}
		}
	}
}
