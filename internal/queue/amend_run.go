package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// OrderNow is an order as Equinix holds it now, read back to find out
// whether an update whose answer was lost was applied. Nil fields (and
// NotifyKnown false) are what the read-back does not show.
type OrderNow struct {
	// Open is false once the order is closed or cancelled.
	Open   bool
	Status string

	Start, End  *time.Time
	OpenCabinet *bool
	Notify      []string
	NotifyKnown bool
}

// holds reports whether the order holds everything c changes, and whether
// the read-back showed all of it.
func (n OrderNow) holds(c runstore.Change) (held, known bool) {
	held, known = true, true
	check := func(shown, same bool) {
		if !shown {
			known = false
			return
		}
		held = held && same
	}
	if c.Start != nil {
		check(n.Start != nil, n.Start != nil && n.Start.Equal(*c.Start))
	}
	if c.End != nil {
		check(n.End != nil, n.End != nil && n.End.Equal(*c.End))
	}
	if c.OpenCabinet != nil {
		check(n.OpenCabinet != nil, n.OpenCabinet != nil && *n.OpenCabinet == *c.OpenCabinet)
	}
	if c.Notify != nil {
		all := true
		for _, u := range c.Notify {
			all = all && slices.ContainsFunc(n.Notify, func(x string) bool { return strings.EqualFold(x, u) })
		}
		check(n.NotifyKnown, all)
	}
	return held && known, known
}

// Amender updates placed orders and reads them back.
type Amender interface {
	// Update sends one order's change.
	Update(ctx context.Context, orderID string, c runstore.Change) error
	// Current reads the order back.
	Current(ctx context.Context, orderID string) (OrderNow, error)
}

// AmendConfig configures Amend: RunConfig's bounds, retries and clock, and
// which errors mean the order can no longer be changed.
type AmendConfig struct {
	RunConfig
	// Closed tells whether an error means the order is closed or cancelled
	// and cannot be changed (Equinix's EQ-2016007): it is skipped.
	Closed func(error) bool
}

// AmendTally counts an amendment's orders by state, and what one Amend did.
type AmendTally struct {
	Orders    int
	Pending   int
	Sending   int
	Applied   int
	Unchanged int
	Skipped   int
	Failed    int

	// Sent counts the updates sent by this call, Retries the retryable
	// failures among them, Checks the read-backs, and Found the updates
	// that a read-back found applied (and that were not sent again).
	Sent    int
	Retries int
	Checks  int
	Found   int
}

func (t *AmendTally) add(s runstore.AmendOrderState, n int) {
	switch s {
	case runstore.AmendPending:
		t.Pending += n
	case runstore.AmendSending:
		t.Sending += n
	case runstore.AmendApplied:
		t.Applied += n
	case runstore.AmendUnchanged:
		t.Unchanged += n
	case runstore.AmendSkipped:
		t.Skipped += n
	case runstore.AmendFailed:
		t.Failed += n
	}
}

// Amend applies amendment n of a run: every pending order's change is
// recorded as sending, then sent, at most cfg.Concurrency at once, retrying
// what may be retried. An order left sending (by a crash, or an answer that
// did not come) is read back first: if it holds the change, the change is
// recorded as applied without being sent again; if it does not, it is sent;
// if it is closed or cancelled, it is skipped. When ctx is cancelled or an
// answer is Fatal, Amend sends nothing more, records the requests in flight
// and returns; amending again resumes. An update that keeps failing in a
// way that may pass (no answer, a timeout, 429, 5xx) for MaxAttempts sends
// in one call is never recorded failed: it stays pending and Amend stops
// (ErrGaveUp), to be finished by amending again. While the API is
// unreachable a warning is logged every WarnEvery.
func Amend(ctx context.Context, s *runstore.Store, runID string, n int, a Amender, cfg AmendConfig) (AmendTally, error) {
	if err := cfg.validate(); err != nil {
		return AmendTally{}, fmt.Errorf("amend run %s: %w", runID, err)
	}
	cfg.RunConfig = cfg.withDefaults()
	if cfg.Closed == nil {
		cfg.Closed = func(error) bool { return false }
	}
	release, err := s.ClaimRun(runID)
	if err != nil {
		return AmendTally{}, err
	}
	defer release()
	orders, err := s.AmendOrders(runID, n)
	if err != nil {
		return AmendTally{}, err
	}
	m := &amender{workers: startWorkers(ctx, cfg.RunConfig), s: s, runID: runID, n: n, a: a, cfg: cfg,
		log: cfg.Logger.With().Str("run", runID).Int("amendment", n).Logger()}
	m.tally.Orders = len(orders)
	for _, ao := range orders {
		m.tally.add(ao.State, 1)
	}
	stopWatch := watchOutage(cfg.RunConfig, m.log, func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.tally.Pending + m.tally.Sending
	})

	for _, ao := range orders {
		if ao.State.Final() {
			continue
		}
		if m.stopped() {
			break
		}
		m.request(ao.Key, func() error { return m.work(ctx, m.reqCtx, ao) })
	}
	werr := m.wait()
	stopWatch()

	t := m.tally
	state := runstore.AmendDone
	var stopErr error
	switch {
	case werr != nil:
		state, stopErr = runstore.AmendInterrupted, werr
	case ctx.Err() != nil:
		state, stopErr = runstore.AmendInterrupted, ctx.Err()
	case t.Sending > 0:
		state = runstore.AmendInterrupted
		stopErr = fmt.Errorf("amend run %s: %d updates whose outcome is unknown (reading the orders back failed); amend again to resolve them", runID, t.Sending)
	case t.Pending > 0:
		state = runstore.AmendInterrupted
		stopErr = fmt.Errorf("amend run %s: %d updates not sent yet; amend again to send them", runID, t.Pending)
	}
	if err := s.SetAmendmentState(runID, n, state); err != nil && stopErr == nil {
		stopErr = err
	}
	return t, stopErr
}

type amender struct {
	*workers
	s     *runstore.Store
	runID string
	n     int
	a     Amender
	cfg   AmendConfig
	log   zerolog.Logger

	mu    sync.Mutex
	tally AmendTally
}

// moved counts a change once the store holds it.
func (m *amender) moved(from, to runstore.AmendOrderState, count func(t *AmendTally)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tally.add(from, -1)
	m.tally.add(to, 1)
	if count != nil {
		count(&m.tally)
	}
}

func (m *amender) count(fn func(t *AmendTally)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.tally)
}

// classify is cfg.Policy.Classify, except that an update cut short by a cancelled
// or expired context may have reached Equinix.
func (m *amender) classify(err error) ErrorClass {
	c := m.cfg.Policy.Classify(err)
	if c == Retryable && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return Uncertain
	}
	return c
}

// work takes one order's change to a final state, or leaves it pending or
// sending when Amend must stop. It returns only store failures.
func (m *amender) work(ctx, reqCtx context.Context, ao runstore.AmendOrder) error {
	log := m.log.With().Str("order", ao.Key).Str("orderId", ao.OrderID).Logger()
	// sends counts the updates this call sent for the order: the bound on
	// retries is per call, so that a later amend retries afresh.
	checks, sends := 0, 0
	// settled is set once the order's latest update has had SettleDelay to
	// arrive since it was sent: only then does a read-back that does not
	// show it mean it was not applied.
	settled := false
	for {
		if ao.State == runstore.AmendSending {
			// Read the order back before anything is sent again.
			checks++
			m.count(func(t *AmendTally) { t.Checks++ })
			now, err := m.a.Current(reqCtx, ao.OrderID)
			if err != nil {
				class := m.cfg.Policy.Classify(err)
				switch {
				case m.cfg.Closed(err):
					st := m.cfg.Policy.ToStored(err)
					if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendSkipped, &st, "the order is closed or cancelled"); err != nil {
						return err
					}
					m.moved(runstore.AmendSending, runstore.AmendSkipped, nil)
					return nil
				case class == Fatal:
					m.fatal(err)
					return nil
				case class == Final || checks >= m.cfg.MaxAttempts || ctx.Err() != nil:
					log.Warn().Err(err).Msg("could not read the order back; its update is left to be checked by the next amend")
					return nil
				}
				if m.cfg.Sleep(ctx, m.cfg.backoff(checks, err)) != nil {
					return nil
				}
				continue
			}
			held, known := now.holds(ao.Change)
			switch {
			case held:
				if err := m.s.MarkAmendApplied(m.runID, m.n, ao.Seq, "found applied when the order was read back"); err != nil {
					return err
				}
				m.moved(runstore.AmendSending, runstore.AmendApplied, func(t *AmendTally) { t.Found++ })
				log.Info().Msg("update found applied")
				return nil
			case now.Open && !settled:
				// An update sent by an earlier process may still be on its
				// way: read the order back again once it has had time to
				// arrive.
				settled = true
				if m.cfg.Sleep(ctx, m.cfg.SettleDelay) != nil {
					return nil
				}
				continue
			case !now.Open:
				note := "the order is " + strings.ToLower(cmp.Or(now.Status, "closed"))
				if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendSkipped, nil, note); err != nil {
					return err
				}
				m.moved(runstore.AmendSending, runstore.AmendSkipped, nil)
				return nil
			}
			// Not applied, or not shown: the update sets absolute values,
			// so sending it again is safe.
			if !known {
				log.Info().Msg("the order's read-back does not show the update; sending it again")
			}
			if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, nil, time.Time{}); err != nil {
				return err
			}
			m.moved(runstore.AmendSending, runstore.AmendPending, nil)
			ao.State = runstore.AmendPending
			if sends >= m.cfg.MaxAttempts {
				// Every send met no clear answer: not a verdict.
				var last error = errors.New("no clear answer")
				if ao.Error != nil {
					last = ao.Error
				}
				m.fatal(&gaveUpError{ref: ao.OrderID, tries: sends, err: last})
				log.Warn().Err(last).Msg("update not applied and every send met no clear answer; amending stops and keeps it to send again")
				return nil
			}
			continue
		}

		// Pending: wait for its time, record the intent, send.
		if m.stopped() {
			return nil
		}
		if d := ao.NextAttemptAt.Sub(m.cfg.Now()); d > 0 && (m.cfg.Sleep(ctx, d) != nil || m.stopped()) {
			return nil
		}
		sent, err := m.s.MarkAmendSending(m.runID, m.n, ao.Seq)
		if err != nil {
			return err
		}
		ao = sent
		m.moved(runstore.AmendPending, runstore.AmendSending, func(t *AmendTally) { t.Sent++ })
		err = m.a.Update(reqCtx, ao.OrderID, ao.Change)
		sends++
		if err == nil {
			if err := m.s.MarkAmendApplied(m.runID, m.n, ao.Seq, ""); err != nil {
				return err
			}
			m.moved(runstore.AmendSending, runstore.AmendApplied, nil)
			log.Debug().Msg("update applied")
			return nil
		}
		st := m.cfg.Policy.ToStored(err)
		if m.cfg.Closed(err) {
			if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendSkipped, &st, "the order is closed or cancelled"); err != nil {
				return err
			}
			m.moved(runstore.AmendSending, runstore.AmendSkipped, nil)
			log.Info().Err(err).Msg("order closed or cancelled; skipped")
			return nil
		}
		switch m.classify(err) {
		case Retryable:
			if sends >= m.cfg.MaxAttempts {
				// An outage, or a server error that does not go away: not
				// a verdict on the order. Its change stays pending and
				// amending stops.
				if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, &st, time.Time{}); err != nil {
					return err
				}
				m.moved(runstore.AmendSending, runstore.AmendPending, nil)
				m.fatal(&gaveUpError{ref: ao.OrderID, tries: sends, err: err})
				log.Warn().Err(err).Msg("update kept failing without a verdict; amending stops and keeps it to send again")
				return nil
			}
			next := m.cfg.Now().Add(m.cfg.backoff(ao.Attempts, err))
			if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, &st, next); err != nil {
				return err
			}
			m.moved(runstore.AmendSending, runstore.AmendPending, func(t *AmendTally) { t.Retries++ })
			ao.State, ao.NextAttemptAt = runstore.AmendPending, next
			log.Info().Err(err).Time("next", next).Msg("update will be retried")
		case Final, Done:
			return m.fail(ao, &st, "")
		case Fatal:
			// Refused before anything was done: safe to send again later.
			if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, &st, time.Time{}); err != nil {
				return err
			}
			m.moved(runstore.AmendSending, runstore.AmendPending, nil)
			m.fatal(err)
			return nil
		default:
			if err := m.s.MarkAmendUncertain(m.runID, m.n, ao.Seq, st); err != nil {
				return err
			}
			log.Info().Err(err).Msg("update may have been applied; reading the order back before sending it again")
			if m.cfg.Sleep(ctx, m.cfg.SettleDelay) != nil {
				return nil
			}
			checks, settled = 0, true
		}
	}
}

func (m *amender) fail(ao runstore.AmendOrder, st *runstore.StoredError, note string) error {
	from := ao.State
	if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendFailed, st, note); err != nil {
		return err
	}
	m.moved(from, runstore.AmendFailed, nil)
	m.log.Info().Str("order", ao.Key).Str("orderId", ao.OrderID).Msg("update refused")
	return nil
}
