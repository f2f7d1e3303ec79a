package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/metrics"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

type scheduleTickOptions struct {
	daemon      daemonOptions
	metricsFile string
	wait        time.Duration
	now         string
}

func newScheduleTickCmd(e *env) *cobra.Command {
	var o scheduleTickOptions
	cmd := &cobra.Command{
		Use:   "tick --config jobs.yaml",
		Short: "One pass of the scheduler: run what is due, then exit (for cron, systemd timers, Kubernetes CronJobs)",
		Long: `tick does once what the daemon does all the time, and exits: it resumes a
scheduled run that an earlier tick (or the daemon) left unfinished, and runs
every job whose scheduled time has come since the last one handled, with the
same policies (missed: run-once within starting_deadline, or skip). A run is
identified by its job and scheduled time, as the daemon's are: ticks and the
daemon on one store never run a time twice. A job seen for the first time
starts with its next scheduled time, as in the daemon: the first tick after a
job is added only records it.

Only one wvbatch has the store open at a time: while another one has it (a tick
or the daemon running a job), tick waits for it, up to --wait, then exits 4.
With retention set in the config file it prunes once a day, as the daemon does.

Exit status: 0 nothing was due or every run ordered every row; 3 a run
finished with rows invalid or refused; 1 a run stopped (it is resumed by the
next tick) or could not be made; 2 the jobs file or a flag is not valid; 4 the
store stayed in use for --wait.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScheduleTick(cmd.Context(), o, e)
		},
	}
	o.daemon.bind(cmd.Flags())
	cmd.Flags().StringVar(&o.metricsFile, "metrics-file", "", "write the tick's metrics here in the Prometheus text format when it ends (node_exporter's textfile collector: a *.prom file in its folder)")
	cmd.Flags().DurationVar(&o.wait, "wait", time.Minute, "how long to wait while another wvbatch has the store open, before exiting 4")
	cmd.Flags().StringVar(&o.now, "now", "", "treat this RFC 3339 instant as the current time (for tests and demos)")
	return cmd
}

func runScheduleTick(ctx context.Context, o scheduleTickOptions, e *env) error {
	now, err := parseNow(o.now, e.now)
	if err != nil {
		return err
	}
	e.now = now
	// Jobs due together run at once and print as they go.
	e.stdout, e.stderr = &lockedWriter{w: e.stdout}, &lockedWriter{w: e.stderr}
	jobs, err := o.daemon.sched.load(e)
	if err != nil {
		return err
	}
	if o.metricsFile != "" {
		e.metrics = metrics.New()
		e.metrics.Store(o.daemon.sched.store.resolve(e))
		defer func() {
			if err := e.metrics.WriteFile(o.metricsFile); err != nil {
				fmt.Fprintf(e.stderr, "wvbatch: %v\n", err)
			}
		}()
	}
	if keep, err := retention(e, o.daemon.apiConfig); err != nil {
		return err
	} else if keep > 0 {
		if err := retentionOf(ctx, e, &o.daemon.sched.store, keep, o.daemon.reportDir, o.wait).PruneIfDue(); err != nil {
			e.log.Error().Err(err).Msg("retention: prune failed; the next tick tries again")
		}
	}

	var mu sync.Mutex
	var results []scheduler.Ran
	done := func(j *scheduler.Job, at time.Time, res scheduler.Result) {
		mu.Lock()
		results = append(results, scheduler.Ran{Job: j.Name, At: at, Res: res})
		mu.Unlock()
	}
	// The store: wait while another wvbatch has it, up to --wait.
	deadline := time.Now().Add(o.wait)
	open := func() (*runstore.Store, error) {
		st, err := o.daemon.sched.store.openWithin(e, runstore.LockTimeoutDefault)
		if errors.Is(err, runstore.ErrStoreBusy) && time.Now().After(deadline) {
			// Not ErrStoreBusy any more: the scheduler stops waiting.
			return nil, &cliError{code: exitStoreBusy, err: errors.New(err.Error() + " (waited " + o.wait.String() + ")"),
				hint: "another tick or the daemon is running a job: the next tick carries on; --wait waits longer"}
		}
		return st, err
	}
	// Skips are warnings, shown at the default log level.
	s, err := o.daemon.newScheduler(e, jobs, e.log, open, done)
	if err != nil {
		return err
	}
	e.metrics.NextRuns(s.NextRuns)
	terr := s.Tick(ctx)
	s.Wait()
	if terr != nil {
		var ce *cliError
		if errors.As(terr, &ce) {
			return ce
		}
		return &cliError{code: exitFailure, err: terr, hint: "the next tick tries again; 'wvbatch schedule list' shows each job's state"}
	}
	return tickOutcome(e, results)
}

// lockedWriter lets the runs of a tick print at the same time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tickOutcome prints what the tick ran and returns its exit status.
func tickOutcome(e *env, ran []scheduler.Ran) error {
	switch rowsFailed, stopped := scheduler.WriteRan(e.stdout, ran); {
	case stopped:
		return &cliError{code: exitFailure, err: errors.New("a run stopped or could not be made"),
			hint: "an interrupted run is resumed by the next tick; 'wvbatch schedule list' shows the error of one that could not be made"}
	case rowsFailed:
		return errRowsFailed
	}
	return nil
}
