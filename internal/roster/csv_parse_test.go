package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// parseAll reads every record with csvParser, or with encoding/csv as the
// roster reader once used it, and describes what it found.
func parseAll(data []byte, comma byte, std bool) (recs [][]string, lines []int, err error) {
	if std {
		r := csv.NewReader(bytes.NewReader(data))
		r.Comma, r.FieldsPerRecord, r.ReuseRecord = rune(comma), -1, true
		for {
			rec, err := r.Read()
			if err != nil {
				return recs, lines, err
			}
			line, _ := r.FieldPos(0)
			recs, lines = append(recs, slices.Clone(rec)), append(lines, line)
		}
	}
	p := newCSVParser(bufio.NewReaderSize(bytes.NewReader(data), 16), comma)
	for {
		rec, line, err := p.read()
		if err != nil {
			return recs, lines, err
		}
		recs, lines = append(recs, slices.Clone(rec)), append(lines, line)
	}
}

func compareParsers(t *testing.T, data []byte, comma byte) {
	t.Helper()
	wantRecs, wantLines, wantErr := parseAll(data, comma, true)
	recs, lines, err := parseAll(data, comma, false)
	if !slices.EqualFunc(recs, wantRecs, slices.Equal) || !slices.Equal(lines, wantLines) {
		t.Fatalf("%q (comma %q):\n got %q at lines %v\nwant %q at lines %v", data, comma, recs, lines, wantRecs, wantLines)
	}
	var pe, wantPE *csv.ParseError
	switch {
	case errors.Is(wantErr, io.EOF):
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%q (comma %q): error %v, want io.EOF", data, comma, err)
		}
	case errors.As(wantErr, &wantPE):
		if !errors.As(err, &pe) || !errors.Is(pe.Err, wantPE.Err) || pe.StartLine != wantPE.StartLine || pe.Line != wantPE.Line {
			t.Fatalf("%q (comma %q): error %v, want %v", data, comma, err, wantErr)
		}
	default:
		t.Fatalf("%q: encoding/csv failed with %v", data, wantErr)
	}
}

func TestCSVParserMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "\n", "\r\n", "a", "a\n", "a\r\n", "a\r", "a\rb\n", "a,b,\n", ",\n,,\n",
		"a,b\n\n\nc,d\n", "a,\"b,c\",d\n", "\"a\"\"b\",c\n", "\"multi\nline\",x\ny\n", "\"multi\r\nline\"\r\n",
		"\"a\"b,c\n", "a\"b,c\n", "a,\"b\n", "\"unclosed", "\"\"", "\"\"\n\"\"", "x,\"\"\"\"\n",
		"\"a\",\n", "\"a\"\r\n", "\"a\"\r", "\"a\" ,b\n", " \"a\",b\n", strings.Repeat("long field ", 10) + ",\"" + strings.Repeat("q", 40) + "\"\n",
		"a;b\tc,d\n", "\"a;b\";c\n",
	} {
		for _, comma := range []byte{',', ';', '\t'} {
			compareParsers(t, []byte(s), comma)
		}
	}
}

// FuzzCSVParser checks csvParser against encoding/csv.
func FuzzCSVParser(f *testing.F) {
	for _, s := range []string{"a,b\n\"c\nd\",e\r\n\n", "\"a\"\"\",b\n", "a\"b\n", "\"x", "a;b\tc\r"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		compareParsers(t, data, []byte{',', ';', '\t'}[c%3])
	})
}
