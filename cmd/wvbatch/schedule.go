package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wvbatch/wvbatch/internal/metrics"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// scheduleFlags are the flags every schedule subcommand takes.
type scheduleFlags struct {
	jobs  string
	store storeFlag
}

func (f *scheduleFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.jobs, "config", "", "the jobs file (default $WVBATCH_JOBS, else $XDG_CONFIG_HOME/wvbatch/jobs.yaml)")
	f.store.bind(fs)
}

func (f *scheduleFlags) jobsPath(e *env) string {
	if f.jobs != "" {
		return f.jobs
	}
	return scheduler.DefaultPath(e.getenv)
}

// load reads the jobs file; a bad file is a usage error naming its line and
// field.
func (f *scheduleFlags) load(e *env) ([]scheduler.Job, error) {
	jobs, err := scheduler.LoadFile(f.jobsPath(e))
	return jobs, jobsErr(err)
}

func jobsErr(err error) error {
	var fe *scheduler.FileError
	if errors.As(err, &fe) {
		hint := fe.Hint
		if hint == "" {
			hint = "see the jobs file fields in the README (\"Run it every month\") or samples/jobs.yaml"
		}
		return usageErr(err, hint)
	}
	return err
}

func findJob(jobs []scheduler.Job, name string) (*scheduler.Job, error) {
	j, err := scheduler.FindJob(jobs, name)
	if ne, ok := errors.AsType[*scheduler.NoJobError](err); ok {
		return nil, usageErr(ne, "the jobs are: "+strings.Join(ne.Names, ", "))
	}
	return j, err
}

func newScheduleCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Order recurring visits: a daemon that runs jobs on a cron schedule",
		Long: `schedule runs the jobs of a jobs file (YAML) on their cron schedules. Each run
goes the way 'wvbatch submit' goes, and is identified by its job and scheduled
time: a restart, a second daemon or 'schedule run-now' never orders one
scheduled time twice. See "Run it every month" in the README.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newScheduleRunCmd(e), newScheduleTickCmd(e), newScheduleCheckCmd(e), newScheduleListCmd(e), newScheduleNextCmd(e), newScheduleRunNowCmd(e))
	return cmd
}

// daemonOptions are the flags of the commands that run jobs.
type daemonOptions struct {
	sched       scheduleFlags
	apiConfig   string
	sandbox     bool
	concurrency int
	reportDir   string
}

func (o *daemonOptions) bind(fs *pflag.FlagSet) {
	o.sched.bind(fs)
	fs.StringVar(&o.apiConfig, "api-config", "", "the API and SMTP config file (default $XDG_CONFIG_HOME/wvbatch/config.yaml when it exists)")
	fs.BoolVar(&o.sandbox, "sandbox", false, "run every job against the built-in sandbox, whatever its endpoint (nothing is really ordered)")
	fs.IntVar(&o.concurrency, "concurrency", queue.ConcurrencyDefault, "orders in flight at once, for jobs that do not set concurrency")
	fs.StringVar(&o.reportDir, "report-dir", "", "folder for the runs' reports, one folder per run in it (default: reports/ beside the store)")
}

func (o *daemonOptions) runner(e *env) *jobRunner {
	var f runFlags
	f.store = o.sched.store
	f.api.configFile = o.apiConfig
	f.concurrency = o.concurrency
	f.reportDir = o.reportDir
	r := &jobRunner{e: e, flags: f}
	if o.sandbox {
		r.forceSandbox = true
	}
	return r
}

func (o *daemonOptions) scheduler(e *env, jobs []scheduler.Job, log zerolog.Logger) (*scheduler.Scheduler, error) {
	return o.newScheduler(e, jobs, log, func() (*runstore.Store, error) { return o.sched.store.openWithin(e, runstore.LockTimeoutDefault) }, nil)
}

// newScheduler is the scheduler of the daemon, run-now and tick: open opens
// the store, and done, when set, is told each run's result.
func (o *daemonOptions) newScheduler(e *env, jobs []scheduler.Job, log zerolog.Logger, open func() (*runstore.Store, error),
	done func(*scheduler.Job, time.Time, scheduler.Result)) (*scheduler.Scheduler, error) {
	return scheduler.New(scheduler.Config{Jobs: jobs, Open: open, Run: o.runner(e).measured, Done: done, Now: e.now, Until: e.until, Logger: log})
}

func newScheduleRunCmd(e *env) *cobra.Command {
	var o daemonOptions
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "run --config jobs.yaml",
		Short: "Run the scheduler daemon",
		Long: `run is the daemon: it starts each job's runs at their scheduled times until it
gets SIGTERM or SIGINT, when it lets the runs under way record their state and
exits. SIGHUP reads the jobs file again; a file that is not valid is logged and
the jobs already loaded carry on. The store is open only while a job is decided
or runs, so other wvbatch commands can use it in between.

With --metrics-listen it serves Prometheus metrics on /metrics and a health\ncheck on /healthz.\n\nExit status: 0 after SIGTERM, 2 when the jobs file is not valid at start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScheduleDaemon(cmd.Context(), o, metricsAddr, e)
		},
	}
	o.bind(cmd.Flags())
	cmd.Flags().StringVar(&metricsAddr, "metrics-listen", "", "serve Prometheus metrics on /metrics and a health check on /healthz at this address, e.g. 127.0.0.1:9464")
	return cmd
}

func runScheduleDaemon(ctx context.Context, o daemonOptions, metricsAddr string, e *env) error {
	path := o.sched.jobsPath(e)
	jobs, err := o.sched.load(e)
	if err != nil {
		return err
	}
	if metricsAddr != "" {
		e.metrics = metrics.New()
	}
	s, err := o.scheduler(e, jobs, e.log)
	if err != nil {
		return err
	}
	if metricsAddr != "" {
		if err := serveMetrics(ctx, e, metricsAddr, s.NextRuns, o.sched.store.resolve(e)); err != nil {
			return err
		}
	}
	keep, err := retention(e, o.apiConfig)
	if err != nil {
		return err
	}
	if keep > 0 {
		go retentionOf(ctx, e, &o.sched.store, keep, o.reportDir, 10*time.Minute).Daily(ctx, func(err error) {
			e.log.Error().Err(err).Msg("retention: prune failed; it is tried again in an hour")
		})
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go s.ReloadOn(ctx, hup, path)
	e.log.Info().Str("file", path).Str("store", o.sched.store.resolve(e)).Msg("jobs file loaded")
	fmt.Fprintf(e.stdout, "wvbatch scheduler: %d jobs from %s, store %s\n", len(jobs), path, o.sched.store.resolve(e))
	return s.Run(ctx)
}

func newScheduleCheckCmd(e *env) *cobra.Command {
	var o scheduleFlags
	cmd := &cobra.Command{
		Use:   "check --config jobs.yaml",
		Short: "Check a jobs file and show each job's next run",
		Long: `check reads a jobs file and checks every field: schedules, rosters, window rules
and policies. Exit status 2 names the line and field of the first problem.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			jobs, err := o.load(e)
			if err != nil {
				return err
			}
			scheduler.WriteCheck(e.stdout, o.jobsPath(e), jobs, e.now())
			return nil
		},
	}
	o.bind(cmd.Flags())
	return cmd
}

type scheduleListOptions struct {
	sched scheduleFlags
	json  bool
}

func newScheduleListCmd(e *env) *cobra.Command {
	var o scheduleListOptions
	cmd := &cobra.Command{
		Use:   "list --config jobs.yaml",
		Short: "List the jobs, their last run and outcome, and their next run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScheduleList(o, e)
		},
	}
	o.sched.bind(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the jobs as JSON")
	return cmd
}

func runScheduleList(o scheduleListOptions, e *env) error {
	jobs, err := o.sched.load(e)
	if err != nil {
		return err
	}
	st, err := o.sched.store.open(e)
	if err != nil {
		return err
	}
	states, err := st.JobStates()
	st.Close()
	if err != nil {
		return err
	}
	list := scheduler.List(jobs, states, e.now())
	if o.json {
		return writeJSON(e.stdout, list)
	}
	scheduler.WriteListText(e.stdout, list)
	return nil
}

type scheduleNextOptions struct {
	sched scheduleFlags
	n     int
	json  bool
	from  string
}

func newScheduleNextCmd(e *env) *cobra.Command {
	var o scheduleNextOptions
	cmd := &cobra.Command{
		Use:   "next JOB",
		Short: "Show a job's next scheduled times, in UTC and the job's zone",
		Args:  exactArgs(1, "name the job: 'wvbatch schedule check' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScheduleNext(args[0], o, e)
		},
	}
	o.sched.bind(cmd.Flags())
	cmd.Flags().IntVarP(&o.n, "count", "n", 5, "how many times to show")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the times as JSON")
	cmd.Flags().StringVar(&o.from, "from", "", "count from this RFC 3339 instant instead of now")
	return cmd
}

func runScheduleNext(name string, o scheduleNextOptions, e *env) error {
	if o.n < 1 || o.n > 1000 {
		return usageErr(fmt.Errorf("-n %d: want 1 to 1000", o.n), "e.g. -n 5")
	}
	now, err := parseNow(o.from, e.now)
	if err != nil {
		return usageErr(fmt.Errorf("--from %q is not an RFC 3339 time", o.from), "write it like 2027-01-01T09:00:00Z")
	}
	jobs, err := o.sched.load(e)
	if err != nil {
		return err
	}
	j, err := findJob(jobs, name)
	if err != nil {
		return err
	}
	out := j.NextTimes(now(), o.n)
	if o.json {
		return writeJSON(e.stdout, out)
	}
	scheduler.WriteNextText(e.stdout, out)
	return nil
}

type scheduleRunNowOptions struct {
	daemon daemonOptions
	at     string
}

func newScheduleRunNowCmd(e *env) *cobra.Command {
	var o scheduleRunNowOptions
	cmd := &cobra.Command{
		Use:   "run-now JOB",
		Short: "Run a job now, in the foreground",
		Long: `run-now runs one job at once, as the daemon would. Its scheduled time is the
current minute (or --at): running it again in the same minute, or for a time
the daemon ran, resumes or reports that run; it never orders twice. It waits
while the daemon has the store open.

Exit status as for submit: 0 when every row was ordered, 3 when some rows are
invalid or were refused, 1 when the run stopped or could not be made.`,
		Args: exactArgs(1, "name the job: 'wvbatch schedule check' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScheduleRunNow(cmd.Context(), args[0], o, e)
		},
	}
	o.daemon.bind(cmd.Flags())
	cmd.Flags().StringVar(&o.at, "at", "", "the scheduled time to run, RFC 3339 (default: now, to the minute)")
	return cmd
}

func runScheduleRunNow(ctx context.Context, name string, o scheduleRunNowOptions, e *env) error {
	jobs, err := o.daemon.sched.load(e)
	if err != nil {
		return err
	}
	if _, err := findJob(jobs, name); err != nil {
		return err
	}
	at := e.now().UTC().Truncate(time.Minute)
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usageErr(fmt.Errorf("--at %q is not an RFC 3339 time", o.at), "write it like 2027-01-01T09:00:00Z")
		}
		at = t.UTC()
	}
	// The outcome is returned, not logged, unless logs were asked for.
	log := zerolog.Nop()
	if e.log.GetLevel() <= zerolog.InfoLevel {
		log = e.log
	}
	s, err := o.daemon.scheduler(e, jobs, log)
	if err != nil {
		return err
	}
	res, err := s.RunOnce(ctx, name, at)
	if err != nil {
		return err
	}
	switch res.Outcome {
	case runstore.OutcomeOrdered:
		return nil
	case runstore.OutcomeRowsFailed:
		return errRowsFailed
	case runstore.OutcomeInterrupted:
		return &cliError{code: exitFailure, err: fmt.Errorf("job %s: the run stopped with work left", name),
			hint: "run the same command again (with --at " + at.Format(time.RFC3339) + ") to resume it"}
	}
	if res.Err == nil {
		res.Err = errors.New(res.Outcome)
	}
	// A roster that cannot be read exits 2, as for submit.
	return fmt.Errorf("job %s: %w", name, res.Err)
}
