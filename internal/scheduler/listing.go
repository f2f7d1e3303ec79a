package scheduler

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// DefaultPath is the jobs file to read when none is named: $WVBATCH_JOBS,
// else $XDG_CONFIG_HOME/wvbatch/jobs.yaml (~/.config when XDG_CONFIG_HOME
// is not set).
func DefaultPath(getenv func(string) string) string {
	if p := getenv("WVBATCH_JOBS"); p != "" {
		return p
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		dir = filepath.Join(getenv("HOME"), ".config")
	}
	return filepath.Join(dir, "wvbatch", "jobs.yaml")
}

// NoJobError is a job name that is not in the jobs file.
type NoJobError struct {
	Name string
	// Names are the jobs of the file.
	Names []string
}

func (e *NoJobError) Error() string { return fmt.Sprintf("no job %q in the jobs file", e.Name) }

// FindJob returns the job of jobs named name, or a *NoJobError.
func FindJob(jobs []Job, name string) (*Job, error) {
	var names []string
	for i := range jobs {
		if jobs[i].Name == name {
			return &jobs[i], nil
		}
		names = append(names, jobs[i].Name)
	}
	return nil, &NoJobError{Name: name, Names: names}
}

// WriteCheck writes, for people, the jobs of the jobs file at path: each
// job's schedule, roster (or why it cannot be found), window, missed-run
// policy and next run after now.
func WriteCheck(w io.Writer, path string, jobs []Job, now time.Time) {
	fmt.Fprintf(w, "%s: %d jobs, all valid\n", path, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		fmt.Fprintf(w, "  %s (line %d): %s\n", j.Name, j.Line, j.Schedule)
		if p, err := j.ResolveRoster(); err != nil {
			fmt.Fprintf(w, "    roster:  %v (a run now would fail)\n", err)
		} else {
			fmt.Fprintf(w, "    roster:  %s\n", p)
		}
		if j.Window != nil {
			fmt.Fprintf(w, "    window:  %s\n", j.Window)
		}
		fmt.Fprintf(w, "    missed:  %s\n", j.missedText())
		if n := j.Schedule.Next(now); !n.IsZero() {
			fmt.Fprintf(w, "    next:    %s  (%s)\n", n.In(j.Schedule.Location()).Format("2006-01-02 15:04:05 MST"), n.UTC().Format(time.RFC3339))
		}
	}
}

func (j *Job) missedText() string {
	if j.Missed == MissedSkip {
		return "skip"
	}
	return fmt.Sprintf("run-once within %s", j.StartingDeadline)
}

// Listing is a job as `schedule list` shows it: its schedule, its last run
// and outcome, and its next run.
type Listing struct {
	Job          string    `json:"job"`
	Schedule     string    `json:"schedule,omitempty"`
	Zone         string    `json:"zone,omitempty"`
	InFile       bool      `json:"in_jobs_file"`
	LastRun      time.Time `json:"last_run,omitzero"`
	LastRunID    string    `json:"last_run_id,omitempty"`
	LastOutcome  string    `json:"last_outcome,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	LastSkipped  time.Time `json:"last_skipped,omitzero"`
	SkipReason   string    `json:"skip_reason,omitempty"`
	Pending      time.Time `json:"pending,omitzero"`
	Next         time.Time `json:"next,omitzero"`
	NextLocal    string    `json:"next_local,omitempty"`
	LastFinished time.Time `json:"last_finished,omitzero"`
}

// List lists the jobs of the file with their states in the store, and
// then the jobs the store has a state of that the file no longer holds.
func List(jobs []Job, states []runstore.JobState, now time.Time) []Listing {
	byJob := map[string]runstore.JobState{}
	for _, s := range states {
		byJob[s.Job] = s
	}
	var list []Listing
	for i := range jobs {
		j := &jobs[i]
		s := byJob[j.Name]
		delete(byJob, j.Name)
		l := listing(s)
		l.Job, l.Schedule, l.Zone, l.InFile = j.Name, j.Schedule.String(), j.Schedule.Location().String(), true
		from := now
		if s.LastScheduled.After(from) {
			from = s.LastScheduled
		}
		if n := j.Schedule.Next(from); !n.IsZero() {
			l.Next, l.NextLocal = n.UTC(), n.In(j.Schedule.Location()).Format("2006-01-02 15:04:05 MST")
		}
		list = append(list, l)
	}
	for _, s := range states {
		if _, ok := byJob[s.Job]; ok {
			list = append(list, listing(s))
		}
	}
	return list
}

func listing(s runstore.JobState) Listing {
	return Listing{Job: s.Job, LastRun: s.LastRun, LastRunID: s.LastRunID, LastOutcome: s.LastOutcome, LastError: s.LastError,
		LastSkipped: s.Skipped, SkipReason: s.SkipReason, Pending: s.Pending, LastFinished: s.LastFinished}
}

// WriteListText writes list for people, a few lines a job.
func WriteListText(w io.Writer, list []Listing) {
	for _, l := range list {
		fmt.Fprintf(w, "%s  %s\n", l.Job, l.Schedule)
		if !l.InFile {
			fmt.Fprintf(w, "  (in the store, not in the jobs file)\n")
		}
		switch {
		case !l.LastRun.IsZero():
			fmt.Fprintf(w, "  last run:  %s  %s  run %s\n", l.LastRun.Format(time.RFC3339), l.LastOutcome, l.LastRunID)
			if l.LastError != "" {
				fmt.Fprintf(w, "             %s\n", l.LastError)
			}
		default:
			fmt.Fprintf(w, "  last run:  none\n")
		}
		if !l.LastSkipped.IsZero() {
			fmt.Fprintf(w, "  skipped:   %s  %s\n", l.LastSkipped.Format(time.RFC3339), l.SkipReason)
		}
		if !l.Pending.IsZero() {
			fmt.Fprintf(w, "  pending:   the run for %s is resumed when the daemon runs\n", l.Pending.Format(time.RFC3339))
		}
		if !l.Next.IsZero() {
			fmt.Fprintf(w, "  next run:  %s  (%s)\n", l.NextLocal, l.Next.Format(time.RFC3339))
		}
	}
}

// NextTime is one of a job's next scheduled times.
type NextTime struct {
	UTC   time.Time `json:"utc"`
	Local string    `json:"local"`
	Zone  string    `json:"zone"`
	// Window is the visit window a run at this time would ask for, in the
	// job's zone (the IBX's zone decides at run time).
	WindowStart string `json:"window_start,omitempty"`
	WindowEnd   string `json:"window_end,omitempty"`
}

// NextTimes returns the job's next n scheduled times after from (fewer
// when the schedule ends).
func (j *Job) NextTimes(from time.Time, n int) []NextTime {
	loc := j.Schedule.Location()
	var out []NextTime
	t := from
	for len(out) < n {
		t = j.Schedule.Next(t)
		if t.IsZero() {
			break
		}
		nt := NextTime{UTC: t.UTC(), Local: t.In(loc).Format("2006-01-02 15:04:05 MST"), Zone: loc.String()}
		if j.Window != nil {
			s, w := j.Window.At(t, loc)
			nt.WindowStart, nt.WindowEnd = s.In(loc).Format("2006-01-02 15:04 MST"), w.In(loc).Format("2006-01-02 15:04 MST")
		}
		out = append(out, nt)
	}
	return out
}

// WriteNextText writes next times for people, one a line.
func WriteNextText(w io.Writer, times []NextTime) {
	for _, nt := range times {
		fmt.Fprintf(w, "%s  %s", nt.UTC.Format(time.RFC3339), nt.Local)
		if nt.WindowStart != "" {
			fmt.Fprintf(w, "  visit %s → %s", nt.WindowStart, nt.WindowEnd)
		}
		fmt.Fprintln(w)
	}
}

// Ran is one run a pass of the scheduler made: the job, its scheduled time
// and the result.
type Ran struct {
	Job string
	At  time.Time
	Res Result
}

// WriteRan writes, a line a run, what a pass of the scheduler ran, and
// says whether some run finished with rows not ordered and whether some
// stopped or could not be made.
func WriteRan(w io.Writer, ran []Ran) (rowsFailed, stopped bool) {
	if len(ran) == 0 {
		fmt.Fprintln(w, "tick: nothing was due")
		return false, false
	}
	for _, r := range ran {
		fmt.Fprintf(w, "tick: job %s, run for %s: %s", r.Job, r.At.UTC().Format(time.RFC3339), r.Res.Outcome)
		if r.Res.RunID != "" {
			fmt.Fprintf(w, " (run %s)", r.Res.RunID)
		}
		if r.Res.Err != nil {
			fmt.Fprintf(w, ": %v", r.Res.Err)
		}
		fmt.Fprintln(w)
		switch r.Res.Outcome {
		case runstore.OutcomeOrdered:
		case runstore.OutcomeRowsFailed:
			rowsFailed = true
		default:
			stopped = true
		}
	}
	return rowsFailed, stopped
}
