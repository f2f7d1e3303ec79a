package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n         int
		one, many string
		want      string
	}{
		{1, "order", "orders", "1 order"},
		{0, "order", "orders", "0 orders"},
		{12, "row is", "rows are", "12 rows are"},
		{1, " visitor", "visitors", " 1 visitor"},
		{7, " visitor", "visitors", " 7 visitors"},
		{50, " visitor", "visitors", "50 visitors"},
	} {
		if got := Plural(c.n, c.one, c.many); got != c.want {
			t.Errorf("Plural(%d, %q, %q) = %q, want %q", c.n, c.one, c.many, got, c.want)
		}
	}
}

func TestCounts(t *testing.T) {
	m := map[string]int{"submitted": 9, "rejected": 1, "planned": 0, "other": 4}
	if got := Counts(m, "submitted", "rejected", "planned"); got != "9 submitted, 1 rejected" {
		t.Errorf("Counts = %q", got)
	}
	if got := Counts(m, "planned", "sending"); got != "none" {
		t.Errorf("Counts of zeros = %q, want none", got)
	}
}

func TestRunSummaryWriteText(t *testing.T) {
	s := &RunSummary{RunID: "r1", File: "/tmp/x/roster.xlsx", State: "done", Endpoint: "sandbox",
		Orders: map[string]int{"submitted": 11, "rejected": 1}, Rows: map[string]int{"ordered": 30, "invalid": 2},
		RowsTotal: 32, RowsOK: 30}
	for i := range MaxShown + 2 {
		o := RunOrder{OrderID: fmt.Sprint("1-", i), State: "submitted", CustomerReference: fmt.Sprint("ref-", i),
			Cages: []string{"AM1:01:000111"}, LocalStart: "2027-01-12 08:00", LocalEnd: "2027-01-12 18:00", Visitors: 1 + i}
		if i == 1 {
			o.OrderID, o.State, o.Cabinet = "", "rejected", "AM1:01:000111:0101"
			o.Error = &APIProblem{Code: "EQ-1", Message: "no such cabinet", Hint: "check the cabinet"}
		}
		s.OrderList = append(s.OrderList, o)
	}
	s.Errors = []roster.RowError{{Row: 4, Column: "B", Field: "Last Name", Message: "is empty", Hint: "fill it in"}}
	var b strings.Builder
	s.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"run r1 (roster.xlsx): done\n",
		"endpoint: sandbox\n",
		"orders: 11 submitted, 1 rejected\n",
		"rows:   30 of 32 ordered; 30 ordered, 2 invalid\n",
		"1-0              submitted  ref-0                  AM1:01:000111            2027-01-12 08:00 → 2027-01-12 18:00   1 visitor\n",
		"  -                rejected   ref-1                  AM1:01:000111:0101",
		"      EQ-1 no such cabinet\n      fix: check the cabinet\n",
		"  … and 2 more orders\n",
		"    fix: fill it in\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ref-10") {
		t.Errorf("summary lists more than %d orders:\n%s", MaxShown, out)
	}
}

func TestAmendmentTexts(t *testing.T) {
	rep := &AmendmentReport{RunID: "r1", Amendment: 2, Change: "shift 24h", State: "done",
		Orders: map[string]int{"applied": 1, "failed": 1},
		List: []AmendmentReportOrder{
			{OrderID: "1-1", State: "applied", After: "2027-01-13 08:00 → 18:00"},
			{State: string(runstore.AmendFailed), After: "-", Note: "kept", ErrorCode: "EQ-9", Error: "refused", ErrorHint: "try later"},
		}}
	var b strings.Builder
	rep.WriteText(&b)
	want := "amendment 2 of run r1 (shift 24h): done\norders: 1 applied, 1 failed\n" +
		"  1-1              applied    2027-01-13 08:00 → 18:00\n" +
		"  -                failed     -\n      kept EQ-9 refused\n      fix: try later\n"
	if b.String() != want {
		t.Errorf("amendment text:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	WriteAmendmentsText(&b, nil)
	if b.Len() != 0 {
		t.Errorf("no amendments wrote %q", b.String())
	}
	WriteAmendmentsText(&b, []RunAmendment{{N: 1, State: "done", Change: "open cabinet", Orders: map[string]int{"unchanged": 3}}})
	if want := "amendments:\n  1   done         open cabinet: 3 unchanged\n"; b.String() != want {
		t.Errorf("amendments = %q, want %q", b.String(), want)
	}
}

func TestFilesWriteText(t *testing.T) {
	var b strings.Builder
	Files{Dir: "/r/run1", ErrorsCSV: "/r/run1/x-errors.csv", Summary: "/r/run1/summary.json", WorkbookSkipped: "the roster is a CSV"}.WriteText(&b)
	want := "report: /r/run1\n  x-errors.csv\n  summary.json\n  (no annotated workbook: the roster is a CSV)\n"
	if b.String() != want {
		t.Errorf("files = %q, want %q", b.String(), want)
	}
}

func TestWriteValidationText(t *testing.T) {
	res := &importer.Result{File: "roster.xlsx", Sheet: "Visitors", Rows: 14, ValidRows: 2, InvalidRows: 12,
		Warnings:    []string{"column Z ignored"},
		OrderErrors: []roster.RowError{{Message: "no such contact", Hint: "name a registered user"}}}
	for i := range 12 {
		res.Errors = append(res.Errors, roster.RowError{Row: i + 2, Message: "bad", Hint: fmt.Sprint("fix ", i)})
	}
	res.ErrorsTotal = 12
	sum := &Summary{Orders: 1, Visitors: 2, Plan: []PlannedOrder{{CustomerReference: "ref", IBX: "AM1", Cages: []string{"A", "B"},
		LocalStart: "s", LocalEnd: "e", Visitors: 2}}}
	var b strings.Builder
	WriteValidationText(&b, res, sum)
	out := b.String()
	for _, want := range []string{
		"roster.xlsx (sheet Visitors): 14 rows, 2 valid, 12 invalid\n",
		"note: column Z ignored\n",
		"plan: 1 order for 2 visitors, 0 window(s) longer than 14 days split\n",
		"  ref                    AM1   A,B                      s → e   2 visitors\n",
		"order: no such contact\n  fix: name a registered user\n",
		"\nproblems (12):\n",
		"    fix: fix 9\n",
		"  … and 2 more (see the report)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validation text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fix 10") {
		t.Errorf("more than %d problems listed:\n%s", MaxShown, out)
	}
}

func TestFilesWriteProblems(t *testing.T) {
	var b strings.Builder
	Files{}.WriteProblems(&b, "r1")
	if b.Len() != 0 {
		t.Errorf("no problems wrote %q", b.String())
	}
	f := Files{Problems: []string{"workbook: disk full"}}
	f.WriteProblems(&b, "r1")
	if want := "wvbatch: warning: part of the report was not written: workbook: disk full\nhint: free space or fix the report folder's permissions, then write it again with: wvbatch report r1\n"; b.String() != want {
		t.Errorf("with a run: %q", b.String())
	}
	b.Reset()
	f.WriteProblems(&b, "")
	if !strings.HasSuffix(b.String(), "(or choose another with --report-dir), then run the command again\n") {
		t.Errorf("without a run: %q", b.String())
	}
}
