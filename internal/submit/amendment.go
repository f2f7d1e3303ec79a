package submit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// ErrNoAmendment means there is no change to make: none was asked for,
// and the run has no unfinished amendment to finish.
var ErrNoAmendment = errors.New("no unfinished amendment, and no change was given")

// StartAmendment records the change req of a run's orders as its next
// amendment, before anything is sent (again: the same shift once more).
// With req nil it returns the run's unfinished amendment, to finish it.
// created says whether the amendment was recorded by this call.
func (p *Pipeline) StartAmendment(runID string, req *runstore.AmendRequest, now time.Time, again bool) (a runstore.Amendment, created bool, err error) {
	if req != nil {
		return p.Store.CreateAmendment(runID, *req, now, again)
	}
	as, err := p.Store.Amendments(runID)
	if err != nil {
		return a, false, err
	}
	if len(as) == 0 || as[len(as)-1].State == runstore.AmendDone {
		return a, false, fmt.Errorf("run %s has %w", runID, ErrNoAmendment)
	}
	return as[len(as)-1], false, nil
}

// AmendOutcome is what an amendment did: its report (written to the run's
// report folder), the run's outcome (its report written again and emailed)
// and why it stopped with orders left to change.
type AmendOutcome struct {
	Report     *report.AmendmentReport
	ReportPath string
	Run        *Outcome
	Stopped    error
}

// Amend applies amendment a of a run: unless it is done, each order's
// change is recorded before it is sent and read back when its answer is
// lost (connect is called for the connection; settle is how long an answer
// may take to land, 0 for the queue's default). Then the amendment's
// report is written, and the run finished (its report written and
// emailed).
func (p *Pipeline) Amend(ctx context.Context, runID string, a runstore.Amendment, connect func() (*Conn, error), settle time.Duration) (*AmendOutcome, error) {
	out := &AmendOutcome{}
	if a.State != runstore.AmendDone {
		conn, err := connect()
		if err != nil {
			return nil, err
		}
		cfg := p.RunConfig(runID, conn.Client)
		cfg.SettleDelay = settle
		_, out.Stopped = queue.Amend(ctx, p.Store, runID, a.N, API{Client: conn.Client}, queue.AmendConfig{RunConfig: cfg, Closed: IsClosed})
	}
	a, err := p.Store.Amendment(runID, a.N)
	if err != nil {
		return nil, err
	}
	aos, err := p.Store.AmendOrders(runID, a.N)
	if err != nil {
		return nil, err
	}
	orders, err := p.Store.Orders(runID)
	if err != nil {
		return nil, err
	}
	out.Report = report.NewAmendmentReport(runID, a, aos, orders)
	if out.ReportPath, err = out.Report.Write(p.reportDir(runID)); err != nil {
		return nil, err
	}
	if out.Run, err = p.Finish(runID, nil); err != nil {
		return nil, err
	}
	return out, nil
}
