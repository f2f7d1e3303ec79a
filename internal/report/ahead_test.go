package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// aheadRun is a validation of a roster with its workbook written ahead, as
// submit.Validate does it.
type aheadRun struct {
	took      bool   // Finish took the workbook written ahead
	got       []byte // the workbook Finish wrote
	want      []byte // the workbook WriteWorkbook writes
	leftover  []string
	importErr error
}

func validateAhead(t *testing.T, p string, check roster.CheckConfig, limit int) aheadRun {
	t.Helper()
	dir := t.TempDir()
	tee := roster.NewSheetTee(limit)
	a, err := StartAhead(dir, tee)
	must(t, err)
	res, err := importer.Import(context.Background(), importer.Options{Path: p, Check: check, CountOnly: true,
		Read: roster.ReadOptions{Tee: tee}, Follow: a})
	var r aheadRun
	if err != nil {
		a.Discard()
		r.importErr = err
	} else {
		a.End()
		in := ValidationWorkbook(res)
		out := filepath.Join(dir, "out.xlsx")
		r.took = a.Finish(in, res.Errors, out)
		a.Discard()
		if r.took {
			r.got, err = os.ReadFile(out)
			must(t, err)
			must(t, os.Remove(out))
		}
		var want bytes.Buffer
		must(t, WriteWorkbook(&want, in))
		r.want = want.Bytes()
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		r.leftover = append(r.leftover, e.Name())
	}
	return r
}

// sameReport fails unless the workbook written ahead is the one written
// after the import, byte for byte.
func (r aheadRun) sameReport(t *testing.T) {
	t.Helper()
	if len(r.leftover) > 0 {
		t.Errorf("files left behind: %q", r.leftover)
	}
	if !r.took || bytes.Equal(r.got, r.want) {
		return
	}
	a, b := sheetOf(t, r.want), sheetOf(t, r.got)
	i := 0
	for i < min(len(a), len(b)) && a[i] == b[i] {
		i++
	}
	if bytes.Equal(a, b) {
		t.Fatal("the workbook written ahead differs from the one written after, outside the roster sheet")
	}
	t.Fatalf("the workbook written ahead differs at byte %d of the sheet:\nafter: %.300s\nahead: %.300s", i, a[max(i-100, 0):], b[max(i-100, 0):])
}

var aheadNow = roster.CheckConfig{Now: func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }}

// TestAheadWritesTheSameReport: the report workbook written while the
// roster is imported is the one written after the import, byte for byte,
// for generated rosters with and without invalid rows and for the
// workbooks of every producer the roster reader is tested with; and it is
// taken for each of them but those whose sheet gives no extent.
func TestAheadWritesTheSameReport(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0, 0.05, 1} {
		t.Run(fmt.Sprintf("generated-%g", rate), func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "gen.xlsx")
			writeGenerated(t, p, 5000, rate)
			r := validateAhead(t, p, aheadNow, 16<<20)
			must(t, r.importErr)
			if !r.took {
				t.Fatal("the workbook written ahead was not taken")
			}
			r.sameReport(t)
		})
	}
	producers, err := filepath.Glob(filepath.Join("..", "roster", "testdata", "producers", "*.xls[xm]"))
	must(t, err)
	if len(producers) < 10 {
		t.Fatalf("%d producer workbooks", len(producers))
	}
	for _, p := range producers {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			r := validateAhead(t, p, aheadNow, 16<<20)
			if r.importErr != nil {
				t.Skipf("not a roster the import reads: %v", r.importErr)
			}
			sheet := sheetPart(t, p)
			hasDim := regexp.MustCompile(`<dimension ref="A1:[A-Z]+[0-9]+"`).Match(sheet)
			if hasDim && !r.took {
				t.Errorf("the workbook written ahead was not taken, with the sheet's %s", regexp.MustCompile(`<dimension[^>]*>`).Find(sheet))
			}
			if !hasDim && r.took {
				t.Error("the workbook written ahead was taken without a dimension")
			}
			r.sameReport(t)
		})
	}
}

// sheetPart is the XML of the roster sheet of a workbook.
func sheetPart(t *testing.T, p string) []byte {
	t.Helper()
	s, err := roster.OpenRawSheet(p, "", roster.ReadOptions{})
	must(t, err)
	defer s.Close()
	zr, _, name := s.Package()
	f, err := zr.Open(name)
	must(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	must(t, err)
	return b
}

// TestAheadFallsBack: when what the workbook written ahead took before the
// import ended does not hold, it is not taken, nothing of it is left, and
// the report is written after the import as usual.
func TestAheadFallsBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.xlsx")
	writeGenerated(t, gen, 2000, 0.05)
	edit := func(name string, f func([]byte) []byte) string {
		p := filepath.Join(dir, name)
		rewritePart(t, gen, p, "xl/worksheets/sheet1.xml", f)
		return p
	}
	dim := regexp.MustCompile(`<dimension ref="[^"]*"\s*(/>|></dimension>)`)
	for name, p := range map[string]string{
		"no-dimension": edit("nodim.xlsx", func(b []byte) []byte { return dim.ReplaceAll(b, nil) }),
		"more-rows":    edit("rows.xlsx", func(b []byte) []byte { return dim.ReplaceAll(b, []byte(`<dimension ref="A1:O2002"/>`)) }),
		"more-columns": edit("cols.xlsx", func(b []byte) []byte { return dim.ReplaceAll(b, []byte(`<dimension ref="A1:Q2001"/>`)) }),
		"not-from-A1":  edit("b2.xlsx", func(b []byte) []byte { return dim.ReplaceAll(b, []byte(`<dimension ref="B2:O2001"/>`)) }),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := validateAhead(t, p, aheadNow, 16<<20)
			must(t, r.importErr)
			if r.took {
				t.Fatal("the workbook written ahead was taken")
			}
			r.sameReport(t)
		})
	}
	t.Run("control", func(t *testing.T) {
		t.Parallel()
		p := edit("same.xlsx", func(b []byte) []byte { return dim.ReplaceAll(b, []byte(`<dimension ref="A1:O2001"/>`)) })
		r := validateAhead(t, p, aheadNow, 16<<20)
		must(t, r.importErr)
		if !r.took {
			t.Fatal("the workbook written ahead was not taken")
		}
		r.sameReport(t)
	})

	t.Run("rows-read-again", func(t *testing.T) {
		// Dates that could be read two ways, settled by a later row: the
		// import reads the rows again, and their errors change.
		t.Parallel()
		p := filepath.Join(t.TempDir(), "dates.xlsx")
		f := excelize.NewFile()
		rows := [][]any{{"Cage", "Visit Start", "Visit End", "First Name", "Last Name", "Company"}}
		for i := range 40 {
			rows = append(rows, []any{"AM1:01:000111", fmt.Sprintf("%02d/04/2027 08:00", 1+i%12), fmt.Sprintf("%02d/04/2027 18:00", 1+i%12), fmt.Sprintf("N%d", i), "Jansen", "Voltcare BV"})
		}
		rows = append(rows, []any{"AM1:01:000111", "25/04/2027 08:00", "26/04/2027 18:00", "Carla", "Jansen", "Voltcare BV"})
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			must(t, f.SetSheetRow("Sheet1", cell, &row))
		}
		// excelize leaves the dimension at A1.
		must(t, f.SetSheetDimension("Sheet1", fmt.Sprintf("A1:F%d", len(rows))))
		must(t, f.SaveAs(p))
		check := roster.CheckConfig{Now: func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }}
		r := validateAhead(t, p, check, 16<<20)
		must(t, r.importErr)
		if r.took {
			t.Fatal("the workbook written ahead was taken, though the rows were read again")
		}
		r.sameReport(t)
		check.DateOrder = roster.DateOrderDMY
		if r := validateAhead(t, p, check, 16<<20); !r.took {
			t.Fatalf("with the date order given, the workbook written ahead was not taken (%v)", r.importErr)
		}
	})

	t.Run("import-fails", func(t *testing.T) {
		t.Parallel()
		p := edit("nocage.xlsx", func(b []byte) []byte {
			return bytes.Replace(b, []byte(">Cage<"), []byte(">Zzz<"), 1)
		})
		r := validateAhead(t, p, aheadNow, 16<<20)
		if r.importErr == nil || !strings.Contains(r.importErr.Error(), "Cage") {
			t.Fatalf("import error %v", r.importErr)
		}
		if len(r.leftover) > 0 {
			t.Errorf("files left behind: %q", r.leftover)
		}
	})

	t.Run("small-bound", func(t *testing.T) {
		// A bound the copy falls behind: given up or not, the report is
		// the same.
		t.Parallel()
		for range 3 {
			r := validateAhead(t, gen, aheadNow, 1)
			must(t, r.importErr)
			r.sameReport(t)
		}
	})
}

// TestWriteFilesTakesAhead: WriteFiles writes the workbook written ahead,
// or writes it again; the folder holds the same files either way, and
// nothing else.
func TestWriteFilesTakesAhead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "gen.xlsx")
	writeGenerated(t, p, 1500, 0.05)
	files := func(ahead bool) map[string][]byte {
		out := t.TempDir()
		opt := importer.Options{Path: p, Check: aheadNow, CountOnly: true}
		var a *Ahead
		if ahead {
			tee := roster.NewSheetTee(16 << 20)
			var err error
			a, err = StartAhead(out, tee)
			must(t, err)
			opt.Read.Tee, opt.Follow = tee, a
		}
		res, err := importer.Import(context.Background(), opt)
		must(t, err)
		a.End()
		rep := filepath.Join(out, "run")
		f := WriteFiles(FilesInput{Dir: rep, Workbook: ValidationWorkbook(res), Errors: res.Errors, Summary: NewSummary(res), Ahead: a})
		if len(f.Problems) > 0 || f.WrittenAhead != ahead {
			t.Fatalf("problems %q; written ahead: %v", f.Problems, f.WrittenAhead)
		}
		entries, err := os.ReadDir(out)
		must(t, err)
		if len(entries) != 1 || entries[0].Name() != "run" {
			t.Errorf("the folder holds %v", entries)
		}
		got := map[string][]byte{}
		for _, n := range f.Paths() {
			b, err := os.ReadFile(n)
			must(t, err)
			got[filepath.Base(n)] = b
		}
		return got
	}
	want, got := files(false), files(true)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range want {
			if !yield(n) {
				return
			}
		}
	})
	if len(names) != 3 || len(got) != 3 {
		t.Fatalf("files %v and %d", names, len(got))
	}
	for _, n := range names {
		if !bytes.Equal(want[n], got[n]) {
			t.Errorf("%s differs", n)
		}
	}
}
