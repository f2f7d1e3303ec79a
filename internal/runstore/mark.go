package runstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// StateError is returned when an order is asked to make a move its state
// does not allow.
type StateError struct {
	RunID, Key string
	From, To   OrderState
}

func (e *StateError) Error() string {
	return fmt.Sprintf("order %q of run %s is %s and cannot become %s", e.Key, e.RunID, e.From, e.To)
}

// errNoChange tells change that the order is already where it was asked
// to go.
var errNoChange = errors.New("no change")

// runTx is one change to one run inside a write transaction.
type runTx struct {
	tx  *bolt.Tx
	id  string
	run *Run
	rb  *bolt.Bucket
	now time.Time
}

// change applies fn to one order in a group-committed transaction, keeps
// the run's counts, and returns the order as stored.
func (s *Store) change(runID, key string, to OrderState, fn func(t *runTx, o *Order) error) (Order, error) {
	var out Order
	err := s.update(func(tx *bolt.Tx) error {
		out = Order{}
		rb, err := runBucket(tx, runID)
		if err != nil {
			return refuse(err)
		}
		run, err := getRun(tx, runID)
		if err != nil {
			return refuse(err)
		}
		t := &runTx{tx: tx, id: runID, run: run, rb: rb, now: s.opt.Now().UTC()}
		seq, o, err := readOrder(rb, runID, key)
		if err != nil {
			return refuse(err)
		}
		from := o.State
		if err := fn(t, o); err != nil {
			var se *StateError
			switch {
			case errors.Is(err, errNoChange):
				out = *o
				return nil
			case errors.As(err, &se):
				// Every fn checks the state before it writes anything.
				return refuse(err)
			}
			return err
		}
		if o.State != to {
			return &StateError{RunID: runID, Key: key, From: from, To: to}
		}
		o.UpdatedAt = t.now
		v, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if err := rb.Bucket(bucketOrders).Put(seq, v); err != nil {
			return err
		}
		if from != o.State {
			bump(run.Orders, from, -1)
			bump(run.Orders, o.State, 1)
		}
		run.UpdatedAt = t.now
		out = *o
		return putRun(tx, run)
	})
	return out, err
}

// bump adds n to a count, dropping counts that reach zero.
func bump[K comparable](m map[K]int, k K, n int) {
	if m[k]+n == 0 {
		delete(m, k)
		return
	}
	m[k] += n
}

// need returns a StateError unless o is in one of states.
func need(o *Order, to OrderState, states ...OrderState) error {
	if slices.Contains(states, o.State) {
		return nil
	}
	return &StateError{RunID: o.RunID, Key: o.Key, From: o.State, To: to}
}

// updateRow applies fn to one row's outcome and keeps the run's counts.
func (t *runTx) updateRow(row int, fn func(r *RowOutcome)) error {
	b := t.rb.Bucket(bucketRows)
	k := u64(row)
	r := RowOutcome{Row: row, Status: RowPending}
	v := b.Get(k)
	if v != nil {
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("row %d of run %s: %w", row, t.id, err)
		}
	}
	from := r.Status
	fn(&r)
	if v != nil {
		bump(t.run.Rows, from, -1)
	}
	bump(t.run.Rows, r.Status, 1)
	nv, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	return b.Put(k, nv)
}

// MarkSending records that the order's request is about to leave; it must
// be called (and return) before the request is sent. It counts the attempt
// and returns the order with its body.
func (s *Store) MarkSending(runID, key string) (Order, error) {
	return s.change(runID, key, Sending, func(t *runTx, o *Order) error {
		if err := need(o, Sending, Planned); err != nil {
			return err
		}
		o.State = Sending
		o.Attempts++
		o.NextAttemptAt = time.Time{}
		o.Body = bytes.Clone(t.rb.Bucket(bucketBodies).Get(u64(o.Seq)))
		return nil
	})
}

// MarkSubmitted records that Equinix holds the order under orderID: its
// rows become ordered (a row already rejected through another order stays
// rejected) and its visitors are recorded as ordered.
func (s *Store) MarkSubmitted(runID, key, orderID string) error {
	if orderID == "" {
		return fmt.Errorf("order %q of run %s: submitted without an order id", key, runID)
	}
	_, err := s.change(runID, key, Submitted, func(t *runTx, o *Order) error {
		if o.State == Submitted && o.OrderID == orderID {
			return errNoChange
		}
		if err := need(o, Submitted, Sending); err != nil {
			return err
		}
		o.State, o.OrderID, o.SubmittedAt = Submitted, orderID, t.now
		o.LastError, o.NextAttemptAt = nil, time.Time{}
		for _, row := range o.Rows {
			if err := t.updateRow(row, func(r *RowOutcome) {
				if !slices.Contains(r.OrderIDs, orderID) {
					r.OrderIDs = append(r.OrderIDs, orderID)
				}
				if r.Status != RowRejected {
					r.Status = RowOrdered
					r.Code, r.Message, r.Hint, r.Problems = "", "", "", nil
				}
			}); err != nil {
				return err
			}
		}
		if err := indexOrderID(t.tx, t.run.Where(), t.id, o.Key, orderID); err != nil {
			return err
		}
		return t.claim(o)
	})
	return err
}

func (t *runTx) claim(o *Order) error {
	b := t.tx.Bucket(bucketVisitors)
	for i, vk := range o.VisitorKeys {
		if vk == "" {
			continue
		}
		v, err := json.Marshal(Claim{RunID: t.id, OrderKey: o.Key, OrderID: o.OrderID, Row: o.Rows[i]})
		if err != nil {
			return err
		}
		if err := b.Put([]byte(vk), v); err != nil {
			return err
		}
	}
	return nil
}

func (t *runTx) unclaim(o *Order) error {
	b := t.tx.Bucket(bucketVisitors)
	for _, vk := range o.VisitorKeys {
		v := b.Get([]byte(vk))
		if vk == "" || v == nil {
			continue
		}
		var c Claim
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		if c.RunID == t.id && c.OrderKey == o.Key {
			if err := b.Delete([]byte(vk)); err != nil {
				return err
			}
		}
	}
	return nil
}

// MarkRejected records that Equinix refused the order for good. Its rows
// become rejected with the error; problems whose Row names one of the
// order's rows go to that row, the others to every row.
func (s *Store) MarkRejected(runID, key string, e StoredError) error {
	_, err := s.change(runID, key, Rejected, func(t *runTx, o *Order) error {
		if o.State == Rejected {
			return errNoChange
		}
		if err := need(o, Rejected, Planned, Sending); err != nil {
			return err
		}
		o.State, o.LastError, o.NextAttemptAt = Rejected, &e, time.Time{}
		var general []Problem
		byRow := map[int][]Problem{}
		for _, p := range e.Problems {
			if p.Row != 0 && slices.Contains(o.Rows, p.Row) {
				byRow[p.Row] = append(byRow[p.Row], p)
			} else {
				general = append(general, p)
			}
		}
		faulted := make([]int, 0, len(byRow))
		for row := range byRow {
			faulted = append(faulted, row)
		}
		slices.Sort(faulted)
		for _, row := range o.Rows {
			if err := t.updateRow(row, func(r *RowOutcome) {
				r.Status = RowRejected
				r.Code, r.Message, r.Hint = e.Code, e.Message, e.Hint
				r.Problems = append(slices.Clone(byRow[row]), general...)
				if len(faulted) > 0 && len(byRow[row]) == 0 {
					r.Hint = "refused with its order because of row " + joinInts(faulted) +
						"; this row can be sent again once they are fixed"
				}
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// MarkRetry records that a request failed in a way that is safe to repeat:
// the order goes back to planned, not to be sent before next.
func (s *Store) MarkRetry(runID, key string, e StoredError, next time.Time) error {
	_, err := s.change(runID, key, Planned, func(t *runTx, o *Order) error {
		if err := need(o, Planned, Sending); err != nil {
			return err
		}
		o.State, o.LastError, o.NextAttemptAt = Planned, &e, next.UTC()
		return nil
	})
	return err
}

// MarkUnsent records that an order marked sending was not sent after all
// (the run stopped before its turn): it goes back to planned, and the
// attempt MarkSending counted is taken back.
func (s *Store) MarkUnsent(runID, key string) error {
	_, err := s.change(runID, key, Planned, func(t *runTx, o *Order) error {
		if err := need(o, Planned, Sending); err != nil {
			return err
		}
		o.State = Planned
		o.Attempts = max(0, o.Attempts-1)
		return nil
	})
	return err
}

// MarkUncertain records the error of a request that may have reached
// Equinix: the order stays sending until a search by its reference tells.
func (s *Store) MarkUncertain(runID, key string, e StoredError) error {
	_, err := s.change(runID, key, Sending, func(t *runTx, o *Order) error {
		if err := need(o, Sending, Sending); err != nil {
			return err
		}
		o.LastError = &e
		return nil
	})
	return err
}

// MarkNotFound records that a search by reference found no order for a
// sending order: it goes back to planned, safe to send. seen says whether
// this process saw the order's request fail without a clear answer; an
// order left sending by an earlier process (a crash) may never have been
// sent at all, since its intent is recorded before it waits for a slot,
// and the attempt MarkSending counted is taken back. It returns the order
// as stored.
func (s *Store) MarkNotFound(runID, key string, seen bool) (Order, error) {
	return s.change(runID, key, Planned, func(t *runTx, o *Order) error {
		if err := need(o, Planned, Sending); err != nil {
			return err
		}
		o.State, o.NextAttemptAt = Planned, time.Time{}
		if !seen {
			o.Attempts = max(0, o.Attempts-1)
		}
		return nil
	})
}

// MarkCancelling records that the order's cancellation is about to be
// asked for.
func (s *Store) MarkCancelling(runID, key string) error {
	_, err := s.change(runID, key, Cancelling, func(t *runTx, o *Order) error {
		if o.State == Cancelling {
			return errNoChange
		}
		if err := need(o, Cancelling, Submitted); err != nil {
			return err
		}
		o.State = Cancelling
		return nil
	})
	return err
}

// MarkCancelled records that the order is cancelled (or, from planned, will
// never be sent). Its rows become cancelled and its visitors are no longer
// recorded as ordered.
func (s *Store) MarkCancelled(runID, key string) error {
	_, err := s.change(runID, key, Cancelled, func(t *runTx, o *Order) error {
		if o.State == Cancelled {
			return errNoChange
		}
		if err := need(o, Cancelled, Planned, Submitted, Cancelling); err != nil {
			return err
		}
		o.State, o.NextAttemptAt = Cancelled, time.Time{}
		for _, row := range o.Rows {
			if err := t.updateRow(row, func(r *RowOutcome) {
				if r.Status == RowOrdered || r.Status == RowPending {
					r.Status = RowCancelled
				}
			}); err != nil {
				return err
			}
		}
		return t.unclaim(o)
	})
	return err
}

// MarkClosed records that Equinix closed the order (the visit is over)
// before it could be cancelled: it is settled, its rows stay as they were.
func (s *Store) MarkClosed(runID, key string) error {
	_, err := s.change(runID, key, Closed, func(t *runTx, o *Order) error {
		if o.State == Closed {
			return errNoChange
		}
		if err := need(o, Closed, Submitted, Cancelling); err != nil {
			return err
		}
		o.State, o.LastError = Closed, nil
		return nil
	})
	return err
}

// MarkCancelFailed records that a cancellation was refused: the order
// stays submitted, with the error.
func (s *Store) MarkCancelFailed(runID, key string, e StoredError) error {
	_, err := s.change(runID, key, Submitted, func(t *runTx, o *Order) error {
		if err := need(o, Submitted, Cancelling); err != nil {
			return err
		}
		o.State, o.LastError = Submitted, &e
		return nil
	})
	return err
}

// SetRunState records where a run stands.
func (s *Store) SetRunState(runID string, state RunState) error {
	return s.update(func(tx *bolt.Tx) error {
		run, err := getRun(tx, runID)
		if err != nil {
			return refuse(err)
		}
		if run.State == state {
			return nil
		}
		run.State, run.UpdatedAt = state, s.opt.Now().UTC()
		return putRun(tx, run)
	})
}
