package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// PipelineConfig is how the server's runs reach Equinix and mail.
type PipelineConfig struct {
	// Client is the server's API client: the sandbox's or Equinix's.
	Client *equinix.Client
	// Endpoint names it as runs record it ("sandbox" or the API's URL).
	Endpoint string
	// Preflight, when set, is the endpoint's pre-flight of an import (nil:
	// the lookups of Client).
	Preflight   func(ctx context.Context, imp importer.Options) (importer.Preflight, error)
	NoPreflight bool
	// Now is the clock the server was asked to use (--now), "" for the
	// real one.
	Now         string
	Concurrency int
	// ReportDir is a run's report folder (nil: reports/<run> beside the
	// store).
	ReportDir func(runID string) string
	Mailer    submit.Mailer
	Logger    zerolog.Logger
}

// NewOrderer returns the Orderer that runs rosters through the run
// pipeline (package submit), as `wvbatch submit` and the scheduler do.
func NewOrderer(c PipelineConfig) Orderer { return &pipelineOrderer{c: c} }

type pipelineOrderer struct{ c PipelineConfig }

func (o *pipelineOrderer) pipeline(st *runstore.Store, progress func(queue.Tally)) *submit.Pipeline {
	p := &submit.Pipeline{Store: st, Concurrency: o.c.Concurrency, ReportDir: o.c.ReportDir, Mailer: o.c.Mailer, Logger: o.c.Logger}
	if progress != nil {
		p.Hooks.Progress = func(_ runstore.Run, t queue.Tally, _ bool) { progress(t) }
		p.Hooks.Recorded = func(run runstore.Run) { progress(queue.TallyOf(run)) }
	}
	return p
}

// conn is the server's connection, as the pipeline takes it.
func (o *pipelineOrderer) conn() *submit.Conn {
	return &submit.Conn{Client: o.c.Client, Endpoint: o.c.Endpoint, Preflight: o.c.Preflight}
}

func (o *pipelineOrderer) Prepare(ctx context.Context, st *runstore.Store, req OrderRequest) (*Prepared, error) {
	in := submit.Input{
		Import: importer.Options{Path: req.Roster, Check: req.Check, Order: req.Order},
		Conn:   o.conn(), Now: o.c.Now, NoPreflight: o.c.NoPreflight,
		StartedBy: req.StartedBy,
	}
	prep, err := o.pipeline(st, nil).Prepare(ctx, in)
	var ofe *submit.OrderFieldError
	if errors.As(err, &ofe) {
		return &Prepared{Endpoint: o.c.Endpoint, Problems: []roster.RowError{ofe.RowError}}, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Prepared{Endpoint: o.c.Endpoint, InvalidRows: prep.Import.InvalidRows, Recipients: prep.Import.Order.ReportEmails, Pipeline: prep}
	ibx, rows := map[string]bool{}, map[int]bool{}
	if prep.Existing != nil {
		p.RunID, p.Existing, p.State = prep.Existing.ID, true, string(prep.Existing.State)
		orders, err := st.Orders(prep.Existing.ID)
		if err != nil {
			return nil, err
		}
		for _, od := range orders {
			if od.State == runstore.Planned || od.State == runstore.Sending {
				p.Orders++
				ibx[od.IBX] = true
				for _, r := range od.Rows {
					rows[r] = true
				}
			}
		}
	} else {
		r := prep.New
		p.RunID, p.Orders, p.AlreadyOrdered = r.Run.ID, len(r.Orders), r.AlreadyOrdered
		for _, od := range r.Orders {
			ibx[od.IBX] = true
			for _, r := range od.Rows {
				rows[r] = true
			}
		}
	}
	// A visitor whose window is split is in several orders: counted once.
	p.Visitors = len(rows)
	for k := range ibx {
		p.IBXs = append(p.IBXs, k)
	}
	slices.Sort(p.IBXs)
	return p, nil
}

// stopped turns a run that stopped with work left into an error.
func stopped(out *submit.Outcome, err error) error {
	if err != nil {
		return err
	}
	if out != nil && out.Stopped != nil {
		return fmt.Errorf("the run stopped with orders left: %w", out.Stopped)
	}
	return nil
}

func (o *pipelineOrderer) Execute(ctx context.Context, st *runstore.Store, p *Prepared, progress func(queue.Tally)) error {
	prep, ok := p.Pipeline.(*submit.Prepared)
	if !ok {
		return errors.New("the run was not prepared by the pipeline")
	}
	return stopped(o.pipeline(st, progress).Execute(ctx, prep))
}

func (o *pipelineOrderer) Resume(ctx context.Context, st *runstore.Store, runID string, progress func(queue.Tally)) error {
	run, err := st.Run(runID)
	if err != nil {
		return err
	}
	connect := func() (*submit.Conn, error) { return o.conn(), nil }
	return stopped(o.pipeline(st, progress).Resume(ctx, run, connect, nil))
}

// Cancel cancels the picked orders through the queue (each recorded
// cancelling before it is asked for, never twice), then writes and sends
// the run's report as every run's end does.
func (o *pipelineOrderer) Cancel(ctx context.Context, st *runstore.Store, runID string, orderIDs []string, reason, who string) error {
	orders, err := st.Orders(runID)
	if err != nil {
		return err
	}
	keys := map[string]string{}
	for _, od := range orders {
		if od.OrderID != "" {
			keys[od.OrderID] = od.Key
		}
	}
	p := o.pipeline(st, nil)
	var problems []string
	for _, id := range orderIDs {
		key, ok := keys[id]
		if !ok {
			problems = append(problems, id+" is not an order of run "+runID)
			continue
		}
		od, err := queue.CancelOrder(ctx, st, runID, key, submit.API{Client: o.c.Client}, reason, p.RunConfig(runID, o.c.Client))
		switch {
		case err != nil:
			problems = append(problems, id+": "+err.Error())
		case od.State != runstore.Cancelled && od.LastError != nil:
			problems = append(problems, id+": Equinix refused: "+od.LastError.Error())
		}
	}
	if _, err := p.FinishCancel(runID, reason); err != nil {
		problems = append(problems, "the report: "+err.Error())
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Reschedule records the shift as the run's next amendment and applies it
// through the pipeline (each update recorded before it is sent, never
// twice); the amendment's report and the run's are written, and the run's
// emailed.
func (o *pipelineOrderer) Reschedule(ctx context.Context, st *runstore.Store, runID string, shift time.Duration, who string) error {
	now := time.Now()
	if o.c.Now != "" {
		if t, err := time.Parse(time.RFC3339, o.c.Now); err == nil {
			now = t
		}
	}
	p := o.pipeline(st, nil)
	a, _, err := p.StartAmendment(runID, &runstore.AmendRequest{Shift: shift}, now, false)
	if err != nil {
		return err
	}
	out, err := p.Amend(ctx, runID, a, func() (*submit.Conn, error) { return o.conn(), nil }, 0)
	if err != nil {
		return err
	}
	if out.Stopped != nil {
		return fmt.Errorf("the reschedule stopped with orders left: %w", out.Stopped)
	}
	return nil
}

// Resend writes the run's report again and emails it.
func (o *pipelineOrderer) Resend(ctx context.Context, st *runstore.Store, runID, who string) error {
	out, err := o.pipeline(st, nil).Finish(runID, nil)
	if err != nil {
		return err
	}
	switch m := out.Mail; {
	case m == nil:
		return errors.New("the run has no one to send its report to: it was given no report email")
	case m.Setup != nil:
		return m.Setup
	case m.Err != nil:
		return m.Err
	}
	return nil
}
