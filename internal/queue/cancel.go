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

// localLimit bounds the store-only changes Cancel makes at once; they are
// group-committed, so many at once cost few fsyncs.
const localLimit = 256

// Cancel cancels a run: every submitted order (and every one left
// cancelling) is cancelled at Equinix, at most cfg.Concurrency at once; an
// answer classified Done (already cancelled) counts as cancelled, one
// classified OrderClosed (Equinix closed the order) is recorded closed. Planned
// orders are marked cancelled without a request. Orders left sending are
// searched for first when c is also a Finder, and otherwise left as they
// are. Each outcome is recorded; cancelling again picks up what is left.
func Cancel(ctx context.Context, s *runstore.Store, runID string, c Canceller, reason string, cfg RunConfig) (Tally, error) {
	if err := cfg.validate(); err != nil {
		return Tally{}, fmt.Errorf("cancel run %s: %w", runID, err)
	}
	cfg = cfg.withDefaults()
	release, err := s.ClaimRun(runID)
	if err != nil {
		return Tally{}, err
	}
	defer release()
	orders, err := s.Orders(runID)
	if err != nil {
		return Tally{}, err
	}
	k := &canceller{workers: startWorkers(ctx, cfg), s: s, runID: runID, c: c, reason: reason, cfg: cfg,
		log: cfg.Logger.With().Str("run", runID).Logger()}
	k.tally.Orders = len(orders)
	for _, o := range orders {
		k.tally.add(o.State, 1)
	}

	for _, o := range orders {
		if k.stopped() {
			break
		}
		switch o.State {
		case runstore.Planned:
			k.workers.record(o.Key, func() error {
				return k.record(k.s.MarkCancelled(runID, o.Key), runstore.Planned, runstore.Cancelled)
			})
		case runstore.Sending:
			k.request(o.Key, func() error {
				if k.stopped() {
					return nil
				}
				return k.settle(k.reqCtx, o)
			})
		case runstore.Submitted, runstore.Cancelling:
			k.request(o.Key, func() error {
				if k.stopped() {
					return nil
				}
				return k.cancel(k.reqCtx, o)
			})
		}
	}
	if err := k.wait(); err != nil {
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

type canceller struct {
	*workers
	s      *runstore.Store
	runID  string
	c      Canceller
	reason string
	cfg    RunConfig
	log    zerolog.Logger

	mu    sync.Mutex
	tally Tally
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

// settle searches for an order left sending: found, it is cancelled; not
// found, it will never be sent.
func (k *canceller) settle(ctx context.Context, o runstore.Order) error {
	f, ok := k.c.(Finder)
	if !ok {
		k.log.Warn().Str("order", o.Key).Msg("order may have been placed; not cancelled")
		return nil
	}
	// As in Submit: a request sent just before the process that sent it
	// stopped may still land; search once it has had time to.
	if wait := k.cfg.SettleDelay - k.cfg.Now().Sub(o.UpdatedAt); wait > 0 {
		if err := k.cfg.Sleep(ctx, min(wait, k.cfg.SettleDelay)); err != nil {
			return nil
		}
	}
	for attempt := 1; ; attempt++ {
		k.mu.Lock()
		k.tally.Lookups++
		k.mu.Unlock()
		orderID, found, err := f.FindByReference(ctx, o.Reference)
		if err == nil && found {
			if err := k.record(k.s.MarkSubmitted(k.runID, o.Key, orderID), runstore.Sending, runstore.Submitted); err != nil {
				return err
			}
			o.State, o.OrderID = runstore.Submitted, orderID
			return k.cancel(ctx, o)
		}
		if err == nil {
			if err := k.record(errOnly(k.s.MarkNotFound(k.runID, o.Key, false)), runstore.Sending, runstore.Planned); err != nil {
				return err
			}
			return k.record(k.s.MarkCancelled(k.runID, o.Key), runstore.Planned, runstore.Cancelled)
		}
		class := k.cfg.Policy.Classify(err)
		if class == Fatal {
			k.fatal(err)
			return nil
		}
		if class == Final || attempt >= k.cfg.MaxAttempts {
			k.log.Warn().Err(err).Str("order", o.Key).Msg("could not find out whether the order was placed")
			return nil
		}
		if err := k.cfg.Sleep(ctx, k.cfg.backoff(attempt, err)); err != nil {
			return nil
		}
	}
}

func errOnly(_ runstore.Order, err error) error { return err }

// cancel asks Equinix to cancel one placed order, retrying what may be
// retried; asking again is harmless.
func (k *canceller) cancel(ctx context.Context, o runstore.Order) error {
	from := o.State
	if from == runstore.Submitted {
		if err := k.record(k.s.MarkCancelling(k.runID, o.Key), runstore.Submitted, runstore.Cancelling); err != nil {
			return err
		}
	}
	log := k.log.With().Str("order", o.Key).Str("orderId", o.OrderID).Logger()
	for attempt := 1; ; attempt++ {
		k.mu.Lock()
		k.tally.Sent++
		k.mu.Unlock()
		err := k.c.Cancel(ctx, o.OrderID, k.reason)
		class := Done
		if err != nil {
			class = k.cfg.Policy.Classify(err)
		}
		switch {
		case class == Done:
			log.Debug().Err(err).Msg("order cancelled")
			return k.record(k.s.MarkCancelled(k.runID, o.Key), runstore.Cancelling, runstore.Cancelled)
		case class == OrderClosed:
			log.Info().Err(err).Msg("order closed at Equinix before it could be cancelled")
			return k.record(k.s.MarkClosed(k.runID, o.Key), runstore.Cancelling, runstore.Closed)
		case class == Fatal:
			// Stays cancelling: the next Cancel asks again.
			k.fatal(err)
			return nil
		case class == Final || attempt >= k.cfg.MaxAttempts || ctx.Err() != nil:
			log.Info().Err(err).Msg("order not cancelled")
			return k.record(k.s.MarkCancelFailed(k.runID, o.Key, k.cfg.Policy.ToStored(err)), runstore.Cancelling, runstore.Submitted)
		}
		k.mu.Lock()
		k.tally.Retries++
		k.mu.Unlock()
		if err := k.cfg.Sleep(ctx, k.cfg.backoff(attempt, err)); err != nil {
			return k.record(k.s.MarkCancelFailed(k.runID, o.Key, k.cfg.Policy.ToStored(err)), runstore.Cancelling, runstore.Submitted)
		}
	}
}

// CancelOrder cancels one placed order of a run, as Cancel cancels each of
// a run's orders: the order is recorded cancelling before the cancel is
// asked for, an answer classified Done counts as cancelled, a refusal is
// recorded on the order (which stays submitted) and one left cancelling by
// a crash is asked again. It returns the order as the store then holds it;
// an order already cancelled is returned as it is, with nothing sent.
func CancelOrder(ctx context.Context, s *runstore.Store, runID, key string, c Canceller, reason string, cfg RunConfig) (runstore.Order, error) {
	if err := cfg.validate(); err != nil {
		return runstore.Order{}, fmt.Errorf("cancel order %s of run %s: %w", key, runID, err)
	}
	cfg = cfg.withDefaults()
	release, err := s.ClaimRun(runID)
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
	k := &canceller{workers: startWorkers(ctx, cfg), s: s, runID: runID, c: c, reason: reason, cfg: cfg,
		log: cfg.Logger.With().Str("run", runID).Logger()}
	k.tally.Orders = 1
	k.tally.add(o.State, 1)
	err = k.cancel(ctx, o)
	if werr := k.wait(); err == nil {
		err = werr // the fatal answer, if there was one
	}
	if err != nil {
		return o, err
	}
	return s.Order(runID, key)
}
