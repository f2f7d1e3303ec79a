package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/backoff"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Defaults for RunConfig.
const (
	ConcurrencyDefault  = 8
	MaxAttemptsDefault  = 8
	BackoffBaseDefault  = time.Second
	BackoffMaxDefault   = time.Minute
	SettleDelayDefault  = 5 * time.Second
	DrainTimeoutDefault = 30 * time.Second
	WarnEveryDefault    = 30 * time.Second
)

// RunConfig configures Submit, Cancel and CancelOrder, and Amend through
// AmendConfig; the zero value means defaults.
type RunConfig struct {
	// Concurrency bounds the requests in flight.
	Concurrency int
	// MaxAttempts bounds the requests sent for one order in one call (and
	// the searches for one uncertain order) before the call gives up: an
	// order that failed only in ways that may pass is left planned and the
	// run stops (ErrGaveUp); it is never rejected for it.
	MaxAttempts int
	// BackoffBase is the wait after the first retryable failure; it doubles
	// with each attempt up to BackoffMax, with jitter.
	BackoffBase, BackoffMax time.Duration
	// SettleDelay is how long to wait after an uncertain answer before
	// searching for the order, so that Equinix has finished placing it.
	SettleDelay time.Duration
	// DrainTimeout is how long requests in flight may go on once ctx is
	// cancelled.
	DrainTimeout time.Duration

	// Now and Sleep are the clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// Policy says what the API's errors mean; nil treats every error as
	// Uncertain and keeps its message only.
	Policy ErrorPolicy
	// Progress, if set, is called after each order changes state, from
	// one goroutine.
	Progress func(Tally)
	// Outage, if set, tells how long the API has been failing to answer
	// and why (0 while it answers). While it is down, a warning is logged
	// every WarnEvery (default 30s) with the number of orders waiting.
	Outage    func() (down time.Duration, cause string)
	WarnEvery time.Duration
	Logger    zerolog.Logger
}

func (c RunConfig) withDefaults() RunConfig {
	c.Concurrency = cmp.Or(c.Concurrency, ConcurrencyDefault)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, MaxAttemptsDefault)
	c.BackoffBase = cmp.Or(c.BackoffBase, BackoffBaseDefault)
	c.BackoffMax = cmp.Or(c.BackoffMax, BackoffMaxDefault)
	c.SettleDelay = cmp.Or(c.SettleDelay, SettleDelayDefault)
	c.DrainTimeout = cmp.Or(c.DrainTimeout, DrainTimeoutDefault)
	c.WarnEvery = cmp.Or(c.WarnEvery, WarnEveryDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = backoff.Sleep
	}
	if c.Policy == nil {
		c.Policy = defaultPolicy{}
	}
	return c
}

func (c RunConfig) validate() error {
	switch {
	case c.Concurrency < 0:
		return fmt.Errorf("concurrency %d: must be positive", c.Concurrency)
	case c.MaxAttempts < 0:
		return fmt.Errorf("max attempts %d: must be positive", c.MaxAttempts)
	case c.BackoffBase < 0 || c.BackoffMax < c.BackoffBase && c.BackoffMax != 0:
		return fmt.Errorf("backoff %s..%s: must be positive and increasing", c.BackoffBase, c.BackoffMax)
	}
	return nil
}

// begin checks cfg and fills in its defaults, then claims the run for one
// call (what names the call in the error of a cfg that cannot work).
func begin(s *runstore.Store, runID string, cfg *RunConfig, what string) (release func(), err error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	*cfg = cfg.withDefaults()
	return s.ClaimRun(runID)
}

// settleDue is when to search for an order recorded sending at since: a
// request sent just before the process that sent it stopped may still be
// on its way, and placed after a search that came too soon, so the search
// waits until the order has had SettleDelay to land (zero: at once).
func (c *RunConfig) settleDue(since time.Time) time.Time {
	now := c.Now()
	if wait := c.SettleDelay - now.Sub(since); wait > 0 {
		return now.Add(min(wait, c.SettleDelay))
	}
	return time.Time{}
}

// addCount adds n to the count of state s: counts[i] counts states[i].
func addCount[S comparable](s S, n int, states []S, counts ...*int) {
	if i := slices.Index(states, s); i >= 0 {
		*counts[i] += n
	}
}

// backoff returns the wait before attempt+1, with equal jitter.
func (c *RunConfig) backoff(attempt int, err error) time.Duration {
	d := backoff.Equal(backoff.Ceiling(c.BackoffBase, c.BackoffMax, attempt-1))
	if err != nil {
		d = max(d, c.Policy.RetryAfter(err))
	}
	return d
}

// ErrGaveUp is matched by the error Submit (or Amend) returns when an
// order kept failing in a way that may pass (no answer, a timeout, 429,
// 5xx) for MaxAttempts sends in one call: the order (or its change) is left
// planned with its last error, never rejected for it, the call stops, and
// calling again resumes it.
var ErrGaveUp = errors.New("gave up for now")

// gaveUpError is an order whose retries ran out on failures that may pass.
type gaveUpError struct {
	ref   string // the order's reference
	tries int
	err   error
}

func (e *gaveUpError) Error() string {
	return fmt.Sprintf("order %s failed %d times in a row without a verdict from Equinix (last: %v); it is kept to be sent again",
		e.ref, e.tries, e.err)
}

func (e *gaveUpError) Unwrap() []error { return []error{ErrGaveUp, e.err} }
