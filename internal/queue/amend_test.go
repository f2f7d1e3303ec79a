package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// fakeOrders is an Equinix that holds placed orders' windows and options
// and applies updates; scripted answers decide, per call, whether an update
// is applied and what the caller hears.
type fakeOrders struct {
	mu      sync.Mutex
	held    map[string]*OrderNow // order id → what Equinix holds
	updates map[string]int       // order id → updates applied
	sent    map[string]int       // order id → updates sent
	reads   map[string]int
	// update answers the n-th Update of an order: applied says whether
	// Equinix applies it, err what the caller hears.
	update func(orderID string, n int) (applied bool, err error)
	// current answers the n-th read-back with an error, or nil to answer
	// from what is held.
	current func(orderID string, n int) error
	// hide makes read-backs show nothing of the window or options.
	hide bool
}

var (
	errClosed = &apiError{Final, 403, "EQ-2016007 order is closed"}
	errPast   = &apiError{Final, 400, "visitStartDateTime must not be in the past"}
)

func newFakeOrders(s *runstore.Store, runID string) *fakeOrders {
	f := &fakeOrders{held: map[string]*OrderNow{}, updates: map[string]int{}, sent: map[string]int{}, reads: map[string]int{}}
	orders, _ := s.Orders(runID)
	for _, o := range orders {
		if o.OrderID == "" {
			continue
		}
		start, end, no := o.Start, o.End, false
		f.held[o.OrderID] = &OrderNow{Open: true, Status: "RECEIVED", Start: &start, End: &end, OpenCabinet: &no, NotifyKnown: true}
	}
	return f
}

func (f *fakeOrders) Update(ctx context.Context, orderID string, c runstore.Change) error {
	f.mu.Lock()
	f.sent[orderID]++
	n := f.sent[orderID]
	f.mu.Unlock()
	applied, err := true, error(nil)
	if f.update != nil {
		applied, err = f.update(orderID, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.held[orderID]
	if h == nil {
		return &apiError{Final, 404, "no order " + orderID}
	}
	if !h.Open {
		return errClosed
	}
	if applied {
		f.updates[orderID]++
		if c.Start != nil {
			s := *c.Start
			h.Start = &s
		}
		if c.End != nil {
			e := *c.End
			h.End = &e
		}
		if c.OpenCabinet != nil {
			b := *c.OpenCabinet
			h.OpenCabinet = &b
		}
		if c.Notify != nil {
			h.Notify = slices.Clone(c.Notify)
		}
	}
	return err
}

func (f *fakeOrders) Current(ctx context.Context, orderID string) (OrderNow, error) {
	f.mu.Lock()
	f.reads[orderID]++
	n := f.reads[orderID]
	f.mu.Unlock()
	if f.current != nil {
		if err := f.current(orderID, n); err != nil {
			return OrderNow{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.held[orderID]
	if h == nil {
		return OrderNow{}, &apiError{Final, 404, "no order " + orderID}
	}
	if f.hide {
		return OrderNow{Open: h.Open, Status: h.Status}, nil
	}
	return *h, nil
}

func amendConfig(c *fakeClock) AmendConfig {
	return AmendConfig{RunConfig: testConfig(c), Closed: func(err error) bool { return errors.Is(err, errClosed) }}
}

// placedRun records a run of n orders (window 2026-03-02 08:00–18:00 UTC)
// and places them all through Submit.
func placedRun(t *testing.T, n int) (*runstore.Store, []runstore.OrderSpec) {
	t.Helper()
	s := openStore(t)
	orders := specs(n, 2)
	for i := range orders {
		for j, k := range orders[i].VisitorKeys {
			orders[i].VisitorKeys[j] = fmt.Sprintf("%s|%d|%d", k, orders[i].Start.Unix(), orders[i].End.Unix())
		}
		orders[i].Body = []byte(`{"contacts":[{"type":"NOTIFICATION","registeredUsers":["noc.amsterdam"]}],"details":{"openCabinet":false}}`)
	}
	createRun(t, s, "r", orders, nil)
	if _, err := Submit(context.Background(), s, "r", newFakeAPI(), testConfig(newClock())); err != nil {
		t.Fatal(err)
	}
	return s, orders
}

var amendNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestAmendShiftsEveryOrderOnce(t *testing.T) {
	t.Parallel()
	s, specs := placedRun(t, 12)
	api := newFakeOrders(s, "r")
	a, created, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: 24 * time.Hour}, amendNow, false)
	if err != nil || !created || a.N != 1 || a.Orders[runstore.AmendPending] != 12 {
		t.Fatalf("CreateAmendment = %+v, %v, %v; want amendment 1 with 12 pending orders", a, created, err)
	}
	tally, err := Amend(context.Background(), s, "r", a.N, api, amendConfig(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	if tally.Applied != 12 || tally.Sent != 12 || tally.Pending+tally.Sending+tally.Failed != 0 {
		t.Errorf("tally = %+v; want 12 applied, 12 sent", tally)
	}
	for id, n := range api.updates {
		if n != 1 {
			t.Errorf("order %s updated %d times; want once", id, n)
		}
	}
	wantStart := specs[0].Start.Add(24 * time.Hour)
	orders, _ := s.Orders("r")
	for _, o := range orders {
		if !o.Start.Equal(wantStart) || !o.End.Equal(specs[0].End.Add(24*time.Hour)) {
			t.Errorf("order %s in the store: %s–%s; want moved by a day", o.Key, o.Start, o.End)
		}
		if h := api.held[o.OrderID]; !h.Start.Equal(wantStart) {
			t.Errorf("order %s at Equinix starts %s; want %s", o.OrderID, h.Start, wantStart)
		}
	}
	// The visitors are recorded as ordered for the new window, not the old.
	old := specs[0].VisitorKeys[0]
	moved := strings.TrimSuffix(old, fmt.Sprintf("|%d|%d", specs[0].Start.Unix(), specs[0].End.Unix())) +
		fmt.Sprintf("|%d|%d", wantStart.Unix(), specs[0].End.Add(24*time.Hour).Unix())
	claims, err := s.AlreadyOrdered(sandbox, []string{old, moved})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := claims[old]; ok {
		t.Errorf("visitor still recorded for the old window")
	}
	if c, ok := claims[moved]; !ok || c.OrderID != orders[0].OrderID {
		t.Errorf("visitor for the new window = %+v, %v; want order %s", c, ok, orders[0].OrderID)
	}
	got, _ := s.Amendment("r", 1)
	if got.State != runstore.AmendDone || got.Orders[runstore.AmendApplied] != 12 {
		t.Errorf("amendment = %+v; want done, 12 applied", got)
	}

	// The same shift again is refused unless asked for again.
	if _, _, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: 24 * time.Hour}, amendNow, false); !errors.Is(err, runstore.ErrAmendRepeated) {
		t.Errorf("second shift: %v; want ErrAmendRepeated", err)
	}
	a2, created, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: 24 * time.Hour}, amendNow, true)
	if err != nil || !created || a2.N != 2 {
		t.Fatalf("second shift with again = %+v, %v, %v", a2, created, err)
	}
	aos, _ := s.AmendOrders("r", 2)
	if !aos[0].Before.Start.Equal(wantStart) || !aos[0].After.Start.Equal(wantStart.Add(24*time.Hour)) {
		t.Errorf("second shift plans %s → %s; want from the moved window", aos[0].Before.Start, aos[0].After.Start)
	}
}

func TestAmendRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	yes := true
	tests := []struct {
		name string
		req  runstore.AmendRequest
		now  time.Time
		want string
	}{
		{"longer than 14 days", runstore.AmendRequest{Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)}, amendNow, "at most 14 days"},
		{"ends before it starts", runstore.AmendRequest{Start: time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}, amendNow, "before it starts"},
		{"start in the past", runstore.AmendRequest{Shift: -48 * time.Hour}, amendNow, "in the past"},
		{"shift and window", runstore.AmendRequest{Shift: time.Hour, Start: amendNow, End: amendNow.Add(time.Hour)}, amendNow, "not both"},
		{"nothing", runstore.AmendRequest{}, amendNow, "changes nothing"},
		{"empty contact", runstore.AmendRequest{OpenCabinet: &yes, Notify: []string{" "}}, amendNow, "empty notification contact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := placedRun(t, 3)
			_, _, err := s.CreateAmendment("r", tt.req, tt.now, false)
			var re *runstore.RefusedError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CreateAmendment = %v; want refused: %q", err, tt.want)
			}
			if as, _ := s.Amendments("r"); len(as) != 0 {
				t.Errorf("%d amendments recorded after a refusal", len(as))
			}
		})
	}
}

func TestAmendRefusesUnplacedAndSplitRuns(t *testing.T) {
	t.Parallel()
	t.Run("orders not placed", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		createRun(t, s, "r", specs(3, 1), nil)
		_, _, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: time.Hour}, amendNow, false)
		if err == nil || !strings.Contains(err.Error(), "not placed yet") {
			t.Errorf("CreateAmendment = %v; want refused: not placed yet", err)
		}
	})
	t.Run("window for orders of two windows", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		o := specs(2, 1)
		o[1].Start, o[1].End = o[0].End, o[0].End.Add(time.Hour)
		createRun(t, s, "r", o, nil)
		if _, err := Submit(context.Background(), s, "r", newFakeAPI(), testConfig(newClock())); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.CreateAmendment("r", runstore.AmendRequest{Start: o[0].Start.Add(time.Hour), End: o[0].End.Add(time.Hour)}, amendNow, false)
		if err == nil || !strings.Contains(err.Error(), "2 different windows") {
			t.Errorf("CreateAmendment = %v; want refused: different windows", err)
		}
		// A shift moves them together.
		if _, _, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: time.Hour}, amendNow, false); err != nil {
			t.Errorf("shift: %v", err)
		}
	})
}

func TestAmendResumesWithoutSendingTwice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// applied: whether the update left sending by the "crash" reached
		// Equinix; hide: the read-back shows nothing.
		applied, hide bool
		wantSent      int // updates sent for the order by Amend
		wantNote      string
	}{
		{name: "applied before the crash", applied: true, wantSent: 0, wantNote: "found applied"},
		{name: "lost before it left", applied: false, wantSent: 1},
		{name: "read-back shows nothing", applied: true, hide: true, wantSent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := placedRun(t, 4)
			api := newFakeOrders(s, "r")
			api.hide = tt.hide
			yes := true
			a, _, err := s.CreateAmendment("r", runstore.AmendRequest{OpenCabinet: &yes, Notify: []string{"jane.visitor"}}, amendNow, false)
			if err != nil {
				t.Fatal(err)
			}
			// A crash after the intent was recorded: order 0 is sending.
			ao, err := s.MarkAmendSending("r", a.N, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.applied {
				if err := api.Update(context.Background(), ao.OrderID, ao.Change); err != nil {
					t.Fatal(err)
				}
				api.sent[ao.OrderID] = 0
			}
			// Amending with a different request is refused while it is
			// unfinished; the same request resumes it.
			if _, _, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: time.Hour}, amendNow, false); !errors.Is(err, runstore.ErrAmendUnfinished) {
				t.Errorf("other amendment while unfinished: %v; want ErrAmendUnfinished", err)
			}
			again, created, err := s.CreateAmendment("r", runstore.AmendRequest{OpenCabinet: &yes, Notify: []string{"jane.visitor"}}, amendNow, false)
			if err != nil || created || again.N != a.N {
				t.Fatalf("same amendment again = %+v, %v, %v; want amendment %d resumed", again, created, err, a.N)
			}
			tally, err := Amend(context.Background(), s, "r", a.N, api, amendConfig(newClock()))
			if err != nil {
				t.Fatal(err)
			}
			if tally.Applied != 4 {
				t.Errorf("tally = %+v; want 4 applied", tally)
			}
			if got := api.sent[ao.OrderID]; got != tt.wantSent {
				t.Errorf("order left sending: %d updates sent on resume; want %d", got, tt.wantSent)
			}
			if api.updates[ao.OrderID] != 1 && !tt.hide {
				t.Errorf("order left sending applied %d times; want once", api.updates[ao.OrderID])
			}
			h := api.held[ao.OrderID]
			if !*h.OpenCabinet || !slices.Equal(h.Notify, []string{"noc.amsterdam", "jane.visitor"}) {
				t.Errorf("Equinix holds open cabinet %v, notify %v; want true and both contacts", *h.OpenCabinet, h.Notify)
			}
			aos, _ := s.AmendOrders("r", a.N)
			if !strings.Contains(aos[0].Note, tt.wantNote) {
				t.Errorf("note %q; want %q", aos[0].Note, tt.wantNote)
			}
			// The same options again change nothing: no order is sent.
			a2, _, err := s.CreateAmendment("r", runstore.AmendRequest{OpenCabinet: &yes, Notify: []string{"jane.visitor"}}, amendNow, false)
			if err != nil || a2.Orders[runstore.AmendUnchanged] != 4 || a2.State != runstore.AmendDone {
				t.Errorf("same options again = %+v, %v; want 4 unchanged, done", a2, err)
			}
		})
	}
}

func TestAmendAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		update  func(id string, n int) (bool, error)
		current func(id string, n int) error
		closeID bool // order of seq 0 is closed at Equinix
		want    map[runstore.AmendOrderState]int
		// wantSent and wantApplied count updates of the order of seq 0.
		wantSent, wantApplied int
		wantErr               bool
	}{
		{
			name:   "retryable then applied",
			update: func(_ string, n int) (bool, error) { return n > 1, map[bool]error{true: errBusy}[n == 1] },
			want:   map[runstore.AmendOrderState]int{runstore.AmendApplied: 3}, wantSent: 2, wantApplied: 1,
		},
		{
			name:   "uncertain answer, applied: read back, not sent again",
			update: func(_ string, n int) (bool, error) { return true, map[bool]error{true: errTimeout}[n == 1] },
			want:   map[runstore.AmendOrderState]int{runstore.AmendApplied: 3}, wantSent: 1, wantApplied: 1,
		},
		{
			name:   "uncertain answer, not applied: read back, sent again",
			update: func(_ string, n int) (bool, error) { return n > 1, map[bool]error{true: errTimeout}[n == 1] },
			want:   map[runstore.AmendOrderState]int{runstore.AmendApplied: 3}, wantSent: 2, wantApplied: 1,
		},
		{
			name:    "closed order skipped",
			closeID: true,
			want:    map[runstore.AmendOrderState]int{runstore.AmendApplied: 2, runstore.AmendSkipped: 1}, wantSent: 1,
		},
		{
			name:   "refused for good",
			update: func(_ string, n int) (bool, error) { return false, errPast },
			want:   map[runstore.AmendOrderState]int{runstore.AmendFailed: 3}, wantSent: 1,
		},
		{
			name:    "read-back keeps failing: left sending",
			update:  func(_ string, n int) (bool, error) { return false, errTimeout },
			current: func(string, int) error { return errBusy },
			want:    map[runstore.AmendOrderState]int{runstore.AmendSending: 3}, wantSent: 1, wantErr: true,
		},
		{
			name:   "credentials refused: stops, left pending",
			update: func(_ string, n int) (bool, error) { return false, errAuth },
			want:   nil, wantSent: 1, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := placedRun(t, 3)
			api := newFakeOrders(s, "r")
			api.update, api.current = tt.update, tt.current
			orders, _ := s.Orders("r")
			first := orders[0].OrderID
			if tt.closeID {
				api.held[first].Open, api.held[first].Status = false, "CLOSED"
			}
			a, _, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: 2 * time.Hour}, amendNow, false)
			if err != nil {
				t.Fatal(err)
			}
			cfg := amendConfig(newClock())
			cfg.Concurrency = 1
			_, err = Amend(context.Background(), s, "r", a.N, api, cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Amend: %v; want error %v", err, tt.wantErr)
			}
			got, _ := s.Amendment("r", a.N)
			if tt.want != nil && !maps.Equal(got.Orders, tt.want) {
				t.Errorf("orders by state %v; want %v", got.Orders, tt.want)
			}
			if tt.wantErr == (got.State == runstore.AmendDone) {
				t.Errorf("amendment %s after Amend error %v", got.State, err)
			}
			if api.sent[first] != tt.wantSent || api.updates[first] != tt.wantApplied {
				t.Errorf("order %s: %d sent, %d applied; want %d, %d", first, api.sent[first], api.updates[first], tt.wantSent, tt.wantApplied)
			}
			for _, ao := range mustAmendOrders(t, s, a.N) {
				if ao.State == runstore.AmendFailed && (ao.Error == nil || ao.Error.Status != 400) {
					t.Errorf("failed order %s records error %+v; want the 400", ao.Key, ao.Error)
				}
				if ao.State == runstore.AmendSkipped && ao.Note == "" {
					t.Errorf("skipped order %s has no note", ao.Key)
				}
				o := orderOf(t, s, "r", ao.Key)
				if moved := o.Start.Equal(ao.After.Start); moved != (ao.State == runstore.AmendApplied) {
					t.Errorf("order %s is %s and starts %s in the store", ao.Key, ao.State, o.Start)
				}
			}
		})
	}
}

func mustAmendOrders(t *testing.T, s *runstore.Store, n int) []runstore.AmendOrder {
	t.Helper()
	aos, err := s.AmendOrders("r", n)
	if err != nil {
		t.Fatal(err)
	}
	return aos
}

func TestAmendSkipsCancelledOrders(t *testing.T) {
	t.Parallel()
	s, specs := placedRun(t, 3)
	if err := s.MarkCancelling("r", specs[1].Key); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCancelled("r", specs[1].Key); err != nil {
		t.Fatal(err)
	}
	api := newFakeOrders(s, "r")
	a, _, err := s.CreateAmendment("r", runstore.AmendRequest{Shift: time.Hour}, amendNow, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Orders[runstore.AmendSkipped] != 1 || a.Orders[runstore.AmendPending] != 2 {
		t.Errorf("orders %v; want 1 skipped, 2 pending", a.Orders)
	}
	tally, err := Amend(context.Background(), s, "r", a.N, api, amendConfig(newClock()))
	if err != nil || tally.Sent != 2 || tally.Skipped != 1 {
		t.Errorf("Amend = %+v, %v; want 2 sent, 1 skipped", tally, err)
	}
}

func TestAmendOfSomeOrders(t *testing.T) {
	t.Parallel()
	s, specs := placedRun(t, 3)
	api := newFakeOrders(s, "r")
	start, end := specs[1].Start.Add(time.Hour), specs[1].End.Add(time.Hour)
	a, _, err := s.CreateAmendment("r", runstore.AmendRequest{Start: start, End: end, Keys: []string{specs[1].Key}}, amendNow, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Orders[runstore.AmendPending] != 1 || len(a.Orders) != 1 {
		t.Fatalf("orders %v; want the one order named", a.Orders)
	}
	if _, err := Amend(context.Background(), s, "r", a.N, api, amendConfig(newClock())); err != nil {
		t.Fatal(err)
	}
	for i, sp := range specs {
		o := orderOf(t, s, "r", sp.Key)
		moved := o.Start.Equal(start)
		if moved != (i == 1) || api.sent[o.OrderID] != map[bool]int{true: 1}[i == 1] {
			t.Errorf("order %d: starts %s, %d updates sent; want only order 1 moved", i, o.Start, api.sent[o.OrderID])
		}
	}
}
