package runstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestScheduleJobStateRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.JobState("monthly"); ok || err != nil {
		t.Fatalf("JobState on a store without the bucket = %v, %v", ok, err)
	}
	if states, err := s.JobStates(); len(states) != 0 || err != nil {
		t.Fatalf("JobStates = %v, %v", states, err)
	}
	at := time.Date(2027, 1, 1, 14, 0, 0, 0, time.UTC)
	for _, job := range []string{"weekly", "monthly"} {
		if _, err := s.UpdateJobState(job, func(st *JobState) error {
			st.Since, st.LastScheduled, st.Pending = at.Add(-time.Hour), at, at
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.UpdateJobState("monthly", func(st *JobState) error {
		if !st.Pending.Equal(at) {
			t.Errorf("fn got %+v, want the stored state", st)
		}
		st.Pending, st.LastOutcome, st.LastRunID = time.Time{}, OutcomeOrdered, "r1"
		return nil
	})
	if err != nil || got.Job != "monthly" || !got.Pending.IsZero() {
		t.Fatalf("UpdateJobState = %+v, %v", got, err)
	}
	// A refused change changes nothing.
	boom := errors.New("boom")
	if _, err := s.UpdateJobState("monthly", func(st *JobState) error { st.LastRunID = "r2"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateJobState err = %v, want boom", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Durable across a reopen.
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, ok, err := s.JobState("monthly")
	if !ok || err != nil || st.LastRunID != "r1" || st.LastOutcome != OutcomeOrdered || !st.LastScheduled.Equal(at) || !st.Pending.IsZero() {
		t.Fatalf("JobState after reopen = %+v, %v, %v", st, ok, err)
	}
	states, err := s.JobStates()
	if err != nil || len(states) != 2 || states[0].Job != "monthly" || states[1].Job != "weekly" {
		t.Fatalf("JobStates = %+v, %v", states, err)
	}
	if _, err := s.UpdateJobState("", func(*JobState) error { return nil }); err == nil {
		t.Fatal("UpdateJobState with no name: no error")
	}
}

func TestScheduleScheduledRun(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	at := time.Date(2027, 1, 1, 14, 0, 0, 0, time.UTC)
	for i, r := range []Run{
		{ID: "r-manual", File: "roster.csv", Hash: "h", Endpoint: "sandbox"},
		{ID: "r-jan", File: "roster.csv", Hash: "h", Endpoint: "sandbox", Job: "monthly", ScheduledAt: at},
		{ID: "r-feb", File: "roster.csv", Hash: "h", Endpoint: "sandbox", Job: "monthly", ScheduledAt: at.AddDate(0, 1, 0)},
		{ID: "r-other", File: "roster.csv", Hash: "h", Endpoint: "sandbox", Job: "weekly", ScheduledAt: at},
	} {
		if _, err := s.CreateRun(r, specs(1, 1)[:1], nil); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	r, err := s.ScheduledRun("monthly", at.In(time.FixedZone("EST", -5*3600)))
	if err != nil || r.ID != "r-jan" {
		t.Fatalf("ScheduledRun = %s, %v; want r-jan", r.ID, err)
	}
	if _, err := s.ScheduledRun("monthly", at.Add(time.Second)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ScheduledRun of another time: err = %v, want ErrNotFound", err)
	}
}
