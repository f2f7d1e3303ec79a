package emg

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// applyWorld is a served sandbox, a client of it and a store.
func applyWorld(t *testing.T) (time.Time, *sandbox.Server, *equinix.Client, *runstore.Store) {
	t.Helper()
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	srv, err := sandbox.New(sandbox.Config{StartAt: now, Seed: 1})
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
	t.Cleanup(func() { st.Close() })
	return now, srv, client, st
}

// TestApply applies the sample messages (two Creates, an Update and a
// Cancel of the orders the Creates place) against the sandbox with a real
// store, twice: one result per message each time, and the second time
// nothing is ordered, changed or cancelled again.
func TestApply(t *testing.T) {
	t.Parallel()
	now, srv, client, st := applyWorld(t)

	files, err := filepath.Glob("../../samples/emg/*.json")
	if err != nil || len(files) != 4 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	b, err := Load(files, now)
	if err != nil {
		t.Fatal(err)
	}
	api := submit.API{Client: client}
	submits := 0
	a := &Applier{
		Store: st, API: api, Endpoint: "sandbox", File: "../../samples/emg", Clock: now,
		Amend: queue.AmendConfig{RunConfig: queue.RunConfig{Concurrency: 1, Policy: submit.Policy}, Closed: submit.IsClosed},
		Submit: func(ctx context.Context, run runstore.Run, created bool) error {
			submits++
			_, err := queue.Submit(ctx, st, run.ID, api, queue.RunConfig{Policy: submit.Policy})
			return err
		},
	}
	want := []string{Ordered, Ordered, Updated, Cancelled}
	// Sent again, a Create's result is its order's state: the second
	// order is cancelled by then.
	again := []string{Ordered, Cancelled, Updated, AlreadyCancelled}
	for round, outcomes := range [][]string{want, again} {
		results, runID, err := a.Apply(t.Context(), b)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if runID != b.RunID("sandbox") || len(results) != len(b) {
			t.Fatalf("round %d: run %s, %d results for %d messages", round, runID, len(results), len(b))
		}
		for i, r := range results {
			if r.Outcome != outcomes[i] || r.ID != b[i].Msg.ID || r.OrderID == "" {
				t.Errorf("round %d: message %d (%s): %+v; want %s with an order id", round, i+1, r.Verb, r, outcomes[i])
			}
			if r.Done() != (r.Outcome != Failed) {
				t.Errorf("round %d: message %d: Done = %v for %s", round, i+1, r.Done(), r.Outcome)
			}
		}
	}
	if submits != 2 {
		t.Errorf("the Create run was submitted %d times, want once per round", submits)
	}
	orders := srv.Orders()
	if len(orders) != 2 {
		t.Fatalf("the sandbox holds %d orders, want 2 (one per Create)", len(orders))
	}
	for _, o := range orders {
		switch {
		case o.Status == sandbox.StatusCancelled && o.CancelReason == "":
			t.Errorf("order %s cancelled without a reason", o.ID)
		case o.Status != sandbox.StatusCancelled && len(o.Patches) != 1:
			t.Errorf("order %s: %d updates, want the Update applied once", o.ID, len(o.Patches))
		}
	}
}

// TestApplyUnknownOrder: an Update naming an order that does not exist
// fails in its own result; the batch carries on.
func TestApplyUnknownOrder(t *testing.T) {
	t.Parallel()
	now, _, client, st := applyWorld(t)
	b, err := Load([]string{"../../samples/emg/03-update.json"}, now)
	if err != nil {
		t.Fatal(err)
	}
	a := &Applier{Store: st, API: submit.API{Client: client}, Endpoint: "sandbox", Clock: now,
		Submit: func(context.Context, runstore.Run, bool) error { t.Error("no Create to submit"); return nil }}
	results, _, err := a.Apply(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Outcome != Failed || results[0].Error == "" || results[0].Hint == "" || results[0].Done() {
		t.Errorf("results %+v; want the Update failed with an error and a hint", results)
	}
}
