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
	srv, _, client := serveSandbox(t, now)
	st, err := runstore.Open(filepath.Join(t.TempDir(), "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return now, srv, client, st
}

// serveSandbox serves a sandbox from now and returns it, its URL and a
// client of it.
func serveSandbox(t *testing.T, now time.Time) (*sandbox.Server, string, *equinix.Client) {
	t.Helper()
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
	return srv, url, client
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

// TestApplyMatchesRunsOfItsEndpointOnly applies the same Create messages at
// two endpoints (two sandboxes, which give the same order ids), then the
// Update at one and the Cancel at the other: each finds its order among
// the runs of its own endpoint only, so the other endpoint's order and its
// record in the store are left as they were.
func TestApplyMatchesRunsOfItsEndpointOnly(t *testing.T) {
	t.Parallel()
	now, srvA, clientA, st := applyWorld(t)
	srvB, urlB, clientB := serveSandbox(t, now)
	applier := func(endpoint string, client *equinix.Client) *Applier {
		api := submit.API{Client: client}
		return &Applier{
			Store: st, API: api, Endpoint: endpoint, File: "../../samples/emg", Clock: now,
			Amend: queue.AmendConfig{RunConfig: queue.RunConfig{Concurrency: 1, Policy: submit.Policy}, Closed: submit.IsClosed},
			Submit: func(ctx context.Context, run runstore.Run, created bool) error {
				_, err := queue.Submit(ctx, st, run.ID, api, queue.RunConfig{Concurrency: 1, Policy: submit.Policy})
				return err
			},
		}
	}
	atA, atB := applier("sandbox", clientA), applier(urlB, clientB)
	load := func(files ...string) Batch {
		t.Helper()
		for i, f := range files {
			files[i] = filepath.Join("../../samples/emg", f)
		}
		b, err := Load(files, now)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	apply := func(a *Applier, b Batch, want string) {
		t.Helper()
		results, _, err := a.Apply(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Outcome != want {
				t.Errorf("at %s: %s of %s: %s (%s); want %s", a.Endpoint, r.Verb, r.OrderID, r.Outcome, r.Error, want)
			}
		}
	}
	creates := load("01-create.json", "02-create-task-as-string.json")
	apply(atA, creates, Ordered)
	apply(atB, creates, Ordered)
	runA, runB := creates.RunID("sandbox"), creates.RunID(urlB)
	if runA == runB {
		t.Fatalf("the same messages at two endpoints make one run %s", runA)
	}
	stored := func(runID string) map[string]runstore.Order {
		t.Helper()
		orders, err := st.Orders(runID)
		if err != nil {
			t.Fatal(err)
		}
		byRef := map[string]runstore.Order{}
		for _, o := range orders {
			byRef[o.Reference] = o
		}
		return byRef
	}
	beforeA, beforeB := stored(runA), stored(runB)
	const moved, cancelled = "ACME-WV-2027-0112", "ACME-WV-2027-0114"
	if beforeA[moved].OrderID == "" || beforeA[moved].OrderID != beforeB[moved].OrderID {
		t.Fatalf("orders %q and %q: want the same order id at both sandboxes", beforeA[moved].OrderID, beforeB[moved].OrderID)
	}

	apply(atB, load("03-update.json"), Updated)
	apply(atA, load("04-cancel.json"), Cancelled)

	afterA, afterB := stored(runA), stored(runB)
	if !afterA[moved].Start.Equal(beforeA[moved].Start) {
		t.Errorf("the Update at %s moved the sandbox run's order in the store: %s → %s", urlB, beforeA[moved].Start, afterA[moved].Start)
	}
	if afterB[moved].Start.Equal(beforeB[moved].Start) {
		t.Errorf("the Update at %s did not move its own run's order in the store", urlB)
	}
	if afterA[cancelled].State != runstore.Cancelled || afterB[cancelled].State != runstore.Submitted {
		t.Errorf("after the Cancel at the sandbox: its order %s, the other endpoint's %s; want cancelled and submitted",
			afterA[cancelled].State, afterB[cancelled].State)
	}
	sandboxOrder := func(srv *sandbox.Server, ref string) sandbox.Order {
		for _, o := range srv.Orders() {
			if o.CustomerReferenceID == ref {
				return o
			}
		}
		t.Fatalf("no order %s", ref)
		return sandbox.Order{}
	}
	if a, b := sandboxOrder(srvA, moved), sandboxOrder(srvB, moved); len(a.Patches) != 0 || len(b.Patches) != 1 {
		t.Errorf("the Update: %d changes at the sandbox, %d at %s; want 0 and 1", len(a.Patches), len(b.Patches), urlB)
	}
	if a, b := sandboxOrder(srvA, cancelled), sandboxOrder(srvB, cancelled); a.Status != sandbox.StatusCancelled || b.Status == sandbox.StatusCancelled {
		t.Errorf("the Cancel: %s at the sandbox, %s at %s; want only the sandbox's cancelled", a.Status, b.Status, urlB)
	}
}

// TestApplyCreatesPerAccount: the same Create messages applied at one
// endpoint by two accounts make a run for each, each ordered once.
func TestApplyCreatesPerAccount(t *testing.T) {
	t.Parallel()
	now, srv, client, st := applyWorld(t)
	b, err := Load([]string{"../../samples/emg/01-create.json", "../../samples/emg/02-create-task-as-string.json"}, now)
	if err != nil {
		t.Fatal(err)
	}
	api := submit.API{Client: client}
	runs := map[string]string{}
	for _, account := range []string{"alice.orderer", "bob.orderer", "alice.orderer"} {
		a := &Applier{
			Store: st, API: api, Endpoint: "https://api.equinix.example", Account: account, File: "../../samples/emg", Clock: now,
			Submit: func(ctx context.Context, run runstore.Run, created bool) error {
				_, err := queue.Submit(ctx, st, run.ID, api, queue.RunConfig{Policy: submit.Policy})
				return err
			},
		}
		results, runID, err := a.Apply(t.Context(), b)
		if err != nil {
			t.Fatalf("as %s: %v", account, err)
		}
		for _, r := range results {
			if r.Outcome != Ordered {
				t.Errorf("as %s: %s: %s (%s); want ordered", account, r.Verb, r.Outcome, r.Error)
			}
		}
		if prev, ok := runs[account]; ok && prev != runID {
			t.Errorf("as %s again: run %s, want its run %s", account, runID, prev)
		}
		runs[account] = runID
		run, err := st.Run(runID)
		if err != nil || run.Account != account {
			t.Errorf("as %s: run %s of account %q (%v)", account, runID, run.Account, err)
		}
	}
	if runs["alice.orderer"] == runs["bob.orderer"] {
		t.Errorf("both accounts share run %s", runs["bob.orderer"])
	}
	if n := len(srv.Orders()); n != 4 {
		t.Errorf("the sandbox holds %d orders, want 2 per account", n)
	}
}
