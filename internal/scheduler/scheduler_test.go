package scheduler

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// fakeRuns records every run asked for; block, when set, holds runs until
// it is closed or their context ends.
type fakeRuns struct {
	mu      sync.Mutex
	runs    []time.Time
	outcome string
	block   chan struct{}
	started chan time.Time
	panics  bool
}

func (f *fakeRuns) run(ctx context.Context, st *runstore.Store, job *Job, at time.Time) Result {
	f.mu.Lock()
	f.runs = append(f.runs, at)
	outcome, block, started, panics := f.outcome, f.block, f.started, f.panics
	f.mu.Unlock()
	if started != nil {
		started <- at
	}
	if panics {
		panic("boom")
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return Result{RunID: "r-" + at.Format("150405"), Outcome: runstore.OutcomeInterrupted, Err: ctx.Err()}
		}
	}
	if outcome == "" {
		outcome = runstore.OutcomeOrdered
	}
	return Result{RunID: "r-" + at.Format("150405"), Outcome: outcome}
}

func (f *fakeRuns) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, t := range f.runs {
		out = append(out, t.UTC().Format(time.RFC3339))
	}
	return out
}

type harness struct {
	t     *testing.T
	clock *ManualClock
	runs  *fakeRuns
	path  string
	s     *Scheduler
}

func newHarness(t *testing.T, start string, jobs ...Job) *harness {
	t.Helper()
	h := &harness{t: t, clock: NewManualClock(mustTime(t, start)), runs: &fakeRuns{},
		path: filepath.Join(t.TempDir(), "wvbatch.db")}
	h.s = h.newScheduler(jobs...)
	return h
}

func (h *harness) open() (*runstore.Store, error) {
	return runstore.Open(h.path, runstore.Options{LockTimeout: 50 * time.Millisecond, Now: h.clock.Now})
}

func (h *harness) newScheduler(jobs ...Job) *Scheduler {
	h.t.Helper()
	// A busy store is tried again at once: its lock says nothing when it
	// is let go of.
	s, err := New(Config{Jobs: jobs, Open: h.open, Run: h.runs.run, Now: h.clock.Now, Until: h.clock.Until,
		BusyRetry: time.Millisecond})
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// tick moves the clock to at, ticks and waits for the runs started.
func (h *harness) tick(at string) {
	h.t.Helper()
	h.clock.Set(mustTime(h.t, at))
	if err := h.s.Tick(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.s.Wait()
}

func (h *harness) state(job string) runstore.JobState {
	h.t.Helper()
	st, err := h.open()
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	js, _, err := st.JobState(job)
	if err != nil {
		h.t.Fatal(err)
	}
	return js
}

func (h *harness) wantRuns(want ...string) {
	h.t.Helper()
	if got := h.runs.list(); strings.Join(got, " ") != strings.Join(want, " ") {
		h.t.Fatalf("runs %v, want %v", got, want)
	}
}

func job(t testing.TB, name, expr string) Job {
	t.Helper()
	s, err := ParseSchedule(expr)
	if err != nil {
		t.Fatal(err)
	}
	return Job{Name: name, Schedule: s, Missed: MissedRunOnce, StartingDeadline: StartingDeadlineDefault}
}

func TestSchedulerRunsEachTimeOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T08:00:00Z", job(t, "monthly", "CRON_TZ=UTC 0 9 1 * *"))
	h.tick("2027-01-01T08:00:00Z") // first sight: nothing before now is the job's
	h.wantRuns()
	if st := h.state("monthly"); !st.Since.Equal(mustTime(t, "2027-01-01T08:00:00Z")) {
		t.Fatalf("since = %v", st.Since)
	}
	h.tick("2027-01-01T08:59:59Z")
	h.wantRuns()
	h.tick("2027-01-01T09:00:00Z")
	h.tick("2027-01-01T09:00:00Z")
	h.tick("2027-01-01T09:00:30Z")
	h.wantRuns("2027-01-01T09:00:00Z")
	st := h.state("monthly")
	if st.LastOutcome != runstore.OutcomeOrdered || !st.Pending.IsZero() || st.LastRunID != "r-090000" {
		t.Fatalf("state %+v", st)
	}

	// A restart reads the durable state: the same time is not run again.
	h.s = h.newScheduler(job(t, "monthly", "CRON_TZ=UTC 0 9 1 * *"))
	h.tick("2027-01-01T09:00:40Z")
	h.tick("2027-02-01T09:00:01Z")
	h.wantRuns("2027-01-01T09:00:00Z", "2027-02-01T09:00:00Z")

	// The clock going back runs nothing twice.
	h.tick("2027-01-01T09:00:00Z")
	h.tick("2027-02-01T09:00:00Z")
	h.wantRuns("2027-01-01T09:00:00Z", "2027-02-01T09:00:00Z")
}

func TestSchedulerMissedRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		missed   string
		deadline time.Duration
		down     string // when the daemon is back
		runs     []string
		missedN  int
		skipped  string
	}{
		{"run-once collapses many missed times into the latest", MissedRunOnce, time.Hour, "2027-01-01T12:10:30Z",
			[]string{"2027-01-01T12:10:00Z"}, 188, ""},
		{"run-once with a short deadline runs the latest", MissedRunOnce, 5 * time.Minute, "2027-01-01T12:10:30Z",
			[]string{"2027-01-01T12:10:00Z"}, 188, ""},
		{"run-once: latest older than the deadline", MissedRunOnce, 10 * time.Second, "2027-01-01T12:10:30Z",
			nil, 189, "2027-01-01T12:10:00Z"},
		{"skip runs only the time it is on time for", MissedSkip, time.Hour, "2027-01-01T12:10:30Z",
			[]string{"2027-01-01T12:10:00Z"}, 188, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := job(t, "minutely", "* * * * *")
			j.Missed, j.StartingDeadline = tt.missed, tt.deadline
			h := newHarness(t, "2027-01-01T09:00:30Z", j)
			h.tick("2027-01-01T09:00:30Z")
			h.tick("2027-01-01T09:01:00Z")
			h.wantRuns("2027-01-01T09:01:00Z")
			// Down from 09:01 to tt.down.
			h.s = h.newScheduler(j)
			h.tick(tt.down)
			h.wantRuns(append([]string{"2027-01-01T09:01:00Z"}, tt.runs...)...)
			st := h.state("minutely")
			if st.Missed != tt.missedN {
				t.Errorf("missed = %d, want %d", st.Missed, tt.missedN)
			}
			if got := st.Skipped.Format(time.RFC3339); tt.skipped != "" && got != tt.skipped {
				t.Errorf("skipped = %s, want %s", got, tt.skipped)
			}
			if !st.LastScheduled.Equal(mustTime(t, "2027-01-01T12:10:00Z")) {
				t.Errorf("last scheduled = %v", st.LastScheduled)
			}
		})
	}
}

// TestSchedulerMissedSkipLate: under skip, a time the daemon wakes up to
// late is skipped, and a later one on time runs.
func TestSchedulerMissedSkipLate(t *testing.T) {
	t.Parallel()
	j := job(t, "hourly", "0 * * * *")
	j.Missed = MissedSkip
	h := newHarness(t, "2027-01-01T08:30:00Z", j)
	h.tick("2027-01-01T08:30:00Z")
	h.tick("2027-01-01T09:05:00Z")
	h.wantRuns()
	if st := h.state("hourly"); !strings.Contains(st.SkipReason, "skip") || st.Missed != 1 {
		t.Fatalf("state %+v", st)
	}
	h.tick("2027-01-01T10:00:02Z")
	h.wantRuns("2027-01-01T10:00:00Z")
}

func TestSchedulerLongDowntimeIsBounded(t *testing.T) {
	t.Parallel()
	j := job(t, "secondly", "* * * * * *")
	h := newHarness(t, "2027-01-01T00:00:00Z", j)
	h.tick("2027-01-01T00:00:00Z")
	start := time.Now()
	h.tick("2027-02-01T00:00:00Z") // 2.6 million missed seconds
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deciding after a month took %s", d)
	}
	h.wantRuns("2027-02-01T00:00:00Z")
}

func TestSchedulerOverlap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "minutely", "* * * * *"))
	h.runs.block = make(chan struct{})
	h.runs.started = make(chan time.Time, 4)
	ctx := context.Background()
	h.tick("2027-01-01T09:00:30Z")
	h.clock.Set(mustTime(t, "2027-01-01T09:01:00Z"))
	if err := h.s.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	<-h.runs.started
	// Still running at 09:02 and 09:03: not started again.
	for _, at := range []string{"2027-01-01T09:02:00Z", "2027-01-01T09:03:00Z"} {
		h.clock.Set(mustTime(t, at))
		if err := h.s.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st, err := h.s.lease.acquire(ctx) // the store is held open by the run
	if err != nil {
		t.Fatal(err)
	}
	js, _, _ := st.JobState("minutely")
	h.s.lease.release()
	if !strings.Contains(js.SkipReason, "overlap") || !js.Skipped.Equal(mustTime(t, "2027-01-01T09:03:00Z")) {
		t.Errorf("state %+v", js)
	}
	close(h.runs.block)
	h.s.Wait()
	h.wantRuns("2027-01-01T09:01:00Z")
	h.tick("2027-01-01T09:04:00Z")
	h.wantRuns("2027-01-01T09:01:00Z", "2027-01-01T09:04:00Z")
}

func TestSchedulerRecoversPanics(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "minutely", "* * * * *"))
	h.tick("2027-01-01T09:00:30Z")
	h.runs.panics = true
	h.tick("2027-01-01T09:01:00Z")
	st := h.state("minutely")
	if st.LastOutcome != runstore.OutcomePanic || !strings.Contains(st.LastError, "boom") || !st.Pending.IsZero() {
		t.Fatalf("state %+v", st)
	}
	h.runs.panics = false
	h.tick("2027-01-01T09:02:00Z")
	h.wantRuns("2027-01-01T09:01:00Z", "2027-01-01T09:02:00Z")
}

// TestSchedulerResumesInterrupted: a run that stopped with work left is
// pending; a restarted daemon resumes it for the same scheduled time before
// anything else, and a running daemon retries it after a wait.
func TestSchedulerResumesInterrupted(t *testing.T) {
	t.Parallel()
	j := job(t, "daily", "CRON_TZ=UTC 0 9 * * *")
	h := newHarness(t, "2027-01-01T08:00:00Z", j)
	h.tick("2027-01-01T08:00:00Z")
	h.runs.outcome = runstore.OutcomeInterrupted
	h.tick("2027-01-01T09:00:00Z")
	if st := h.state("daily"); !st.Pending.Equal(mustTime(t, "2027-01-01T09:00:00Z")) || st.LastOutcome != runstore.OutcomeInterrupted {
		t.Fatalf("state %+v", st)
	}
	h.tick("2027-01-01T09:00:30Z") // within the retry wait
	h.wantRuns("2027-01-01T09:00:00Z")
	if d := h.s.wakeAt(h.clock.Now()).Sub(h.clock.Now()); d != 30*time.Second {
		t.Errorf("sleep = %s, want 30s: until the retry", d)
	}
	h.tick("2027-01-01T09:01:00Z") // retried after RetryDefault
	h.wantRuns("2027-01-01T09:00:00Z", "2027-01-01T09:00:00Z")

	h.runs.outcome = runstore.OutcomeOrdered
	h.s = h.newScheduler(j) // restart: resumed at once
	h.tick("2027-01-01T09:01:10Z")
	h.wantRuns("2027-01-01T09:00:00Z", "2027-01-01T09:00:00Z", "2027-01-01T09:00:00Z")
	if st := h.state("daily"); !st.Pending.IsZero() || st.LastOutcome != runstore.OutcomeOrdered {
		t.Fatalf("state %+v", st)
	}
	h.tick("2027-01-01T09:02:00Z")
	h.wantRuns("2027-01-01T09:00:00Z", "2027-01-01T09:00:00Z", "2027-01-01T09:00:00Z")
}

// TestSchedulerStopRecordsState: when the daemon's context ends, a run under
// way stops, its state is recorded as pending, and Run returns.
func TestSchedulerStopRecordsState(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "minutely", "* * * * *"))
	h.tick("2027-01-01T09:00:30Z")
	h.runs.block = make(chan struct{})
	h.runs.started = make(chan time.Time, 1)
	h.clock.Set(mustTime(t, "2027-01-01T09:01:00Z"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.s.Run(ctx) }()
	<-h.runs.started
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	st := h.state("minutely")
	if !st.Pending.Equal(mustTime(t, "2027-01-01T09:01:00Z")) || st.LastOutcome != runstore.OutcomeInterrupted {
		t.Fatalf("state %+v", st)
	}
}

// TestSchedulerWaitsForABusyStore: while another process holds the store
// the decision waits, and the store is closed again once the daemon idles.
func TestSchedulerWaitsForABusyStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "minutely", "* * * * *"))
	h.tick("2027-01-01T09:00:30Z")
	other, err := h.open() // the daemon idles: others may open the store
	if err != nil {
		t.Fatalf("the idle daemon holds the store: %v", err)
	}
	waiting := &logSignal{want: "waiting for the store", seen: make(chan struct{})}
	h.s.cfg.Logger = zerolog.New(waiting)
	h.clock.Set(mustTime(t, "2027-01-01T09:01:00Z"))
	done := make(chan error, 1)
	go func() { done <- h.s.Tick(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Tick returned while the store was busy: %v", err)
	case <-waiting.seen:
	}
	h.wantRuns()
	other.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.s.Wait()
	h.wantRuns("2027-01-01T09:01:00Z")
	if st, err := h.open(); err != nil {
		t.Fatalf("the store is still held after the run: %v", err)
	} else {
		st.Close()
	}
}

// logSignal is a log that closes seen when a line holds want.
type logSignal struct {
	want string
	once sync.Once
	seen chan struct{}
}

func (l *logSignal) Write(p []byte) (int, error) {
	if strings.Contains(string(p), l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

func TestSchedulerReload(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "a", "* * * * *"))
	h.tick("2027-01-01T09:00:30Z")
	h.s.Reload([]Job{job(t, "b", "*/2 * * * *")})
	h.tick("2027-01-01T09:01:00Z") // b is new: seen now, first run at 09:02
	h.tick("2027-01-01T09:02:00Z")
	h.wantRuns("2027-01-01T09:02:00Z")
	if got := h.s.Jobs(); len(got) != 1 || got[0].Name != "b" {
		t.Fatalf("jobs %v", got)
	}
}

func TestRunOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "a", "0 9 1 * *"))
	res, err := h.s.RunOnce(context.Background(), "a", mustTime(t, "2027-01-01T09:00:00Z"))
	if err != nil || res.Outcome != runstore.OutcomeOrdered {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	st := h.state("a")
	if st.LastOutcome != runstore.OutcomeOrdered || !st.LastRun.Equal(mustTime(t, "2027-01-01T09:00:00Z")) || !st.LastScheduled.IsZero() {
		t.Fatalf("state %+v", st)
	}
	if _, err := h.s.RunOnce(context.Background(), "nope", time.Now()); err == nil {
		t.Fatal("RunOnce of an unknown job: no error")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil {
		t.Fatal("New(Config{}) = nil error")
	}
	if _, err := New(Config{Open: func() (*runstore.Store, error) { return nil, errors.New("x") }}); err == nil {
		t.Fatal("New without Run = nil error")
	}
}

// TestSchedulerSleepsUntilTheRetry: while an interrupted run waits for its
// retry, the job's other due times wait too: the daemon sleeps until the
// retry instead of waking at once.
func TestSchedulerSleepsUntilTheRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:00Z", job(t, "secondly", "* * * * * *"))
	h.tick("2027-01-01T09:00:00Z")
	h.runs.outcome = runstore.OutcomeInterrupted
	h.tick("2027-01-01T09:00:01Z")
	h.clock.Set(mustTime(t, "2027-01-01T09:00:30Z"))
	if d := h.s.wakeAt(h.clock.Now()).Sub(h.clock.Now()); d != 31*time.Second {
		t.Errorf("sleep = %s, want 31s: until the retry at 09:01:01", d)
	}
	h.tick("2027-01-01T09:00:30Z")
	h.wantRuns("2027-01-01T09:00:01Z")
}

// TestSchedulerScheduleChange: a job whose schedule a reload changes counts
// its times from the reload: a time of the new schedule from before it is
// not a missed run.
func TestSchedulerScheduleChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T08:30:00Z", job(t, "a", "0 * * * *"))
	h.tick("2027-01-01T08:30:00Z")
	h.tick("2027-01-01T09:00:00Z")
	h.wantRuns("2027-01-01T09:00:00Z")
	h.s.Reload([]Job{job(t, "a", "30 * * * *")})
	h.tick("2027-01-01T09:40:00Z") // 09:30 is 10 minutes late, but from before the change
	h.wantRuns("2027-01-01T09:00:00Z")
	h.tick("2027-01-01T10:30:00Z")
	h.wantRuns("2027-01-01T09:00:00Z", "2027-01-01T10:30:00Z")
	if st := h.state("a"); st.Schedule != "30 * * * *" || !st.Since.Equal(mustTime(t, "2027-01-01T09:40:00Z")) {
		t.Fatalf("state %+v", st)
	}
}

// TestSchedulerTwoDaemonsOneStore: two daemons on one store, due at the same
// moment, run the time once: the second gets the store after the first has
// recorded it.
func TestSchedulerTwoDaemonsOneStore(t *testing.T) {
	t.Parallel()
	j := job(t, "minutely", "* * * * *")
	h := newHarness(t, "2027-01-01T09:00:30Z", j)
	h.tick("2027-01-01T09:00:30Z")
	other := h.newScheduler(j)
	h.clock.Set(mustTime(t, "2027-01-01T09:01:00Z"))
	var wg sync.WaitGroup
	for _, s := range []*Scheduler{h.s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Tick(context.Background()); err != nil {
				t.Error(err)
			}
			s.Wait()
		}()
	}
	wg.Wait()
	h.wantRuns("2027-01-01T09:01:00Z")
}

// TestSchedulerDaemonLoopFollowsItsClock: the daemon loop (Run) sleeps on
// its clock, not on real time: each step of the clock to a scheduled time
// runs that time once, a step over two times runs the latest once, and a
// daemon started again on the same store runs none of them again.
func TestSchedulerDaemonLoopFollowsItsClock(t *testing.T) {
	t.Parallel()
	j := job(t, "hourly", "CRON_TZ=UTC 0 * * * *")
	h := newHarness(t, "2027-01-01T08:30:00Z", j)
	h.tick("2027-01-01T08:30:00Z") // first sight: the job's times start now
	h.runs.started = make(chan time.Time, 16)
	daemon := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.s.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	step := func(now, want string) {
		t.Helper()
		h.clock.Set(mustTime(t, now))
		select {
		case at := <-h.runs.started:
			if !at.Equal(mustTime(t, want)) {
				t.Fatalf("at %s the daemon started the run of %s, want %s", now, at.UTC().Format(time.RFC3339), want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("at %s the daemon started no run (want %s)", now, want)
		}
		h.s.Wait() // the run recorded: the next time does not overlap it
	}
	stop := daemon()
	step("2027-01-01T09:00:00Z", "2027-01-01T09:00:00Z")
	step("2027-01-01T10:00:00Z", "2027-01-01T10:00:00Z")
	step("2027-01-01T12:00:10Z", "2027-01-01T12:00:00Z") // 11:00 collapses into 12:00
	stop()
	if st := h.state("hourly"); st.Missed != 1 {
		t.Errorf("missed %d, want 1 (11:00)", st.Missed)
	}

	h.s = h.newScheduler(j) // a restart: 12:00 is not run again, 13:00 is next
	h.clock.Set(mustTime(t, "2027-01-01T12:00:20Z"))
	stop = daemon()
	step("2027-01-01T13:00:00Z", "2027-01-01T13:00:00Z")
	stop()
	h.wantRuns("2027-01-01T09:00:00Z", "2027-01-01T10:00:00Z", "2027-01-01T12:00:00Z", "2027-01-01T13:00:00Z")
	if st := h.state("hourly"); !st.LastRun.Equal(mustTime(t, "2027-01-01T13:00:00Z")) || !st.Pending.IsZero() || st.LastOutcome != runstore.OutcomeOrdered {
		t.Errorf("state %+v, want 13:00 ordered, nothing pending", st)
	}
}
