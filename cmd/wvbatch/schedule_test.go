package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
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

// daemon is one `wvbatch schedule run` child process. Its output is read
// as it comes, and kept in a file shown when the test fails.
type daemon struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed (and replaced) when a line comes
}

func startDaemon(t *testing.T, dir, jobs, store, url string, n int) *daemon {
	t.Helper()
	log := filepath.Join(dir, fmt.Sprintf("daemon-%d.log", n))
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "schedule", "run", "--config", jobs, "--store", store,
		"--concurrency", "1", "--log-level", "info", "--log-format", "json")
	cmd.Env = append(childEnv(dir), "EQUINIX_API_ENDPOINT="+url)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	d := &daemon{cmd: cmd, log: log, done: make(chan struct{}), more: make(chan struct{})}
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

// waitFor polls cond every 20ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
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

// TestScheduleDaemonRestart runs the daemon in real time with a schedule of
// every 3 seconds against a sandbox that outlives it: it kills it (SIGKILL)
// in the middle of its first run and starts it again, reloads the jobs file
// with SIGHUP (an invalid file first), stops it with SIGTERM while idle and
// again in the middle of a run, and checks that the sandbox holds exactly one
// complete set of orders per scheduled time.
func TestScheduleDaemonRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := sandbox.New(sandbox.Config{Latency: 60 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })

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
  - name: every-3s
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
	writeJobs("*/3 * * * * *")
	store := filepath.Join(dir, "state", "wvbatch.db")

	// First daemon: killed once its first run has placed some orders.
	a := startDaemon(t, dir, jobs, store, url, 1)
	waitOrders(t, srv, 20*time.Second, 2) // the first run placed 2 orders
	_ = a.cmd.Process.Kill()
	<-a.done
	if held := len(srv.Orders()); held >= perRun {
		t.Fatalf("the first run finished (%d orders) before the kill: make the sandbox slower", held)
	}

	// Second daemon: resumes the first run, then goes on. A run whose
	// visitors an earlier run ordered for the same window orders nothing, so
	// each new set of orders needs a new roster (the newest file wins).
	b := startDaemon(t, dir, jobs, store, url, 2)
	for set := 2; set <= 3; set++ {
		waitOrders(t, srv, 30*time.Second, (set-1)*perRun)
		scheduleRoster(t, rosters, set, visitors)
	}
	waitOrders(t, srv, 30*time.Second, 3*perRun)
	if !b.logHas("resuming the run that was not finished") {
		t.Error("the restarted daemon did not say it resumed the unfinished run")
	}

	// An invalid reload keeps the jobs; a valid one replaces them.
	if err := os.WriteFile(jobs, []byte("jobs:\n  - name: every-3s\n    schedule: \"*/3 * *\"\n"), 0o644); err != nil {
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

	// Once the daemon idles the store is free: every run is finished. The
	// store is opened when the daemon lets go of it (a wait on its lock),
	// and looked at again after each run the daemon finishes.
	jobState := func() (runstore.JobState, []runstore.Run, bool) {
		st, err := runstore.Open(store, runstore.Options{LockTimeout: 10 * time.Second})
		if err != nil {
			return runstore.JobState{}, nil, false
		}
		defer st.Close()
		js, _, _ := st.JobState("every-3s")
		runs, _ := st.Runs()
		return js, runs, true
	}
	idle := func(d *daemon) { // every run finished, the store free
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			finished, _ := d.logged(`"run finished"`)
			if js, _, ok := jobState(); ok && js.Pending.IsZero() && js.LastOutcome != "" {
				return
			}
			d.waitLog(t, time.Until(deadline), finished+1, `"run finished"`)
		}
	}
	stopDaemon := func(d *daemon) {
		t.Helper()
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			t.Fatal("the daemon did not exit after SIGTERM")
		}
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("exit status after SIGTERM %d, want 0", code)
		}
	}
	idle(b)
	stopDaemon(b)

	// SIGTERM in the middle of a run: the run records its state, stays
	// pending, and the next daemon finishes it.
	writeJobs("*/3 * * * * *")
	scheduleRoster(t, rosters, 4, visitors)
	c := startDaemon(t, dir, jobs, store, url, 3)
	waitOrders(t, srv, 30*time.Second, 3*perRun+2) // the fourth run placed 2 orders
	stopDaemon(c)
	if js, _, ok := jobState(); !ok || js.Pending.IsZero() || js.LastOutcome != runstore.OutcomeInterrupted {
		t.Errorf("after SIGTERM in a run: job state %+v (store opened: %v), want the run pending and interrupted", js, ok)
	}
	writeJobs("0 0 1 1 *")
	d := startDaemon(t, dir, jobs, store, url, 4)
	idle(d) // the next daemon finished the interrupted run
	stopDaemon(d)
	_, runs, _ := jobState()

	// Exactly one set of orders per scheduled time.
	held := map[string]int{}
	for _, o := range srv.Orders() {
		held[o.CustomerReferenceID]++
	}
	seen := map[time.Time]string{}
	total, full := 0, 0
	for _, r := range runs {
		if r.Job != "every-3s" || r.ScheduledAt.IsZero() {
			t.Errorf("run %s is not the job's: job %q at %v", r.ID, r.Job, r.ScheduledAt)
		}
		if prev, dup := seen[r.ScheduledAt]; dup {
			t.Errorf("runs %s and %s for the same scheduled time %v", prev, r.ID, r.ScheduledAt)
		}
		seen[r.ScheduledAt] = r.ID
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
		st, err := runstore.Open(store, runstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		orders, err := st.Orders(r.ID)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range orders {
			if held[o.Reference] != 1 {
				t.Errorf("run %s order %s: the sandbox holds it %d times", r.ID, o.Reference, held[o.Reference])
			}
			delete(held, o.Reference)
			total++
		}
	}
	if full != 4 {
		t.Errorf("%d runs placed a full set of orders, want 4 (one per roster)", full)
	}
	for ref, n := range held {
		t.Errorf("the sandbox holds %d orders %s that no run planned", n, ref)
	}
	t.Logf("%d scheduled runs (%d with a set of %d orders), %d orders, each held once", len(runs), full, perRun, total)
}
