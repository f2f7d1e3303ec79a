package roster_test

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/rostergen"
)

// TestRawSheetFromTee: the raw sheet read from what Open's reader reads
// gives the rows OpenRawSheet gives, and the sheet's <dimension>.
func TestRawSheetFromTee(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "r.xlsx")
	if err := rostergen.WriteFile(p, rostergen.Options{Rows: 3000, Seed: 5, ErrorRate: 0.05}); err != nil {
		t.Fatal(err)
	}

	want, _ := rawRows(t, func() (*roster.RawSheet, error) { return roster.OpenRawSheet(p, "", roster.ReadOptions{}) })
	tee := roster.NewSheetTee(1 << 20)
	src, err := roster.Open(p, roster.ReadOptions{Tee: tee})
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan int)
	go func() {
		defer src.Close()
		n := 0
		for {
			if _, err := src.Read(); err != nil {
				read <- n
				return
			}
			n++
		}
	}()
	got, dim := rawRows(t, func() (*roster.RawSheet, error) { return roster.OpenRawSheetTee(tee) })
	if n := <-read; n != 3000 {
		t.Fatalf("the roster's reader read %d rows", n)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d rows from the tee, %d from the file, not the same", len(got), len(want))
	}
	if dim != [3]int{3001, 15, 1} {
		t.Errorf("dimension %v, want 3001 rows of 15 columns", dim)
	}
}

// rawRows reads a raw sheet's rows as text, and its dimension (rows,
// columns, 1 when it has one).
func rawRows(t *testing.T, open func() (*roster.RawSheet, error)) ([]string, [3]int) {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []string
	var r roster.RawRow
	for {
		err := s.Next(&r)
		if err == io.EOF {
			lr, lc, ok := s.Dimension()
			dim := [3]int{lr, lc, 0}
			if ok {
				dim[2] = 1
			}
			return out, dim
		}
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(strconv.Itoa(r.Row) + ":")
		for _, c := range r.Cells {
			b.WriteString(roster.ColumnName(c.Col) + "=" + string(c.Value) + ";")
		}
		out = append(out, b.String())
	}
}
