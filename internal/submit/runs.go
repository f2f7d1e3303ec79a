package submit

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// RunView is a run as a list of runs shows it (`runs --json`).
type RunView struct {
	RunID       string               `json:"run_id"`
	File        string               `json:"file"`
	State       string               `json:"state"`
	Endpoint    string               `json:"endpoint"`
	Account     string               `json:"account,omitempty"`
	StartedBy   string               `json:"started_by"`
	Job         string               `json:"job,omitempty"`
	ScheduledAt time.Time            `json:"scheduled_at,omitzero"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
	Orders      map[string]int       `json:"orders"`
	Rows        map[string]int       `json:"rows"`
	Mail        *runstore.MailRecord `json:"mail,omitempty"`
}

// NewRunView is the view of run r.
func NewRunView(r runstore.Run) RunView {
	v := RunView{RunID: r.ID, File: r.File, State: string(r.State), Endpoint: r.Endpoint, Account: r.Account, StartedBy: StartedBy(r),
		Job: r.Job, ScheduledAt: r.ScheduledAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Orders: map[string]int{}, Rows: map[string]int{}, Mail: r.Mail}
	for k, n := range r.Orders {
		v.Orders[string(k)] = n
	}
	for k, n := range r.Rows {
		v.Rows[string(k)] = n
	}
	return v
}

// RunViews are the views of runs, in their order.
func RunViews(runs []runstore.Run) []RunView {
	views := make([]RunView, 0, len(runs))
	for _, r := range runs {
		views = append(views, NewRunView(r))
	}
	return views
}

// StartedBy names who started a run: the user it recorded, the job that
// made it, or "-".
func StartedBy(r runstore.Run) string {
	var set Settings
	switch {
	case RunSettings(r, &set) == nil && set.StartedBy != "":
		return set.StartedBy
	case r.Job != "":
		return "job " + r.Job
	}
	return "-"
}

// RunsAt returns the runs of the store, newest first; with endpoint set,
// only those that ordered there ("sandbox", "unknown" or an API's URL, in
// any spelling equinix.NormalEndpoint makes the same).
func RunsAt(st *runstore.Store, endpoint string) ([]runstore.Run, error) {
	runs, err := st.Runs()
	if err != nil || endpoint == "" {
		return runs, err
	}
	if endpoint != "sandbox" && endpoint != runstore.EndpointUnknown {
		endpoint = equinix.NormalEndpoint(endpoint)
	}
	return slices.DeleteFunc(runs, func(r runstore.Run) bool { return r.Endpoint != endpoint }), nil
}

// WriteRunsTable writes runs as a table for people, one line a run: id,
// creation, state, orders, amendments, who started it, endpoint, roster.
func WriteRunsTable(w io.Writer, st *runstore.Store, runs []runstore.Run) error {
	fmt.Fprintf(w, "%-17s %-16s %-12s %-28s %-10s %-14s %-24s %s\n", "RUN", "CREATED", "STATE", "ORDERS", "AMENDED", "BY", "ENDPOINT", "ROSTER")
	for _, r := range runs {
		orders := make(map[string]int)
		for k, v := range r.Orders {
			orders[string(k)] = v
		}
		amends, err := st.Amendments(r.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-17s %-16s %-12s %-28s %-10s %-14s %-24s %s\n", r.ID, r.CreatedAt.Local().Format("2006-01-02 15:04"),
			r.State, report.Counts(orders, "submitted", "rejected", "planned", "sending", "cancelled"), Amended(amends), StartedBy(r), r.Where(), filepath.Base(r.File))
	}
	return nil
}

// Amended says how many amendments a run has, and how many of them are not
// finished: "-" for none, "2" or "2 (1 open)".
func Amended(as []runstore.Amendment) string {
	if len(as) == 0 {
		return "-"
	}
	open := 0
	for _, a := range as {
		if a.State != runstore.AmendDone {
			open++
		}
	}
	if open > 0 {
		return fmt.Sprintf("%d (%d open)", len(as), open)
	}
	return strconv.Itoa(len(as))
}

// Status is a run's summary with its amendments, and with rows every row's
// outcome: the document `status` shows.
func (p *Pipeline) Status(runID string, rows bool) (*report.RunSummary, error) {
	sum, err := p.Summary(runID)
	if err != nil {
		return nil, err
	}
	amends, err := p.Store.Amendments(runID)
	if err != nil {
		return nil, err
	}
	sum.AddAmendments(amends)
	if rows {
		var list []runstore.RowOutcome
		if err := p.Store.Rows(runID, func(r runstore.RowOutcome) error { list = append(list, r); return nil }); err != nil {
			return nil, err
		}
		sum.AddRows(list)
	}
	return sum, nil
}

// NotPlacedError is an order id asked to be cancelled that is not a placed
// order of the run.
type NotPlacedError struct{ OrderID, RunID string }

func (e *NotPlacedError) Error() string {
	return fmt.Sprintf("%s is not a placed order of run %s", e.OrderID, e.RunID)
}

// CancelPlan returns the orders of run that cancelling it would cancel:
// those placed, or being cancelled; only those of ids when given. An id
// that is not a placed order of the run is a *NotPlacedError.
func CancelPlan(st *runstore.Store, run runstore.Run, ids []string) ([]runstore.Order, error) {
	orders, err := st.Orders(run.ID)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var todo []runstore.Order
	for _, od := range orders {
		if (od.State == runstore.Submitted || od.State == runstore.Cancelling) && (len(ids) == 0 || want[od.OrderID]) {
			todo = append(todo, od)
			delete(want, od.OrderID)
		}
	}
	for _, id := range ids {
		if want[id] {
			return nil, &NotPlacedError{OrderID: id, RunID: run.ID}
		}
	}
	return todo, nil
}

// WriteCancelPlan lists the orders of run to cancel (todo, from
// CancelPlan); all says every placed order is, and the orders not placed
// yet are then named too.
func WriteCancelPlan(w io.Writer, run runstore.Run, todo []runstore.Order, all bool) {
	fmt.Fprintf(w, "run %s at %s: %s to cancel\n", run.ID, run.Where(), report.Plural(len(todo), "order", "orders"))
	for _, od := range todo {
		place := od.Cage
		if od.Cabinet != "" {
			place = od.Cabinet
		}
		fmt.Fprintf(w, "  %-16s %-24s %s → %s  %s\n", od.OrderID, place, od.Start.UTC().Format("2006-01-02 15:04Z"),
			od.End.UTC().Format("2006-01-02 15:04Z"), report.Plural(od.Count, "visitor", "visitors"))
	}
	if n := run.Orders[runstore.Planned] + run.Orders[runstore.Sending]; n > 0 && all {
		fmt.Fprintf(w, "  (%s not placed yet will not be cancelled: resume or leave the run)\n", report.Plural(n, "order", "orders"))
	}
}

// CancelOrders cancels some orders of a run (by key) through client, each
// recorded cancelling before it is asked for, then finishes the run (its
// report). Outcome.Stopped is the last order's failure, if any.
func (p *Pipeline) CancelOrders(ctx context.Context, runID string, keys []string, client *equinix.Client, reason string) (*Outcome, error) {
	var t queue.Tally
	var failed error
	for _, key := range keys {
		od, err := queue.CancelOrder(ctx, p.Store, runID, key, API{Client: client}, reason, p.RunConfig(runID, client))
		switch {
		case err != nil:
			failed = err
		case od.State == runstore.Cancelled:
			t.Cancelled++
		}
	}
	out, err := p.FinishCancel(runID, reason)
	if err != nil {
		return nil, err
	}
	out.Tally, out.Stopped = t, failed
	return out, nil
}

// RunChoices are the runs whose id starts with prefix, each as its id and
// a word on it (its roster and endpoint), for completing a run id.
func RunChoices(st *runstore.Store, prefix string) ([][2]string, error) {
	runs, err := st.Runs()
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, r := range runs {
		if strings.HasPrefix(r.ID, prefix) {
			out = append(out, [2]string{r.ID, filepath.Base(r.File) + " at " + r.Where().String()})
		}
	}
	return out, nil
}
