package runstore

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Amendments change what a run's placed orders ask for (the visit window,
// the open-cabinet flag, notification contacts) with the same guarantees as
// Submit: each order's change is recorded, with fsync, before its request
// leaves; an order whose answer was lost is read back and compared with the
// change before anything is sent again; every order's outcome is recorded.
//
// A run's amendments live beside its orders:
//
//	run/<run id>/amends       n → Amendment (n = 1, 2, …)
//	run/<run id>/amendorders  n ‖ seq → AmendOrder
//
// The buckets are made by the first amendment of a run, so stores written
// before amendments existed need no upgrade.

// MaxVisit is the longest window a work visit may have.
const MaxVisit = 14 * 24 * time.Hour

var (
	bucketAmends      = []byte("amends")
	bucketAmendOrders = []byte("amendorders")
)

// ErrAmendUnfinished is matched by the error CreateAmendment returns when
// the run has an amendment that is not finished and a different one is
// asked for.
var ErrAmendUnfinished = errors.New("an earlier amendment is not finished")

// ErrAmendRepeated is matched by the error CreateAmendment returns when the
// same shift was already applied to the run and Again is not set.
var ErrAmendRepeated = errors.New("this amendment was already applied")

// AmendRequest is a change asked for every placed order of a run. A window
// is either Shift (every order's window moves by it) or Start and End (every
// order gets that window); OpenCabinet and Notify change the order's
// options. Notify adds notification contacts to those the order has.
type AmendRequest struct {
	Shift       time.Duration `json:"shift,omitempty"`
	Start       time.Time     `json:"start,omitzero"`
	End         time.Time     `json:"end,omitzero"`
	OpenCabinet *bool         `json:"openCabinet,omitempty"`
	Notify      []string      `json:"notify,omitempty"`
	// Keys, when set, limits the amendment to these orders of the run.
	Keys []string `json:"keys,omitempty"`
}

// String says what the request changes, for people.
func (r AmendRequest) String() string {
	var parts []string
	switch {
	case r.Shift != 0:
		parts = append(parts, "shift the window by "+r.Shift.String())
	case !r.Start.IsZero():
		parts = append(parts, "window "+r.Start.UTC().Format(time.RFC3339)+" → "+r.End.UTC().Format(time.RFC3339))
	}
	if r.OpenCabinet != nil {
		parts = append(parts, "open cabinet "+strconv.FormatBool(*r.OpenCabinet))
	}
	if len(r.Notify) > 0 {
		parts = append(parts, "add notification contacts "+strings.Join(r.Notify, ", "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	if len(r.Keys) > 0 {
		parts = append(parts, fmt.Sprintf("for %d of the run's orders", len(r.Keys)))
	}
	return strings.Join(parts, "; ")
}

func (r AmendRequest) same(o AmendRequest) bool {
	return r.Shift == o.Shift && r.Start.Equal(o.Start) && r.End.Equal(o.End) &&
		(r.OpenCabinet == nil) == (o.OpenCabinet == nil) && (r.OpenCabinet == nil || *r.OpenCabinet == *o.OpenCabinet) &&
		slices.Equal(r.Notify, o.Notify) && slices.Equal(r.Keys, o.Keys)
}

func (r AmendRequest) check() error {
	switch {
	case r.Shift != 0 && (!r.Start.IsZero() || !r.End.IsZero()):
		return errors.New("give a shift or a new window, not both")
	case r.Start.IsZero() != r.End.IsZero():
		return errors.New("a new window needs both a start and an end")
	case !r.Start.IsZero() && !r.End.After(r.Start):
		return fmt.Errorf("the new window ends (%s) before it starts (%s)", r.End.UTC().Format(time.RFC3339), r.Start.UTC().Format(time.RFC3339))
	case !r.Start.IsZero() && r.End.Sub(r.Start) > MaxVisit:
		return fmt.Errorf("the new window lasts %s; a work visit lasts at most 14 days", r.End.Sub(r.Start))
	case r.Shift == 0 && r.Start.IsZero() && r.OpenCabinet == nil && len(r.Notify) == 0:
		return errors.New("the amendment changes nothing")
	}
	for _, u := range r.Notify {
		if strings.TrimSpace(u) == "" {
			return errors.New("an empty notification contact")
		}
	}
	return nil
}

// Visit is what an order asks for that an amendment can change.
type Visit struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	OpenCabinet bool      `json:"openCabinet"`
	Notify      []string  `json:"notify,omitempty"`
}

// Change is the update sent for one order: nil fields stay as they are.
// Notify, when set, is the order's whole list of notification contacts.
type Change struct {
	Start       *time.Time `json:"start,omitempty"`
	End         *time.Time `json:"end,omitempty"`
	OpenCabinet *bool      `json:"openCabinet,omitempty"`
	Notify      []string   `json:"notify,omitempty"`
}

// Empty reports whether the change changes nothing.
func (c Change) Empty() bool {
	return c.Start == nil && c.End == nil && c.OpenCabinet == nil && c.Notify == nil
}

// apply returns v with c applied.
func (c Change) apply(v Visit) Visit {
	if c.Start != nil {
		v.Start = c.Start.UTC()
	}
	if c.End != nil {
		v.End = c.End.UTC()
	}
	if c.OpenCabinet != nil {
		v.OpenCabinet = *c.OpenCabinet
	}
	if c.Notify != nil {
		v.Notify = slices.Clone(c.Notify)
	}
	return v
}

// AmendState is where an amendment stands.
type AmendState string

// Amendment states.
const (
	AmendOpen        AmendState = "open"
	AmendDone        AmendState = "done"
	AmendInterrupted AmendState = "interrupted"
)

// AmendOrderState is where one order's change stands. An order moves
// pending → sending → applied, or to unchanged (nothing to change), skipped
// (closed or cancelled) or failed (refused); a retryable failure moves it
// from sending back to pending.
type AmendOrderState string

// Order change states.
const (
	AmendPending   AmendOrderState = "pending"
	AmendSending   AmendOrderState = "sending"
	AmendApplied   AmendOrderState = "applied"
	AmendUnchanged AmendOrderState = "unchanged"
	AmendSkipped   AmendOrderState = "skipped"
	AmendFailed    AmendOrderState = "failed"
)

// Final reports whether an amended order is done with: nothing more is sent
// for it.
func (s AmendOrderState) Final() bool {
	return s != AmendPending && s != AmendSending
}

// Amendment is one change asked for a run's orders.
type Amendment struct {
	RunID     string                  `json:"-"`
	N         int                     `json:"n"`
	Request   AmendRequest            `json:"request"`
	State     AmendState              `json:"state"`
	CreatedAt time.Time               `json:"createdAt"`
	UpdatedAt time.Time               `json:"updatedAt"`
	Orders    map[AmendOrderState]int `json:"orders"`
}

// AmendOrder is one order's part of an amendment.
type AmendOrder struct {
	N         int             `json:"n"`
	Seq       int             `json:"seq"`
	Key       string          `json:"key"`
	Reference string          `json:"reference"`
	OrderID   string          `json:"orderId,omitempty"`
	State     AmendOrderState `json:"state"`
	// Before is what the order asked for when the amendment was made, and
	// After what it asks for once the change is applied.
	Before Visit  `json:"before"`
	After  Visit  `json:"after"`
	Change Change `json:"change"`
	// Attempts counts the updates that were (or may have been) sent.
	Attempts      int          `json:"attempts,omitempty"`
	NextAttemptAt time.Time    `json:"nextAttemptAt,omitzero"`
	Error         *StoredError `json:"error,omitempty"`
	// Note says, for people, how the order got to its state.
	Note      string    `json:"note,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func amendOrderKey(n, seq int) []byte { return append(u64(n), u64(seq)...) }

// RefusedError is an amendment refused before anything was recorded or
// sent, with every reason.
type RefusedError struct {
	RunID   string
	Reasons []string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("amend run %s: %s", e.RunID, strings.Join(e.Reasons, "; "))
}

// createBody is what an amendment reads of an order's create request.
type createBody struct {
	Contacts []struct {
		Type            string   `json:"type"`
		RegisteredUsers []string `json:"registeredUsers"`
	} `json:"contacts"`
	Details struct {
		OpenCabinet bool `json:"openCabinet"`
	} `json:"details"`
}

// currentVisit is what order o asks for now: its window, and the options of
// its create request as the latest applied amendment left them.
func currentVisit(rb *bolt.Bucket, o *Order) (Visit, error) {
	v := Visit{Start: o.Start.UTC(), End: o.End.UTC()}
	if body := rb.Bucket(bucketBodies).Get(u64(o.Seq)); len(body) > 0 {
		var cb createBody
		if err := json.Unmarshal(body, &cb); err != nil {
			return v, fmt.Errorf("order %q: recorded request is unreadable: %w", o.Key, err)
		}
		v.OpenCabinet = cb.Details.OpenCabinet
		for _, c := range cb.Contacts {
			if c.Type == "NOTIFICATION" {
				v.Notify = append(v.Notify, c.RegisteredUsers...)
			}
		}
	}
	ab := rb.Bucket(bucketAmendOrders)
	if ab == nil {
		return v, nil
	}
	err := ab.ForEach(func(k, raw []byte) error {
		if len(k) != 16 || fromU64(k[8:]) != o.Seq {
			return nil
		}
		var ao AmendOrder
		if err := json.Unmarshal(raw, &ao); err != nil {
			return err
		}
		if ao.State == AmendApplied {
			v.OpenCabinet, v.Notify = ao.After.OpenCabinet, ao.After.Notify
		}
		return nil
	})
	return v, err
}

// planChange returns the change req asks of an order that asks for v now.
func planChange(req AmendRequest, v Visit) (Change, Visit) {
	var c Change
	switch {
	case req.Shift != 0:
		s, e := v.Start.Add(req.Shift), v.End.Add(req.Shift)
		c.Start, c.End = &s, &e
	case !req.Start.IsZero() && (!req.Start.Equal(v.Start) || !req.End.Equal(v.End)):
		s, e := req.Start.UTC(), req.End.UTC()
		c.Start, c.End = &s, &e
	}
	if req.OpenCabinet != nil && *req.OpenCabinet != v.OpenCabinet {
		b := *req.OpenCabinet
		c.OpenCabinet = &b
	}
	if len(req.Notify) > 0 {
		all := slices.Clone(v.Notify)
		for _, u := range req.Notify {
			if !slices.ContainsFunc(all, func(x string) bool { return strings.EqualFold(x, u) }) {
				all = append(all, u)
			}
		}
		if len(all) != len(v.Notify) {
			c.Notify = all
		}
	}
	return c, c.apply(v)
}

// CreateAmendment records an amendment of every placed order of a run and
// returns it with created true; nothing is sent. When the run's latest
// amendment is not finished and asks for the same, it is returned with
// created false, to be resumed; when it asks for something else, the error
// matches ErrAmendUnfinished. A shift already applied is refused
// (ErrAmendRepeated) unless again is set.
//
// Each order's new window is checked before anything is recorded: it must
// last at most 14 days and must not start before now. A run with orders not
// yet placed (planned or sending) is refused: it must be submitted first.
// Cancelled orders are recorded as skipped, orders that already ask for what
// req asks as unchanged.
func (s *Store) CreateAmendment(runID string, req AmendRequest, now time.Time, again bool) (Amendment, bool, error) {
	if err := req.check(); err != nil {
		return Amendment{}, false, &RefusedError{RunID: runID, Reasons: []string{err.Error()}}
	}
	var out Amendment
	created := false
	err := s.update(func(tx *bolt.Tx) error {
		out, created = Amendment{}, false
		rb, err := runBucket(tx, runID)
		if err != nil {
			return refuse(err)
		}
		run, err := getRun(tx, runID)
		if err != nil {
			return refuse(err)
		}
		last, err := lastAmendment(rb, runID)
		if err != nil {
			return err
		}
		if last != nil && last.State != AmendDone {
			if last.Request.same(req) {
				out = *last
				return nil
			}
			return refuse(fmt.Errorf("run %s: amendment %d (%s) is %s: %w; run that command again to finish it first",
				runID, last.N, last.Request, last.State, ErrAmendUnfinished))
		}
		if last != nil && req.Shift != 0 && last.Request.same(req) && !again {
			return refuse(fmt.Errorf("run %s: amendment %d already did %s (at %s): %w",
				runID, last.N, req, last.UpdatedAt.UTC().Format(time.RFC3339), ErrAmendRepeated))
		}
		if n := run.Orders[Planned] + run.Orders[Sending]; n > 0 && len(req.Keys) == 0 {
			return refuse(&RefusedError{RunID: runID, Reasons: []string{
				fmt.Sprintf("%d of its orders are not placed yet; resume the run first (wvbatch resume %s)", n, runID)}})
		}

		var aos []AmendOrder
		var reasons []string
		windows := map[[2]int64]bool{}
		err = rb.Bucket(bucketOrders).ForEach(func(k, raw []byte) error {
			var o Order
			if err := json.Unmarshal(raw, &o); err != nil {
				return fmt.Errorf("order %d of run %s: %w", fromU64(k), runID, err)
			}
			if len(req.Keys) > 0 && !slices.Contains(req.Keys, o.Key) {
				return nil
			}
			ao := AmendOrder{Seq: o.Seq, Key: o.Key, Reference: o.Reference, OrderID: o.OrderID}
			switch o.State {
			case Submitted:
			case Planned, Sending:
				reasons = append(reasons, fmt.Sprintf("order %s is not placed yet; resume the run first (wvbatch resume %s)", o.Key, runID))
				return nil
			case Cancelled, Cancelling:
				ao.State, ao.Note = AmendSkipped, "the order is cancelled"
				aos = append(aos, ao)
				return nil
			case Closed:
				ao.State, ao.Note = AmendSkipped, "the order is closed"
				aos = append(aos, ao)
				return nil
			default:
				return nil // rejected: never placed
			}
			v, err := currentVisit(rb, &o)
			if err != nil {
				return err
			}
			windows[[2]int64{v.Start.Unix(), v.End.Unix()}] = true
			ao.Before = v
			ao.Change, ao.After = planChange(req, v)
			ao.State = AmendPending
			if ao.Change.Empty() {
				ao.State, ao.Note = AmendUnchanged, "the order already asks for this"
			}
			if ao.Change.Start != nil {
				place := cmp.Or(o.OrderID, o.Key)
				switch {
				case ao.After.Start.Before(now):
					reasons = append(reasons, fmt.Sprintf("order %s would start at %s, which is in the past (now %s)",
						place, ao.After.Start.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
				case ao.After.End.Sub(ao.After.Start) > MaxVisit:
					reasons = append(reasons, fmt.Sprintf("order %s would last %s; a work visit lasts at most 14 days", place, ao.After.End.Sub(ao.After.Start)))
				}
			}
			aos = append(aos, ao)
			return nil
		})
		if err != nil {
			return err
		}
		if !req.Start.IsZero() && len(windows) > 1 {
			reasons = append(reasons, fmt.Sprintf("its placed orders have %d different windows; one new window for all of them would merge visits "+
				"that were planned apart (and put visitors of a long visit cut into consecutive orders on the same days twice): "+
				"move them together with --shift", len(windows)))
		}
		if len(windows) == 0 {
			reasons = append(reasons, "it has no placed orders to change")
		}
		if len(reasons) > 0 {
			return refuse(&RefusedError{RunID: runID, Reasons: reasons})
		}

		ab, err := rb.CreateBucketIfNotExists(bucketAmends)
		if err != nil {
			return err
		}
		ob, err := rb.CreateBucketIfNotExists(bucketAmendOrders)
		if err != nil {
			return err
		}
		t := s.opt.Now().UTC()
		a := Amendment{RunID: runID, N: 1, Request: req, State: AmendOpen, CreatedAt: t, UpdatedAt: t, Orders: map[AmendOrderState]int{}}
		if last != nil {
			a.N = last.N + 1
		}
		for i := range aos {
			aos[i].N, aos[i].UpdatedAt = a.N, t
			a.Orders[aos[i].State]++
			v, err := json.Marshal(&aos[i])
			if err != nil {
				return err
			}
			if err := ob.Put(amendOrderKey(a.N, aos[i].Seq), v); err != nil {
				return err
			}
		}
		if a.Orders[AmendPending] == 0 {
			a.State = AmendDone
		}
		v, err := json.Marshal(&a)
		if err != nil {
			return err
		}
		if err := ab.Put(u64(a.N), v); err != nil {
			return err
		}
		out, created = a, true
		return nil
	})
	return out, created, err
}

func lastAmendment(rb *bolt.Bucket, runID string) (*Amendment, error) {
	ab := rb.Bucket(bucketAmends)
	if ab == nil {
		return nil, nil
	}
	k, v := ab.Cursor().Last()
	if k == nil {
		return nil, nil
	}
	return decodeAmendment(runID, v)
}

func decodeAmendment(runID string, v []byte) (*Amendment, error) {
	var a Amendment
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("amendment of run %s: %w", runID, err)
	}
	a.RunID = runID
	if a.Orders == nil {
		a.Orders = map[AmendOrderState]int{}
	}
	return &a, nil
}

// Amendments returns a run's amendments, oldest first.
func (s *Store) Amendments(runID string) ([]Amendment, error) {
	var out []Amendment
	err := s.view(func(tx *bolt.Tx) error {
		rb, err := runBucket(tx, runID)
		if err != nil {
			return err
		}
		ab := rb.Bucket(bucketAmends)
		if ab == nil {
			return nil
		}
		return ab.ForEach(func(_, v []byte) error {
			a, err := decodeAmendment(runID, v)
			if err != nil {
				return err
			}
			out = append(out, *a)
			return nil
		})
	})
	return out, err
}

// FindAmendment returns the run's latest amendment that asks for what req
// asks, if it has one: a change asked again (an EMG Update sent again) is
// that amendment, resumed or reported, not a new one.
func (s *Store) FindAmendment(runID string, req AmendRequest) (Amendment, bool, error) {
	all, err := s.Amendments(runID)
	if err != nil {
		return Amendment{}, false, err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Request.same(req) {
			return all[i], true, nil
		}
	}
	return Amendment{}, false, nil
}

// Amendment returns amendment n of a run.
func (s *Store) Amendment(runID string, n int) (Amendment, error) {
	var out Amendment
	err := s.view(func(tx *bolt.Tx) error {
		a, err := getAmendment(tx, runID, n)
		if err != nil {
			return err
		}
		out = *a
		return nil
	})
	return out, err
}

func getAmendment(tx *bolt.Tx, runID string, n int) (*Amendment, error) {
	rb, err := runBucket(tx, runID)
	if err != nil {
		return nil, err
	}
	var v []byte
	if ab := rb.Bucket(bucketAmends); ab != nil {
		v = ab.Get(u64(n))
	}
	if v == nil {
		return nil, fmt.Errorf("amendment %d of run %s: %w", n, runID, ErrNotFound)
	}
	return decodeAmendment(runID, v)
}

// AmendOrders returns the orders of amendment n, in plan order.
func (s *Store) AmendOrders(runID string, n int) ([]AmendOrder, error) {
	var out []AmendOrder
	err := s.view(func(tx *bolt.Tx) error {
		rb, err := runBucket(tx, runID)
		if err != nil {
			return err
		}
		ob := rb.Bucket(bucketAmendOrders)
		if ob == nil {
			return nil
		}
		prefix := u64(n)
		c := ob.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var ao AmendOrder
			if err := json.Unmarshal(v, &ao); err != nil {
				return fmt.Errorf("amendment %d of run %s, order %d: %w", n, runID, fromU64(k[8:]), err)
			}
			out = append(out, ao)
		}
		return nil
	})
	return out, err
}

// changeAmend applies fn to one order of amendment n in a group-committed
// transaction, keeps the amendment's counts, and returns the order as
// stored. fn returns errNoChange to leave it as it is.
func (s *Store) changeAmend(runID string, n, seq int, fn func(tx *bolt.Tx, rb *bolt.Bucket, ao *AmendOrder, now time.Time) error) (AmendOrder, error) {
	var out AmendOrder
	err := s.update(func(tx *bolt.Tx) error {
		out = AmendOrder{}
		a, err := getAmendment(tx, runID, n)
		if err != nil {
			return refuse(err)
		}
		rb, _ := runBucket(tx, runID)
		ob := rb.Bucket(bucketAmendOrders)
		k := amendOrderKey(n, seq)
		raw := ob.Get(k)
		if raw == nil {
			return refuse(fmt.Errorf("order %d of amendment %d of run %s: %w", seq, n, runID, ErrNotFound))
		}
		var ao AmendOrder
		if err := json.Unmarshal(raw, &ao); err != nil {
			return refuse(fmt.Errorf("order %d of amendment %d of run %s: %w", seq, n, runID, err))
		}
		from := ao.State
		now := s.opt.Now().UTC()
		if err := fn(tx, rb, &ao, now); err != nil {
			if errors.Is(err, errNoChange) {
				out = ao
				return nil
			}
			var se *amendStateError
			if errors.As(err, &se) {
				return refuse(err)
			}
			return err
		}
		ao.UpdatedAt = now
		v, err := json.Marshal(&ao)
		if err != nil {
			return err
		}
		if err := ob.Put(k, v); err != nil {
			return err
		}
		if from != ao.State {
			bump(a.Orders, from, -1)
			bump(a.Orders, ao.State, 1)
		}
		a.UpdatedAt = now
		av, err := json.Marshal(a)
		if err != nil {
			return err
		}
		out = ao
		return rb.Bucket(bucketAmends).Put(u64(n), av)
	})
	return out, err
}

// amendStateError is a move an order's change state does not allow.
type amendStateError struct {
	ao   *AmendOrder
	from AmendOrderState
	to   AmendOrderState
}

func (e *amendStateError) Error() string {
	return fmt.Sprintf("order %q of amendment %d is %s and cannot become %s", e.ao.Key, e.ao.N, e.from, e.to)
}

func needAmend(ao *AmendOrder, to AmendOrderState, states ...AmendOrderState) error {
	if slices.Contains(states, ao.State) {
		return nil
	}
	return &amendStateError{ao: ao, from: ao.State, to: to}
}

// MarkAmendSending records that the order's update is about to leave; it
// must return before the update is sent. It counts the attempt.
func (s *Store) MarkAmendSending(runID string, n, seq int) (AmendOrder, error) {
	return s.changeAmend(runID, n, seq, func(_ *bolt.Tx, _ *bolt.Bucket, ao *AmendOrder, _ time.Time) error {
		if err := needAmend(ao, AmendSending, AmendPending); err != nil {
			return err
		}
		ao.State, ao.NextAttemptAt = AmendSending, time.Time{}
		ao.Attempts++
		return nil
	})
}

// MarkAmendApplied records that Equinix holds the order's change: the
// order's window in the run becomes the new one, and its visitors are
// recorded as ordered for the new window.
func (s *Store) MarkAmendApplied(runID string, n, seq int, note string) error {
	_, err := s.changeAmend(runID, n, seq, func(tx *bolt.Tx, rb *bolt.Bucket, ao *AmendOrder, now time.Time) error {
		if ao.State == AmendApplied {
			return errNoChange
		}
		if err := needAmend(ao, AmendApplied, AmendSending); err != nil {
			return err
		}
		ao.State, ao.Error, ao.Note, ao.NextAttemptAt = AmendApplied, nil, note, time.Time{}
		if ao.Change.Start == nil && ao.Change.End == nil {
			return nil
		}
		return moveOrder(tx, rb, runID, ao, now)
	})
	return err
}

// moveOrder gives a run's order the amendment's new window, and moves the
// claims on its visitors to it. Claim keys that end in the window as
// "|start|end" (Unix seconds) follow it; others are left as they are.
func moveOrder(tx *bolt.Tx, rb *bolt.Bucket, runID string, ao *AmendOrder, now time.Time) error {
	seq, o, err := readOrder(rb, runID, ao.Key)
	if err != nil {
		return err
	}
	oldSuffix := fmt.Sprintf("|%d|%d", o.Start.Unix(), o.End.Unix())
	newSuffix := fmt.Sprintf("|%d|%d", ao.After.Start.Unix(), ao.After.End.Unix())
	t := &runTx{tx: tx, id: runID, rb: rb, now: now}
	if o.State == Submitted && oldSuffix != newSuffix {
		if err := t.unclaim(o); err != nil {
			return err
		}
		for i, k := range o.VisitorKeys {
			if strings.HasSuffix(k, oldSuffix) {
				o.VisitorKeys[i] = strings.TrimSuffix(k, oldSuffix) + newSuffix
			}
		}
		if err := t.claim(o); err != nil {
			return err
		}
	}
	o.Start, o.End, o.UpdatedAt = ao.After.Start, ao.After.End, now
	v, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return rb.Bucket(bucketOrders).Put(seq, v)
}

// MarkAmendRetry records that an update failed in a way that is safe to
// repeat, or that reading the order back showed it was not applied: the
// order's change goes back to pending, not to be sent before next.
func (s *Store) MarkAmendRetry(runID string, n, seq int, e *StoredError, next time.Time) error {
	_, err := s.changeAmend(runID, n, seq, func(_ *bolt.Tx, _ *bolt.Bucket, ao *AmendOrder, _ time.Time) error {
		if err := needAmend(ao, AmendPending, AmendSending); err != nil {
			return err
		}
		ao.State, ao.NextAttemptAt = AmendPending, next.UTC()
		if e != nil {
			ao.Error = e
		}
		return nil
	})
	return err
}

// MarkAmendUncertain records the error of an update that may have reached
// Equinix: the change stays sending until the order is read back.
func (s *Store) MarkAmendUncertain(runID string, n, seq int, e StoredError) error {
	_, err := s.changeAmend(runID, n, seq, func(_ *bolt.Tx, _ *bolt.Bucket, ao *AmendOrder, _ time.Time) error {
		if err := needAmend(ao, AmendSending, AmendSending); err != nil {
			return err
		}
		ao.Error = &e
		return nil
	})
	return err
}

// MarkAmendFinal records that the order's change will not be applied:
// skipped (the order is closed or cancelled) or failed (Equinix refused
// it), with the error and a note.
func (s *Store) MarkAmendFinal(runID string, n, seq int, to AmendOrderState, e *StoredError, note string) error {
	if to != AmendSkipped && to != AmendFailed {
		return fmt.Errorf("MarkAmendFinal: state %s", to)
	}
	_, err := s.changeAmend(runID, n, seq, func(_ *bolt.Tx, _ *bolt.Bucket, ao *AmendOrder, _ time.Time) error {
		if ao.State == to {
			return errNoChange
		}
		if err := needAmend(ao, to, AmendPending, AmendSending); err != nil {
			return err
		}
		ao.State, ao.Error, ao.Note, ao.NextAttemptAt = to, e, note, time.Time{}
		return nil
	})
	return err
}

// SetAmendmentState records where an amendment stands.
func (s *Store) SetAmendmentState(runID string, n int, state AmendState) error {
	return s.update(func(tx *bolt.Tx) error {
		a, err := getAmendment(tx, runID, n)
		if err != nil {
			return refuse(err)
		}
		if a.State == state {
			return nil
		}
		a.State, a.UpdatedAt = state, s.opt.Now().UTC()
		v, err := json.Marshal(a)
		if err != nil {
			return err
		}
		rb, _ := runBucket(tx, runID)
		return rb.Bucket(bucketAmends).Put(u64(n), v)
	})
}
