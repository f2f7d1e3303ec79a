package queue

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/backoff"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// ErrorClass says what a failed request means for the order.
type ErrorClass int

// Error classes. The zero value is Uncertain, the safe assumption.
const (
	// Uncertain: the request may have reached Equinix. The order is searched
	// for by its reference before it is ever sent again.
	Uncertain ErrorClass = iota
	// Retryable: the request was refused or never left (429, 5xx,
	// connection refused); it is safe to send again after a backoff.
	Retryable
	// Final: Equinix refused the request for good (4xx validation or
	// permission); the order is rejected.
	Final
	// Fatal: nothing more will work (refused credentials…); the run stops.
	Fatal
	// Done: the request's effect already holds (e.g. cancelling an order
	// that is already cancelled).
	Done
	// OrderClosed: the order is closed at Equinix (the visit is over): it
	// can be neither changed nor cancelled, now or later.
	OrderClosed
)

func (c ErrorClass) String() string {
	switch c {
	case Uncertain:
		return "uncertain"
	case Retryable:
		return "retryable"
	case Final:
		return "final"
	case Fatal:
		return "fatal"
	case Done:
		return "done"
	case OrderClosed:
		return "order closed"
	}
	return fmt.Sprintf("ErrorClass(%d)", int(c))
}

// ErrorPolicy says what the errors of the API side (a Submitter,
// Canceller or Amender) mean for an order; the API side implements it (for
// Equinix's client, submit.Policy).
type ErrorPolicy interface {
	// Classify tells what an error means for the order.
	Classify(error) ErrorClass
	// RetryAfter returns how long the server asked to wait before the next
	// attempt (Retry-After), or 0; a longer wait than the backoff wins.
	RetryAfter(error) time.Duration
	// ToStored turns an error into what the store keeps of it.
	ToStored(error) runstore.StoredError
}

// defaultPolicy treats every error as Uncertain and keeps its message.
type defaultPolicy struct{}

func (defaultPolicy) Classify(error) ErrorClass      { return Uncertain }
func (defaultPolicy) RetryAfter(error) time.Duration { return 0 }
func (defaultPolicy) ToStored(err error) runstore.StoredError {
	return runstore.StoredError{Message: err.Error()}
}

// Submitter places orders and finds them again.
type Submitter interface {
	// Create sends the order's request and returns Equinix's order id.
	Create(ctx context.Context, o *runstore.Order) (orderID string, err error)
	// FindByReference looks for an order by its customerReferenceId.
	FindByReference(ctx context.Context, reference string) (orderID string, found bool, err error)
}

// ErrGaveUp is matched by the error Submit returns when an order kept
// failing in a way that may pass (no answer, a timeout, 429, 5xx) for
// MaxAttempts sends in one call: the order is left planned with its last
// error, never rejected for it, the run stops, and submitting the run again
// resumes it.
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

// ErrUnresolved is matched by the error Submit returns when some orders may
// or may not have been placed and the search for them kept failing; they
// are left sending and resolved by the next Submit of the run.
var ErrUnresolved = errors.New("orders whose fate is unknown")

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

// RunConfig configures Submit and Cancel; the zero value means defaults.
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

// backoff returns the wait before attempt+1, with equal jitter.
func (c *RunConfig) backoff(attempt int, err error) time.Duration {
	d := backoff.Equal(backoff.Ceiling(c.BackoffBase, c.BackoffMax, attempt-1))
	if err != nil {
		d = max(d, c.Policy.RetryAfter(err))
	}
	return d
}

// Tally counts a run's orders by state, and what one Submit or Cancel did.
type Tally struct {
	Orders     int
	Planned    int
	Sending    int
	Submitted  int
	Rejected   int
	Cancelling int
	Cancelled  int
	Closed     int

	// Sent counts the requests sent by this call, Retries the retryable
	// failures among them, Lookups the searches by reference, and Found
	// the orders those searches found placed.
	Sent    int
	Retries int
	Lookups int
	Found   int
}

func tallyOf(run runstore.Run) Tally {
	var t Tally
	for s, n := range run.Orders {
		t.Orders += n
		t.add(s, n)
	}
	return t
}

func (t *Tally) add(s runstore.OrderState, n int) {
	switch s {
	case runstore.Planned:
		t.Planned += n
	case runstore.Sending:
		t.Sending += n
	case runstore.Submitted:
		t.Submitted += n
	case runstore.Rejected:
		t.Rejected += n
	case runstore.Cancelling:
		t.Cancelling += n
	case runstore.Cancelled:
		t.Cancelled += n
	case runstore.Closed:
		t.Closed += n
	}
}

func (t *Tally) move(from, to runstore.OrderState) {
	t.add(from, -1)
	t.add(to, 1)
}

// task is an order the runner still has to deal with.
type task struct {
	key, ref  string
	seq       int
	state     runstore.OrderState // Planned: send it; Sending: search for it
	due       time.Time
	lookups   int
	tries     int       // requests sent for it in this call
	uncertain bool      // sending because of an uncertain answer in this run
	since     time.Time // when an order found sending was marked so
	index     int
}

// result is what a worker did with a task.
type result struct {
	t       *task
	moves   [][2]runstore.OrderState
	requeue bool
	stop    error // a fatal answer or a store failure
	sent    int
	retried bool
	lookup  bool
	found   bool
}

// Submit sends a run's orders. It first searches for every order left
// sending by an earlier Submit (a crash or a lost answer): found, it is
// submitted; not found, it is sent again; if the search fails, it is not
// sent. Then it sends the planned orders whose time has come, at most
// cfg.Concurrency at once, retrying what may be retried.
//
// When ctx is cancelled or an answer is Fatal, Submit sends nothing more,
// waits for the requests in flight, records them and returns ctx.Err() or
// the fatal error; submitting the run again resumes it. A run with nothing
// left to do makes no requests.
func Submit(ctx context.Context, s *runstore.Store, runID string, sub Submitter, cfg RunConfig) (Tally, error) {
	if err := cfg.validate(); err != nil {
		return Tally{}, fmt.Errorf("submit run %s: %w", runID, err)
	}
	cfg = cfg.withDefaults()
	release, err := s.ClaimRun(runID)
	if err != nil {
		return Tally{}, err
	}
	defer release()
	run, err := s.Run(runID)
	if err != nil {
		return Tally{}, err
	}
	r := newRunner(s, runID, sub, cfg)
	r.tally = tallyOf(run)
	r.waiting.Store(int64(r.tally.Planned + r.tally.Sending))
	if run.Orders[runstore.Planned] == 0 && run.Orders[runstore.Sending] == 0 {
		// Nothing to do: the counts are kept with the orders, in the same
		// transactions, so the orders need not be read.
		if run.State != runstore.RunDone && run.State != runstore.RunCancelled {
			err = s.SetRunState(runID, runstore.RunDone)
		}
		return r.tally, err
	}
	unsent, err := s.Unsent(runID)
	if err != nil {
		return r.tally, err
	}
	now := cfg.Now()
	for _, u := range unsent {
		t := &task{key: u.Key, ref: u.Reference, seq: u.Seq, state: u.State, due: u.Due, since: u.Since}
		if t.state == runstore.Sending {
			// A request the earlier process sent just before it stopped
			// may still be on its way, and placed after a search that
			// came too soon: search once it has had SettleDelay to land.
			wait := cfg.SettleDelay - now.Sub(t.since)
			if wait > 0 {
				t.due = now.Add(min(wait, cfg.SettleDelay))
			}
		}
		r.push(t)
	}
	stopWatch := watchOutage(cfg, r.log, func() int { return int(r.waiting.Load()) })
	stopErr := r.loop(ctx)
	stopWatch()

	state := runstore.RunDone
	switch {
	case stopErr != nil:
		state = runstore.RunInterrupted
	case ctx.Err() != nil:
		state, stopErr = runstore.RunInterrupted, ctx.Err()
	case r.tally.Sending > 0:
		state = runstore.RunInterrupted
		stopErr = fmt.Errorf("run %s: %d %w; submit the run again to resolve them",
			runID, r.tally.Sending, ErrUnresolved)
	case r.tally.Planned > 0:
		state = runstore.RunOpen
	}
	if err := s.SetRunState(runID, state); err != nil && stopErr == nil {
		stopErr = err
	}
	return r.tally, stopErr
}

type runner struct {
	s     *runstore.Store
	runID string
	sub   Submitter
	cfg   RunConfig
	log   zerolog.Logger
	tally Tally
	// waiting is tally.Planned+tally.Sending, for the outage warnings.
	waiting atomic.Int64

	ready   taskHeap // due: sending orders first, then plan order
	delayed taskHeap // not yet due: by due time
}

func newRunner(s *runstore.Store, runID string, sub Submitter, cfg RunConfig) *runner {
	r := &runner{s: s, runID: runID, sub: sub, cfg: cfg, log: cfg.Logger.With().Str("run", runID).Logger()}
	r.ready.less = func(a, b *task) bool {
		if (a.state == runstore.Sending) != (b.state == runstore.Sending) {
			return a.state == runstore.Sending
		}
		return a.seq < b.seq
	}
	r.delayed.less = func(a, b *task) bool {
		if c := a.due.Compare(b.due); c != 0 {
			return c < 0
		}
		return a.seq < b.seq
	}
	return r
}

func (r *runner) push(t *task) {
	if !t.due.IsZero() && t.due.After(r.cfg.Now()) {
		heap.Push(&r.delayed, t)
		return
	}
	heap.Push(&r.ready, t)
}

// drainContext returns the context of requests made under ctx: it outlives
// ctx by up to d, so that the answers of requests in flight when ctx ends
// are recorded. stop releases it.
func drainContext(ctx context.Context, d time.Duration) (reqCtx context.Context, stop func()) {
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	stopDrain := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d, cancelReq)
		context.AfterFunc(reqCtx, func() { t.Stop() })
	})
	return reqCtx, func() {
		stopDrain()
		cancelReq()
	}
}

// loop hands tasks to workers until there are none left or it must stop.
func (r *runner) loop(ctx context.Context) error {

	// Requests in flight outlive ctx by up to DrainTimeout, so that their
	// answers are recorded.
	reqCtx, stopDrain := drainContext(ctx, r.cfg.DrainTimeout)
	defer stopDrain()

	// A worker records its order's intent before it asks for one of the
	// Concurrency slots, so that the next orders' intents are durable
	// while the requests before them are in flight: a request goes out
	// the moment a slot is free, not one commit later. It gives its slot
	// back as soon as its request is answered well, and records the
	// answer while the next request goes out, so that one commit carries
	// the outcome of one order and the intent of another. At most
	// Concurrency workers wait for a slot; goroutines still recording are
	// bounded too.
	events := make(chan event, 2*r.cfg.Concurrency)
	var (
		inflight  int     // requests holding a slot
		preparing int     // workers not yet granted a slot (or refused one)
		waiting   []ready // workers ready for a slot, in plan order
		alive     int     // workers not yet done
		stopErr   error
		stopping  bool
		ctxDone   = ctx.Done()
	)
	canStart := func() bool {
		return !stopping && preparing < r.cfg.Concurrency && alive < 3*r.cfg.Concurrency
	}
	grant := func() {
		for len(waiting) > 0 && (stopping || inflight < r.cfg.Concurrency) {
			w := waiting[0]
			waiting = waiting[1:]
			preparing--
			if !stopping {
				inflight++
			}
			w.ch <- !stopping
		}
	}
	for {
		if ctxDone != nil && ctx.Err() != nil {
			ctxDone, stopping = nil, true
		}
		now := r.cfg.Now()
		for len(r.delayed.tasks) > 0 && !r.delayed.tasks[0].due.After(now) {
			heap.Push(&r.ready, heap.Pop(&r.delayed))
		}
		grant()
		for canStart() && len(r.ready.tasks) > 0 {
			t := heap.Pop(&r.ready).(*task)
			preparing++
			alive++
			go r.work(reqCtx, t, events)
		}
		if alive == 0 && (stopping || len(r.ready.tasks) == 0 && len(r.delayed.tasks) == 0) {
			return stopErr
		}

		var wake chan struct{}
		cancelWake := func() {}
		if canStart() && len(r.ready.tasks) == 0 && len(r.delayed.tasks) > 0 {
			var wctx context.Context
			wctx, cancelWake = context.WithCancel(ctx)
			wake = make(chan struct{})
			d := r.delayed.tasks[0].due.Sub(now)
			go func() {
				_ = r.cfg.Sleep(wctx, d)
				close(wake)
			}()
		}
		select {
		case ev := <-events:
			if ev.ready.ch != nil {
				i, _ := slices.BinarySearchFunc(waiting, ev.ready, func(a, b ready) int { return cmp.Compare(a.seq, b.seq) })
				waiting = slices.Insert(waiting, i, ev.ready)
				break
			}
			if ev.release {
				inflight--
				break
			}
			alive--
			if ev.holds {
				inflight--
			}
			r.apply(ev.res)
			if ev.res.stop != nil && stopErr == nil {
				stopErr, stopping = ev.res.stop, true
			}
		case <-wake:
		case <-ctxDone:
			ctxDone, stopping = nil, true
		}
		cancelWake()
	}
}

// ready is a worker ready for a slot, waiting on ch for the answer: true to
// go on, false when the run stops first. seq is its order's place in the
// plan.
type ready struct {
	ch  chan bool
	seq int
}

// event is a worker ready for a slot, giving back its slot, or its result
// (holds says whether it still holds a slot).
type event struct {
	ready   ready
	release bool
	res     result
	holds   bool
}

func (r *runner) apply(res result) {
	for _, m := range res.moves {
		r.tally.move(m[0], m[1])
	}
	r.tally.Sent += res.sent
	if res.retried {
		r.tally.Retries++
	}
	if res.lookup {
		r.tally.Lookups++
	}
	if res.found {
		r.tally.Found++
	}
	r.waiting.Store(int64(r.tally.Planned + r.tally.Sending))
	if res.requeue {
		r.push(res.t)
	}
	if r.cfg.Progress != nil {
		r.cfg.Progress(r.tally)
	}
}

func (r *runner) work(ctx context.Context, t *task, events chan<- event) {
	granted, released := false, false
	wait := func() bool {
		ch := make(chan bool, 1)
		events <- event{ready: ready{ch: ch, seq: t.seq}}
		granted = <-ch
		return granted
	}
	release := func() {
		if granted && !released {
			released = true
			events <- event{release: true}
		}
	}
	var res result
	// A panic (a bug in a Submitter, say) stops the run like a fatal
	// answer instead of taking the process down: the order stays as the
	// store last recorded it, and resuming settles it.
	defer func() {
		if p := recover(); p != nil {
			res = result{t: t, stop: fmt.Errorf("order %s: panic: %v\n%s", t.key, p, debug.Stack())}
		}
		// A slot not given back early is given back with the result, so
		// that nothing starts before a failure is known.
		events <- event{res: res, holds: granted && !released}
	}()
	if t.state == runstore.Sending {
		res = r.resolve(ctx, t, wait, release)
	} else {
		res = r.send(ctx, t, wait, release)
	}
}

// classify is cfg.Policy.Classify, except that a request cut short by a
// cancelled or expired context may have reached the server.
func (r *runner) classify(err error) ErrorClass {
	c := r.cfg.Policy.Classify(err)
	if c == Retryable && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return Uncertain
	}
	if c == Done || c == OrderClosed {
		return Uncertain
	}
	return c
}

// send sends a planned order once: it records the intent, waits for a
// slot and sends.
func (r *runner) send(ctx context.Context, t *task, wait func() bool, release func()) result {
	res := result{t: t}
	o, err := r.s.MarkSending(r.runID, t.key)
	if err != nil {
		res.stop = err
		return res
	}
	res.moves = append(res.moves, [2]runstore.OrderState{runstore.Planned, runstore.Sending})
	if !wait() {
		// The run stopped before this order's turn: it was not sent.
		if err := r.s.MarkUnsent(r.runID, t.key); err != nil {
			res.stop = err
			return res
		}
		res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Planned})
		return res
	}
	log := r.log.With().Str("order", t.key).Str("reference", t.ref).Int("attempt", o.Attempts).Logger()

	orderID, err := r.sub.Create(ctx, &o)
	res.sent = 1
	t.tries++
	if err == nil {
		release()
		if err := r.s.MarkSubmitted(r.runID, t.key, orderID); err != nil {
			res.stop = err
			return res
		}
		res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Submitted})
		log.Debug().Str("orderId", orderID).Msg("order submitted")
		return res
	}

	class := r.classify(err)
	stored := r.cfg.Policy.ToStored(err)
	switch class {
	case Retryable:
		if t.tries >= r.cfg.MaxAttempts {
			// An outage, or a server error that does not go away: not a
			// verdict on the order. It stays planned and the run stops.
			if err := r.s.MarkRetry(r.runID, t.key, stored, time.Time{}); err != nil {
				res.stop = err
				return res
			}
			res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Planned})
			res.stop = &gaveUpError{ref: t.ref, tries: t.tries, err: err}
			log.Warn().Err(err).Msg("order kept failing without a verdict; the run stops and keeps it to send again")
			return res
		}
		next := r.cfg.Now().Add(r.cfg.backoff(o.Attempts, err))
		if err := r.s.MarkRetry(r.runID, t.key, stored, next); err != nil {
			res.stop = err
			return res
		}
		res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Planned})
		res.retried, res.requeue, t.due = true, true, next
		log.Info().Err(err).Time("next", next).Msg("order will be retried")
	case Final:
		return r.reject(res, t, stored, log, err)
	case Fatal:
		// The request was refused before anything was done: safe to send
		// again in a later run.
		if err := r.s.MarkRetry(r.runID, t.key, stored, time.Time{}); err != nil {
			res.stop = err
			return res
		}
		res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Planned})
		res.stop = err
	default:
		if err := r.s.MarkUncertain(r.runID, t.key, stored); err != nil {
			res.stop = err
			return res
		}
		t.state, t.uncertain, t.lookups = runstore.Sending, true, 0
		t.due = r.cfg.Now().Add(r.cfg.SettleDelay)
		res.requeue = true
		log.Info().Err(err).Msg("order may have been placed; searching for it before sending again")
	}
	return res
}

func (r *runner) reject(res result, t *task, stored runstore.StoredError, log zerolog.Logger, err error) result {
	if err := r.s.MarkRejected(r.runID, t.key, stored); err != nil {
		res.stop = err
		return res
	}
	res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Rejected})
	log.Info().Err(err).Msg("order rejected")
	return res
}

// resolve searches for a sending order by its reference.
func (r *runner) resolve(ctx context.Context, t *task, wait func() bool, release func()) result {
	res := result{t: t}
	if !wait() {
		return res
	}
	res.lookup = true
	log := r.log.With().Str("order", t.key).Str("reference", t.ref).Logger()
	t.lookups++
	orderID, found, err := r.sub.FindByReference(ctx, t.ref)
	if err == nil {
		release()
	}
	if err != nil {
		switch class := r.cfg.Policy.Classify(err); {
		case class == Fatal:
			res.stop = err
		case class == Final || t.lookups >= r.cfg.MaxAttempts:
			log.Warn().Err(err).Msg("could not find out whether the order was placed; it will not be sent")
		default:
			t.due = r.cfg.Now().Add(r.cfg.backoff(t.lookups, err))
			res.requeue = true
			log.Info().Err(err).Time("next", t.due).Msg("search for order failed; will search again")
		}
		return res
	}
	if found {
		if err := r.s.MarkSubmitted(r.runID, t.key, orderID); err != nil {
			res.stop = err
			return res
		}
		res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Submitted})
		res.found = true
		log.Info().Str("orderId", orderID).Msg("order found placed")
		return res
	}
	o, err := r.s.MarkNotFound(r.runID, t.key, t.uncertain)
	if err != nil {
		res.stop = err
		return res
	}
	res.moves = append(res.moves, [2]runstore.OrderState{runstore.Sending, runstore.Planned})
	if t.tries >= r.cfg.MaxAttempts {
		// Every send met no clear answer and none placed it: the order
		// stays planned, and the run stops.
		var last error = errors.New("no clear answer")
		if o.LastError != nil {
			last = o.LastError
		}
		res.stop = &gaveUpError{ref: t.ref, tries: t.tries, err: last}
		log.Warn().Err(last).Msg("order not placed and every send met no clear answer; the run stops and keeps it to send again")
		return res
	}
	t.state, t.due, t.lookups, t.uncertain = runstore.Planned, time.Time{}, 0, false
	res.requeue = true
	log.Debug().Msg("order not placed; it will be sent")
	return res
}

// taskHeap is a heap of tasks ordered by less.
type taskHeap struct {
	tasks []*task
	less  func(a, b *task) bool
}

func (h *taskHeap) Len() int           { return len(h.tasks) }
func (h *taskHeap) Less(i, j int) bool { return h.less(h.tasks[i], h.tasks[j]) }
func (h *taskHeap) Swap(i, j int) {
	h.tasks[i], h.tasks[j] = h.tasks[j], h.tasks[i]
	h.tasks[i].index, h.tasks[j].index = i, j
}
func (h *taskHeap) Push(x any) {
	t := x.(*task)
	t.index = len(h.tasks)
	h.tasks = append(h.tasks, t)
}
func (h *taskHeap) Pop() any {
	n := len(h.tasks) - 1
	t := h.tasks[n]
	h.tasks[n] = nil
	h.tasks = h.tasks[:n]
	return t
}
