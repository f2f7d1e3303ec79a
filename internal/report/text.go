package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// MaxShown is how many row errors and orders a text summary lists; the
// files hold them all.
const MaxShown = 10

// Plural says "1 visitor" or "2 visitors" (the number right-aligned in two
// columns when one starts with a space, for tables).
func Plural(n int, one, many string) string {
	if strings.HasPrefix(one, " ") {
		if n == 1 {
			return fmt.Sprintf("%2d%s", n, one)
		}
		return fmt.Sprintf("%2d %s", n, many)
	}
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Counts lists the counts of m that are not zero, in the order given:
// "9 submitted, 1 rejected", or "none".
func Counts(m map[string]int, order ...string) string {
	var parts []string
	for _, k := range order {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// WriteText writes the run's summary for a person: its state, endpoint,
// counts, the first MaxShown orders and problems.
func (s *RunSummary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "run %s (%s): %s\n", s.RunID, filepath.Base(s.File), s.State)
	fmt.Fprintf(w, "endpoint: %s\n", s.Where())
	fmt.Fprintf(w, "orders: %s\n", Counts(s.Orders, "submitted", "rejected", "planned", "sending", "cancelled", "cancelling"))
	fmt.Fprintf(w, "rows:   %d of %d ordered; %s\n", s.RowsOK, s.RowsTotal,
		Counts(s.Rows, "ordered", "already-ordered", "invalid", "rejected", "pending", "cancelled"))
	for i, o := range s.OrderList {
		if i == MaxShown {
			fmt.Fprintf(w, "  … and %d more orders\n", len(s.OrderList)-MaxShown)
			break
		}
		id := o.OrderID
		if id == "" {
			id = "-"
		}
		place := o.Cages[0]
		if o.Cabinet != "" {
			place = o.Cabinet
		}
		fmt.Fprintf(w, "  %-16s %-10s %-22s %-24s %s → %s  %s\n", id, o.State, o.CustomerReference, place, o.LocalStart, o.LocalEnd, Plural(o.Visitors, " visitor", "visitors"))
		if o.Error != nil {
			fmt.Fprintf(w, "      %s %s\n      fix: %s\n", o.Error.Code, o.Error.Message, o.Error.Hint)
		}
	}
	for i, re := range s.Errors {
		if i == MaxShown {
			fmt.Fprintf(w, "  … and %d more problems (see the report)\n", len(s.Errors)-MaxShown)
			break
		}
		fmt.Fprintf(w, "  %s\n    fix: %s\n", re.Error(), re.Hint)
	}
}

// WriteAmendmentsText lists a run's amendments: number, state, what each
// changes and its orders' outcomes.
func WriteAmendmentsText(w io.Writer, as []RunAmendment) {
	if len(as) == 0 {
		return
	}
	fmt.Fprintln(w, "amendments:")
	for _, a := range as {
		fmt.Fprintf(w, "  %-3d %-12s %s: %s\n", a.N, a.State, a.Change,
			Counts(a.Orders, "applied", "unchanged", "skipped", "failed", "pending", "sending"))
	}
}

// WriteText writes the amendment's outcome for a person: its counts and
// the first MaxShown orders, each with its note, error and fix.
func (rep *AmendmentReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "amendment %d of run %s (%s): %s\n", rep.Amendment, rep.RunID, rep.Change, rep.State)
	fmt.Fprintf(w, "orders: %s\n", Counts(rep.Orders, "applied", "unchanged", "skipped", "failed", "pending", "sending"))
	for i, o := range rep.List {
		if i == MaxShown {
			fmt.Fprintf(w, "  … and %d more orders\n", len(rep.List)-MaxShown)
			break
		}
		id := o.OrderID
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(w, "  %-16s %-10s %s\n", id, o.State, o.After)
		if o.Note != "" || o.Error != "" {
			fmt.Fprintf(w, "      %s\n", strings.TrimSpace(o.Note+" "+strings.TrimSpace(o.ErrorCode+" "+o.Error)))
		}
		if o.ErrorHint != "" && o.State == string(runstore.AmendFailed) {
			fmt.Fprintf(w, "      fix: %s\n", o.ErrorHint)
		}
	}
}

// WriteText lists the report's folder and files.
func (f Files) WriteText(w io.Writer) {
	fmt.Fprintf(w, "report: %s\n", f.Dir)
	for _, p := range f.Paths() {
		fmt.Fprintf(w, "  %s\n", filepath.Base(p))
	}
	if f.Workbook == "" && f.WorkbookSkipped != "" {
		fmt.Fprintf(w, "  (no annotated workbook: %s)\n", f.WorkbookSkipped)
	}
}

// WriteValidationText writes a roster's check for a person: its rows, the
// orders it would place and the first MaxShown of each list.
func WriteValidationText(w io.Writer, res *importer.Result, sum *Summary) {
	where := res.File
	if res.Sheet != "" {
		where += fmt.Sprintf(" (sheet %s)", res.Sheet)
	}
	fmt.Fprintf(w, "%s: %s, %d valid, %d invalid\n", where, Plural(res.Rows, "row", "rows"), res.ValidRows, res.InvalidRows)
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "note: %s\n", warn)
	}
	fmt.Fprintf(w, "plan: %s for %s, %d window(s) longer than 14 days split\n", Plural(sum.Orders, "order", "orders"), Plural(sum.Visitors, "visitor", "visitors"), sum.SplitWindows)
	for _, o := range sum.PlanHead(MaxShown) {
		place := strings.Join(o.Cages, ",")
		if o.Cabinet != "" {
			place = o.Cabinet
		}
		fmt.Fprintf(w, "  %-22s %-5s %-24s %s → %s  %s\n", o.CustomerReference, o.IBX, place, o.LocalStart, o.LocalEnd, Plural(o.Visitors, " visitor", "visitors"))
	}
	if n := sum.PlanLen(); n > MaxShown {
		fmt.Fprintf(w, "  … and %d more orders (see summary.json)\n", n-MaxShown)
	}
	for _, oe := range res.OrderErrors {
		fmt.Fprintf(w, "order: %s\n  fix: %s\n", oe.Message, oe.Hint)
	}
	if len(res.Errors) == 0 {
		return
	}
	fmt.Fprintf(w, "\nproblems (%d):\n", res.ErrorsTotal)
	for i, re := range res.Errors {
		if i == MaxShown {
			fmt.Fprintf(w, "  … and %d more (see the report)\n", res.ErrorsTotal-MaxShown)
			break
		}
		fmt.Fprintf(w, "  %s\n    fix: %s\n", re.Error(), re.Hint)
	}
}

// WriteProblems warns of the report files that could not be written, with
// a hint: how to write them again (`wvbatch report RUN`, or the command
// again when runID is "").
func (f Files) WriteProblems(w io.Writer, runID string) {
	if len(f.Problems) == 0 {
		return
	}
	for _, p := range f.Problems {
		fmt.Fprintf(w, "wvbatch: warning: part of the report was not written: %s\n", p)
	}
	if runID != "" {
		fmt.Fprintf(w, "hint: free space or fix the report folder's permissions, then write it again with: wvbatch report %s\n", runID)
		return
	}
	fmt.Fprintf(w, "hint: free space or fix the report folder's permissions (or choose another with --report-dir), then run the command again\n")
}
