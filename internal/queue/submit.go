package queue

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Submitter places orders and finds them again.
type Submitter interface {
	// Create sends the order's request and returns Equinix's order id.
	Create(ctx context.Context, o *runstore.Order) (orderID string, err error)
	// FindByReference looks for an order by its customerReferenceId.
	FindByReference(ctx context.Context, reference string) (orderID string, found bool, err error)
}

// ErrUnresolved is matched by the error Submit returns when some orders may
// or may not have been placed and the search for them kept failing; they
// are left sending and resolved by the next Submit of the run.
var ErrUnresolved = errors.New("orders whose fate is unknown")

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

// TallyOf is the tally of a run's orders as the store records them, with
// nothing sent yet.
func TallyOf(run runstore.Run) Tally {
	var t Tally
	for s, n := range run.Orders {
		t.Orders += n
		t.add(s, n)
	}
	return t
}

var tallyStates = []runstore.OrderState{runstore.Planned, runstore.Sending, runstore.Submitted, runstore.Rejected,
	runstore.Cancelling, runstore.Cancelled, runstore.Closed}

func (t *Tally) add(s runstore.OrderState, n int) {
	addCount(s, n, tallyStates, &t.Planned, &t.Sending, &t.Submitted, &t.Rejected, &t.Cancelling, &t.Cancelled, &t.Closed)
}

func (t *Tally) move(from, to runstore.OrderState) {
	t.add(from, -1)
	t.add(to, 1)
}

// task is an order Submit still has to deal with.
type task struct {
	job
	ref       string
	state     runstore.OrderState // Planned: send it; Sending: search for it
	lookups   int
	tries     int       // requests sent for it in this call
	uncertain bool      // sending because of an uncertain answer in this run
	since     time.Time // when an order found sending was marked so
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
	release, err := begin(s, runID, &cfg, "submit run "+runID)
	if err != nil {
		return Tally{}, err
	}
	defer release()
	run, err := s.Run(runID)
	if err != nil {
		return Tally{}, err
	}
	r := &runner{s: s, runID: runID, sub: sub, cfg: cfg, log: cfg.Logger.With().Str("run", runID).Logger()}
	r.tally = TallyOf(run)
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
	e := newEngine(ctx, cfg, r.log)
	for _, u := range unsent {
		t := &task{job: job{key: u.Key, seq: u.Seq, due: u.Due}, ref: u.Reference, state: u.State, since: u.Since}
		t.do = func(sl *slot) step { return r.step(e.reqCtx, t, sl) }
		t.first = t.state == runstore.Sending
		if t.state == runstore.Sending {
			if due := cfg.settleDue(t.since); !due.IsZero() {
				t.due = due
			}
		}
		e.add(&t.job)
	}
	stopErr := e.run(func() int { return int(r.waiting.Load()) })

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

// runner is one Submit of a run: what its steps do, and the tally.
type runner struct {
	s     *runstore.Store
	runID string
	sub   Submitter
	cfg   RunConfig
	log   zerolog.Logger
	tally Tally // kept by the engine's goroutine
	// waiting is tally.Planned+tally.Sending, for the outage warnings.
	waiting atomic.Int64
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
	if r.cfg.Progress != nil {
		r.cfg.Progress(r.tally)
	}
}

// step sends a planned order or searches for a sending one.
func (r *runner) step(ctx context.Context, t *task, sl *slot) step {
	var res result
	if t.state == runstore.Sending {
		res = r.resolve(ctx, t, sl)
	} else {
		res = r.send(ctx, t, sl)
	}
	t.first = t.state == runstore.Sending
	return step{again: res.requeue, stop: res.stop, done: func() { r.apply(res) }}
}

// classify is classOf, except that for placing an order Done
// and OrderClosed mean nothing sure.
func (r *runner) classify(err error) ErrorClass {
	c := classOf(r.cfg.Policy, err)
	if c == Done || c == OrderClosed {
		return Uncertain
	}
	return c
}

// send sends a planned order once: it records the intent, waits for a
// slot and sends.
func (r *runner) send(ctx context.Context, t *task, sl *slot) result {
	res := result{t: t}
	o, err := r.s.MarkSending(r.runID, t.key)
	if err != nil {
		res.stop = err
		return res
	}
	res.moves = append(res.moves, [2]runstore.OrderState{runstore.Planned, runstore.Sending})
	if !sl.take() {
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
		sl.give()
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
func (r *runner) resolve(ctx context.Context, t *task, sl *slot) result {
	res := result{t: t}
	if !sl.take() {
		return res
	}
	res.lookup = true
	log := r.log.With().Str("order", t.key).Str("reference", t.ref).Logger()
	t.lookups++
	orderID, found, err := r.sub.FindByReference(ctx, t.ref)
	if err == nil {
		sl.give()
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
