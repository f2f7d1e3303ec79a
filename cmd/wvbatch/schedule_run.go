package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

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
// manual submit goes (see scheduler.PipelineRunner).
func (r *jobRunner) run(ctx context.Context, st *runstore.Store, job *scheduler.Job, at time.Time) scheduler.Result {
	e := r.e
	pr := &scheduler.PipelineRunner{
		Out: e.stdout, Now: e.now, RowsFailed: errRowsFailed, Explain: explain,
		Setup: func(ctx context.Context, st *runstore.Store, job *scheduler.Job) (*submit.Pipeline, runstore.Where, func() (*submit.Conn, error), func(), error) {
			f := r.runFlags(job)
			where, err := f.api.whereOffline(e)
			if err != nil {
				return nil, where, nil, nil, err
			}
			conn := f.api.lazy(ctx, e, nil, true, nil)
			return r.pipeline(st, f), where, conn.connect, conn.close, nil
		},
		Resume: func(ctx context.Context, st *runstore.Store, job *scheduler.Job, run runstore.Run) error {
			return resumeRun(ctx, e, st, run, r.forRun(r.runFlags(job), run.ID), nil, nil)
		},
		Placed: func(ctx context.Context, o *submit.Outcome, err error) error { return ranRun(ctx, e, o, err, false) },
	}
	return pr.Run(ctx, st, job, at)
}

// explain is the error a scheduled run records and run-now shows: as the
// command's error, with its hint.
func explain(err error) error {
	if re, ok := errors.AsType[*scheduler.RosterError](err); ok {
		err = usageErr(re, re.Hint())
	}
	err = apiErr(err)
	if ce, ok := errors.AsType[*cliError](err); ok && ce.hint != "" {
		err = fmt.Errorf("%w (hint: %s)", err, ce.hint)
	}
	return err
}
