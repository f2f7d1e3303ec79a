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

var amendTallyStates = []runstore.AmendOrderState{runstore.AmendPending, runstore.AmendSending, runstore.AmendApplied,
	runstore.AmendUnchanged, runstore.AmendSkipped, runstore.AmendFailed}

func (t *AmendTally) add(s runstore.AmendOrderState, n int) {
	addCount(s, n, amendTallyStates, &t.Pending, &t.Sending, &t.Applied, &t.Unchanged, &t.Skipped, &t.Failed)
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
	if cfg.Closed == nil {
		cfg.Closed = func(error) bool { return false }
	}
	release, err := begin(s, runID, &cfg.RunConfig, "amend run "+runID)
	if err != nil {
		return AmendTally{}, err
	}
	defer release()
	orders, err := s.AmendOrders(runID, n)
	if err != nil {
		return AmendTally{}, err
	}
	log := cfg.Logger.With().Str("run", runID).Int("amendment", n).Logger()
	m := &amender{e: newEngine(ctx, cfg.RunConfig, log), s: s, runID: runID, n: n, a: a, cfg: cfg, log: log}
	m.tally.Orders = len(orders)
	for _, ao := range orders {
		m.tally.add(ao.State, 1)
	}
	for _, ao := range orders {
		if ao.State.Final() {
			continue
		}
		j := &amendJob{job: job{key: ao.Key, seq: ao.Seq}, ao: ao}
		if ao.State == runstore.AmendPending {
			j.due = ao.NextAttemptAt
		}
		j.do = func(sl *slot) step { return m.step(j, sl) }
		m.e.add(&j.job)
	}
	werr := m.e.run(func() int {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.tally.Pending + m.tally.Sending
	})

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

// amender is one Amend: what its steps do, and the tally.
type amender struct {
	e     *engine
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

// amendJob is one order's change to send, or to read back first.
type amendJob struct {
	job
	ao     runstore.AmendOrder
	checks int // read-backs since the last send
	sends  int // updates sent in this call: the bound on retries is per call
	// settled is set once the order's latest update has had SettleDelay to
	// arrive since it was sent: only then does a read-back that does not
	// show it mean it was not applied.
	settled bool
}

// step reads an order left sending back, or sends a pending order's
// change, once.
func (m *amender) step(j *amendJob, sl *slot) step {
	if j.ao.State == runstore.AmendSending {
		return m.check(j, sl)
	}
	return m.send(j, sl)
}

// check reads the order back before anything is sent again.
func (m *amender) check(j *amendJob, sl *slot) step {
	ao := &j.ao
	log := m.log.With().Str("order", ao.Key).Str("orderId", ao.OrderID).Logger()
	if !sl.take() {
		return step{}
	}
	j.checks++
	m.count(func(t *AmendTally) { t.Checks++ })
	now, err := m.a.Current(m.e.reqCtx, ao.OrderID)
	if err != nil {
		class := m.cfg.Policy.Classify(err)
		switch {
		case m.cfg.Closed(err):
			st := m.cfg.Policy.ToStored(err)
			if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendSkipped, &st, "the order is closed or cancelled"); err != nil {
				return step{stop: err}
			}
			m.moved(runstore.AmendSending, runstore.AmendSkipped, nil)
			return step{}
		case class == Fatal:
			return step{stop: err}
		case class == Final || j.checks >= m.cfg.MaxAttempts || m.e.ctx.Err() != nil:
			log.Warn().Err(err).Msg("could not read the order back; its update is left to be checked by the next amend")
			return step{}
		}
		j.due = m.cfg.Now().Add(m.cfg.backoff(j.checks, err))
		return step{again: true}
	}
	sl.give()
	held, known := now.holds(ao.Change)
	switch {
	case held:
		if err := m.s.MarkAmendApplied(m.runID, m.n, ao.Seq, "found applied when the order was read back"); err != nil {
			return step{stop: err}
		}
		m.moved(runstore.AmendSending, runstore.AmendApplied, func(t *AmendTally) { t.Found++ })
		log.Info().Msg("update found applied")
		return step{}
	case now.Open && !j.settled:
		// An update sent by an earlier process may still be on its way:
		// read the order back again once it has had time to arrive.
		j.settled = true
		j.due = m.cfg.Now().Add(m.cfg.SettleDelay)
		return step{again: true}
	case !now.Open:
		note := "the order is " + strings.ToLower(cmp.Or(now.Status, "closed"))
		if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendSkipped, nil, note); err != nil {
			return step{stop: err}
		}
		m.moved(runstore.AmendSending, runstore.AmendSkipped, nil)
		return step{}
	}
	// Not applied, or not shown: the update sets absolute values, so
	// sending it again is safe.
	if !known {
		log.Info().Msg("the order's read-back does not show the update; sending it again")
	}
	if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, nil, time.Time{}); err != nil {
		return step{stop: err}
	}
	m.moved(runstore.AmendSending, runstore.AmendPending, nil)
	ao.State = runstore.AmendPending
	if j.sends >= m.cfg.MaxAttempts {
		// Every send met no clear answer: not a verdict.
		var last error = errors.New("no clear answer")
		if ao.Error != nil {
			last = ao.Error
		}
		log.Warn().Err(last).Msg("update not applied and every send met no clear answer; amending stops and keeps it to send again")
		return step{stop: &gaveUpError{ref: ao.OrderID, tries: j.sends, err: last}}
	}
	j.due = ao.NextAttemptAt
	return step{again: true}
}

// send records a pending change as sending and sends it.
func (m *amender) send(j *amendJob, sl *slot) step {
	if !sl.take() {
		return step{}
	}
	sent, err := m.s.MarkAmendSending(m.runID, m.n, j.ao.Seq)
	if err != nil {
		return step{stop: err}
	}
	j.ao = sent
	ao := &j.ao
	log := m.log.With().Str("order", ao.Key).Str("orderId", ao.OrderID).Logger()
	m.moved(runstore.AmendPending, runstore.AmendSending, func(t *AmendTally) { t.Sent++ })
	err = m.a.Update(m.e.reqCtx, ao.OrderID, ao.Change)
	j.sends++
	if err == nil {
		sl.give()
		if err := m.s.MarkAmendApplied(m.runID, m.n, ao.Seq, ""); err != nil {
			return step{stop: err}
		}
		m.moved(runstore.AmendSending, runstore.AmendApplied, nil)
		log.Debug().Msg("update applied")
		return step{}
	}
	st := m.cfg.Policy.ToStored(err)
	if m.cfg.Closed(err) {
		if err := m.s.MarkAmendFinal(m.runID, m.n, ao.Seq, runstore.AmendSkipped, &st, "the order is closed or cancelled"); err != nil {
			return step{stop: err}
		}
		m.moved(runstore.AmendSending, runstore.AmendSkipped, nil)
		log.Info().Err(err).Msg("order closed or cancelled; skipped")
		return step{}
	}
	switch classOf(m.cfg.Policy, err) {
	case Retryable:
		if j.sends >= m.cfg.MaxAttempts {
			// An outage, or a server error that does not go away: not a
			// verdict on the order. Its change stays pending and amending
			// stops.
			if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, &st, time.Time{}); err != nil {
				return step{stop: err}
			}
			m.moved(runstore.AmendSending, runstore.AmendPending, nil)
			log.Warn().Err(err).Msg("update kept failing without a verdict; amending stops and keeps it to send again")
			return step{stop: &gaveUpError{ref: ao.OrderID, tries: j.sends, err: err}}
		}
		next := m.cfg.Now().Add(m.cfg.backoff(ao.Attempts, err))
		if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, &st, next); err != nil {
			return step{stop: err}
		}
		m.moved(runstore.AmendSending, runstore.AmendPending, func(t *AmendTally) { t.Retries++ })
		ao.State, ao.NextAttemptAt = runstore.AmendPending, next
		j.due = next
		log.Info().Err(err).Time("next", next).Msg("update will be retried")
		return step{again: true}
	case Final, Done:
		return step{stop: m.fail(*ao, &st, "")}
	case Fatal:
		// Refused before anything was done: safe to send again later.
		if err := m.s.MarkAmendRetry(m.runID, m.n, ao.Seq, &st, time.Time{}); err != nil {
			return step{stop: err}
		}
		m.moved(runstore.AmendSending, runstore.AmendPending, nil)
		return step{stop: err}
	default:
		if err := m.s.MarkAmendUncertain(m.runID, m.n, ao.Seq, st); err != nil {
			return step{stop: err}
		}
		log.Info().Err(err).Msg("update may have been applied; reading the order back before sending it again")
		j.checks, j.settled = 0, true
		j.due = m.cfg.Now().Add(m.cfg.SettleDelay)
		return step{again: true}
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
