package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// apiError is an error from the fake API, of a known class.
type apiError struct {
	class  ErrorClass
	status int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func classify(err error) ErrorClass {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.class
	}
	return Uncertain
}

func toStored(err error) runstore.StoredError {
	var ae *apiError
	if errors.As(err, &ae) {
		return runstore.StoredError{Status: ae.status, Message: ae.msg}
	}
	return runstore.StoredError{Message: err.Error()}
}

// testPolicy is an error policy of functions: by default the one of the
// tests' API errors (classify, toStored, no Retry-After).
type testPolicy struct {
	classify   func(error) ErrorClass
	retryAfter func(error) time.Duration
	toStored   func(error) runstore.StoredError
}

func newTestPolicy() *testPolicy { return &testPolicy{classify: classify, toStored: toStored} }

func (p *testPolicy) Classify(err error) ErrorClass           { return p.classify(err) }
func (p *testPolicy) ToStored(err error) runstore.StoredError { return p.toStored(err) }
func (p *testPolicy) RetryAfter(err error) time.Duration {
	if p.retryAfter == nil {
		return 0
	}
	return p.retryAfter(err)
}

// policyOf is the testPolicy of a testConfig.
func policyOf(cfg RunConfig) *testPolicy { return cfg.Policy.(*testPolicy) }

// classifyOnly classifies the tests' API errors and keeps only their
// messages.
type classifyOnly struct{ defaultPolicy }

func (classifyOnly) Classify(err error) ErrorClass { return classify(err) }

var (
	errBusy    = &apiError{Retryable, 503, "service unavailable"}
	errTimeout = &apiError{Uncertain, 0, "timeout awaiting response"}
	errInvalid = &apiError{Final, 400, "invalid visitor"}
	errAuth    = &apiError{Fatal, 401, "invalid client credentials"}
)

// fakeAPI is an Equinix that places orders in memory. Scripted answers
// decide, per call, whether an order is placed and what the caller hears.
type fakeAPI struct {
	// create answers the n-th Create of an order (n from 1): placed says
	// whether the order now exists, err what the caller is told.
	create func(o *runstore.Order, n int) (placed bool, err error)
	// find answers the n-th search for a reference; nil answers from what
	// was placed.
	find   func(ref string, n int) error
	cancel func(orderID string, n int) error
	delay  time.Duration

	mu        sync.Mutex
	placed    map[string]string // reference → order id
	creates   map[string]int
	finds     map[string]int
	cancels   map[string]int
	calls     []string // "create REF", "find REF", "cancel ID" in call order
	inflight  int
	maxFlight int
	next      int
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		placed: map[string]string{}, creates: map[string]int{}, finds: map[string]int{}, cancels: map[string]int{},
	}
}

func (f *fakeAPI) enter(call string) {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.inflight++
	f.maxFlight = max(f.maxFlight, f.inflight)
	f.mu.Unlock()
}

func (f *fakeAPI) leave() {
	f.mu.Lock()
	f.inflight--
	f.mu.Unlock()
}

func (f *fakeAPI) Create(ctx context.Context, o *runstore.Order) (string, error) {
	f.enter("create " + o.Reference)
	defer f.leave()
	if f.delay > 0 {
		time.Sleep(f.delay) // holds requests in flight at once, as a slow API does
	}
	f.mu.Lock()
	f.creates[o.Reference]++
	n := f.creates[o.Reference]
	f.mu.Unlock()
	placed, err := true, error(nil)
	if f.create != nil {
		placed, err = f.create(o, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if placed {
		f.next++
		f.placed[o.Reference] = fmt.Sprintf("1-%d", 100000+f.next)
	}
	if err != nil {
		return "", err
	}
	return f.placed[o.Reference], nil
}

func (f *fakeAPI) FindByReference(ctx context.Context, ref string) (string, bool, error) {
	f.enter("find " + ref)
	defer f.leave()
	f.mu.Lock()
	f.finds[ref]++
	n := f.finds[ref]
	f.mu.Unlock()
	if f.find != nil {
		if err := f.find(ref, n); err != nil {
			return "", false, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.placed[ref]
	return id, ok, nil
}

func (f *fakeAPI) Cancel(ctx context.Context, orderID, reason string) error {
	f.enter("cancel " + orderID)
	defer f.leave()
	f.mu.Lock()
	f.cancels[orderID]++
	n := f.cancels[orderID]
	f.mu.Unlock()
	if f.cancel != nil {
		return f.cancel(orderID, n)
	}
	return nil
}

func (f *fakeAPI) count(m map[string]int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (f *fakeAPI) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// fakeClock moves only when slept on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

func testConfig(c *fakeClock) RunConfig {
	return RunConfig{
		Concurrency: 4,
		MaxAttempts: 4,
		BackoffBase: time.Second,
		BackoffMax:  8 * time.Second,
		SettleDelay: 5 * time.Second,
		Now:         c.Now,
		Sleep:       c.Sleep,
		Policy:      newTestPolicy(),
	}
}

// noResend fails if an order was sent twice without a search in between
// that found nothing.
func noResend(t *testing.T, calls []string) {
	t.Helper()
	mayResend := map[string]bool{}
	for _, c := range calls {
		verb, ref, _ := strings.Cut(c, " ")
		switch verb {
		case "create":
			if sent, ok := mayResend[ref]; ok && !sent {
				t.Errorf("%s sent again without a search first; calls: %v", ref, calls)
			}
			mayResend[ref] = false
		case "find":
			mayResend[ref] = true
		}
	}
}

func TestSubmitSendsEachOrderOnce(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(40, 3)
	createRun(t, s, "r", orders, []runstore.RowOutcome{{Row: 1, Status: runstore.RowInvalid}})
	api := newFakeAPI()
	api.delay = 2 * time.Millisecond
	cfg := testConfig(newClock())
	var progress []Tally
	cfg.Progress = func(t Tally) { progress = append(progress, t) }

	tally, err := Submit(context.Background(), s, "r", api, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Submitted != 40 || tally.Sent != 40 || tally.Planned != 0 || tally.Sending != 0 {
		t.Errorf("tally = %+v", tally)
	}
	for _, o := range orders {
		if api.creates[o.Reference] != 1 {
			t.Errorf("%s created %d times", o.Reference, api.creates[o.Reference])
		}
	}
	if api.maxFlight > 4 || api.maxFlight < 2 {
		t.Errorf("%d requests in flight at most; want 2..4 (Concurrency 4)", api.maxFlight)
	}
	if len(progress) != 40 || progress[len(progress)-1].Submitted != 40 {
		t.Errorf("Progress called %d times, last %+v", len(progress), progress[len(progress)-1])
	}
	got, _ := s.Orders("r")
	for _, o := range got {
		if o.State != runstore.Submitted || o.OrderID != api.placed[o.Reference] {
			t.Errorf("order %s: %s %q; want submitted as %q", o.Key, o.State, o.OrderID, api.placed[o.Reference])
		}
	}
	for _, r := range rowsOf(t, s, "r") {
		if r.Row == 1 {
			if r.Status != runstore.RowInvalid {
				t.Errorf("row 1 = %s; want it left invalid", r.Status)
			}
			continue
		}
		if r.Status != runstore.RowOrdered || len(r.OrderIDs) != 1 {
			t.Errorf("row %d = %+v; want ordered", r.Row, r)
		}
	}
	run := checkCounts(t, s, "r")
	if run.State != runstore.RunDone {
		t.Errorf("run state = %s; want done", run.State)
	}

	// Submitting a finished run again asks nothing.
	tally, err = Submit(context.Background(), s, "r", api, cfg)
	if err != nil || tally.Submitted != 40 || tally.Sent != 0 {
		t.Errorf("second Submit = %+v, %v", tally, err)
	}
	if n := len(api.callLog()); n != 40 {
		t.Errorf("%d API calls in all; want 40", n)
	}
}

func TestSubmitResolvesSendingOrdersFirst(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(4, 1)
	createRun(t, s, "r", orders, nil)
	// A crash left orders 1, 2 and 3 sending; only order 1 reached Equinix.
	for _, o := range orders[1:] {
		if _, err := s.MarkSending("r", o.Key); err != nil {
			t.Fatal(err)
		}
	}
	api := newFakeAPI()
	api.placed[orders[1].Reference] = "1-900"
	api.find = func(ref string, n int) error {
		if ref == orders[3].Reference && n <= 2 {
			return errBusy
		}
		return nil
	}
	// The crash was a minute ago: the orders it left sending have settled.
	clock := newClock()
	clock.now = time.Now().Add(time.Minute)
	cfg := testConfig(clock)
	cfg.Concurrency = 1

	tally, err := Submit(context.Background(), s, "r", api, cfg)
	if err != nil {
		t.Fatal(err)
	}
	calls := api.callLog()
	want3 := []string{"find " + orders[1].Reference, "find " + orders[2].Reference, "find " + orders[3].Reference}
	if !slices.Equal(calls[:3], want3) {
		t.Errorf("first calls = %v; want the searches %v", calls[:3], want3)
	}
	noResend(t, calls)
	if api.creates[orders[1].Reference] != 0 {
		t.Errorf("order found placed was sent again")
	}
	for _, i := range []int{0, 2, 3} {
		if n := api.creates[orders[i].Reference]; n != 1 {
			t.Errorf("order %d created %d times; want 1", i, n)
		}
	}
	if o := orderOf(t, s, "r", orders[1].Key); o.State != runstore.Submitted || o.OrderID != "1-900" {
		t.Errorf("order 1 = %s %s; want submitted as 1-900", o.State, o.OrderID)
	}
	// The intent a crash left, found never placed, may never have been
	// sent: it does not use up an attempt; the resend does.
	if o := orderOf(t, s, "r", orders[2].Key); o.Attempts != 1 {
		t.Errorf("order 2 attempts = %d; want 1 (the resend)", o.Attempts)
	}
	if tally.Submitted != 4 || tally.Found != 1 || tally.Lookups != 5 || tally.Sent != 3 {
		t.Errorf("tally = %+v", tally)
	}
	checkCounts(t, s, "r")
}

func TestSubmitNeverSendsAnUnresolvedOrder(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(2, 1)
	createRun(t, s, "r", orders, nil)
	if _, err := s.MarkSending("r", orders[0].Key); err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI()
	api.find = func(string, int) error { return errBusy }
	cfg := testConfig(newClock())

	tally, err := Submit(context.Background(), s, "r", api, cfg)
	if !errors.Is(err, ErrUnresolved) {
		t.Fatalf("Submit = %v; want ErrUnresolved", err)
	}
	if api.creates[orders[0].Reference] != 0 || api.finds[orders[0].Reference] != cfg.MaxAttempts {
		t.Errorf("unresolved order: %d creates, %d searches; want 0 and %d",
			api.creates[orders[0].Reference], api.finds[orders[0].Reference], cfg.MaxAttempts)
	}
	if tally.Sending != 1 || tally.Submitted != 1 {
		t.Errorf("tally = %+v", tally)
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunInterrupted {
		t.Errorf("run state = %s; want interrupted", run.State)
	}

	// Searches work again: the order is resolved, then sent once.
	api.find = nil
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	if api.creates[orders[0].Reference] != 1 {
		t.Errorf("order created %d times; want 1", api.creates[orders[0].Reference])
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunDone || run.Orders[runstore.Submitted] != 2 {
		t.Errorf("run = %+v", run)
	}
}

func TestSubmitRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		failures   int
		retryAfter time.Duration
		wantState  runstore.OrderState
		wantSent   int
		minWait    time.Duration
		maxWait    time.Duration
	}{
		// Backoff 1s then 2s, each with jitter down to half.
		{"succeeds on the third attempt", 2, 0, runstore.Submitted, 3, 1500 * time.Millisecond, 3 * time.Second},
		{"Retry-After wins over a shorter backoff", 2, 30 * time.Second, runstore.Submitted, 3, 60 * time.Second, 60 * time.Second},
		// 4 attempts with 3 waits: 1s, 2s, 4s (jitter down to half); a
		// failure that may pass is no verdict: the order stays planned.
		{"kept planned after the last attempt", 99, 0, runstore.Planned, 4, 3500 * time.Millisecond, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			orders := specs(1, 2)
			createRun(t, s, "r", orders, nil)
			api := newFakeAPI()
			api.create = func(o *runstore.Order, n int) (bool, error) {
				if n <= tt.failures {
					return false, errBusy
				}
				return true, nil
			}
			clock := newClock()
			start := clock.Now()
			cfg := testConfig(clock)
			if tt.retryAfter > 0 {
				policyOf(cfg).retryAfter = func(error) time.Duration { return tt.retryAfter }
			}
			tally, err := Submit(context.Background(), s, "r", api, cfg)
			if tt.wantState == runstore.Planned {
				if !errors.Is(err, ErrGaveUp) || !strings.Contains(fmt.Sprint(err), "service unavailable") {
					t.Fatalf("Submit = %v; want ErrGaveUp with the last error", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			o := orderOf(t, s, "r", orders[0].Key)
			if o.State != tt.wantState || o.Attempts != tt.wantSent || tally.Sent != tt.wantSent {
				t.Errorf("order %s after %d attempts (%d sent); want %s after %d",
					o.State, o.Attempts, tally.Sent, tt.wantState, tt.wantSent)
			}
			if waited := clock.Now().Sub(start); waited < tt.minWait || waited > tt.maxWait {
				t.Errorf("waited %s between attempts; want %s..%s", waited, tt.minWait, tt.maxWait)
			}
			if tt.wantState == runstore.Planned {
				if o.LastError == nil || o.LastError.Status != 503 {
					t.Errorf("last error = %+v; want the 503", o.LastError)
				}
				for _, r := range rowsOf(t, s, "r") {
					if r.Status != runstore.RowPending {
						t.Errorf("row %d = %+v; want pending", r.Row, r)
					}
				}
				if run := checkCounts(t, s, "r"); run.State != runstore.RunInterrupted {
					t.Errorf("run state = %s; want interrupted", run.State)
				}
			}
			checkCounts(t, s, "r")
		})
	}
}

func TestSubmitUncertainAnswerIsSearchedBeforeResending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		placed      bool // whether the lost request reached Equinix
		wantCreates int
	}{
		{"placed though the answer was lost", true, 1},
		{"never reached Equinix", false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			orders := specs(1, 1)
			createRun(t, s, "r", orders, nil)
			api := newFakeAPI()
			clock := newClock()
			var searchedAt time.Time
			api.create = func(o *runstore.Order, n int) (bool, error) {
				if n == 1 {
					return tt.placed, errTimeout
				}
				return true, nil
			}
			api.find = func(string, int) error { searchedAt = clock.Now(); return nil }
			start := clock.Now()
			cfg := testConfig(clock)

			if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
				t.Fatal(err)
			}
			noResend(t, api.callLog())
			ref := orders[0].Reference
			if api.creates[ref] != tt.wantCreates || api.finds[ref] != 1 {
				t.Errorf("%d creates and %d searches; want %d and 1", api.creates[ref], api.finds[ref], tt.wantCreates)
			}
			if searchedAt.Sub(start) < cfg.SettleDelay {
				t.Errorf("searched %s after the lost answer; want at least %s", searchedAt.Sub(start), cfg.SettleDelay)
			}
			if o := orderOf(t, s, "r", orders[0].Key); o.State != runstore.Submitted || o.OrderID != api.placed[ref] {
				t.Errorf("order = %s %q; want submitted as %q", o.State, o.OrderID, api.placed[ref])
			}
		})
	}
}

func TestSubmitFinalErrorRejects(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(3, 2) // rows 2..7; order 1 has rows 4, 5
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	api.create = func(o *runstore.Order, n int) (bool, error) {
		if o.Seq == 1 {
			return false, errInvalid
		}
		return true, nil
	}
	cfg := testConfig(newClock())
	policyOf(cfg).toStored = func(err error) runstore.StoredError {
		st := toStored(err)
		st.Problems = []runstore.Problem{{Property: "details.visitors[1].email", Reason: "invalid email", Row: 5}}
		return st
	}
	tally, err := Submit(context.Background(), s, "r", api, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tally.Submitted != 2 || tally.Rejected != 1 || api.creates[orders[1].Reference] != 1 {
		t.Errorf("tally = %+v, rejected order sent %d times", tally, api.creates[orders[1].Reference])
	}
	status := map[int]runstore.RowStatus{}
	for _, r := range rowsOf(t, s, "r") {
		status[r.Row] = r.Status
		if r.Row == 5 && (len(r.Problems) != 1 || r.Problems[0].Reason != "invalid email") {
			t.Errorf("row 5 problems = %+v", r.Problems)
		}
	}
	want := map[int]runstore.RowStatus{2: runstore.RowOrdered, 3: runstore.RowOrdered, 4: runstore.RowRejected, 5: runstore.RowRejected, 6: runstore.RowOrdered, 7: runstore.RowOrdered}
	if !maps.Equal(status, want) {
		t.Errorf("rows = %v; want %v", status, want)
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunDone {
		t.Errorf("run state = %s; want done", run.State)
	}
}

func TestSubmitFatalErrorStopsTheRun(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(10, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	api.create = func(o *runstore.Order, n int) (bool, error) {
		if o.Seq == 3 {
			return false, errAuth
		}
		return true, nil
	}
	cfg := testConfig(newClock())
	cfg.Concurrency = 1
	tally, err := Submit(context.Background(), s, "r", api, cfg)
	if !errors.Is(err, errAuth) {
		t.Fatalf("Submit = %v; want the fatal error", err)
	}
	if n := api.count(api.creates); n != 4 {
		t.Errorf("%d orders sent; want 4 (none after the fatal answer): %v", n, api.callLog())
	}
	if tally.Submitted != 3 || tally.Planned != 7 {
		t.Errorf("tally = %+v", tally)
	}
	if o := orderOf(t, s, "r", orders[3].Key); o.State != runstore.Planned || o.LastError == nil || o.LastError.Status != 401 {
		t.Errorf("refused order = %s %+v; want planned with the 401", o.State, o.LastError)
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunInterrupted {
		t.Errorf("run state = %s; want interrupted", run.State)
	}

	api.create = nil
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	for i, o := range orders {
		want := 1
		if i == 3 {
			want = 2
		}
		if api.creates[o.Reference] != want {
			t.Errorf("%s created %d times; want %d", o.Reference, api.creates[o.Reference], want)
		}
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunDone || run.Orders[runstore.Submitted] != 10 {
		t.Errorf("run = %+v", run)
	}
}

func TestSubmitInterruptedRunResumes(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(30, 2)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	api.delay = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api.create = func(o *runstore.Order, n int) (bool, error) {
		if o.Seq == 8 {
			cancel() // SIGINT while requests are in flight
		}
		return true, nil
	}
	cfg := testConfig(newClock())
	tally, err := Submit(ctx, s, "r", api, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit = %v; want context.Canceled", err)
	}
	// Orders 0 to 8, those in flight with order 8, and those whose intent
	// was durable before order 8's and went ahead of it: at most
	// Concurrency of each.
	sent := api.count(api.creates)
	if sent > 9+2*cfg.Concurrency || sent < 9 {
		t.Errorf("%d orders sent before stopping; want 9..%d", sent, 9+2*cfg.Concurrency)
	}
	run := checkCounts(t, s, "r")
	if run.State != runstore.RunInterrupted || run.Orders[runstore.Sending] != 0 || run.Orders[runstore.Submitted] != sent {
		t.Errorf("after interruption: %+v; want every sent order recorded submitted", run)
	}
	if tally.Submitted != sent {
		t.Errorf("tally = %+v", tally)
	}

	api.create = nil
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		if api.creates[o.Reference] != 1 {
			t.Errorf("%s created %d times; want 1", o.Reference, api.creates[o.Reference])
		}
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunDone || run.Orders[runstore.Submitted] != 30 {
		t.Errorf("run = %+v", run)
	}
}

// hangingAPI never answers Create until its context ends.
type hangingAPI struct{ *fakeAPI }

func (h hangingAPI) Create(ctx context.Context, o *runstore.Order) (string, error) {
	h.enter("create " + o.Reference)
	defer h.leave()
	h.mu.Lock()
	h.creates[o.Reference]++
	h.placed[o.Reference] = "1-555" // it reached Equinix
	h.mu.Unlock()
	<-ctx.Done()
	return "", ctx.Err()
}

func TestSubmitDrainTimeoutLeavesOrderToBeSearched(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(1, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	cfg := testConfig(newClock())
	cfg.DrainTimeout = 20 * time.Millisecond
	policyOf(cfg).classify = func(error) ErrorClass { return Retryable } // even so, a cut-short request is uncertain
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Submit(ctx, s, "r", hangingAPI{api}, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit = %v; want ctx's error", err)
	}
	if o := orderOf(t, s, "r", orders[0].Key); o.State != runstore.Sending {
		t.Fatalf("order cut short is %s; want sending", o.State)
	}
	policyOf(cfg).classify = classify
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	noResend(t, api.callLog())
	if o := orderOf(t, s, "r", orders[0].Key); o.State != runstore.Submitted || o.OrderID != "1-555" || api.creates[orders[0].Reference] != 1 {
		t.Errorf("order = %s %s after %d creates; want submitted as 1-555 after 1", o.State, o.OrderID, api.creates[orders[0].Reference])
	}
}

func TestSubmitRejectsBadConfig(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	createRun(t, s, "r", specs(1, 1), nil)
	for _, cfg := range []RunConfig{{Concurrency: -1}, {MaxAttempts: -2}, {BackoffBase: time.Minute, BackoffMax: time.Second}} {
		if _, err := Submit(context.Background(), s, "r", newFakeAPI(), cfg); err == nil {
			t.Errorf("Submit with %+v succeeded", cfg)
		}
	}
	if _, err := Submit(context.Background(), s, "nope", newFakeAPI(), RunConfig{}); !errors.Is(err, runstore.ErrNotFound) {
		t.Errorf("Submit of an unknown run = %v; want ErrNotFound", err)
	}
}

// markSubmitted takes every order of a run but the last leave through
// sending to submitted, many at once so that the store gathers the changes
// into few commits, and marks the run done when none is left.
func markSubmitted(t testing.TB, s *runstore.Store, runID string, leave int) {
	t.Helper()
	orders, err := s.Orders(runID)
	if err != nil {
		t.Fatal(err)
	}
	orders = orders[:len(orders)-leave]
	var g errgroup.Group
	g.SetLimit(256)
	for _, o := range orders {
		g.Go(func() error {
			if _, err := s.MarkSending(runID, o.Key); err != nil {
				return err
			}
			return s.MarkSubmitted(runID, o.Key, "1-"+o.Reference)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if leave == 0 {
		if err := s.SetRunState(runID, runstore.RunDone); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSubmitOfALargeRunNearlyDoneIsQuick(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large run")
	}
	tests := []struct {
		name  string
		leave int // orders left planned
	}{
		{"finished", 0},
		{"one order left", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			createRun(t, s, "r", specs(20000, 2), nil)
			markSubmitted(t, s, "r", tt.leave)
			checkCounts(t, s, "r")
			api := newFakeAPI()
			start := time.Now()
			tally, err := Submit(context.Background(), s, "r", api, RunConfig{Policy: classifyOnly{}})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(api.callLog()); n != tt.leave || tally.Submitted != 20000 {
				t.Errorf("%d calls, tally %+v; want %d calls and 20000 submitted", n, tally, tt.leave)
			}
			limit := 2 * time.Second
			if raceEnabled {
				limit *= 5
			}
			if took > limit {
				t.Errorf("Submit of a 20,000-order run with %d left took %s; want under %s", tt.leave, took, limit)
			}
			t.Logf("Submit of a 20,000-order run with %d left: %s", tt.leave, took)
			if run := checkCounts(t, s, "r"); run.State != runstore.RunDone {
				t.Errorf("run state = %s; want done", run.State)
			}
		})
	}
}

func TestCancelRun(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(6, 1) // rows 2..7
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	// Orders 0-3 submitted, 4 planned, 5 left sending though it reached Equinix.
	for i, o := range orders {
		switch {
		case i < 4:
			if _, err := s.MarkSending("r", o.Key); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkSubmitted("r", o.Key, fmt.Sprintf("1-%d", i)); err != nil {
				t.Fatal(err)
			}
		case i == 5:
			if _, err := s.MarkSending("r", o.Key); err != nil {
				t.Fatal(err)
			}
			api.placed[o.Reference] = "1-5"
		}
	}
	alreadyCancelled := &apiError{Done, 403, "order already cancelled"}
	api.cancel = func(id string, n int) error {
		switch {
		case id == "1-1":
			return alreadyCancelled
		case id == "1-2" && n == 1:
			return errBusy
		case id == "1-3":
			return errInvalid
		}
		return nil
	}
	cfg := testConfig(newClock())
	tally, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg)
	if err == nil || !strings.Contains(err.Error(), "1 of 6") {
		t.Errorf("Cancel = %v; want 1 of 6 orders not cancelled", err)
	}
	if tally.Cancelled != 5 || tally.Submitted != 1 || tally.Retries != 1 {
		t.Errorf("tally = %+v", tally)
	}
	want := map[string]runstore.OrderState{}
	for i, o := range orders {
		want[o.Key] = runstore.Cancelled
		if i == 3 {
			want[o.Key] = runstore.Submitted
		}
	}
	got, _ := s.Orders("r")
	for _, o := range got {
		if o.State != want[o.Key] {
			t.Errorf("order %d = %s; want %s", o.Seq, o.State, want[o.Key])
		}
	}
	if o := orderOf(t, s, "r", orders[3].Key); o.LastError == nil || o.LastError.Status != 400 {
		t.Errorf("refused cancellation: last error = %+v", o.LastError)
	}
	if api.cancels["1-4"] != 0 || api.cancels["1-5"] != 1 {
		t.Errorf("cancel calls = %v; want none for the planned order, one for the one found", api.cancels)
	}
	for _, r := range rowsOf(t, s, "r") {
		want := runstore.RowCancelled
		if r.Row == 5 { // order 3's row
			want = runstore.RowOrdered
		}
		if r.Status != want {
			t.Errorf("row %d = %s; want %s", r.Row, r.Status, want)
		}
	}
	claims, _ := s.AlreadyOrdered(sandbox, slices.Concat(orders[0].VisitorKeys, orders[3].VisitorKeys))
	if len(claims) != 1 || claims[orders[3].VisitorKeys[0]].OrderID != "1-3" {
		t.Errorf("claims after cancel = %v; want only order 3's", claims)
	}
	if run := checkCounts(t, s, "r"); run.State == runstore.RunCancelled {
		t.Errorf("run is cancelled with an order still placed")
	}

	api.cancel = nil
	before := api.count(api.cancels)
	if _, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg); err != nil {
		t.Fatal(err)
	}
	if n := api.count(api.cancels) - before; n != 1 {
		t.Errorf("second Cancel made %d calls; want 1", n)
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunCancelled || run.Orders[runstore.Cancelled] != 6 {
		t.Errorf("run = %+v", run)
	}
	// A cancelled run has nothing to submit.
	if tally, err := Submit(context.Background(), s, "r", api, cfg); err != nil || tally.Sent != 0 {
		t.Errorf("Submit of a cancelled run = %+v, %v", tally, err)
	}
}

func TestCancelStopsOnFatal(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(5, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	cfg := testConfig(newClock())
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	api.cancel = func(string, int) error { return errAuth }
	cfg.Concurrency = 1
	_, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg)
	if !errors.Is(err, errAuth) {
		t.Fatalf("Cancel = %v; want the fatal error", err)
	}
	if n := api.count(api.cancels); n != 1 {
		t.Errorf("%d cancel calls; want 1 (none after the fatal answer)", n)
	}
	run := checkCounts(t, s, "r")
	if run.Orders[runstore.Cancelling] != 1 || run.Orders[runstore.Submitted] != 4 {
		t.Errorf("orders = %v; want one left cancelling, four submitted", run.Orders)
	}
}

// blockingAPI holds every Create until unblock is closed.
type blockingAPI struct {
	*fakeAPI
	started chan struct{}
	unblock chan struct{}
}

func (b blockingAPI) Create(ctx context.Context, o *runstore.Order) (string, error) {
	b.started <- struct{}{}
	<-b.unblock
	return b.fakeAPI.Create(ctx, o)
}

func TestSubmitOneRunAtATime(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(1, 1)
	createRun(t, s, "r", orders, nil)
	api := blockingAPI{newFakeAPI(), make(chan struct{}, 1), make(chan struct{})}
	cfg := testConfig(newClock())
	done := make(chan error)
	go func() {
		_, err := Submit(context.Background(), s, "r", api, cfg)
		done <- err
	}()
	<-api.started
	if _, err := Submit(context.Background(), s, "r", api, cfg); !errors.Is(err, runstore.ErrRunActive) {
		t.Errorf("second Submit of a run in progress = %v; want ErrRunActive", err)
	}
	if _, err := Cancel(context.Background(), s, "r", api, "reason", cfg); !errors.Is(err, runstore.ErrRunActive) {
		t.Errorf("Cancel of a run in progress = %v; want ErrRunActive", err)
	}
	close(api.unblock)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if api.creates[orders[0].Reference] != 1 {
		t.Errorf("order created %d times; want 1", api.creates[orders[0].Reference])
	}
	// Done: the run can be submitted again (and has nothing to send).
	if tally, err := Submit(context.Background(), s, "r", api, cfg); err != nil || tally.Sent != 0 {
		t.Errorf("Submit after the first one ended = %+v, %v", tally, err)
	}
}

// TestSubmitLetsARecentIntentSettle: an order left sending moments ago may
// have a request still on its way; it is searched for only once
// SettleDelay has passed since its intent, and the other orders go on.
func TestSubmitLetsARecentIntentSettle(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, err := runstore.Open(filepath.Join(t.TempDir(), "wvbatch.db"), runstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	orders := specs(2, 1)
	createRun(t, s, "r", orders, nil)
	if _, err := s.MarkSending("r", orders[0].Key); err != nil {
		t.Fatal(err)
	}
	marked := clock.Now()
	clock.now = clock.now.Add(time.Second) // the process died, and was restarted at once
	api := newFakeAPI()
	var searched time.Time
	api.find = func(ref string, n int) error {
		searched = clock.Now()
		return nil
	}
	cfg := testConfig(clock)
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	if got := searched.Sub(marked); got < cfg.SettleDelay {
		t.Errorf("searched %s after the intent; want at least SettleDelay (%s)", got, cfg.SettleDelay)
	}
	calls := api.callLog()
	find, resend := slices.Index(calls, "find "+orders[0].Reference), slices.Index(calls, "create "+orders[0].Reference)
	if len(calls) != 3 || !slices.Contains(calls, "create "+orders[1].Reference) || find < 0 || resend < find {
		t.Errorf("calls = %v; want the other order created, and the search before the resend", calls)
	}
	checkCounts(t, s, "r")
}

// panicAPI panics on its second create.
type panicAPI struct {
	*fakeAPI
	n atomic.Int32
}

func (p *panicAPI) Create(ctx context.Context, o *runstore.Order) (string, error) {
	if p.n.Add(1) == 2 {
		panic("submitter bug")
	}
	return p.fakeAPI.Create(ctx, o)
}

// TestSubmitRecoversPanics: a panic in the Submitter stops the run with an
// error instead of the process, and resuming finishes it.
func TestSubmitRecoversPanics(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(6, 1)
	createRun(t, s, "r", orders, nil)
	api := &panicAPI{fakeAPI: newFakeAPI()}
	cfg := testConfig(newClock())
	cfg.Concurrency = 1
	_, err := Submit(context.Background(), s, "r", api, cfg)
	if err == nil || !strings.Contains(err.Error(), "panic: submitter bug") {
		t.Fatalf("Submit = %v; want the panic as an error", err)
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunInterrupted {
		t.Errorf("run state %s; want interrupted", run.State)
	}
	if _, err := Submit(context.Background(), s, "r", api.fakeAPI, cfg); err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		if n := api.creates[o.Reference]; n != 1 {
			t.Errorf("%s created %d times; want 1", o.Reference, n)
		}
	}
}

// TestCancelRecoversPanics: a panic in the Canceller stops the cancel with
// an error, what was recorded stays, and cancelling again finishes.
func TestCancelRecoversPanics(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(3, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	cfg := testConfig(newClock())
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	api.cancel = func(string, int) error { panic("canceller bug") }
	if _, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg); err == nil || !strings.Contains(err.Error(), "panic: canceller bug") {
		t.Fatalf("Cancel = %v; want the panic as an error", err)
	}
	checkCounts(t, s, "r")
	api.cancel = nil
	if _, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg); err != nil {
		t.Fatal(err)
	}
	if run := checkCounts(t, s, "r"); run.Orders[runstore.Cancelled] != 3 {
		t.Errorf("orders = %v; want all three cancelled", run.Orders)
	}
}
