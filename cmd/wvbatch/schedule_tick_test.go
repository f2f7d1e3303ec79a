package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// tickBench is a store, a jobs file and a served sandbox for ticks.
type tickBench struct {
	t     *testing.T
	c     *cli
	srv   *sandbox.Server
	dir   string
	store string
	jobs  string
}

func newTickBench(t *testing.T, latency time.Duration, visitors int, jobs string) *tickBench {
	t.Helper()
	dir := t.TempDir()
	srv, url := startSandbox(t, sandbox.Config{Latency: latency, Seed: 1})
	rosters := filepath.Join(dir, "in") // not rosters/: the store keeps its copies there
	if err := os.Mkdir(rosters, 0o755); err != nil {
		t.Fatal(err)
	}
	scheduleRoster(t, rosters, 1, visitors)
	b := &tickBench{t: t, srv: srv, dir: dir, store: filepath.Join(dir, "s.db"), jobs: filepath.Join(dir, "jobs.yaml")}
	if err := os.WriteFile(b.jobs, []byte(jobs), 0o600); err != nil {
		t.Fatal(err)
	}
	b.c = newCLI(t, map[string]string{"EQUINIX_API_ENDPOINT": url, "EQUINIX_API_CLIENTID": sandbox.DefaultClientID,
		"EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret})
	return b
}

func (b *tickBench) args(now string, more ...string) []string {
	return append([]string{"schedule", "tick", "--config", b.jobs, "--store", b.store, "--concurrency", "1", "--now", now}, more...)
}

var tickRunRe = regexp.MustCompile(`tick: job (\S+), run for (\S+): ([a-z-]+)`)

// tick runs one tick at now and returns its exit code and the runs it
// made, as "job@time:outcome".
func (b *tickBench) tick(now string, more ...string) (int, []string, string) {
	b.t.Helper()
	code, out, errOut := b.c.run(b.args(now, more...)...)
	var runs []string
	for _, m := range tickRunRe.FindAllStringSubmatch(out, -1) {
		runs = append(runs, m[1]+"@"+m[2]+":"+m[3])
	}
	return code, runs, out + errOut
}

// onceEach fails unless the sandbox holds n orders, each reference once.
func (b *tickBench) onceEach(n int) {
	b.t.Helper()
	if got := len(sandboxByRef(b.t, b.srv)); got != n {
		b.t.Errorf("the sandbox holds %d orders, want %d", got, n)
	}
}

// tickDaily is a jobs file of one job, daily at 09:00 in Amsterdam.
const tickDaily = `jobs:
  - name: daily
    schedule: "CRON_TZ=Europe/Amsterdam 0 9 * * *"
    roster: in/*.csv
    window: {start: 7 days after, from: "09:00", to: "17:00"}
    missed: run-once
    starting_deadline: 1h
`

const tickJobs = tickDaily + `  - name: skipper
    schedule: "CRON_TZ=Europe/Amsterdam 0 9 * * *"
    roster: in/*.csv
    window: {start: 40 days after, from: "09:00", to: "17:00"}
    missed: skip
`

// TestScheduleTickAroundFireTimes runs a tick at each point around a job's
// fire time, with the clock given by --now: the first tick records the
// jobs; a tick a second early runs nothing; at the time both jobs run; again
// a moment later nothing; 30 minutes late the run-once job runs and the skip
// job is skipped; 2.5 hours late (after the clocks went forward) both are
// skipped; and at 09:00 CEST (07:00 UTC) both run again. Each run places
// its orders once.
func TestScheduleTickAroundFireTimes(t *testing.T) {
	t.Parallel()
	b := newTickBench(t, 0, 3, tickJobs)
	for _, step := range []struct {
		now  string
		code int
		runs []string
		says string
	}{
		{"2027-03-26T07:00:00Z", exitOK, nil, "nothing was due"},
		{"2027-03-26T07:59:59Z", exitOK, nil, "nothing was due"},
		{"2027-03-26T08:00:00Z", exitOK, []string{"daily@2027-03-26T08:00:00Z:ordered", "skipper@2027-03-26T08:00:00Z:ordered"}, ""},
		{"2027-03-26T08:00:30Z", exitOK, nil, "nothing was due"},
		{"2027-03-27T08:30:00Z", exitOK, []string{"daily@2027-03-27T08:00:00Z:ordered"}, "missed policy: skip"},
		// 28 Mar: clocks go forward; 09:00 CEST is 07:00 UTC.
		{"2027-03-29T09:30:00Z", exitOK, nil, "past the starting deadline"},
		{"2027-03-30T06:59:59Z", exitOK, nil, "nothing was due"},
		{"2027-03-30T07:00:00Z", exitOK, []string{"daily@2027-03-30T07:00:00Z:ordered", "skipper@2027-03-30T07:00:00Z:ordered"}, ""},
	} {
		code, runs, out := b.tick(step.now)
		slices.Sort(runs)
		if code != step.code || !slices.Equal(runs, step.runs) || !strings.Contains(out, step.says) {
			t.Errorf("tick at %s: exit %d, runs %q; want %d, %q, saying %q\n%s", step.now, code, runs, step.code, step.runs, step.says, out)
		}
	}
	b.onceEach(5)
}

// TestScheduleTickDST: a job at 02:30 Amsterdam time runs once on the day
// the clocks go forward (at 03:00 CEST, 01:00 UTC) and once on the day they
// go back (at the first 02:30, CEST), as the daemon does.
func TestScheduleTickDST(t *testing.T) {
	t.Parallel()
	b := newTickBench(t, 0, 3, `jobs:
  - name: night
    schedule: "CRON_TZ=Europe/Amsterdam 30 2 * * *"
    roster: in/*.csv
    window: {start: 7 days after, from: "09:00", to: "17:00"}
    starting_deadline: 30m
`)
	for _, step := range []struct {
		now  string
		runs []string
	}{
		{"2027-03-27T12:00:00Z", nil},
		{"2027-03-28T00:59:59Z", nil},                                            // 01:59:59 CET
		{"2027-03-28T01:00:00Z", []string{"night@2027-03-28T01:00:00Z:ordered"}}, // 03:00 CEST
		{"2027-03-28T01:30:00Z", nil},
		{"2027-03-29T00:30:00Z", []string{"night@2027-03-29T00:30:00Z:ordered"}}, // 02:30 CEST
		{"2027-10-30T12:00:00Z", nil},                                            // months later: missed, past the deadline
		{"2027-10-31T00:30:00Z", []string{"night@2027-10-31T00:30:00Z:ordered"}}, // the first 02:30, CEST
		{"2027-10-31T01:30:00Z", nil},                                            // the second 02:30, CET: not again
		{"2027-11-01T01:30:00Z", []string{"night@2027-11-01T01:30:00Z:ordered"}}, // 02:30 CET
	} {
		code, runs, out := b.tick(step.now)
		if code != exitOK || !slices.Equal(runs, step.runs) {
			t.Errorf("tick at %s: exit %d, runs %q; want 0, %q\n%s", step.now, code, runs, step.runs, out)
		}
	}
	b.onceEach(4)
}

// dailyUTC is a job at 09:00 UTC every day.
const dailyUTC = `jobs:
  - name: daily
    schedule: "CRON_TZ=UTC 0 9 * * *"
    roster: in/*.csv
    window: {start: 7 days after, from: "09:00", to: "17:00"}
`

// TestScheduleTicksRace starts two ticks at once at a fire time: one runs
// the job, the other waits for the store and then finds the time handled;
// the sandbox holds one set of orders. A tick that may not wait (--wait
// 1ms) while another runs a job exits 4.
func TestScheduleTicksRace(t *testing.T) {
	t.Parallel()
	b := newTickBench(t, 300*time.Millisecond, 400, dailyUTC)
	if code, _, _ := b.tick("2027-01-04T08:00:00Z"); code != exitOK {
		t.Fatalf("first tick: exit %d", code)
	}
	type result struct {
		code int
		runs []string
	}
	race := func(now string, n int) []result {
		ch := make(chan result, n)
		for range n {
			go func() {
				code, runs, _ := b.tick(now)
				ch <- result{code, runs}
			}()
		}
		var out []result
		for range n {
			out = append(out, <-ch)
		}
		return out
	}
	var runs []string
	for _, r := range race("2027-01-04T09:00:05Z", 2) {
		if r.code != exitOK {
			t.Errorf("racing tick: exit %d", r.code)
		}
		runs = append(runs, r.runs...)
	}
	if !slices.Equal(runs, []string{"daily@2027-01-04T09:00:00Z:ordered"}) {
		t.Errorf("two racing ticks ran %q, want the one time once", runs)
	}
	b.onceEach(8)

	// The next day: one tick runs, another may not wait.
	done := make(chan int, 1)
	go func() {
		code, _, _ := b.tick("2027-01-05T09:00:05Z")
		done <- code
	}()
	waitOrders(t, b.srv, 30*time.Second, 9)
	code, runs2, out := b.tick("2027-01-05T09:00:06Z", "--wait", "1ms")
	if code != exitStoreBusy || len(runs2) != 0 || !strings.Contains(out, "hint:") {
		t.Errorf("a tick that may not wait: exit %d, runs %q; want %d with a hint\n%s", code, runs2, exitStoreBusy, out)
	}
	if code := <-done; code != exitOK {
		t.Errorf("the running tick: exit %d", code)
	}
	b.onceEach(16)
}

// TestScheduleTickKilledResumes kills a tick (SIGKILL) in the middle of its
// run; the next tick, later, resumes that run instead of starting a new one,
// and every order is placed once.
func TestScheduleTickKilledResumes(t *testing.T) {
	t.Parallel()
	b := newTickBench(t, 100*time.Millisecond, 400, dailyUTC)
	if code, _, _ := b.tick("2027-01-04T08:00:00Z"); code != exitOK {
		t.Fatalf("first tick: exit %d", code)
	}
	cmd := exec.Command(os.Args[0], b.args("2027-01-04T09:00:00Z")...)
	cmd.Env = append(childEnv(b.dir), "EQUINIX_API_ENDPOINT="+b.c.env["EQUINIX_API_ENDPOINT"])
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOrders(t, b.srv, 30*time.Second, 2)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed tick:\n%s", out.String())
	placed := len(b.srv.Orders())
	if placed >= 8 {
		t.Fatalf("the kill came too late: %d of 8 orders placed", placed)
	}
	code, runs, text := b.tick("2027-01-04T09:20:00Z")
	if code != exitOK || !slices.Equal(runs, []string{"daily@2027-01-04T09:00:00Z:ordered"}) || !strings.Contains(text, "resuming run") {
		t.Errorf("the next tick: exit %d, runs %q; want it to resume the run for 09:00\n%s", code, runs, text)
	}
	b.onceEach(8)
	if code, runs, _ := b.tick("2027-01-04T09:30:00Z"); code != exitOK || len(runs) != 0 {
		t.Errorf("a tick after that: exit %d, runs %q; want nothing", code, runs)
	}
	b.onceEach(8)
}

// TestScheduleTickMetricsFile: --metrics-file writes the tick's metrics in
// the text format, with the run it made.
func TestScheduleTickMetricsFile(t *testing.T) {
	t.Parallel()
	b := newTickBench(t, 0, 3, tickJobs)
	prom := filepath.Join(b.dir, "wvbatch.prom")
	b.tick("2027-03-26T07:00:00Z")
	if code, runs, _ := b.tick("2027-03-26T08:00:00Z", "--metrics-file", prom); code != exitOK || len(runs) != 2 {
		t.Fatalf("tick: exit %d, runs %q", code, runs)
	}
	got, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`wvbatch_runs_total{outcome="ordered"} 2`,
		`wvbatch_api_requests_total{operation="POST /colocations/v2/orders/workVisits",status="201"} 2`,
		`wvbatch_orders{state="submitted"} 2`,
		fmt.Sprintf(`wvbatch_scheduler_next_run_timestamp_seconds{job="daily"} %g`, float64(time.Date(2027, 3, 27, 8, 0, 0, 0, time.UTC).Unix())),
	} {
		if !strings.Contains(string(got), want+"\n") {
			t.Errorf("the metrics file lacks %q:\n%s", want, got)
		}
	}
}

// TestScheduleTickExitCodes: a run with an invalid row exits 3; a run that
// cannot be made (its roster is missing) exits 1 with a hint.
func TestScheduleTickExitCodes(t *testing.T) {
	t.Parallel()
	b := newTickBench(t, 0, 3, dailyUTC)
	f, err := os.OpenFile(filepath.Join(b.dir, "in", "roster-01.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("DC2,DC2:01:123456,200001,D4vid,Smith,Keystone UPS Services\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b.tick("2027-01-04T08:00:00Z")
	if code, runs, out := b.tick("2027-01-04T09:00:00Z"); code != exitRows || !slices.Equal(runs, []string{"daily@2027-01-04T09:00:00Z:rows-failed"}) {
		t.Errorf("a run with an invalid row: exit %d, runs %q; want %d\n%s", code, runs, exitRows, out)
	}
	b.onceEach(1)
	if err := os.Remove(filepath.Join(b.dir, "in", "roster-01.csv")); err != nil {
		t.Fatal(err)
	}
	if code, runs, out := b.tick("2027-01-05T09:00:00Z"); code != exitFailure || !slices.Equal(runs, []string{"daily@2027-01-05T09:00:00Z:failed"}) || !strings.Contains(out, "hint:") {
		t.Errorf("a run without its roster: exit %d, runs %q; want %d with a hint\n%s", code, runs, exitFailure, out)
	}
}
