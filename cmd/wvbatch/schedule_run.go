package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// jobRunner runs a scheduled job's run through the run pipeline, as a
// manual submit does, and resumes a run that exists already.
type jobRunner struct {
	e *env
	// flags are the daemon's own: store, API config, concurrency, report
	// folder; a job's endpoint and concurrency win.
	flags runFlags
	// forceSandbox runs every job against the in-process sandbox.
	forceSandbox bool
}

// runFlags returns the flags of one job's run.
func (r *jobRunner) runFlags(job *scheduler.Job) runFlags {
	f := r.flags
	f.json = false
	f.yes = true // a scheduled run is the daemon's own decision
	switch job.Endpoint {
	case "":
	case "sandbox":
		f.api.sandbox = true
	default:
		f.api.sandbox, f.api.endpoint = false, job.Endpoint
	}
	if r.forceSandbox {
		f.api.sandbox, f.api.endpoint = true, ""
	}
	if job.Concurrency > 0 {
		f.concurrency = job.Concurrency
	}
	return f
}

// forRun gives the run its own report folder under the daemon's
// --report-dir.
func (r *jobRunner) forRun(f runFlags, runID string) runFlags {
	if r.flags.reportDir != "" {
		f.reportDir = filepath.Join(r.flags.reportDir, runID)
	}
	return f
}

// salt names a scheduled run in its run id: job and scheduled time.
func salt(job string, at time.Time) string {
	return "schedule " + job + " " + at.UTC().Format(time.RFC3339)
}

// pipeline is the run pipeline of one job's run: the job's concurrency
// and endpoint, and a report folder per run under the daemon's
// --report-dir.
func (r *jobRunner) pipeline(st *runstore.Store, f runFlags) *submit.Pipeline {
	p := f.pipeline(r.e, st)
	if base := r.flags.reportDir; base != "" {
		p.ReportDir = func(runID string) string { return filepath.Join(base, runID) }
	}
	p.Hooks.Recorded = func(run runstore.Run) {
		fmt.Fprintf(r.e.stdout, "run %s recorded in %s\n", run.ID, st.Path())
	}
	return p
}

// run is a scheduler.RunFunc: the job's roster through the pipeline, as a
// manual submit goes, under the run id of the job and scheduled time.
func (r *jobRunner) run(ctx context.Context, st *runstore.Store, job *scheduler.Job, at time.Time) scheduler.Result {
	e, f := r.e, r.runFlags(job)
	fmt.Fprintf(e.stdout, "job %s: run for %s (%s)\n", job.Name, at.UTC().Format(time.RFC3339),
		at.In(job.Schedule.Location()).Format("2006-01-02 15:04 MST"))
	if run, err := st.ScheduledRun(job.Name, at); err == nil {
		return r.resume(ctx, st, job, at, run, f)
	} else if !errors.Is(err, runstore.ErrNotFound) {
		return r.result(st, job, at, "", err)
	}

	path, err := job.ResolveRoster()
	if err != nil {
		return r.result(st, job, at, "", usageErr(fmt.Errorf("job %s: %w", job.Name, err),
			fmt.Sprintf("check the job's roster (line %d of the jobs file): a file, a folder or a glob of .xlsx/.csv files", job.Line)))
	}
	order, err := roster.ParseDateOrder(job.DateOrder)
	if err != nil {
		return r.result(st, job, at, "", err)
	}
	check := roster.CheckConfig{Now: e.now, DateOrder: order}
	if job.Window != nil {
		check.Window = job.Window.For(at)
	}
	where, err := f.api.whereOffline(e)
	if err != nil {
		return r.result(st, job, at, "", err)
	}
	conn := &lazyConn{ctx: ctx, e: e, f: &f.api, explicit: true}
	defer conn.close()
	p := r.pipeline(st, f)
	prep, err := p.Prepare(ctx, submit.Input{
		Import: importer.Options{Path: path, Read: roster.ReadOptions{Sheet: job.Sheet}, Check: check,
			Order: job.Order, Salt: salt(job.Name, at)},
		At: where, Connect: conn.connect, Job: job.Name, ScheduledAt: at, AllOrNothing: job.AllOrNothing,
	})
	var fe *submit.OrderFieldError
	switch {
	case errors.As(err, &fe):
		return r.result(st, job, at, "", fmt.Errorf("%s: %s (hint: %s)", fe.Field, fe.Message, fe.Hint))
	case err != nil:
		res := r.result(st, job, at, "", apiErr(err))
		if res.RunID == "" && (equinix.IsRetryable(err) || ctx.Err() != nil) {
			// Equinix could not be asked (an outage, a shutdown): not a
			// verdict on the run. It stays due, and the next pass makes it.
			res.Outcome = runstore.OutcomeInterrupted
		}
		return res
	case prep.Existing != nil:
		return r.resume(ctx, st, job, at, *prep.Existing, f)
	}
	submit.WritePlan(e.stdout, prep.Import, prep.New)
	o, err := p.Execute(ctx, prep)
	if errors.Is(err, submit.ErrNotAll) {
		fmt.Fprintf(e.stdout, "job %s: %v\n", job.Name, err)
		return r.result(st, job, at, "", errRowsFailed)
	}
	runID := prep.New.Run.ID
	return r.result(st, job, at, runID, ranRun(ctx, e, o, err, false))
}

// resume carries on with the run a job already made for at. A finished run
// is only reported: it is not sent, nor emailed, again.
func (r *jobRunner) resume(ctx context.Context, st *runstore.Store, job *scheduler.Job, at time.Time, run runstore.Run, f runFlags) scheduler.Result {
	if finished(run) {
		fmt.Fprintf(r.e.stdout, "job %s: the run for %s is %s already (run %s): nothing is ordered twice\n",
			job.Name, at.UTC().Format(time.RFC3339), run.State, run.ID)
		return r.result(st, job, at, run.ID, nil)
	}
	fmt.Fprintf(r.e.stdout, "job %s: resuming run %s for %s; nothing is ordered twice\n", job.Name, run.ID, at.UTC().Format(time.RFC3339))
	return r.result(st, job, at, run.ID, resumeRun(ctx, r.e, st, run, r.forRun(f, run.ID), nil, nil))
}

func finished(run runstore.Run) bool {
	return (run.State == runstore.RunDone || run.State == runstore.RunCancelled) &&
		run.Orders[runstore.Planned]+run.Orders[runstore.Sending] == 0
}

// result names the outcome of a run from the error the submit path
// returned and what the store holds.
func (r *jobRunner) result(st *runstore.Store, job *scheduler.Job, at time.Time, runID string, err error) scheduler.Result {
	res := scheduler.Result{RunID: runID, Err: err}
	run, lerr := st.ScheduledRun(job.Name, at)
	if lerr == nil {
		res.RunID = run.ID
	}
	switch {
	case lerr == nil && !finished(run):
		res.Outcome = runstore.OutcomeInterrupted
	case lerr == nil && (run.Rows[runstore.RowInvalid]+run.Rows[runstore.RowRejected]+run.Rows[runstore.RowPending] > 0 || errors.Is(err, errRowsFailed)):
		res.Outcome = runstore.OutcomeRowsFailed
		if errors.Is(err, errRowsFailed) {
			res.Err = nil
		}
	case err == nil:
		res.Outcome = runstore.OutcomeOrdered
	case errors.Is(err, errRowsFailed):
		res.Outcome, res.Err = runstore.OutcomeRowsFailed, nil
	default:
		res.Outcome = runstore.OutcomeFailed
	}
	if res.Err != nil {
		var ce *cliError
		if errors.As(res.Err, &ce) && ce.hint != "" {
			res.Err = fmt.Errorf("%w (hint: %s)", res.Err, ce.hint)
		}
		var fe *roster.FileError
		if errors.As(res.Err, &fe) && fe.Hint != "" {
			res.Err = fmt.Errorf("%w (hint: %s)", res.Err, fe.Hint)
		}
	}
	return res
}
