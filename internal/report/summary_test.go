package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/plan"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// FuzzErrorsCSVInert writes arbitrary text as a problem's value, message and
// hint: read back as a spreadsheet reads the CSV, no field may start a
// formula, and the text after the guard is the text written.
func FuzzErrorsCSVInert(f *testing.F) {
	for _, s := range []string{"=1+1", "+SUM(A1:A2)", "-2+3", "@A1", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "a,b", "\"q\"", "line\nbreak", "Müller", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		ec, err := NewErrorsCSV(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := ec.Write(roster.RowError{Row: 2, Column: "A", Field: "Notes", Value: s, Code: "x", Message: s, Hint: s}); err != nil {
			t.Fatal(err)
		}
		if err := ec.Close(); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if len(recs) != 2 {
			t.Fatalf("%d records, want header and one row", len(recs))
		}
		for _, i := range []int{3, 5, 6} {
			v := recs[1][i]
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				t.Errorf("field %d %q can run as a formula", i, v)
			}
			// encoding/csv reads \r\n inside quotes as \n.
			want := strings.ReplaceAll(s, "\r\n", "\n")
			// Inert puts an apostrophe before every character that could
			// start a formula in some locale.
			unguard := func(s string) string { return strings.NewReplacer("'", "", "\r", "").Replace(s) }
			if unguard(v) != unguard(want) {
				t.Errorf("field %d = %q, want %q behind the guard", i, v, s)
			}
		}
	})
}

// TestSummaryWriteJSON: the streamed summary is byte for byte what
// json.Encoder with a two-space indent writes.
func TestSummaryWriteJSON(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC)
	for name, s := range map[string]*Summary{
		"empty": {Warnings: []string{}, Errors: []roster.RowError{}, Plan: []PlannedOrder{}},
		"full": {
			File: "r.csv", Sheet: "Visitors", RunID: "r1", Rows: 3, ValidRows: 2, InvalidRows: 1, Orders: 2, Visitors: 2,
			Warnings:    []string{`column "Notes" is ignored`},
			Errors:      []roster.RowError{{Row: 3, Column: "B", Field: "Cage", Value: "=1+1 <&>", Code: "cage-invalid", Message: "m\n\"q\"", Hint: "h"}},
			ErrorsTotal: 1,
			Plan: []PlannedOrder{
				{Key: "k1", CustomerReference: "UPS-1", IBX: "AM1", Cages: []string{"AM1:01:000111"}, Start: start, End: start.Add(time.Hour), Zone: "Europe/Amsterdam", Visitors: 1},
				{Key: "k2", CustomerReference: "UPS-2", IBX: "AM1", Cages: []string{"AM1:01:000111"}, Cabinet: "AM1:01:000111:0101", Account: "1", Start: start, End: start.Add(2 * time.Hour), OpenCabinet: true, Visitors: 1},
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var want, got bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode((*summaryJSON)(s)); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("WriteJSON:\n%s\nwant\n%s", got.String(), want.String())
			}
		})
	}
}

// TestNewSummaryPlan: the summary of an import lists each of its orders as
// encoding/json writes the PlannedOrder made of it by hand, local times in
// the IBX's zone (UTC for a zone not known), whether written (WriteJSON),
// encoded (encoding/json) or listed (PlanHead).
func TestNewSummaryPlan(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC)
	orders := []plan.Order{
		{Key: "k1", Reference: "UPS-1", IBX: "AM1", Cage: "AM1:01:000111", Start: start, End: start.Add(time.Hour), Zone: "Europe/Amsterdam", Count: 3},
		{Key: "k2", Reference: "Café <&> \"2\"", IBX: "NY5", Cage: "NY5:02:000222", Cabinet: "NY5:02:000222:0101", Account: "1",
			Start: start.Add(24 * time.Hour), End: start.Add(30 * time.Hour), Zone: "America/New_York", OpenCabinet: true, Count: 1},
		{Key: "k3", Reference: "UPS-3", IBX: "XX1", Cage: "XX1:01:1", Start: start, End: start.Add(time.Minute), Zone: "Nowhere/Unknown", Count: 50},
		{Key: "k4", Reference: "UPS-4", IBX: "AM1", Cage: "AM1:01:000111", Start: start.Add(48 * time.Hour), End: start.Add(49 * time.Hour), Zone: "Europe/Amsterdam", Count: 2},
	}
	want := []PlannedOrder{
		{Key: "k1", CustomerReference: "UPS-1", IBX: "AM1", Cages: []string{"AM1:01:000111"}, Start: start, End: start.Add(time.Hour),
			Zone: "Europe/Amsterdam", LocalStart: "2027-01-11 08:00 CET", LocalEnd: "2027-01-11 09:00 CET", Visitors: 3},
		{Key: "k2", CustomerReference: "Café <&> \"2\"", IBX: "NY5", Cages: []string{"NY5:02:000222"}, Cabinet: "NY5:02:000222:0101", Account: "1",
			Start: start.Add(24 * time.Hour), End: start.Add(30 * time.Hour), Zone: "America/New_York",
			LocalStart: "2027-01-12 02:00 EST", LocalEnd: "2027-01-12 08:00 EST", OpenCabinet: true, Visitors: 1},
		{Key: "k3", CustomerReference: "UPS-3", IBX: "XX1", Cages: []string{"XX1:01:1"}, Start: start, End: start.Add(time.Minute),
			Zone: "Nowhere/Unknown", LocalStart: "2027-01-11 07:00 UTC", LocalEnd: "2027-01-11 07:01 UTC", Visitors: 50},
		{Key: "k4", CustomerReference: "UPS-4", IBX: "AM1", Cages: []string{"AM1:01:000111"}, Start: start.Add(48 * time.Hour), End: start.Add(49 * time.Hour),
			Zone: "Europe/Amsterdam", LocalStart: "2027-01-13 08:00 CET", LocalEnd: "2027-01-13 09:00 CET", Visitors: 2},
	}
	for _, n := range []int{0, 1, len(orders)} {
		res := &importer.Result{File: "r.xlsx", RunID: "r1", Rows: 7, ValidRows: 6, InvalidRows: 1, Orders: orders[:n],
			Errors: []roster.RowError{{Row: 3, Column: "B", Field: "Cage", Value: "x", Message: "m", Hint: "h"}}, ErrorsTotal: 1}
		if n == 0 {
			res.Orders = nil
		}
		s := NewSummary(res)
		plain := summaryJSON(*s)
		plain.Plan = want[:n:n]
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&plain); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := s.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != b.String() {
			t.Errorf("%d orders: WriteJSON:\n%s\nwant\n%s", n, got.String(), b.String())
		}
		var enc2 bytes.Buffer
		enc = json.NewEncoder(&enc2)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil || enc2.String() != b.String() {
			t.Errorf("%d orders: encoding/json: %v\n%s\nwant\n%s", n, err, enc2.String(), b.String())
		}
		if s.PlanLen() != n {
			t.Errorf("PlanLen = %d, want %d", s.PlanLen(), n)
		}
		for _, k := range []int{-1, 0, 2, 9} {
			wantK := k
			if k < 0 || k > n {
				wantK = n
			}
			if got := s.PlanHead(k); !reflect.DeepEqual(got, want[:wantK:wantK]) {
				t.Errorf("%d orders: PlanHead(%d) = %+v, want %+v", n, k, got, want[:wantK])
			}
		}
	}
}

// TestRunSummaryWriteJSON: the streamed run summary is byte for byte what
// json.Encoder with a two-space indent writes, with and without its row
// list.
func TestRunSummaryWriteJSON(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC)
	full := &RunSummary{RunID: "r1", File: "r.xlsx", State: "done", CreatedAt: start, UpdatedAt: start,
		Orders: map[string]int{"submitted": 2}, Rows: map[string]int{"ordered": 2, "invalid": 1}, RowsTotal: 3, RowsOK: 2,
		OrderList: []RunOrder{{Key: "k", CustomerReference: "UPS-1", OrderID: "1-2", State: "submitted", IBX: "AM1", Cages: []string{"AM1:01:000111"},
			Start: start, End: start.Add(time.Hour), Visitors: 2, Rows: []int{2, 3}, Error: &APIProblem{Message: "m <&>"}}},
		Errors:  []roster.RowError{{Row: 4, Column: "B", Message: "bad\n\"cage\""}},
		RowList: []RunRow{{Row: 2, Status: "ordered", OrderIDs: []string{"1-2"}}},
	}
	for name, s := range map[string]*RunSummary{
		"empty": {Orders: map[string]int{}, Rows: map[string]int{}, OrderList: []RunOrder{}, Errors: []roster.RowError{}},
		"full":  full,
	} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: WriteJSON:\n%s\nwant\n%s", name, got.String(), want.String())
		}
	}
}
