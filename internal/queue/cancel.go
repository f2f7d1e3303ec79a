package queue

import (
	"context"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Canceller cancels placed orders.
type Canceller interface {
	Cancel(ctx context.Context, orderID, reason string) error
}

// Finder finds an order by its customerReferenceId. A Canceller that is
// also a Finder lets Cancel settle orders left sending.
type Finder interface {
	FindByReference(ctx context.Context, reference string) (orderID string, found bool, err error)
}

// Cancel cancels a run: every submitted order (and every one left
// cancelling) is cancelled at Equinix, at most cfg.Concurrency at once; an
// answer classified Done (already cancelled) counts as cancelled, one
// classified OrderClosed (Equinix closed the order) is recorded closed. Planned
// orders are marked cancelled without a request. Orders left sending are
// searched for first when c is also a Finder, and otherwise left as they
// are. Each outcome is recorded; cancelling again picks up what is left.
func Cancel(ctx context.Context, s *runstore.Store, runID string, c Canceller, reason string, cfg RunConfig) (Tally, error) {
	release, err := begin(s, runID, &cfg, "cancel run "+runID)
	if err != nil {
		return Tally{}, err
	}
	defer release()
	orders, err := s.Orders(runID)
	if err != nil {
		return Tally{}, err
	}
	k := newCanceller(ctx, s, runID, c, reason, cfg)
	k.tally.Orders = len(orders)
	for _, o := range orders {
		k.tally.add(o.State, 1)
	}
	for _, o := range orders {
		switch o.State {
		case runstore.Planned:
			k.e.add(&job{key: o.Key, seq: o.Seq, local: true, do: func(*slot) step {
				return step{stop: k.record(k.s.MarkCancelled(runID, o.Key), runstore.Planned, runstore.Cancelled)}
			}})
		case runstore.Sending, runstore.Submitted, runstore.Cancelling:
			k.add(o)
		}
	}
	if err := k.e.run(k.waiting); err != nil {
		return k.tally, err
	}
	if err := ctx.Err(); err != nil {
		return k.tally, err
	}
	t := k.tally
	if left := t.Planned + t.Sending + t.Submitted + t.Cancelling; left > 0 {
		return t, fmt.Errorf("cancel run %s: %d of %d orders are not cancelled", runID, left, t.Orders)
	}
	return t, s.SetRunState(runID, runstore.RunCancelled)
}

// CancelOrder cancels one placed order of a run, as Cancel cancels each of
// a run's orders: the order is recorded cancelling before the cancel is
// asked for, an answer classified Done counts as cancelled, a refusal is
// recorded on the order (which stays submitted) and one left cancelling by
// a crash is asked again. It returns the order as the store then holds it;
// an order already cancelled is returned as it is, with nothing sent.
func CancelOrder(ctx context.Context, s *runstore.Store, runID, key string, c Canceller, reason string, cfg RunConfig) (runstore.Order, error) {
	release, err := begin(s, runID, &cfg, fmt.Sprintf("cancel order %s of run %s", key, runID))
	if err != nil {
		return runstore.Order{}, err
	}
	defer release()
	o, err := s.Order(runID, key)
	if err != nil {
		return runstore.Order{}, err
	}
	switch o.State {
	case runstore.Cancelled, runstore.Closed:
		return o, nil
	case runstore.Submitted, runstore.Cancelling:
	default:
		return o, fmt.Errorf("cancel order %s of run %s: it is %s, not placed", key, runID, o.State)
	}
	k := newCanceller(ctx, s, runID, c, reason, cfg)
	k.tally.Orders = 1
	k.tally.add(o.State, 1)
	k.add(o)
	if err := k.e.run(k.waiting); err != nil {
		return o, err // the fatal answer, or a failure to record
	}
	return s.Order(runID, key)
}

// canceller is one Cancel or CancelOrder: what its steps do, and the tally.
type canceller struct {
	e      *engine
	s      *runstore.Store
	runID  string
	c      Canceller
	reason string
	cfg    RunConfig
	log    zerolog.Logger

	mu    sync.Mutex
	tally Tally
}

func newCanceller(ctx context.Context, s *runstore.Store, runID string, c Canceller, reason string, cfg RunConfig) *canceller {
	log := cfg.Logger.With().Str("run", runID).Logger()
	return &canceller{e: newEngine(ctx, cfg, log), s: s, runID: runID, c: c, reason: reason, cfg: cfg, log: log}
}

// cancelJob is a placed order to cancel, or one left sending to search for
// first.
type cancelJob struct {
	job
	o        runstore.Order
	attempts int // searches, then cancel requests, in this call
}

// add queues the work of a sending, submitted or cancelling order.
func (k *canceller) add(o runstore.Order) {
	j := &cancelJob{job: job{key: o.Key, seq: o.Seq}, o: o}
	j.do = func(sl *slot) step { return k.step(j, sl) }
	if o.State == runstore.Sending {
		j.due = k.cfg.settleDue(o.UpdatedAt)
	}
	k.e.add(&j.job)
}

// waiting counts the orders not cancelled yet, for the outage warnings.
func (k *canceller) waiting() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tally.Sending + k.tally.Submitted + k.tally.Cancelling
}

// record counts a change once the store holds it.
func (k *canceller) record(err error, from, to runstore.OrderState) error {
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.tally.move(from, to)
	if k.cfg.Progress != nil {
		k.cfg.Progress(k.tally)
	}
	return nil
}

// count changes the tally's counts of what was done.
func (k *canceller) count(fn func(t *Tally)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fn(&k.tally)
}

// step searches for an order left sending, or asks Equinix to cancel a
// placed one, once.
func (k *canceller) step(j *cancelJob, sl *slot) step {
	if j.o.State == runstore.Sending {
		return k.settle(j, sl)
	}
	return k.cancel(j, sl)
}

// settle searches for an order left sending: found, it is cancelled; not
// found, it will never be sent.
func (k *canceller) settle(j *cancelJob, sl *slot) step {
	o := j.o
	f, ok := k.c.(Finder)
	if !ok {
		k.log.Warn().Str("order", o.Key).Msg("order may have been placed; not cancelled")
		return step{}
	}
	if !sl.take() {
		return step{}
	}
	j.attempts++
	k.count(func(t *Tally) { t.Lookups++ })
	orderID, found, err := f.FindByReference(k.e.reqCtx, o.Reference)
	if err == nil {
		sl.give()
	}
	switch {
	case err == nil && found:
		if err := k.record(k.s.MarkSubmitted(k.runID, o.Key, orderID), runstore.Sending, runstore.Submitted); err != nil {
			return step{stop: err}
		}
		j.o.State, j.o.OrderID, j.attempts = runstore.Submitted, orderID, 0
		return step{again: true}
	case err == nil:
		if err := k.record(errOnly(k.s.MarkNotFound(k.runID, o.Key, false)), runstore.Sending, runstore.Planned); err != nil {
			return step{stop: err}
		}
		return step{stop: k.record(k.s.MarkCancelled(k.runID, o.Key), runstore.Planned, runstore.Cancelled)}
	}
	class := k.cfg.Policy.Classify(err)
	if class == Fatal {
		return step{stop: err}
	}
	if class == Final || j.attempts >= k.cfg.MaxAttempts {
		k.log.Warn().Err(err).Str("order", o.Key).Msg("could not find out whether the order was placed")
		return step{}
	}
	j.due = k.cfg.Now().Add(k.cfg.backoff(j.attempts, err))
	return step{again: true}
}

func errOnly(_ runstore.Order, err error) error { return err }

// cancel asks Equinix to cancel one placed order; asking again is
// harmless. A request that may be retried is, after a backoff; if the call
// stops first, the order is recorded not cancelled, with the error.
func (k *canceller) cancel(j *cancelJob, sl *slot) step {
	o := j.o
	if !sl.take() {
		if j.left != nil {
			return step{stop: j.left()}
		}
		return step{}
	}
	if o.State == runstore.Submitted {
		if err := k.record(k.s.MarkCancelling(k.runID, o.Key), runstore.Submitted, runstore.Cancelling); err != nil {
			return step{stop: err}
		}
		j.o.State = runstore.Cancelling
	}
	log := k.log.With().Str("order", o.Key).Str("orderId", o.OrderID).Logger()
	j.attempts++
	k.count(func(t *Tally) { t.Sent++ })
	err := k.c.Cancel(k.e.reqCtx, o.OrderID, k.reason)
	class := Done
	if err != nil {
		class = k.cfg.Policy.Classify(err)
	}
	failed := func(err error) error {
		return k.record(k.s.MarkCancelFailed(k.runID, o.Key, k.cfg.Policy.ToStored(err)), runstore.Cancelling, runstore.Submitted)
	}
	switch {
	case class == Done:
		sl.give()
		log.Debug().Err(err).Msg("order cancelled")
		return step{stop: k.record(k.s.MarkCancelled(k.runID, o.Key), runstore.Cancelling, runstore.Cancelled)}
	case class == OrderClosed:
		sl.give()
		log.Info().Err(err).Msg("order closed at Equinix before it could be cancelled")
		return step{stop: k.record(k.s.MarkClosed(k.runID, o.Key), runstore.Cancelling, runstore.Closed)}
	case class == Fatal:
		// Stays cancelling: the next Cancel asks again.
		return step{stop: err}
	case class == Final || j.attempts >= k.cfg.MaxAttempts || k.e.reqCtx.Err() != nil:
		log.Info().Err(err).Msg("order not cancelled")
		return step{stop: failed(err)}
	}
	k.count(func(t *Tally) { t.Retries++ })
	j.due = k.cfg.Now().Add(k.cfg.backoff(j.attempts, err))
	j.left = func() error { return failed(err) }
	return step{again: true}
}
