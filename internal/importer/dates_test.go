package importer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

func writeRoster(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDateColumnSettled reads dates that could be read two ways in the
// order the column's other rows settle, says so in a note, and leaves
// --date-order the last word.
func TestDateColumnSettled(t *testing.T) {
	t.Parallel()
	const head = "Cage,Visit Start,Visit End,First Name,Last Name,Company\n"
	row := func(start, end, name string) string {
		return "AM1:01:000111," + start + "," + end + "," + name + ",Jansen,Voltcare BV\n"
	}
	settled := writeRoster(t, head+
		row("03/04/2027 08:00", "03/04/2027 18:00", "Anna")+
		row("05/04/2027 08:00", "06/04/2027 18:00", "Bram")+
		row("25/04/2027 08:00", "26/04/2027 18:00", "Carla")+
		row("07/04/2027 08:00", "07/04/2027 18:00", "Dirk"))
	clock := func() time.Time { return time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC) }
	var delivered []roster.RowError
	res, err := Import(context.Background(), Options{Path: settled, Check: roster.CheckConfig{Now: clock},
		OnError: func(e roster.RowError) { delivered = append(delivered, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.ValidRows != 4 || len(res.Errors) != 0 || len(delivered) != 0 {
		t.Fatalf("%d valid, errors %v, delivered %v", res.ValidRows, res.Errors, delivered)
	}
	starts := map[int]time.Time{}
	for _, o := range res.Orders {
		for _, v := range o.Visitors {
			starts[v.Row] = v.Start
		}
	}
	if want := time.Date(2027, 4, 3, 6, 0, 0, 0, time.UTC); !starts[2].Equal(want) {
		t.Errorf("row 2 starts %v, want %v (3 April, 08:00 in Amsterdam)", starts[2], want)
	}
	if len(res.Warnings) != 2 || !strings.HasPrefix(res.Warnings[0], "Visit Start: dates that could be read two ways are read day first") ||
		!strings.Contains(res.Warnings[0], "row 4's 25/04/2027 08:00") || !strings.HasPrefix(res.Warnings[1], "Visit End:") {
		t.Errorf("notes %q", res.Warnings)
	}

	// --date-order mdy: 25/04/2027 is no date, and 03/04 is March 4.
	res, err = Import(context.Background(), Options{Path: settled, Check: roster.CheckConfig{Now: clock, DateOrder: roster.DateOrderMDY}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ValidRows != 3 || len(res.Errors) != 1 || res.Errors[0].Row != 4 || len(res.Warnings) != 0 {
		t.Errorf("mdy: %d valid, errors %v, notes %q", res.ValidRows, res.Errors, res.Warnings)
	}

	// Rows that disagree settle nothing: the dates stay ambiguous, and
	// each error is given to OnError once.
	split := writeRoster(t, head+
		row("03/04/2027 08:00", "2027-04-03 18:00", "Anna")+
		row("25/04/2027 08:00", "2027-04-26 18:00", "Bram")+
		row("04/26/2027 08:00", "2027-04-26 18:00", "Carla")+
		row("bad", "2027-04-26 18:00", "Dirk"))
	delivered = nil
	res, err = Import(context.Background(), Options{Path: split, Check: roster.CheckConfig{Now: clock},
		OnError: func(e roster.RowError) { delivered = append(delivered, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.ValidRows != 2 || len(res.Errors) != 2 || res.Errors[0].Code != roster.CodeDateAmbiguous || len(res.Warnings) != 0 {
		t.Errorf("disagreeing rows: %d valid, errors %v, notes %q", res.ValidRows, res.Errors, res.Warnings)
	}
	if len(delivered) != 2 || delivered[0].Row != 2 || delivered[1].Row != 5 {
		t.Errorf("delivered %v", delivered)
	}
}
