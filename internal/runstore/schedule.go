package runstore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketSchedule holds the scheduler's state: job name → JobState. It is
// created by the first write, so stores from before the scheduler need no
// upgrade and older wvbatch versions ignore it.
var bucketSchedule = []byte("schedule")

// Job outcomes, as JobState.LastOutcome records them.
const (
	OutcomeOrdered     = "ordered"     // every row ordered
	OutcomeRowsFailed  = "rows-failed" // the run finished; some rows are invalid or were refused
	OutcomeFailed      = "failed"      // the run could not be made (roster unreadable, bad settings)
	OutcomeInterrupted = "interrupted" // the run stopped with work left; it is resumed
	OutcomePanic       = "panic"       // the job panicked; recovered and recorded
	OutcomeSkipped     = "skipped"     // a due time was not run (missed policy or overlap)
)

// JobState is what the scheduler keeps of one job between restarts.
type JobState struct {
	Job string `json:"job"`
	// Since is when the scheduler first saw the job, or its schedule as it
	// is now: times before it are not the job's to run.
	Since time.Time `json:"since"`
	// Schedule is the job's cron expression as of Since.
	Schedule string `json:"schedule,omitempty"`
	// LastScheduled is the last scheduled time handled: run, or skipped.
	LastScheduled time.Time `json:"lastScheduled,omitzero"`
	// Pending is the scheduled time of a run started and not finished (the
	// daemon stopped or the run was interrupted): it is resumed.
	Pending time.Time `json:"pending,omitzero"`

	// The last run (or skip).
	LastRun      time.Time `json:"lastRun,omitzero"` // its scheduled time
	LastRunID    string    `json:"lastRunId,omitempty"`
	LastOutcome  string    `json:"lastOutcome,omitempty"`
	LastError    string    `json:"lastError,omitempty"`
	LastStarted  time.Time `json:"lastStarted,omitzero"`
	LastFinished time.Time `json:"lastFinished,omitzero"`
	// Missed counts the scheduled times the last decision collapsed or
	// skipped; Skipped is the latest time skipped, and SkipReason why.
	Missed     int       `json:"missed,omitempty"`
	Skipped    time.Time `json:"skipped,omitzero"`
	SkipReason string    `json:"skipReason,omitempty"`
}

// JobState returns a job's state; ok is false when the store has none.
func (s *Store) JobState(job string) (st JobState, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedule)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(job))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return JobState{}, false, fmt.Errorf("job %s: %w", job, err)
	}
	return st, ok, nil
}

// JobStates returns every job's state, by name.
func (s *Store) JobStates() ([]JobState, error) {
	var out []JobState
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedule)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var st JobState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("job %s: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b JobState) int { return strings.Compare(a.Job, b.Job) })
	return out, err
}

// UpdateJobState changes a job's state in one durable transaction: fn gets
// the stored state (the zero state with Job set when there is none) and
// changes it; an error from fn changes nothing. fn may run more than once.
func (s *Store) UpdateJobState(job string, fn func(st *JobState) error) (JobState, error) {
	if job == "" {
		return JobState{}, fmt.Errorf("update job state: empty job name")
	}
	var out JobState
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSchedule)
		if err != nil {
			return err
		}
		st := JobState{Job: job}
		if v := b.Get([]byte(job)); v != nil {
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("job %s: %w", job, err)
			}
		}
		if err := fn(&st); err != nil {
			return refuse(err)
		}
		st.Job = job
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		out = st
		return b.Put([]byte(job), v)
	})
	if err != nil {
		return JobState{}, err
	}
	return out, nil
}

// ScheduledRun returns the run a job made for a scheduled time; it matches
// ErrNotFound when there is none.
func (s *Store) ScheduledRun(job string, at time.Time) (Run, error) {
	var found *Run
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			if found != nil {
				return nil
			}
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("run %s: %w", k, err)
			}
			if r.Job == job && r.ScheduledAt.Equal(at) {
				found = &r
			}
			return nil
		})
	})
	if err != nil {
		return Run{}, err
	}
	if found == nil {
		return Run{}, fmt.Errorf("job %s at %s: %w", job, at.UTC().Format(time.RFC3339), ErrNotFound)
	}
	if found.Orders == nil {
		found.Orders = map[OrderState]int{}
	}
	if found.Rows == nil {
		found.Rows = map[RowStatus]int{}
	}
	return *found, nil
}
