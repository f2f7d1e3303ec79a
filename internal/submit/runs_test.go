package submit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestRunsListStatusAndCancelSome places the sample roster in the sandbox,
// then lists the store's runs, shows the run's status, plans cancelling one
// of its orders (and an order that is not the run's) and cancels it.
func TestRunsListStatusAndCancelSome(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	w.in.Import.Order.ReportEmails = nil
	w.in.StartedBy = "ann"
	ctx := t.Context()
	prep, err := w.p.Prepare(ctx, w.in)
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	WritePlan(&plan, prep.Import, prep.New)
	if !strings.Contains(plan.String(), "contractors.csv: ") || !strings.Contains(plan.String(), "plan: "+pluralOrders(len(prep.New.Orders))+" for ") {
		t.Errorf("plan:\n%s", plan.String())
	}
	q := PlaceQuestion(prep.Import, prep.New, prep.Conn)
	if !strings.HasPrefix(q, "Place "+pluralOrders(len(prep.New.Orders))+" for ") || !strings.HasSuffix(q, " through sandbox?") {
		t.Errorf("question %q", q)
	}
	out, err := w.p.Execute(ctx, prep)
	if err != nil || out.Stopped != nil {
		t.Fatalf("Execute: %v, %+v", err, out)
	}
	st := w.p.Store
	runID := out.Run.ID

	runs, err := RunsAt(st, "")
	if err != nil || len(runs) != 1 || runs[0].ID != runID {
		t.Fatalf("RunsAt: %v, %v", runs, err)
	}
	if other, err := RunsAt(st, "https://API.equinix.com/"); err != nil || len(other) != 0 {
		t.Errorf("runs at another endpoint: %v, %v; want none", other, err)
	}
	v := NewRunView(runs[0])
	if v.RunID != runID || v.StartedBy != "ann" || v.Endpoint != "sandbox" || v.Orders["submitted"] != len(prep.New.Orders) {
		t.Errorf("view %+v", v)
	}
	var table strings.Builder
	if err := WriteRunsTable(&table, st, runs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "RUN ") || !strings.HasPrefix(lines[1], runID) ||
		!strings.Contains(lines[1], " ann ") || !strings.HasSuffix(lines[1], "contractors.csv") {
		t.Errorf("table:\n%s", table.String())
	}

	sum, err := w.p.Status(runID, true)
	if err != nil || sum.RunID != runID || len(sum.RowList) != sum.RowsTotal || sum.Amendments == nil {
		t.Fatalf("Status: %v, %+v", err, sum)
	}

	if _, err := CancelPlan(st, runs[0], []string{"1-nope"}); !errors.As(err, new(*NotPlacedError)) {
		t.Errorf("an order not of the run: %v, want a NotPlacedError", err)
	}
	all, err := CancelPlan(st, runs[0], nil)
	if err != nil || len(all) != len(prep.New.Orders) {
		t.Fatalf("CancelPlan: %d orders, %v", len(all), err)
	}
	one, err := CancelPlan(st, runs[0], []string{all[0].OrderID})
	if err != nil || len(one) != 1 || one[0].Key != all[0].Key {
		t.Fatalf("CancelPlan of one: %v, %v", one, err)
	}
	var cp strings.Builder
	WriteCancelPlan(&cp, runs[0], one, false)
	if !strings.HasPrefix(cp.String(), "run "+runID+" at sandbox: 1 order to cancel\n  "+all[0].OrderID) {
		t.Errorf("cancel plan:\n%s", cp.String())
	}
	got, err := w.p.CancelOrders(ctx, runID, []string{one[0].Key}, w.client, "maintenance postponed")
	if err != nil || got.Stopped != nil || got.Tally.Cancelled != 1 {
		t.Fatalf("CancelOrders: %v, %+v", err, got)
	}
	after, err := st.Run(runID)
	if err != nil || after.Orders[runstore.Cancelled] != 1 || after.Orders[runstore.Submitted] != len(all)-1 {
		t.Errorf("after cancelling one: %v, %v", after.Orders, err)
	}
}

func pluralOrders(n int) string {
	if n == 1 {
		return "1 order"
	}
	return fmt.Sprintf("%d orders", n)
}

func TestWriteReplacements(t *testing.T) {
	start := time.Date(2027, 1, 12, 7, 0, 0, 0, time.UTC)
	reps := []Replacement{
		{Run: "r1", OrderID: "1-1", Cage: "AM1:01:000111", Start: start, End: start.Add(10 * time.Hour), Count: 3, Added: 1, Removed: 2},
		{Run: "r1", OrderID: "1-2", Cage: "AM1:01:000111", Cabinet: "AM1:01:000111:0101", Start: start, End: start.Add(time.Hour), Count: 1, Invalid: 2},
	}
	var b strings.Builder
	WriteReplacements(&b, reps, false)
	want := "2 earlier orders hold a different visitor list than this roster for their place and window; they would be cancelled and ordered again (--replace):\n" +
		"  1-1              run r1  AM1:01:000111            2027-01-12 07:00Z → 2027-01-12 17:00Z  3 visitors; the roster adds 1, takes off 2\n" +
		"  1-2              run r1  AM1:01:000111:0101       2027-01-12 07:00Z → 2027-01-12 08:00Z  1 visitor; the roster adds 0, takes off 0 (2 rows are invalid now: fix them, they are not taken off)\n"
	if b.String() != want {
		t.Errorf("replacements:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteReplacements(&b, reps[:1], true)
	if !strings.HasPrefix(b.String(), "1 earlier orders hold a different visitor list than this roster for their place and window; they will be ordered again, then cancelled:\n") {
		t.Errorf("doing: %q", b.String())
	}
}

func TestWriteReplaced(t *testing.T) {
	rep := func(id string) Replacement { return Replacement{OrderID: id, Run: "r0"} }
	var b strings.Builder
	WriteReplaced(&b, []Replaced{
		{Replacement: rep("1-1"), Outcome: ReplacedCancelled, Reason: "replaced by 1-9"},
		{Replacement: rep("1-2"), Outcome: ReplacedAlready},
		{Replacement: rep("1-3"), Outcome: ReplacedKept},
		{Replacement: rep("1-4"), Outcome: ReplacedNotPlaced},
		{Replacement: rep("1-5"), Outcome: ReplacedFailed, Err: errors.New("refused")},
	})
	want := "  1-1 cancelled: replaced by 1-9\n  1-2 already cancelled\n" +
		"  1-3 cancelled? no: the edited roster has no valid visitors for its place and window any more; cancel it with 'wvbatch cancel r0' if that is meant\n" +
		"  1-4 kept: its replacement is not placed (yet)\n  1-5 not cancelled: refused\n"
	if b.String() != want {
		t.Errorf("replaced:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestMailOutcomeWriteText(t *testing.T) {
	for _, c := range []struct {
		m    *MailOutcome
		want string
	}{
		{nil, ""},
		{&MailOutcome{Setup: errors.New("no run")}, "wvbatch: report email: no run\n"},
		{&MailOutcome{To: []string{"a@x", "b@x"}, Subject: "S"}, "report emailed to a@x, b@x: \"S\"\n"},
		{&MailOutcome{To: []string{"a@x"}, Subject: "S", Outbox: "/o", RecordErr: errors.New("disk")},
			"wvbatch: record the report email: disk\nreport email to a@x written to the outbox /o: \"S\"\n"},
		{&MailOutcome{To: []string{"a@x"}, Err: mail.ErrNoServer},
			"wvbatch: the report was not emailed to a@x: no SMTP server is configured\nhint: " + mail.Hint(mail.ErrNoServer) + "; then send it with: wvbatch report r1 --send\n"},
	} {
		var b strings.Builder
		c.m.WriteText(&b, "r1")
		if b.String() != c.want {
			t.Errorf("%+v wrote %q, want %q", c.m, b.String(), c.want)
		}
	}
}
