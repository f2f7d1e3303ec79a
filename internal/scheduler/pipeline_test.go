package scheduler

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// TestPipelineRunner runs a job's scheduled time through the pipeline into
// a sandbox, then the same time again (reported, nothing ordered twice),
// and a job whose roster is missing.
func TestPipelineRunner(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	srv, err := sandbox.New(sandbox.Config{StartAt: start, Seed: 1, Permissive: true})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	client, err := equinix.New(equinix.Config{Endpoint: url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	st, err := runstore.Open(filepath.Join(t.TempDir(), "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs, err := Parse([]byte(`jobs:
  - name: monthly
    schedule: "@monthly"
    roster: contractors.csv
  - name: lost
    schedule: "@monthly"
    roster: nowhere/*.csv
`), "jobs.yaml", "../../samples")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	placed := 0
	r := &PipelineRunner{
		Out: &out, Now: func() time.Time { return start },
		Setup: func(ctx context.Context, st *runstore.Store, job *Job) (*submit.Pipeline, runstore.Where, func() (*submit.Conn, error), func(), error) {
			connect := func() (*submit.Conn, error) { return &submit.Conn{Client: client, Endpoint: "sandbox"}, nil }
			return &submit.Pipeline{Store: st}, runstore.Where{Endpoint: "sandbox"}, connect, func() {}, nil
		},
		Placed: func(ctx context.Context, o *submit.Outcome, err error) error {
			placed++
			if err == nil && o.Stopped != nil {
				err = o.Stopped
			}
			return err
		},
		Resume: func(context.Context, *runstore.Store, *Job, runstore.Run) error {
			t.Error("a finished run was resumed")
			return nil
		},
	}
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	res := r.Run(t.Context(), st, &jobs[0], at)
	if res.Outcome != runstore.OutcomeOrdered || res.Err != nil || res.RunID == "" || placed != 1 {
		t.Fatalf("first run: %+v (placed %d)\n%s", res, placed, out.String())
	}
	orders := len(srv.Orders())
	if orders == 0 || !strings.Contains(out.String(), "job monthly: run for 2027-01-01T00:00:00Z") || !strings.Contains(out.String(), "plan: ") {
		t.Errorf("%d orders; said:\n%s", orders, out.String())
	}
	run, err := st.ScheduledRun("monthly", at)
	if err != nil || run.ID != res.RunID || run.Job != "monthly" {
		t.Errorf("the store's run for the time: %+v, %v", run, err)
	}

	out.Reset()
	again := r.Run(t.Context(), st, &jobs[0], at)
	if again.Outcome != runstore.OutcomeOrdered || again.RunID != res.RunID || placed != 1 || len(srv.Orders()) != orders ||
		!strings.Contains(out.String(), "is done already (run "+res.RunID+"): nothing is ordered twice") {
		t.Errorf("the same time again: %+v, %d orders\n%s", again, len(srv.Orders()), out.String())
	}

	lost := r.Run(t.Context(), st, &jobs[1], at)
	var re *RosterError
	if lost.Outcome != runstore.OutcomeFailed || !errors.As(lost.Err, &re) || re.Line != 5 ||
		!strings.HasPrefix(lost.Err.Error(), "job lost: ") || !strings.Contains(re.Hint(), "line 5 of the jobs file") {
		t.Errorf("a missing roster: %+v", lost)
	}
}
