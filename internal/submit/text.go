package submit

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/report"
)

// WritePlan writes a new run's plan for people: the roster's rows, the
// visitors left out as ordered already, the orders and the first
// report.MaxShown problems.
func WritePlan(w io.Writer, res *importer.Result, r *Run) {
	fmt.Fprintf(w, "%s: %s, %d valid, %d invalid\n", res.File, report.Plural(res.Rows, "row", "rows"), res.ValidRows, res.InvalidRows)
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "note: %s\n", warn)
	}
	if r.AlreadyOrdered > 0 {
		fmt.Fprintf(w, "%s already ordered by an earlier run and left out\n", report.Plural(r.AlreadyOrdered, "visitor was", "visitors were"))
	}
	rows := r.visitorRows()
	fmt.Fprintf(w, "plan: %s for %s", report.Plural(len(r.Orders), "order", "orders"), report.Plural(len(rows), "visitor", "visitors"))
	if r.Visitors > len(rows) {
		fmt.Fprintf(w, " (%d places in orders: a visitor whose window is split is in each of its orders)", r.Visitors)
	}
	fmt.Fprintln(w)
	for i, e := range res.Errors {
		if i == report.MaxShown {
			fmt.Fprintf(w, "  … and %d more problems\n", len(res.Errors)-report.MaxShown)
			break
		}
		fmt.Fprintf(w, "  %s\n    fix: %s\n", e.Error(), e.Hint)
	}
}

// visitorRows are the roster rows of the run's orders.
func (r *Run) visitorRows() map[int]bool {
	rows := map[int]bool{}
	for _, o := range r.Orders {
		for _, row := range o.Rows {
			rows[row] = true
		}
	}
	return rows
}

// PlaceQuestion asks for a new run's go-ahead, saying what will and will
// not happen: "Place 9 orders for 118 visitors at AM1 (3 rows are invalid
// and will not be ordered; 2 visitors are already ordered)?"
func PlaceQuestion(res *importer.Result, r *Run, conn *Conn) string {
	ibx := map[string]bool{}
	for _, o := range r.Orders {
		ibx[o.IBX] = true
	}
	q := fmt.Sprintf("Place %s for %s at %s", report.Plural(len(r.Orders), "order", "orders"), report.Plural(len(r.visitorRows()), "visitor", "visitors"),
		strings.Join(slices.Sorted(maps.Keys(ibx)), ", "))
	if conn != nil && conn.Endpoint != "" {
		q += " through " + conn.Where().String()
	} else if r.Run.Endpoint != "" {
		q += " through " + r.Run.Where().String()
	}
	var not []string
	if res.InvalidRows > 0 {
		not = append(not, fmt.Sprintf("%s invalid and will not be ordered", report.Plural(res.InvalidRows, "row is", "rows are")))
	}
	if r.AlreadyOrdered > 0 {
		not = append(not, fmt.Sprintf("%s already ordered", report.Plural(r.AlreadyOrdered, "visitor is", "visitors are")))
	}
	if len(not) > 0 {
		q += " (" + strings.Join(not, "; ") + ")"
	}
	return q + "?"
}

// WriteReplacements lists the earlier orders an edited roster replaces;
// doing says they will be (submit --replace), not only that they would be.
func WriteReplacements(w io.Writer, reps []Replacement, doing bool) {
	verb := "would be cancelled and ordered again (--replace)"
	if doing {
		verb = "will be ordered again, then cancelled"
	}
	fmt.Fprintf(w, "%d earlier orders hold a different visitor list than this roster for their place and window; they %s:\n", len(reps), verb)
	for _, r := range reps {
		place := r.Cage
		if r.Cabinet != "" {
			place = r.Cabinet
		}
		fmt.Fprintf(w, "  %-16s run %s  %-24s %s → %s  %s; the roster adds %d, takes off %d",
			r.OrderID, r.Run, place, r.Start.UTC().Format("2006-01-02 15:04Z"), r.End.UTC().Format("2006-01-02 15:04Z"),
			report.Plural(r.Count, "visitor", "visitors"), r.Added, r.Removed)
		if r.Invalid > 0 {
			fmt.Fprintf(w, " (%s invalid now: fix them, they are not taken off)", report.Plural(r.Invalid, "row is", "rows are"))
		}
		fmt.Fprintln(w)
	}
}

// WriteText says what became of a run's report email: a mail that was not
// sent is a warning with a hint (how to send it again with `wvbatch report
// RUN --send`, unless runID is "": a validation's report). Nothing is written
// for a nil m.
func (m *MailOutcome) WriteText(w io.Writer, runID string) {
	switch {
	case m == nil:
	case m.Setup != nil:
		fmt.Fprintf(w, "wvbatch: report email: %v\n", m.Setup)
	default:
		if m.RecordErr != nil {
			fmt.Fprintf(w, "wvbatch: record the report email: %v\n", m.RecordErr)
		}
		to := strings.Join(m.To, ", ")
		switch {
		case m.Err != nil:
			fmt.Fprintf(w, "wvbatch: the report was not emailed to %s: %v\n", to, m.Err)
			if runID == "" {
				fmt.Fprintf(w, "hint: %s\n", mail.Hint(m.Err))
			} else {
				fmt.Fprintf(w, "hint: %s; then send it with: wvbatch report %s --send\n", mail.Hint(m.Err), runID)
			}
		case m.Outbox != "":
			fmt.Fprintf(w, "report email to %s written to the outbox %s: %q\n", to, m.Outbox, m.Subject)
		default:
			fmt.Fprintf(w, "report emailed to %s: %q\n", to, m.Subject)
		}
	}
}

// WriteReplaced says, a line an order, what became of the earlier orders a
// replacing run replaces (from CancelReplaced).
func WriteReplaced(w io.Writer, done []Replaced) {
	for _, r := range done {
		switch r.Outcome {
		case ReplacedAlready:
			fmt.Fprintf(w, "  %s already cancelled\n", r.OrderID)
		case ReplacedKept:
			fmt.Fprintf(w, "  %s cancelled? no: the edited roster has no valid visitors for its place and window any more; cancel it with 'wvbatch cancel %s' if that is meant\n", r.OrderID, r.Run)
		case ReplacedNotPlaced:
			fmt.Fprintf(w, "  %s kept: its replacement is not placed (yet)\n", r.OrderID)
		case ReplacedFailed:
			fmt.Fprintf(w, "  %s not cancelled: %v\n", r.OrderID, r.Err)
		case ReplacedCancelled:
			fmt.Fprintf(w, "  %s cancelled: %s\n", r.OrderID, r.Reason)
		}
	}
}
