package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestDoneIsToldEachResult: Config.Done hears of the run of a job, with its
// time and the result Run returned.
func TestDoneIsToldEachResult(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "2027-01-01T09:00:30Z", job(t, "a", "0 9 1 * *"))
	var heard []string
	s, err := New(Config{Jobs: h.s.Jobs(), Open: h.open, Run: h.runs.run, Now: h.clock.Now,
		Done: func(j *Job, at time.Time, res Result) {
			heard = append(heard, j.Name+" "+at.UTC().Format(time.RFC3339)+" "+res.Outcome)
		}})
	if err != nil {
		t.Fatal(err)
	}
	at := mustTime(t, "2027-01-01T09:00:00Z")
	res, err := s.RunOnce(context.Background(), "a", at)
	if err != nil || res.Outcome != runstore.OutcomeOrdered {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	if len(heard) != 1 || heard[0] != "a 2027-01-01T09:00:00Z "+runstore.OutcomeOrdered {
		t.Errorf("Done heard %q; want the one run of a at 09:00, ordered", heard)
	}
}
