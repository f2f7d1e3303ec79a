package importer

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// TestNumberPhonesNote: phones typed into General cells lost their leading
// 0; the rows are valid, and a note says how to keep them.
func TestNumberPhonesNote(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"Cage", "Visit Start", "Visit End", "First Name", "Last Name", "Company", "Mobile Country Code", "Mobile Phone"},
		{"AM1:01:000111", "2027-01-11 08:00", "2027-01-11 18:00", "Anna", "Smit", "Acme", 31, 612345678},
		{"AM1:01:000111", "2027-01-11 08:00", "2027-01-11 18:00", "Bram", "Smit", "Acme", "+31", "0612 345 679"},
		{"AM1:01:000111", "2027-01-11 08:00", "2027-01-11 18:00", "Carla", "Smit", "Acme", 31, 612345680},
	}
	for i, r := range rows {
		if err := f.SetSheetRow("Sheet1", "A"+string(rune('1'+i)), &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "phones.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
	res, err := Import(context.Background(), Options{Path: path, Check: roster.CheckConfig{Now: clock}})
	if err != nil {
		t.Fatal(err)
	}
	want := "Mobile Phone of rows 2, 4 are number cells, which drop a leading 0 (0612 345 678 becomes 612345678): " +
		"after a country code that is how most numbers are dialled, but format the column as Text to keep them as typed"
	if res.ValidRows != 3 || len(res.Warnings) != 1 || res.Warnings[0] != want {
		t.Errorf("%d valid, notes %q", res.ValidRows, res.Warnings)
	}
}
