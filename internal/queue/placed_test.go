package queue

import (
	"context"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestPlacedRun records two orders placed outside the store as a run, changes
// one as an amendment and cancels the other after a crash left it
// cancelling: nothing is sent twice, and the other order is left alone.
func TestPlacedRun(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	clock := newClock()
	start := time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)
	placed := []runstore.PlacedOrder{
		{Key: "1-A", OrderID: "1-A", Start: start, End: start.Add(10 * time.Hour), Body: []byte(`{"details":{"openCabinet":false}}`), Rows: []int{1}},
		{Key: "1-B", OrderID: "1-B", Start: start, End: start.Add(10 * time.Hour), Body: []byte(`{"details":{"openCabinet":true}}`), Rows: []int{2}},
	}
	for i, want := range []bool{true, false} {
		created, err := s.CreatePlacedRun(runstore.Run{ID: "p", Endpoint: "sandbox"}, placed)
		if err != nil || created != want {
			t.Fatalf("CreatePlacedRun %d: created %v, %v; want %v", i+1, created, err, want)
		}
	}
	run, err := s.Run("p")
	if err != nil || run.Orders[runstore.Submitted] != 2 || run.Rows[runstore.RowOrdered] != 2 || run.State != runstore.RunDone {
		t.Fatalf("run %+v, %v; want two submitted orders, done", run, err)
	}

	// The open-cabinet flag recorded for each order decides what is sent.
	yes := true
	req := runstore.AmendRequest{OpenCabinet: &yes, Keys: []string{"1-A", "1-B"}}
	a, _, err := s.CreateAmendment("p", req, clock.Now(), false)
	if err != nil || a.Orders[runstore.AmendPending] != 1 || a.Orders[runstore.AmendUnchanged] != 1 {
		t.Fatalf("amendment %+v, %v; want 1-A pending and 1-B unchanged", a, err)
	}
	f := newFakeOrders(s, "p")
	if _, err := Amend(context.Background(), s, "p", a.N, f, amendConfig(clock)); err != nil {
		t.Fatal(err)
	}
	if f.sent["1-A"] != 1 || f.sent["1-B"] != 0 {
		t.Errorf("updates sent %v; want one, to 1-A", f.sent)
	}
	if got, found, err := s.FindAmendment("p", req); err != nil || !found || got.N != a.N || got.State != runstore.AmendDone {
		t.Errorf("FindAmendment: %+v, %v, %v; want amendment %d, done", got, found, err, a.N)
	}

	// A crash left 1-B cancelling: CancelOrder asks once, and once it is
	// cancelled asks no more.
	if err := s.MarkCancelling("p", "1-B"); err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI()
	for range 2 {
		o, err := CancelOrder(context.Background(), s, "p", "1-B", api, "called off", testConfig(clock))
		if err != nil || o.State != runstore.Cancelled {
			t.Fatalf("CancelOrder: %s, %v; want cancelled", o.State, err)
		}
	}
	if api.cancels["1-B"] != 1 || api.cancels["1-A"] != 0 {
		t.Errorf("cancels sent %v; want one, for 1-B", api.cancels)
	}
	if o, _ := s.Order("p", "1-A"); o.State != runstore.Submitted {
		t.Errorf("1-A is %s; want it left submitted", o.State)
	}
}
