package queue

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// A cancel waiting to be retried when the call stops on a fatal answer is
// recorded not cancelled, with its error, and is not asked again; the
// order that met the fatal answer stays cancelling.
func TestCancelRecordsARetryLeftWhenItStops(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(2, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	cfg := testConfig(newClock())
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	first := orderOf(t, s, "r", orders[0].Key).OrderID
	api.cancel = func(id string, n int) error {
		if id == first {
			return errBusy
		}
		return errAuth
	}
	cfg.Concurrency = 1
	_, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg)
	if !errors.Is(err, errAuth) {
		t.Fatalf("Cancel = %v; want the fatal error", err)
	}
	if n := api.cancels[first]; n != 1 {
		t.Errorf("the order met by a busy answer was asked %d times; want once (none after the fatal answer)", n)
	}
	o := orderOf(t, s, "r", orders[0].Key)
	if o.State != runstore.Submitted || o.LastError == nil || o.LastError.Status != 503 {
		t.Errorf("order waiting for its retry: %s, last error %+v; want submitted with the 503", o.State, o.LastError)
	}
	if o := orderOf(t, s, "r", orders[1].Key); o.State != runstore.Cancelling {
		t.Errorf("order met by the fatal answer: %s; want cancelling", o.State)
	}
	checkCounts(t, s, "r")
}

// Cancelling warns during an outage as placing does: the engine's.
func TestCancelWarnsDuringAnOutage(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(3, 1)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	if _, err := Submit(context.Background(), s, "r", api, testConfig(newClock())); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cfg := RunConfig{Concurrency: 1, Policy: newTestPolicy(),
		WarnEvery: 30 * time.Millisecond, Logger: zerolog.New(&logs).Level(zerolog.WarnLevel)}
	var up atomic.Bool
	cfg.Outage = func() (time.Duration, string) {
		if up.Load() {
			return 0, ""
		}
		return 90 * time.Second, "connection refused"
	}
	warned := logs.logged("Equinix unreachable")
	api.cancel = func(string, int) error {
		await(warned) // the outage lasts while the first cancel waits
		up.Store(true)
		return nil
	}
	if _, err := Cancel(context.Background(), s, "r", api, "event postponed", cfg); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); !strings.Contains(out, "Equinix unreachable for 1m30s: connection refused; retrying, 3 orders waiting") {
		t.Errorf("no outage warning with 3 orders waiting in:\n%s", out)
	}
}
