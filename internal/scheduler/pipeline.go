package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// PipelineRunner runs a job's scheduled runs through the run pipeline
// (submit.Pipeline), as a manual submit goes, under the run id of the job
// and scheduled time. A run the job made for that time already is resumed,
// or only reported when it is finished: nothing is ordered twice. Its Run
// is a RunFunc.
type PipelineRunner struct {
	// Out gets what the runs say: the plan, the outcome.
	Out io.Writer
	// Now is the clock the rosters are checked by.
	Now func() time.Time
	// Setup returns the pipeline of one job's run over st (its endpoint,
	// concurrency and report folder), where it orders, how to connect when
	// a new run needs it, and what to close after the run.
	Setup func(ctx context.Context, st *runstore.Store, job *Job) (p *submit.Pipeline, at runstore.Where, connect func() (*submit.Conn, error), done func(), err error)
	// Resume carries on with a recorded, unfinished run of the job.
	Resume func(ctx context.Context, st *runstore.Store, job *Job, run runstore.Run) error
	// Placed says what became of a run the pipeline executed (its
	// summary, report and email), and returns the error for it.
	Placed func(ctx context.Context, o *submit.Outcome, err error) error
	// RowsFailed is the error Placed and Resume return (wrapped or not)
	// for a run placed with rows not ordered.
	RowsFailed error
	// Explain, when set, turns an error into the one the job's state
	// records and the front door shows (with its hint).
	Explain func(error) error
}

// RosterError is a job whose roster cannot be found.
type RosterError struct {
	Job  string
	Line int
	Err  error
}

func (e *RosterError) Error() string { return fmt.Sprintf("job %s: %v", e.Job, e.Err) }
func (e *RosterError) Unwrap() error { return e.Err }

// Hint says how to fix the job.
func (e *RosterError) Hint() string {
	return fmt.Sprintf("check the job's roster (line %d of the jobs file): a file, a folder or a glob of .xlsx/.csv files", e.Line)
}

// Salt names a scheduled run in its run id: job and scheduled time.
func Salt(job string, at time.Time) string {
	return "schedule " + job + " " + at.UTC().Format(time.RFC3339)
}

// Import is how the job's run for at imports its roster: the roster the
// job names now, its sheet, date order and order fields, the window for
// at, and the salt that makes the run id the job's and the time's.
func (j *Job) Import(at time.Time, now func() time.Time) (importer.Options, error) {
	path, err := j.ResolveRoster()
	if err != nil {
		return importer.Options{}, &RosterError{Job: j.Name, Line: j.Line, Err: err}
	}
	order, err := roster.ParseDateOrder(j.DateOrder)
	if err != nil {
		return importer.Options{}, err
	}
	check := roster.CheckConfig{Now: now, DateOrder: order}
	if j.Window != nil {
		check.Window = j.Window.For(at)
	}
	return importer.Options{Path: path, Read: roster.ReadOptions{Sheet: j.Sheet}, Check: check, Order: j.Order, Salt: Salt(j.Name, at)}, nil
}

// Run makes the job's run for at: the job's roster through the pipeline.
func (r *PipelineRunner) Run(ctx context.Context, st *runstore.Store, job *Job, at time.Time) Result {
	fmt.Fprintf(r.Out, "job %s: run for %s (%s)\n", job.Name, at.UTC().Format(time.RFC3339),
		at.In(job.Schedule.Location()).Format("2006-01-02 15:04 MST"))
	if run, err := st.ScheduledRun(job.Name, at); err == nil {
		return r.resume(ctx, st, job, at, run)
	} else if !errors.Is(err, runstore.ErrNotFound) {
		return r.result(st, job, at, "", err)
	}
	imp, err := job.Import(at, r.Now)
	if err != nil {
		return r.result(st, job, at, "", err)
	}
	p, where, connect, done, err := r.Setup(ctx, st, job)
	if err != nil {
		return r.result(st, job, at, "", err)
	}
	defer done()
	prep, err := p.Prepare(ctx, submit.Input{Import: imp, At: where, Connect: connect, Job: job.Name, ScheduledAt: at, AllOrNothing: job.AllOrNothing})
	var fe *submit.OrderFieldError
	switch {
	case errors.As(err, &fe):
		return r.result(st, job, at, "", fmt.Errorf("%s: %s (hint: %s)", fe.Field, fe.Message, fe.Hint))
	case err != nil:
		res := r.result(st, job, at, "", err)
		if res.RunID == "" && (equinix.IsRetryable(err) || ctx.Err() != nil) {
			// Equinix could not be asked (an outage, a shutdown): not a
			// verdict on the run. It stays due, and the next pass makes it.
			res.Outcome = runstore.OutcomeInterrupted
		}
		return res
	case prep.Existing != nil:
		return r.resume(ctx, st, job, at, *prep.Existing)
	}
	submit.WritePlan(r.Out, prep.Import, prep.New)
	o, err := p.Execute(ctx, prep)
	if errors.Is(err, submit.ErrNotAll) {
		fmt.Fprintf(r.Out, "job %s: %v\n", job.Name, err)
		return r.result(st, job, at, "", r.RowsFailed)
	}
	return r.result(st, job, at, prep.New.Run.ID, r.Placed(ctx, o, err))
}

// resume carries on with the run a job already made for at. A finished run
// is only reported: it is not sent, nor emailed, again.
func (r *PipelineRunner) resume(ctx context.Context, st *runstore.Store, job *Job, at time.Time, run runstore.Run) Result {
	if submit.Finished(run) {
		fmt.Fprintf(r.Out, "job %s: the run for %s is %s already (run %s): nothing is ordered twice\n",
			job.Name, at.UTC().Format(time.RFC3339), run.State, run.ID)
		return r.result(st, job, at, run.ID, nil)
	}
	fmt.Fprintf(r.Out, "job %s: resuming run %s for %s; nothing is ordered twice\n", job.Name, run.ID, at.UTC().Format(time.RFC3339))
	return r.result(st, job, at, run.ID, r.Resume(ctx, st, job, run))
}

// result names the outcome of a run from the error the pipeline's front
// door returned and what the store holds.
func (r *PipelineRunner) result(st *runstore.Store, job *Job, at time.Time, runID string, err error) Result {
	res := Result{RunID: runID, Err: err}
	run, lerr := st.ScheduledRun(job.Name, at)
	if lerr == nil {
		res.RunID = run.ID
	}
	rowsFailed := r.RowsFailed != nil && errors.Is(err, r.RowsFailed)
	switch {
	case lerr == nil && !submit.Finished(run):
		res.Outcome = runstore.OutcomeInterrupted
	case lerr == nil && (run.Rows[runstore.RowInvalid]+run.Rows[runstore.RowRejected]+run.Rows[runstore.RowPending] > 0 || rowsFailed):
		res.Outcome = runstore.OutcomeRowsFailed
		if rowsFailed {
			res.Err = nil
		}
	case err == nil:
		res.Outcome = runstore.OutcomeOrdered
	case rowsFailed:
		res.Outcome, res.Err = runstore.OutcomeRowsFailed, nil
	default:
		res.Outcome = runstore.OutcomeFailed
	}
	if res.Err != nil {
		if r.Explain != nil {
			res.Err = r.Explain(res.Err)
		}
		var fe *roster.FileError
		if errors.As(res.Err, &fe) && fe.Hint != "" {
			res.Err = fmt.Errorf("%w (hint: %s)", res.Err, fe.Hint)
		}
	}
	return res
}
