package roster_test

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/rostergen"
)

// TestRawSheetLarge reads a sheet whose XML is many times the read-ahead's
// chunks: every row, in order, with all its cells, the same as the roster
// reader's.
func TestRawSheetLarge(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "big.xlsx")
	const rows = 12000
	if err := rostergen.WriteFile(p, rostergen.Options{Rows: rows, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	s, err := roster.OpenRawSheet(p, "", roster.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := roster.Open(p, roster.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	h := src.Header()
	var r roster.RawRow
	if err := s.Next(&r); err != nil || r.Row != 1 || len(r.Cells) != 15 {
		t.Fatalf("header row %d with %d cells, %v", r.Row, len(r.Cells), err)
	}
	n := 0
	for {
		err := s.Next(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rec, err := src.Read()
		if err != nil {
			t.Fatalf("row %d: the roster reader: %v", r.Row, err)
		}
		n++
		if r.Row != rec.Row {
			t.Fatalf("raw row %d, roster row %d", r.Row, rec.Row)
		}
		for _, c := range r.Cells {
			for fld, i := range h.Index {
				if i == c.Col && c.Kind == roster.RawText && string(c.Value) != rec.Cells[fld].Text {
					t.Fatalf("row %d column %d: raw %q, roster %q", r.Row, c.Col, c.Value, rec.Cells[fld].Text)
				}
			}
		}
	}
	if n != rows {
		t.Errorf("%d rows, want %d", n, rows)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// TestPlainRowsGenerated reads generated rosters (mistakes in 5% of the
// rows) with and without the plain form's fast reading: the same records
// and raw rows, nearly all of them read the fast way.
func TestPlainRowsGenerated(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{5, 6} {
		p := filepath.Join(t.TempDir(), "gen.xlsx")
		if err := rostergen.WriteFile(p, rostergen.Options{Rows: 3000, Seed: seed, ErrorRate: 0.05}); err != nil {
			t.Fatal(err)
		}
		// Each row is read twice with the fast reading on: by Open and by
		// OpenRawSheet.
		if n := roster.SamePlainAndTokens(t, p); n < 2*3000 {
			t.Fatalf("seed %d: %d of 2×3,001 rows read in the plain form", seed, n)
		}
	}
}
