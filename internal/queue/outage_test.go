package queue

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	waiting []logWaiter
}

type logWaiter struct {
	s  string
	ch chan struct{}
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.b.Write(p)
	kept := l.waiting[:0]
	for _, w := range l.waiting {
		if bytes.Contains(l.b.Bytes(), []byte(w.s)) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	l.waiting = kept
	return n, err
}

// logged returns a channel closed once what was written holds s.
func (l *lockedBuffer) logged(s string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if bytes.Contains(l.b.Bytes(), []byte(s)) {
		close(ch)
	} else {
		l.waiting = append(l.waiting, logWaiter{s, ch})
	}
	return ch
}

// await waits, at most 10 seconds, until ch is closed: from an API call of
// the fakes, which cannot fail the test (the test's checks of the log do).
func await(ch <-chan struct{}) {
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
	}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An outage longer than every retry budget leaves the orders planned, never
// rejected, and stops the run; once the API is back, submitting the run
// again places every order exactly once.
func TestSubmitOutageLongerThanTheRetryBudget(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(6, 2)
	createRun(t, s, "r", orders, nil)
	var down atomic.Bool
	down.Store(true)
	api := newFakeAPI()
	api.create = func(o *runstore.Order, n int) (bool, error) {
		if down.Load() {
			// Half the sends are refused outright, half time out after
			// the request went: the order was not placed either way.
			if n%2 == 0 {
				return false, errTimeout
			}
			return false, errBusy
		}
		return true, nil
	}
	api.find = func(string, int) error {
		if down.Load() {
			return errBusy
		}
		return nil
	}
	cfg := testConfig(newClock())
	cfg.MaxAttempts = 3

	tally, err := Submit(context.Background(), s, "r", api, cfg)
	if !errors.Is(err, ErrGaveUp) && !errors.Is(err, ErrUnresolved) {
		t.Fatalf("Submit during the outage = %v; want it stopped (ErrGaveUp or ErrUnresolved)", err)
	}
	if tally.Rejected != 0 || tally.Submitted != 0 {
		t.Errorf("tally during the outage = %+v; want nothing rejected or submitted", tally)
	}
	run := checkCounts(t, s, "r")
	if run.State != runstore.RunInterrupted || run.Orders[runstore.Rejected] != 0 {
		t.Errorf("run after the outage = %s %v; want interrupted, nothing rejected", run.State, run.Orders)
	}
	for _, r := range rowsOf(t, s, "r") {
		if r.Status != runstore.RowPending {
			t.Errorf("row %d = %s; want pending", r.Row, r.Status)
		}
	}

	down.Store(false)
	tally, err = Submit(context.Background(), s, "r", api, cfg)
	if err != nil {
		t.Fatalf("Submit once the API is back = %v", err)
	}
	if tally.Submitted != len(orders) {
		t.Errorf("tally = %+v; want %d submitted", tally, len(orders))
	}
	for _, o := range orders {
		if api.placed[o.Reference] == "" {
			t.Errorf("order %s not placed", o.Reference)
		}
	}
	if n := len(api.placed); n != len(orders) {
		t.Errorf("%d orders placed; want %d", n, len(orders))
	}
	if run := checkCounts(t, s, "r"); run.State != runstore.RunDone || run.Orders[runstore.Submitted] != len(orders) {
		t.Errorf("run = %s %v; want done, all submitted", run.State, run.Orders)
	}
}

// While the API is down, a warning says so at every WarnEvery, with how
// long, why and how many orders wait, whatever the output.
func TestSubmitWarnsDuringAnOutage(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(3, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	var logs lockedBuffer
	answers := logs.logged("Equinix answers again")
	api.create = func(o *runstore.Order, n int) (bool, error) {
		await(answers) // the outage lasts while the first order is in flight
		return true, nil
	}
	cfg := RunConfig{Concurrency: 1, Policy: newTestPolicy(),
		WarnEvery: 30 * time.Millisecond, Logger: zerolog.New(&logs).Level(zerolog.WarnLevel)}
	var calls atomic.Int32
	cfg.Outage = func() (time.Duration, string) {
		if calls.Add(1) > 6 {
			return 0, ""
		}
		return 90 * time.Second, "connection refused"
	}
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if n := strings.Count(out, "Equinix unreachable for 1m30s: connection refused; retrying, 3 orders waiting"); n < 1 {
		t.Errorf("no outage warning with 3 orders waiting in:\n%s", out)
	}
	if !strings.Contains(out, "Equinix answers again") {
		t.Errorf("no line when the API answers again in:\n%s", out)
	}
}
