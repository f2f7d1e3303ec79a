package rostergen

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// testNow is before every generated visit.
var testNow = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

func generate(t testing.TB, opt Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, opt); err != nil {
		t.Fatalf("Write(%+v): %v", opt, err)
	}
	return buf.Bytes()
}

// readRoster reads a generated roster the way a user's roster is read: the
// header names the columns, and numbers in the date columns are date serials.
func readRoster(t testing.TB, data []byte, format string) (*roster.Header, []roster.Record) {
	t.Helper()
	var rows [][]string
	switch format {
	case "csv":
		var err error
		if rows, err = csv.NewReader(bytes.NewReader(data)).ReadAll(); err != nil {
			t.Fatalf("read csv: %v", err)
		}
	case "xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("open xlsx: %v", err)
		}
		defer f.Close()
		if rows, err = f.GetRows("Visitors", excelize.Options{RawCellValue: true}); err != nil {
			t.Fatalf("read xlsx: %v", err)
		}
	}
	if len(rows) == 0 {
		t.Fatal("the roster has no header")
	}
	h := &roster.Header{Row: 1, Columns: rows[0]}
	for i := range h.Index {
		h.Index[i] = -1
	}
	for i, name := range rows[0] {
		for f := range roster.NumFields {
			if f.String() == name {
				h.Index[f] = i
			}
		}
	}
	recs := make([]roster.Record, 0, len(rows)-1)
	for n, cells := range rows[1:] {
		rec := roster.Record{Row: n + 2}
		for f := range roster.NumFields {
			i := h.Index[f]
			if i < 0 || i >= len(cells) {
				continue
			}
			rec.Cells[f].Text = cells[i]
			if format == "xlsx" && (f == roster.FieldStart || f == roster.FieldEnd) {
				if _, err := strconv.ParseFloat(cells[i], 64); err == nil {
					rec.Cells[f].Kind = roster.KindDateSerial
				}
			}
		}
		recs = append(recs, rec)
	}
	return h, recs
}

// check runs every record through the roster checker and returns the valid
// visitors and the row errors.
func check(t testing.TB, h *roster.Header, recs []roster.Record, cfg roster.CheckConfig) ([]roster.Visitor, []roster.RowError) {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	if errs := roster.MissingColumns(h, cfg); len(errs) > 0 {
		t.Fatalf("the roster lacks columns: %v", errs)
	}
	c := roster.NewChecker(h, cfg)
	var visitors []roster.Visitor
	var errs []roster.RowError
	for i := range recs {
		var v roster.Visitor
		n := len(errs)
		if errs = c.Check(&recs[i], &v, errs); len(errs) == n {
			visitors = append(visitors, v)
		}
	}
	return visitors, errs
}

func TestWriteXLSX(t *testing.T) {
	t.Parallel()
	data := generate(t, Options{Rows: 50, Seed: 1})
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if got := f.GetSheetList(); got[0] != "Visitors" || !slices.Contains(got, "Order") {
		t.Errorf("sheets = %q, want Visitors first and an Order sheet", got)
	}
	if dim, err := f.GetSheetDimension("Visitors"); err != nil || dim != "A1:O51" {
		t.Errorf("Visitors dimension = %q (%v), want A1:O51", dim, err)
	}
	rows, err := f.GetRows("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 51 {
		t.Fatalf("Visitors has %d rows, want a header and 50 visitors", len(rows))
	}
	for i := range roster.NumFields {
		if rows[0][i] != i.String() {
			t.Errorf("header %s = %q, want %q", roster.ColumnName(int(i)), rows[0][i], i)
		}
	}

	// Visit Start and Visit End are numbers shown as dates.
	for _, cell := range []string{"E2", "F2", "E51", "F51"} {
		typ, err := f.GetCellType("Visitors", cell)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.GetCellValue("Visitors", cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := strconv.ParseFloat(raw, 64); err != nil || typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
			t.Errorf("%s = %q (type %v), want a date serial number", cell, raw, typ)
		}
		id, err := f.GetCellStyle("Visitors", cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt == nil || *st.CustomNumFmt != roster.TemplateDateFormat {
			t.Errorf("%s number format = %v, want %q", cell, st.CustomNumFmt, roster.TemplateDateFormat)
		}
	}
	if got, _ := f.GetCellValue("Visitors", "E2"); got != "2027-01-11 08:00" {
		t.Errorf("first visit starts %q, want 2027-01-11 08:00 (DefaultStart)", got)
	}

	// The same seed as CSV gives the same rows.
	csvRows, err := csv.NewReader(bytes.NewReader(generate(t, Options{Rows: 50, Seed: 1, Format: "csv"}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		want := csvRows[i]
		for len(want) > 0 && want[len(want)-1] == "" {
			want = want[:len(want)-1] // GetRows leaves out empty cells at the end
		}
		if got, want := strings.Join(rows[i], "|"), strings.Join(want, "|"); got != want {
			t.Errorf("row %d: xlsx %q, csv %q", i+1, got, want)
		}
	}

	order, err := f.GetRows("Order")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range order {
		if len(r) >= 2 {
			got[r[0]] = r[1]
		}
	}
	if got["Technical Contact"] != "facilities.lead" || len(got["Description"]) < 10 {
		t.Errorf("Order sheet = %q, want a description and a technical contact", got)
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 1234} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			recs, err := csv.NewReader(bytes.NewReader(generate(t, Options{Rows: n, Format: "csv"}))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != n+1 {
				t.Fatalf("%d records, want a header and %d rows", len(recs), n)
			}
			if len(recs[0]) != int(roster.NumFields) {
				t.Errorf("header has %d columns, want %d", len(recs[0]), roster.NumFields)
			}
			if n > 0 {
				if got := recs[1][roster.FieldStart]; got != "2027-01-11 08:00" {
					t.Errorf("first Visit Start = %q, want 2027-01-11 08:00", got)
				}
			}
		})
	}
}

func TestWriteDeterministic(t *testing.T) {
	t.Parallel()
	opt := Options{Rows: 500, Seed: 42, Format: "csv", ErrorRate: 0.1}
	a, b := generate(t, opt), generate(t, opt)
	if !bytes.Equal(a, b) {
		t.Error("two CSV rosters of the same seed differ")
	}
	opt.Seed = 43
	if bytes.Equal(a, generate(t, opt)) {
		t.Error("the seed makes no difference")
	}

	opt = Options{Rows: 200, Seed: 42, ErrorRate: 0.1}
	_, x := readRoster(t, generate(t, opt), "xlsx")
	_, y := readRoster(t, generate(t, opt), "xlsx")
	if !slices.Equal(x, y) {
		t.Error("two xlsx rosters of the same seed hold different cells")
	}
}

func TestWriteValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"xlsx", Options{Rows: 3000, Seed: 7}},
		{"csv", Options{Rows: 3000, Seed: 8, Format: "csv"}},
		{"csv AM1", Options{Rows: 3000, Seed: 9, Format: "csv", IBXs: []string{"am1"}}},
		{"csv DC2", Options{Rows: 3000, Seed: 10, Format: "csv", IBXs: []string{"DC2"}}},
		{"csv start", Options{Rows: 500, Seed: 11, Format: "csv", Start: time.Date(2027, 6, 1, 14, 30, 0, 0, time.Local)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			format := cmp.Or(tc.opt.Format, "xlsx")
			h, recs := readRoster(t, generate(t, tc.opt), format)
			visitors, errs := check(t, h, recs, roster.CheckConfig{})
			for i, e := range errs {
				if i == 10 {
					t.Errorf("… and %d more", len(errs)-10)
					break
				}
				t.Error(e)
			}
			if len(visitors) != tc.opt.Rows {
				t.Errorf("%d valid visitors, want %d", len(visitors), tc.opt.Rows)
			}
			first := visitors[0]
			loc, _ := time.LoadLocation(first.Zone)
			want := cmp.Or(tc.opt.Start, DefaultStart)
			if got := first.Start.In(loc); got.Format("2006-01-02 15:04") != want.Format("2006-01-02 15:04") {
				t.Errorf("first visit starts %v, want %s local", got, want.Format("2006-01-02 15:04"))
			}

			// The rows form many visits, each of 1 to 3 days, at the
			// chosen IBXs.
			windows := map[string]int{}
			users := 0
			for _, v := range visitors {
				if d := v.End.Sub(v.Start); d <= 0 || d > 3*24*time.Hour {
					t.Errorf("row %d: visit of %v", v.Row, d)
				}
				if len(tc.opt.IBXs) > 0 && !strings.EqualFold(v.IBX, tc.opt.IBXs[0]) {
					t.Errorf("row %d: IBX %s, want %s", v.Row, v.IBX, tc.opt.IBXs[0])
				}
				windows[fmt.Sprint(v.Cage, v.Cabinet, v.Start, v.End, v.OpenCabinet)]++
				if v.Username != "" {
					users++
				}
			}
			if least := tc.opt.Rows / 12; len(windows) < least {
				t.Errorf("%d visits, want at least %d", len(windows), least)
			}
			for k, n := range windows {
				if n > 50 {
					t.Errorf("visit %s has %d visitors; groups should be small", k, n)
				}
			}
			if tc.opt.Rows >= 3000 && users == 0 {
				t.Error("no row uses a registered username")
			}
		})
	}
}

func TestWriteErrorRate(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"xlsx", "csv"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			const rows, rate = 4000, 0.2
			h, recs := readRoster(t, generate(t, Options{Rows: rows, Seed: 3, Format: format, ErrorRate: rate}), format)
			visitors, errs := check(t, h, recs, roster.CheckConfig{})
			bad := rows - len(visitors)
			if got := float64(bad) / rows; got < rate-0.03 || got > rate+0.03 {
				t.Errorf("%d of %d rows are invalid (%.3f), want about %.2f", bad, rows, got, rate)
			}
			codes := map[string]int{}
			for _, e := range errs {
				codes[e.Code]++
			}
			for _, code := range []string{
				roster.CodeEmailInvalid, roster.CodePhoneInvalid, roster.CodeCountryCodeInvalid,
				roster.CodeOpenCabinetInvalid, roster.CodeCabinetNotInCage, roster.CodeCageNotInIBX,
				roster.CodeEndBeforeStart, roster.CodeDateInvalid, roster.CodeNameInvalid, roster.CodeRequired,
			} {
				if codes[code] == 0 {
					t.Errorf("no row has a %s error; codes: %v", code, codes)
				}
			}
		})
	}
}

func TestWriteNoDates(t *testing.T) {
	t.Parallel()
	window := func(loc *time.Location) (time.Time, time.Time, error) {
		return time.Date(2027, 3, 1, 8, 0, 0, 0, loc), time.Date(2027, 3, 1, 17, 0, 0, 0, loc), nil
	}
	for _, format := range []string{"xlsx", "csv"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			h, recs := readRoster(t, generate(t, Options{Rows: 300, Seed: 5, Format: format, NoDates: true}), format)
			if h.Has(roster.FieldStart) || h.Has(roster.FieldEnd) || len(h.Columns) != int(roster.NumFields)-2 {
				t.Fatalf("header %q, want every column but Visit Start and Visit End", h.Columns)
			}
			if _, errs := check(t, h, recs, roster.CheckConfig{Window: window}); len(errs) > 0 {
				t.Errorf("%d row errors, first: %v", len(errs), errs[0])
			}
		})
	}

	data := generate(t, Options{Rows: 3, NoDates: true})
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	comments, err := f.GetComments("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comments {
		if c.Cell == "E1" && !strings.Contains(c.Text+fmt.Sprint(c.Paragraph), "time zone") {
			t.Errorf("E1 (Time Zone) comment = %q, want the Time Zone note", c.Text)
		}
	}
	dvs, err := f.GetDataValidations("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	if len(dvs) != 1 || !strings.HasPrefix(dvs[0].Sqref, "M2:") {
		t.Errorf("data validations %+v, want the Open Cabinet list on column M", dvs)
	}
}

func TestWriteOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{Rows: -1}, "rows -1"},
		{Options{Format: "ods"}, `format "ods"`},
		{Options{Rows: MaxXLSXRows + 1}, "at most 1048575"},
		{Options{IBXs: []string{"LD8"}}, `IBX "LD8"`},
		{Options{ErrorRate: 1.5}, "error rate"},
	} {
		err := Write(io.Discard, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Write(%+v) = %v, want an error about %s", tc.opt, err, tc.want)
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteReportsWriteErrors(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"xlsx", "csv"} {
		if err := Write(&failingWriter{n: 1000}, Options{Rows: 2000, Format: format}); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: Write to a failing writer = %v, want the writer's error", format, err)
		}
	}
}

// TestWriteFullSize writes the largest xlsx roster Excel holds. It takes a
// few minutes; set WVBATCH_FULLSIZE=1 to run it.
func TestWriteFullSize(t *testing.T) {
	if os.Getenv("WVBATCH_FULLSIZE") == "" {
		t.Skip("set WVBATCH_FULLSIZE=1 to write a 1,048,575-row roster")
	}
	path := filepath.Join(t.TempDir(), "full.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(out, Options{Rows: MaxXLSXRows, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	t.Logf("%s: %d bytes", path, fi.Size())

	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if dim, _ := f.GetSheetDimension("Visitors"); dim != fmt.Sprintf("A1:O%d", MaxXLSXRows+1) {
		t.Errorf("dimension %s", dim)
	}
	rows, err := f.Rows("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if n != MaxXLSXRows+1 {
		t.Errorf("%d rows, want %d", n, MaxXLSXRows+1)
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, format := range []string{"xlsx", "csv"} {
		b.Run(format, func(b *testing.B) {
			const rows = 20000
			for b.Loop() {
				if err := Write(io.Discard, Options{Rows: rows, Format: format}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestWriteXLSXColumnsAscending checks the streamed sheet's column widths are
// in ascending order, as Excel requires of <col> elements.
func TestWriteXLSXColumnsAscending(t *testing.T) {
	t.Parallel()
	for _, noDates := range []bool{false, true} {
		data := generate(t, Options{Rows: 5, NoDates: noDates})
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open("xl/worksheets/sheet1.xml")
		if err != nil {
			t.Fatal(err)
		}
		sheet, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		var mins []int
		for _, m := range regexp.MustCompile(`<col min="(\d+)"`).FindAllSubmatch(sheet, -1) {
			n, _ := strconv.Atoi(string(m[1]))
			mins = append(mins, n)
		}
		if len(mins) == 0 || !slices.IsSorted(mins) {
			t.Errorf("NoDates=%t: <col> elements start at columns %v, want ascending", noDates, mins)
		}
	}
}

// TestWriteOrderPerRow plans every row of an OrderPerRow roster as an order
// of its own, all rows valid.
func TestWriteOrderPerRow(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"xlsx", "csv"} {
		opt := Options{Rows: 2500, Seed: 12, Format: format, OrderPerRow: true}
		p := filepath.Join(t.TempDir(), "roster."+format)
		if err := os.WriteFile(p, generate(t, opt), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := importer.Import(context.Background(), importer.Options{Path: p, CountOnly: true,
			Check: roster.CheckConfig{Now: func() time.Time { return testNow }}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ValidRows != opt.Rows || len(res.Orders) != opt.Rows {
			t.Errorf("%s: %d valid rows, %d orders; want %d of each (first errors: %v)", format, res.ValidRows, len(res.Orders), opt.Rows, res.Errors[:min(3, len(res.Errors))])
		}
	}
}

// TestWriteFile: WriteFile writes what Write writes, in the format of the
// file's extension unless one is given, and leaves nothing behind when it
// cannot write the roster.
func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opt  Options
		want Options
	}{
		{"r.csv", Options{Rows: 30, Seed: 2}, Options{Rows: 30, Seed: 2, Format: "csv"}},
		{"r.xlsx", Options{Rows: 30, Seed: 2}, Options{Rows: 30, Seed: 2, Format: "xlsx"}},
		{"r.txt", Options{Rows: 30, Seed: 2, Format: "csv"}, Options{Rows: 30, Seed: 2, Format: "csv"}},
	} {
		p := filepath.Join(dir, tc.name)
		if err := WriteFile(p, tc.opt); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := generate(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, not the %d Write writes", tc.name, len(got), len(want))
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := WriteFile(bad, Options{Rows: 3, IBXs: []string{"XX9"}}); err == nil {
		t.Error("a roster of an unknown IBX was written")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "r.csv r.txt r.xlsx" {
		t.Errorf("the folder holds %q", names)
	}
}
