package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// scheduleRoster writes roster number set of a job without dates: n
// visitors in DC2 (cut into orders of 50), named apart from every other
// set's. It appears whole: written aside, then renamed.
func scheduleRoster(t *testing.T, dir string, set, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("IBX,Cage,Account Number,First Name,Last Name,Company\n")
	for i := range n {
		last := string(rune('A'+i/26%26)) + strings.Repeat(string(rune('a'+i%26)), 3)
		fmt.Fprintf(&b, "DC2,DC2:01:123456,200001,Engineer%s,%s%s,Keystone UPS Services\n",
			strings.Repeat("x", set), last, string(rune('a'+i/676)))
	}
	path := filepath.Join(dir, fmt.Sprintf("roster-%02d.csv", set))
	if err := os.WriteFile(path+".tmp", []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// steppedClockEnv, set to an RFC 3339 time in a child's environment, runs
// this test binary as wvbatch on a clock that starts there and moves only
// to each RFC 3339 time the test writes on the child's stdin (a test seam:
// the daemon's scheduled times come when the test says, not when the wall
// clock does).
const steppedClockEnv = "WVBATCH_TEST_CLOCK"

// steppedMain is main on the clock of steppedClockEnv.
func steppedMain(start string) {
	parse := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "test clock:", err)
			os.Exit(1)
		}
		return t
	}
	clock := scheduler.NewManualClock(parse(start))
	go func() {
		for sc := bufio.NewScanner(os.Stdin); sc.Scan(); {
			clock.Set(parse(sc.Text()))
		}
	}()
	// An order whose answer a killed daemon did not see has landed before
	// the test starts the next daemon (createGate): it is searched for at
	// once rather than after the real SettleDelay.
	settled := func(c *queue.RunConfig) { c.SettleDelay = time.Millisecond }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runEnv(ctx, os.Args[1:], &env{stdin: strings.NewReader(""), stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, now: clock.Now, until: clock.Until, tuneRun: settled})
	stop()
	os.Exit(code)
}

// daemon is one `wvbatch schedule run` child process on a clock the test
// steps. Its output is read as it comes, and kept in a file shown when the
// test fails.
type daemon struct {
	cmd   *exec.Cmd
	log   string
	done  chan struct{}
	clock io.WriteCloser

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed (and replaced) when a line comes
}

func startDaemon(t *testing.T, dir, jobs, store, url string, n int, now time.Time) *daemon {
	t.Helper()
	log := filepath.Join(dir, fmt.Sprintf("daemon-%d.log", n))
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "schedule", "run", "--config", jobs, "--store", store,
		"--concurrency", "1", "--log-level", "info", "--log-format", "json")
	cmd.Env = append(childEnv(dir), "EQUINIX_API_ENDPOINT="+url, steppedClockEnv+"="+now.Format(time.RFC3339Nano))
	clock, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	d := &daemon{cmd: cmd, log: log, done: make(chan struct{}), clock: clock, more: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			fmt.Fprintln(f, sc.Text())
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			close(d.more)
			d.more = make(chan struct{})
			d.mu.Unlock()
		}
		f.Close()
	}()
	go func() {
		_ = cmd.Wait()
		<-read
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("%s:\n%s", filepath.Base(log), b)
		}
	})
	return d
}

// step moves the daemon's clock to now.
func (d *daemon) step(t *testing.T, now time.Time) {
	t.Helper()
	if _, err := fmt.Fprintln(d.clock, now.Format(time.RFC3339Nano)); err != nil {
		t.Fatalf("step the daemon's clock: %v", err)
	}
}

// logged returns how many lines the daemon wrote so far that hold s, and a
// channel closed when it writes another line.
func (d *daemon) logged(s string) (int, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, l := range d.lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n, d.more
}

func (d *daemon) logHas(s string) bool {
	n, _ := d.logged(s)
	return n > 0
}

// waitLog waits, for up to limit, until the daemon has written n lines
// holding s.
func (d *daemon) waitLog(t *testing.T, limit time.Duration, n int, s string) {
	t.Helper()
	timeout := time.After(limit)
	for {
		got, more := d.logged(s)
		if got >= n {
			return
		}
		select {
		case <-more:
		case <-d.done:
			if got, _ := d.logged(s); got < n {
				t.Fatalf("the daemon exited before it logged %q", s)
			}
		case <-timeout:
			t.Fatalf("timed out after %s waiting for the daemon to log %q", limit, s)
		}
	}
}

// waitOrders waits, for up to limit, until the sandbox holds n orders.
func waitOrders(t *testing.T, srv *sandbox.Server, limit time.Duration, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	if err := srv.WaitOrders(ctx, n); err != nil {
		t.Fatalf("timed out after %s waiting for the sandbox to hold %d orders (it holds %d)", limit, n, len(srv.Orders()))
	}
}

// createGate serves the sandbox and holds one order creation when told:
// the test's signal that a run is under way, and its moment to stop the
// daemon in the middle of it.
type createGate struct {
	srv *sandbox.Server

	mu      sync.Mutex
	pass    int           // creations let through before the one held; < 0: none is held
	arrived chan struct{} // closed when the held creation comes
	release chan struct{} // closed to let it on
	passed  chan struct{} // closed once the sandbox answered it
}

func (g *createGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/colocations/v2/orders/workVisits" {
		g.srv.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	hold := g.pass == 0
	g.pass--
	arrived, release, passed := g.arrived, g.release, g.passed
	g.mu.Unlock()
	if !hold {
		g.srv.ServeHTTP(w, r)
		return
	}
	// The request has reached the sandbox: it places the order although
	// its client may be gone by then, as Equinix would.
	body, err := io.ReadAll(r.Body)
	close(arrived)
	<-release
	r = r.WithContext(context.WithoutCancel(r.Context()))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err == nil {
		g.srv.ServeHTTP(w, r)
	}
	close(passed)
}

// gatedSandbox serves a sandbox of cfg through a createGate until the test
// ends.
func gatedSandbox(t *testing.T, cfg sandbox.Config) (*sandbox.Server, *createGate, string) {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gate := &createGate{srv: srv, pass: -1}
	hs := httptest.NewServer(gate)
	t.Cleanup(hs.Close)
	return srv, gate, hs.URL
}

// holdAfter lets n more creations through and holds the next: arrived is
// closed when it comes, and release lets it on and returns once the sandbox
// has answered it.
func (g *createGate) holdAfter(t *testing.T, n int) (arrived <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pass = n
	g.arrived, g.release, g.passed = make(chan struct{}), make(chan struct{}), make(chan struct{})
	rel, passed := g.release, g.passed
	var once sync.Once
	release = func() { once.Do(func() { close(rel); <-passed }) }
	t.Cleanup(func() { once.Do(func() { close(rel) }) })
	return g.arrived, release
}

// TestScheduleDaemonRestart runs the daemon, a real process on a real
// store, on a clock the test steps through the hours of an hourly job,
// against a sandbox that outlives it: it kills it (SIGKILL) in the middle of
// its first run and starts it again, steps over two times at once, reloads
// the jobs file with SIGHUP (an invalid file first), stops it with SIGTERM
// while idle and again in the middle of a run, and checks that the store
// holds exactly one run per time that came due, and the sandbox one
// complete set of orders per run that had visitors left to order.
func TestScheduleDaemonRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2027, 3, 1, 10, 0, 30, 0, time.UTC)
	hour := func(h int) time.Time { return time.Date(2027, 3, 1, h, 0, 0, 0, time.UTC) }
	srv, gate, url := gatedSandbox(t, sandbox.Config{StartAt: t0, Seed: 1})

	const visitors, perRun = 400, 8 // 8 orders of 50
	rosters := filepath.Join(dir, "rosters")
	if err := os.Mkdir(rosters, 0o755); err != nil {
		t.Fatal(err)
	}
	scheduleRoster(t, rosters, 1, visitors)
	jobs := filepath.Join(dir, "jobs.yaml")
	writeJobs := func(schedule string) {
		t.Helper()
		y := fmt.Sprintf(`jobs:
  - name: hourly
    schedule: %q
    roster: rosters/*.csv
    window: {start: 7 days after, from: "09:00", to: "17:00"}
    description: Scheduled test visit
    reference_prefix: SCHED
`, schedule)
		if err := os.WriteFile(jobs, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeJobs("CRON_TZ=UTC 0 * * * *")
	store := filepath.Join(dir, "state", "wvbatch.db")
	const finished = `"run finished"`
	// started checks, once d has exited, that it started runs runs (one
	// per time that came due, or resumed, and no more) and skipped no time.
	started := func(d *daemon, name string, runs int) {
		t.Helper()
		if n, _ := d.logged(`"run started"`); n != runs {
			t.Errorf("the %s daemon started %d runs, want %d", name, n, runs)
		}
		if n, _ := d.logged(`"message":"skipped"`); n != 0 {
			t.Errorf("the %s daemon skipped %d times, want none", name, n)
		}
	}
	wait := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("timed out after 30s waiting for %s", what)
		}
	}

	// First daemon: killed while its first run places its third order. The
	// job is new at 10:00:30: its first time is 11:00.
	arrived, release := gate.holdAfter(t, 2)
	a := startDaemon(t, dir, jobs, store, url, 1, t0)
	a.waitLog(t, 30*time.Second, 1, "new job: its first run is its next scheduled time")
	a.step(t, hour(11))
	wait("the first run's third order", arrived)
	_ = a.cmd.Process.Kill()
	<-a.done
	started(a, "first", 1)
	release() // the order the killed daemon sent is placed all the same
	if n := len(srv.Orders()); n != 3 {
		t.Fatalf("the sandbox holds %d orders after the kill, want 3", n)
	}

	// Second daemon: resumes the first run, then goes on, one run an hour.
	// A run whose visitors an earlier run ordered for the same window
	// orders nothing, so each new set of orders needs a new roster (the
	// newest file wins).
	b := startDaemon(t, dir, jobs, store, url, 2, hour(11).Add(20*time.Second))
	b.waitLog(t, 30*time.Second, 1, finished)
	if !b.logHas("resuming the run that was not finished") {
		t.Error("the restarted daemon did not say it resumed the unfinished run")
	}
	for set := 2; set <= 3; set++ {
		scheduleRoster(t, rosters, set, visitors)
		b.step(t, hour(10+set))
		b.waitLog(t, 30*time.Second, set, finished)
	}
	if n := len(srv.Orders()); n != 3*perRun {
		t.Fatalf("the sandbox holds %d orders after the runs of 11:00 to 13:00, want %d", n, 3*perRun)
	}
	// Two times due at once (14:00, 15:00): one run, of the latest.
	b.step(t, hour(15).Add(10*time.Second))
	b.waitLog(t, 30*time.Second, 4, finished)
	if !b.logHas("missed scheduled times collapse into one run of the latest") {
		t.Error("the daemon did not say it ran 14:00 and 15:00 as one run")
	}

	// An invalid reload keeps the jobs; a valid one replaces them.
	if err := os.WriteFile(jobs, []byte("jobs:\n  - name: hourly\n    schedule: \"*/3 * *\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = b.cmd.Process.Signal(syscall.SIGHUP)
	b.waitLog(t, 10*time.Second, 1, "reload: the jobs file is not valid")
	if !b.logHas("line 3, field schedule") {
		t.Error("the invalid reload's error does not name line 3, field schedule")
	}
	writeJobs("0 0 1 1 *") // next: New Year
	_ = b.cmd.Process.Signal(syscall.SIGHUP)
	b.waitLog(t, 10*time.Second, 1, "reloaded the jobs file")

	// The daemon idles between runs, so the store is free.
	jobState := func() (runstore.JobState, []runstore.Run) {
		t.Helper()
		st, err := runstore.Open(store, runstore.Options{LockTimeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("the store is not free: %v", err)
		}
		defer st.Close()
		js, _, err := st.JobState("hourly")
		if err != nil {
			t.Fatal(err)
		}
		runs, err := st.Runs()
		if err != nil {
			t.Fatal(err)
		}
		return js, runs
	}
	stopDaemon := func(d *daemon) {
		t.Helper()
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		wait("the daemon to exit after SIGTERM", d.done)
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit status after SIGTERM %d, want 0", code)
		}
	}
	if js, _ := jobState(); !js.Pending.IsZero() || js.LastOutcome != runstore.OutcomeOrdered || !js.LastRun.Equal(hour(15)) {
		t.Errorf("idle: job state %+v, want the run of 15:00 finished", js)
	}
	stopDaemon(b)
	started(b, "second", 4) // 11:00 resumed, 12:00, 13:00, 15:00

	// SIGTERM in the middle of a run: the run records its state, stays
	// pending, and the next daemon finishes it.
	writeJobs("CRON_TZ=UTC 0 * * * *")
	scheduleRoster(t, rosters, 4, visitors)
	arrived, release = gate.holdAfter(t, 2)
	c := startDaemon(t, dir, jobs, store, url, 3, hour(15).Add(30*time.Minute))
	c.step(t, hour(16))
	wait("the 16:00 run's third order", arrived)
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	release()
	stopDaemon(c)
	started(c, "third", 1)
	if js, _ := jobState(); !js.Pending.Equal(hour(16)) || js.LastOutcome != runstore.OutcomeInterrupted {
		t.Errorf("after SIGTERM in a run: job state %+v, want the run of 16:00 pending and interrupted", js)
	}
	writeJobs("0 0 1 1 *")
	d := startDaemon(t, dir, jobs, store, url, 4, hour(16).Add(5*time.Minute))
	d.waitLog(t, 30*time.Second, 1, finished) // the interrupted run, resumed
	stopDaemon(d)
	started(d, "fourth", 1)
	js, runs := jobState()
	if !js.Pending.IsZero() || js.LastOutcome != runstore.OutcomeOrdered {
		t.Errorf("job state %+v, want the run of 16:00 finished", js)
	}

	// Exactly one run per time that came due, one set of orders each.
	orders := map[string]int{}
	for _, o := range srv.Orders() {
		orders[o.CustomerReferenceID]++
	}
	var times []string
	total, full := 0, 0
	st, err := runstore.Open(store, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, r := range runs {
		if r.Job != "hourly" {
			t.Errorf("run %s is not the job's: job %q at %v", r.ID, r.Job, r.ScheduledAt)
		}
		times = append(times, r.ScheduledAt.UTC().Format("15:04"))
		// A run that came before the next roster orders nothing: its
		// visitors are already ordered for that window.
		switch {
		case r.State == runstore.RunDone && r.Orders[runstore.Submitted] == perRun:
			full++
		case r.State == runstore.RunDone && len(r.Orders) == 0 && r.Rows[runstore.RowAlreadyOrdered] == visitors:
		default:
			t.Errorf("run %s (%v): %s, orders %v, rows %v; want done with %d orders submitted, or nothing left to order",
				r.ID, r.ScheduledAt, r.State, r.Orders, r.Rows, perRun)
		}
		planned, err := st.Orders(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range planned {
			if orders[o.Reference] != 1 {
				t.Errorf("run %s order %s: the sandbox holds it %d times", r.ID, o.Reference, orders[o.Reference])
			}
			delete(orders, o.Reference)
			total++
		}
	}
	slices.Sort(times)
	if got, want := strings.Join(times, " "), "11:00 12:00 13:00 15:00 16:00"; got != want {
		t.Errorf("runs for the times %s, want one for each of %s", got, want)
	}
	if full != 4 {
		t.Errorf("%d runs placed a full set of orders, want 4 (one per roster)", full)
	}
	for ref, n := range orders {
		t.Errorf("the sandbox holds %d orders %s that no run planned", n, ref)
	}
	t.Logf("%d scheduled runs (%d with a set of %d orders), %d orders, each held once", len(runs), full, perRun, total)
}
