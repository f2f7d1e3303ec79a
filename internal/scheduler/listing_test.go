package scheduler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

const listJobs = `jobs:
  - name: monthly
    schedule: "CRON_TZ=Europe/Amsterdam 0 9 1 * *"
    roster: /nowhere/monthly.csv
    window: {start: first saturday of next month, from: "08:00", to: "18:00", days: 2}
  - name: weekly
    schedule: "@weekly"
    roster: /nowhere/weekly.csv
    missed: skip
`

func TestDefaultPathAndFindJob(t *testing.T) {
	env := map[string]string{"HOME": "/h"}
	getenv := func(k string) string { return env[k] }
	if got := DefaultPath(getenv); got != "/h/.config/wvbatch/jobs.yaml" {
		t.Errorf("DefaultPath = %q", got)
	}
	env["XDG_CONFIG_HOME"] = "/x"
	if got := DefaultPath(getenv); got != "/x/wvbatch/jobs.yaml" {
		t.Errorf("DefaultPath with XDG_CONFIG_HOME = %q", got)
	}
	env["WVBATCH_JOBS"] = "/j.yaml"
	if got := DefaultPath(getenv); got != "/j.yaml" {
		t.Errorf("DefaultPath with WVBATCH_JOBS = %q", got)
	}
	jobs, err := Parse([]byte(listJobs), "jobs.yaml", "/x")
	if err != nil {
		t.Fatal(err)
	}
	if j, err := FindJob(jobs, "weekly"); err != nil || j != &jobs[1] {
		t.Errorf("FindJob(weekly) = %v, %v", j, err)
	}
	var ne *NoJobError
	if _, err := FindJob(jobs, "daily"); !errors.As(err, &ne) || strings.Join(ne.Names, ",") != "monthly,weekly" || err.Error() != `no job "daily" in the jobs file` {
		t.Errorf("FindJob(daily) = %v", err)
	}
}

func TestListAndNextTimes(t *testing.T) {
	jobs, err := Parse([]byte(listJobs), "jobs.yaml", "/x")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
	last := time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)
	states := []runstore.JobState{
		{Job: "gone", LastRun: last, LastOutcome: "ordered", LastRunID: "r0"},
		{Job: "monthly", LastRun: last, LastScheduled: last, LastRunID: "r1", LastOutcome: runstore.OutcomeFailed, LastError: "no roster"},
	}
	list := List(jobs, states, now)
	if len(list) != 3 || list[0].Job != "monthly" || list[1].Job != "weekly" || list[2].Job != "gone" || list[2].InFile || !list[0].InFile {
		t.Fatalf("List = %+v", list)
	}
	if want := time.Date(2027, 4, 1, 7, 0, 0, 0, time.UTC); !list[0].Next.Equal(want) || list[0].NextLocal != "2027-04-01 09:00:00 CEST" {
		t.Errorf("monthly next %v (%s), want %v", list[0].Next, list[0].NextLocal, want)
	}
	var b strings.Builder
	WriteListText(&b, list)
	for _, want := range []string{
		"monthly  CRON_TZ=Europe/Amsterdam 0 9 1 * *\n  last run:  2027-03-01T08:00:00Z  failed  run r1\n             no roster\n  next run:  2027-04-01 09:00:00 CEST  (2027-04-01T07:00:00Z)\n",
		"weekly  @weekly\n  last run:  none\n",
		"gone  \n  (in the store, not in the jobs file)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("list text lacks %q:\n%s", want, b.String())
		}
	}

	times := jobs[0].NextTimes(now, 2)
	if len(times) != 2 || times[0].Local != "2027-04-01 09:00:00 CEST" || times[0].Zone != "Europe/Amsterdam" ||
		times[0].WindowStart != "2027-05-01 08:00 CEST" || times[0].WindowEnd != "2027-05-02 18:00 CEST" {
		t.Fatalf("NextTimes = %+v", times)
	}
	b.Reset()
	WriteNextText(&b, times[:1])
	if want := "2027-04-01T07:00:00Z  2027-04-01 09:00:00 CEST  visit 2027-05-01 08:00 CEST → 2027-05-02 18:00 CEST\n"; b.String() != want {
		t.Errorf("next text %q, want %q", b.String(), want)
	}

	b.Reset()
	WriteCheck(&b, "jobs.yaml", jobs, now)
	for _, want := range []string{
		"jobs.yaml: 2 jobs, all valid\n",
		"  monthly (line 2): CRON_TZ=Europe/Amsterdam 0 9 1 * *\n",
		"(a run now would fail)\n",
		"    missed:  skip\n",
		"    next:    2027-04-01 09:00:00 CEST  (2027-04-01T07:00:00Z)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("check text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestWriteRan(t *testing.T) {
	var b strings.Builder
	if rows, stopped := WriteRan(&b, nil); rows || stopped || b.String() != "tick: nothing was due\n" {
		t.Errorf("nothing ran: %v %v %q", rows, stopped, b.String())
	}
	at := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	b.Reset()
	rows, stopped := WriteRan(&b, []Ran{
		{Job: "a", At: at, Res: Result{Outcome: runstore.OutcomeOrdered, RunID: "r1"}},
		{Job: "b", At: at, Res: Result{Outcome: runstore.OutcomeRowsFailed, RunID: "r2"}},
	})
	if !rows || stopped || b.String() != "tick: job a, run for 2027-01-01T09:00:00Z: ordered (run r1)\ntick: job b, run for 2027-01-01T09:00:00Z: rows-failed (run r2)\n" {
		t.Errorf("ordered and rows failed: %v %v %q", rows, stopped, b.String())
	}
	b.Reset()
	if _, stopped := WriteRan(&b, []Ran{{Job: "c", At: at, Res: Result{Outcome: runstore.OutcomeFailed, Err: errors.New("no roster")}}}); !stopped ||
		!strings.HasSuffix(b.String(), ": failed: no roster\n") {
		t.Errorf("failed: %v %q", stopped, b.String())
	}
}

func TestReloadOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.yaml")
	if err := os.WriteFile(path, []byte(listJobs), 0o600); err != nil {
		t.Fatal(err)
	}
	jobs, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Jobs: jobs, Open: func() (*runstore.Store, error) { return nil, errors.New("unused") },
		Run: func(context.Context, *runstore.Store, *Job, time.Time) Result { return Result{} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	sig := make(chan os.Signal)
	done := make(chan struct{})
	go func() { s.ReloadOn(ctx, sig, path); close(done) }()
	names := func() string {
		var n []string
		for _, j := range s.Jobs() {
			n = append(n, j.Name)
		}
		return strings.Join(n, ",")
	}
	if err := os.WriteFile(path, []byte("jobs: [oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	sig <- syscall.SIGHUP
	sig <- syscall.SIGHUP // the first is handled once the second is taken
	if got := names(); got != "monthly,weekly" {
		t.Errorf("after an invalid file: %s, want the jobs loaded before", got)
	}
	if err := os.WriteFile(path, []byte(strings.SplitN(listJobs, "  - name: weekly", 2)[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	sig <- syscall.SIGHUP
	cancel()
	<-done
	if got := names(); got != "monthly" {
		t.Errorf("after a valid file: %s, want monthly", got)
	}
}
