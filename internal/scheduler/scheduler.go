package scheduler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Defaults of Config.
const (
	BusyRetryDefault = 2 * time.Second
	MaxSleepDefault  = time.Minute
	// RetryDefault is the first wait before an interrupted run is resumed;
	// it doubles up to RetryMax.
	RetryDefault = time.Minute
	RetryMax     = time.Hour
	// scanLimit bounds the scheduled times counted one by one after a long
	// downtime.
	scanLimit = 1000
)

// Result is what became of one run.
type Result struct {
	RunID   string
	Outcome string // one of runstore.Outcome*
	Err     error
}

// RunFunc runs job for its scheduled time at, with the store open. A run
// for (job, at) that already exists is resumed, not made again.
type RunFunc func(ctx context.Context, st *runstore.Store, job *Job, at time.Time) Result

// Config configures a Scheduler; the zero value of each field is its
// default.
type Config struct {
	Jobs []Job
	// Open opens the store. An error matching runstore.ErrStoreBusy is
	// retried every BusyRetry until it opens or the context ends.
	Open func() (*runstore.Store, error)
	// Close, when set, lets go of a store Open returned instead of closing
	// it: a process that shares one open store with other users (a web
	// server) closes it itself.
	Close func(*runstore.Store) error
	Run   RunFunc
	// Done, when set, is told each run's result once Run returns.
	Done func(job *Job, at time.Time, res Result)
	// Now is the clock; Until returns a channel that delivers once Now
	// reads t or later (default: a timer for t less Now). Tests step both
	// with a ManualClock.
	Now    func() time.Time
	Until  func(t time.Time) <-chan time.Time
	Logger zerolog.Logger
	// BusyRetry is how often a busy store is tried again, in real time (it
	// waits for another process, not for a scheduled time), and the least
	// wait of the loop after a decision failed.
	BusyRetry time.Duration
	// MaxSleep bounds how long the daemon sleeps before it reads the clock
	// again (a clock jump is noticed within it).
	MaxSleep time.Duration
	// Retry is the first wait before an interrupted run is resumed.
	Retry time.Duration
}

func (c Config) validate() error {
	switch {
	case c.Open == nil:
		return errors.New("scheduler: Config.Open is nil")
	case c.Run == nil:
		return errors.New("scheduler: Config.Run is nil")
	}
	return nil
}

// Scheduler decides and starts the runs of a set of jobs.
type Scheduler struct {
	cfg  Config
	wake chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	jobs    []Job
	known   map[string]runstore.JobState // last state read or written, by job
	running map[string]time.Time         // job → scheduled time being run
	retryAt map[string]time.Time
	retries map[string]int

	lease lease
}

// New returns a Scheduler for cfg.
func New(cfg Config) (*Scheduler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Until == nil {
		now := cfg.Now
		cfg.Until = func(t time.Time) <-chan time.Time { return time.After(t.Sub(now())) }
	}
	cfg.BusyRetry = cmp.Or(cfg.BusyRetry, BusyRetryDefault)
	cfg.MaxSleep = cmp.Or(cfg.MaxSleep, MaxSleepDefault)
	cfg.Retry = cmp.Or(cfg.Retry, RetryDefault)
	if run, done := cfg.Run, cfg.Done; done != nil {
		cfg.Run = func(ctx context.Context, st *runstore.Store, job *Job, at time.Time) Result {
			res := run(ctx, st, job, at)
			done(job, at, res)
			return res
		}
	}
	s := &Scheduler{
		cfg:     cfg,
		wake:    make(chan struct{}, 1),
		jobs:    slices.Clone(cfg.Jobs),
		known:   map[string]runstore.JobState{},
		running: map[string]time.Time{},
		retryAt: map[string]time.Time{},
		retries: map[string]int{},
	}
	s.lease = lease{s: s}
	return s, nil
}

// Reload replaces the jobs. Runs under way go on with the job as it was.
func (s *Scheduler) Reload(jobs []Job) {
	s.mu.Lock()
	s.jobs = slices.Clone(jobs)
	s.mu.Unlock()
	s.poke()
}

// Jobs returns the jobs.
func (s *Scheduler) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jobs)
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run runs the scheduler until ctx ends, then waits for the runs under way
// (which see ctx end, stop, and record their state) and returns.
func (s *Scheduler) Run(ctx context.Context) error {
	log := s.cfg.Logger
	log.Info().Int("jobs", len(s.Jobs())).Msg("scheduler started")
	for {
		err := s.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("scheduler")
		}
		now := s.cfg.Now()
		wake := s.wakeAt(now)
		if err != nil && wake.Before(now.Add(s.cfg.BusyRetry)) {
			wake = now.Add(s.cfg.BusyRetry)
		}
		select {
		case <-ctx.Done():
			log.Info().Msg("stopping: waiting for the runs under way to record their state")
			s.Wait()
			log.Info().Msg("scheduler stopped")
			return nil
		case <-s.wake:
		case <-s.cfg.Until(wake):
		}
	}
}

// Wait waits for the runs under way.
func (s *Scheduler) Wait() { s.wg.Wait() }

// wakeAt is when the loop looks again: when something is next due, and at
// most MaxSleep after now. It is a time, not a duration, so that a clock
// that moves while the loop decides (a test's) does not push it back.
func (s *Scheduler) wakeAt(now time.Time) time.Time {
	next := now.Add(s.cfg.MaxSleep)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.jobs {
		j := &s.jobs[i]
		st, ok := s.known[j.Name]
		if !ok {
			return now
		}
		if !st.Pending.IsZero() && s.running[j.Name].IsZero() {
			// An interrupted run goes first: nothing else of the job is
			// due before it is retried.
			if r, ok := s.retryAt[j.Name]; !ok || r.Before(next) {
				next = r
			}
			continue
		}
		if n := j.Schedule.Next(baseline(st, now)); !n.IsZero() && n.Before(next) {
			next = n
		}
	}
	return next
}

// baseline is the time after which a job's scheduled times are still to be
// handled.
func baseline(st runstore.JobState, now time.Time) time.Time {
	b := st.Since
	if st.LastScheduled.After(b) {
		b = st.LastScheduled
	}
	if b.IsZero() {
		b = now
	}
	return b
}

// due counts the scheduled times in (after, now] and returns the latest.
// After a long downtime with a frequent schedule only the times within
// horizon of now are looked at one by one; more reports that there were
// more than n.
func due(sch *Schedule, after, now time.Time, horizon time.Duration) (n int, latest time.Time, more bool) {
	t := after
	for {
		next := sch.Next(t)
		if next.IsZero() || next.After(now) {
			return n, latest, more
		}
		n++
		latest, t = next, next
		if n == scanLimit && !more {
			more = true
			if skipTo := now.Add(-horizon - time.Second); skipTo.After(t) {
				t = skipTo
			}
		}
	}
}

// Tick handles every job due at the current time: it starts due runs and
// records skipped times. It returns once the decisions are durable; the
// runs go on in the background (see Wait).
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.cfg.Now()
	s.mu.Lock()
	var todo []Job
	for _, j := range s.jobs {
		st, ok := s.known[j.Name]
		switch {
		case !ok:
			todo = append(todo, j)
		case !st.Pending.IsZero() && s.running[j.Name].IsZero():
			if r, ok := s.retryAt[j.Name]; !ok || !r.After(now) {
				todo = append(todo, j)
			}
		default:
			if n := j.Schedule.Next(baseline(st, now)); !n.IsZero() && !n.After(now) {
				todo = append(todo, j)
			}
		}
	}
	s.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	st, err := s.lease.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.lease.release()
	var errs []error
	for i := range todo {
		if err := s.decide(ctx, st, &todo[i], now); err != nil {
			errs = append(errs, fmt.Errorf("job %s: %w", todo[i].Name, err))
		}
	}
	return errors.Join(errs...)
}

// decide handles one job at now.
func (s *Scheduler) decide(ctx context.Context, st *runstore.Store, j *Job, now time.Time) error {
	log := s.cfg.Logger.With().Str("job", j.Name).Logger()
	state, ok, err := st.JobState(j.Name)
	if err != nil {
		return err
	}
	if expr := j.Schedule.String(); !ok || state.Schedule != expr {
		// A new job, or a new schedule: its times start now. (A run
		// pending from before is still resumed.)
		state, err = st.UpdateJobState(j.Name, func(js *runstore.JobState) error {
			if js.Since.IsZero() || js.Schedule != expr {
				js.Since, js.Schedule = now.UTC(), expr
			}
			return nil
		})
		if err != nil {
			return err
		}
		msg := "new job: its first run is its next scheduled time"
		if ok {
			msg = "the job's schedule changed: its times count from now"
		}
		log.Info().Time("next", j.Schedule.Next(now)).Msg(msg)
	}
	s.setKnown(state)

	s.mu.Lock()
	runningAt := s.running[j.Name]
	s.mu.Unlock()

	if !state.Pending.IsZero() && runningAt.IsZero() {
		log.Info().Time("scheduled", state.Pending).Msg("resuming the run that was not finished")
		s.start(ctx, st, j, state.Pending)
		return nil
	}

	n, latest, more := due(j.Schedule, baseline(state, now), now, max(j.StartingDeadline, OnTime))
	if n == 0 {
		return nil
	}
	count := fmt.Sprint(n)
	if more {
		count = fmt.Sprintf("more than %d", n)
	}
	late := now.Sub(latest)
	var reason string
	switch {
	case !runningAt.IsZero():
		reason = fmt.Sprintf("the run for %s is still under way (overlap policy: a running job is not started again)", runningAt.UTC().Format(time.RFC3339))
	case j.Missed == MissedSkip && late > OnTime:
		reason = fmt.Sprintf("missed by %s (missed policy: skip)", late.Round(time.Second))
	case j.Missed != MissedSkip && late > j.StartingDeadline:
		reason = fmt.Sprintf("missed by %s, past the starting deadline of %s", late.Round(time.Second), j.StartingDeadline)
	}
	if reason != "" {
		state, err = st.UpdateJobState(j.Name, func(js *runstore.JobState) error {
			js.LastScheduled, js.Missed, js.Skipped, js.SkipReason = latest.UTC(), n, latest.UTC(), reason
			return nil
		})
		if err != nil {
			return err
		}
		s.setKnown(state)
		log.Warn().Time("scheduled", latest).Str("times", count).Str("reason", reason).Msg("skipped")
		return nil
	}
	if n > 1 {
		log.Warn().Str("times", count).Time("running", latest).Msg("missed scheduled times collapse into one run of the latest")
	}
	state, err = st.UpdateJobState(j.Name, func(js *runstore.JobState) error {
		js.LastScheduled, js.Pending, js.Missed, js.LastStarted = latest.UTC(), latest.UTC(), n-1, now.UTC()
		return nil
	})
	if err != nil {
		return err
	}
	s.setKnown(state)
	s.start(ctx, st, j, latest)
	return nil
}

func (s *Scheduler) setKnown(st runstore.JobState) {
	s.mu.Lock()
	s.known[st.Job] = st
	s.mu.Unlock()
}

// start runs job for at in the background, with the store held open.
func (s *Scheduler) start(ctx context.Context, st *runstore.Store, j *Job, at time.Time) {
	job := *j
	s.mu.Lock()
	s.running[job.Name] = at
	delete(s.retryAt, job.Name)
	s.mu.Unlock()
	s.lease.hold()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.lease.release()
		res := s.runSafely(ctx, st, &job, at)
		s.record(st, &job, at, res, ctx.Err() != nil, true)
		s.poke()
	}()
}

// RunOnce runs job for at now, in the foreground, and records the outcome
// (it does not change which scheduled times the daemon has handled). A run
// for the same job and time, by the daemon or an earlier RunOnce, is
// resumed or, when finished, reported.
func (s *Scheduler) RunOnce(ctx context.Context, name string, at time.Time) (Result, error) {
	var job *Job
	for _, j := range s.Jobs() {
		if j.Name == name {
			job = &j
			break
		}
	}
	if job == nil {
		return Result{}, fmt.Errorf("no job %q", name)
	}
	st, err := s.lease.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer s.lease.release()
	if _, err := st.UpdateJobState(name, func(js *runstore.JobState) error {
		if js.Since.IsZero() {
			js.Since, js.Schedule = s.cfg.Now().UTC(), job.Schedule.String()
		}
		js.LastStarted = s.cfg.Now().UTC()
		return nil
	}); err != nil {
		return Result{}, err
	}
	res := s.runSafely(ctx, st, job, at)
	s.record(st, job, at, res, ctx.Err() != nil, false)
	return res, nil
}

// runSafely runs the job and turns a panic into a result.
func (s *Scheduler) runSafely(ctx context.Context, st *runstore.Store, j *Job, at time.Time) (res Result) {
	log := s.cfg.Logger.With().Str("job", j.Name).Time("scheduled", at).Logger()
	log.Info().Msg("run started")
	defer func() {
		if p := recover(); p != nil {
			log.Error().Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("run panicked")
			res = Result{Outcome: runstore.OutcomePanic, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return s.cfg.Run(ctx, st, j, at)
}

// record keeps a run's outcome. An interrupted run stays pending and is
// resumed: at once when the daemon starts again, else after a growing wait.
// A run the daemon started (daemon) is no longer under way once its outcome
// is known, and before it is logged: a time due as the log says it finished
// is not an overlap.
func (s *Scheduler) record(st *runstore.Store, j *Job, at time.Time, res Result, stopping, daemon bool) {
	log := s.cfg.Logger.With().Str("job", j.Name).Time("scheduled", at).Str("run", res.RunID).Str("outcome", res.Outcome).Logger()
	now := s.cfg.Now()
	state, err := st.UpdateJobState(j.Name, func(js *runstore.JobState) error {
		js.LastRun, js.LastRunID, js.LastOutcome, js.LastFinished = at.UTC(), res.RunID, res.Outcome, now.UTC()
		js.LastError = ""
		if res.Err != nil {
			js.LastError = res.Err.Error()
		}
		if res.Outcome != runstore.OutcomeInterrupted && js.Pending.Equal(at) {
			js.Pending = time.Time{}
		}
		return nil
	})
	s.mu.Lock()
	if daemon {
		delete(s.running, j.Name)
	}
	if err != nil {
		s.mu.Unlock()
		log.Error().Err(err).Msg("cannot record the run's outcome")
		return
	}
	s.known[state.Job] = state
	var retryIn time.Duration
	if res.Outcome == runstore.OutcomeInterrupted && !stopping {
		n := s.retries[j.Name]
		s.retries[j.Name] = n + 1
		retryIn = min(s.cfg.Retry<<min(n, 10), RetryMax)
		s.retryAt[j.Name] = now.Add(retryIn)
	} else if res.Outcome != runstore.OutcomeInterrupted {
		delete(s.retries, j.Name)
	}
	s.mu.Unlock()
	ev := log.Info()
	switch res.Outcome {
	case runstore.OutcomeOrdered:
	case runstore.OutcomeRowsFailed:
		ev = log.Warn()
	default:
		ev = log.Error()
	}
	if res.Err != nil {
		ev = ev.Err(res.Err)
	}
	ev.Msg("run finished")
	if retryIn > 0 {
		log.Warn().Dur("retry_in", retryIn).Msg("the run stopped with work left: it is resumed later")
	}
}

// lease keeps the store open while any decision or run needs it, and
// closed otherwise, so that other wvbatch commands can use it while the
// daemon idles.
type lease struct {
	s    *Scheduler
	mu   sync.Mutex
	st   *runstore.Store
	refs int
}

func (l *lease) acquire(ctx context.Context) (*runstore.Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.st != nil {
		l.refs++
		return l.st, nil
	}
	logged := false
	for {
		st, err := l.s.cfg.Open()
		if err == nil {
			l.st, l.refs = st, 1
			return st, nil
		}
		if !errors.Is(err, runstore.ErrStoreBusy) {
			return nil, err
		}
		if !logged {
			l.s.cfg.Logger.Info().Err(err).Msg("waiting for the store")
			logged = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(l.s.cfg.BusyRetry):
		}
	}
}

// hold adds a reference to the open store.
func (l *lease) hold() {
	l.mu.Lock()
	l.refs++
	l.mu.Unlock()
}

func (l *lease) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refs--
	if l.refs == 0 && l.st != nil {
		closeStore := (*runstore.Store).Close
		if l.s.cfg.Close != nil {
			closeStore = l.s.cfg.Close
		}
		if err := closeStore(l.st); err != nil {
			l.s.cfg.Logger.Error().Err(err).Msg("close the store")
		}
		l.st = nil
	}
}
