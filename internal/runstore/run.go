package runstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// chunk sizes for writing a new run: a few thousand puts per transaction
// keep memory flat however large the run.
const (
	chunkOrders = 2000
	chunkRows   = 5000
	rowPage     = 4096 // rows read per transaction by Rows
)

// CreateRun writes a new run with its orders (in plan order) and the
// outcome of every roster row known so far (invalid rows, rows already
// ordered, and pending rows; the rows of orders that rows leaves out are
// added as pending). If the run already exists nothing changes and created
// is false: the caller resumes it.
func (s *Store) CreateRun(run Run, orders []OrderSpec, rows []RowOutcome) (created bool, err error) {
	if err := validateRun(&run, orders); err != nil {
		return false, err
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()

	var exists bool
	if err := s.view(func(tx *bolt.Tx) error {
		exists = tx.Bucket(bucketRuns).Get([]byte(run.ID)) != nil
		return nil
	}); err != nil {
		return false, fmt.Errorf("create run %s: %w", run.ID, err)
	}
	if exists {
		return false, nil
	}

	rowList, err := allRows(orders, rows)
	if err != nil {
		return false, fmt.Errorf("create run %s: %w", run.ID, err)
	}
	now := s.opt.Now().UTC()
	run.CreatedAt, run.UpdatedAt = now, now
	run.State = RunOpen
	run.Orders = map[OrderState]int{}
	run.Rows = map[RowStatus]int{}
	if len(orders) > 0 {
		run.Orders[Planned] = len(orders)
	}
	for _, r := range rowList {
		run.Rows[r.Status]++
	}

	if err := s.writeRun(&run, orders, rowList, now); err != nil {
		return false, fmt.Errorf("create run %s: %w", run.ID, err)
	}
	if err := s.afterRestore(run.ID); err != nil {
		return false, fmt.Errorf("create run %s: %w", run.ID, err)
	}
	return true, nil
}

func validateRun(run *Run, orders []OrderSpec) error {
	if run.ID == "" {
		return errors.New("create run: empty run id")
	}
	if run.Endpoint == "" || run.Endpoint == EndpointUnknown {
		return fmt.Errorf("create run %s: no endpoint named", run.ID)
	}
	prefix := run.Where().Key("")
	for _, o := range orders {
		for _, k := range o.VisitorKeys {
			if k != "" && !strings.HasPrefix(k, prefix) {
				return fmt.Errorf("create run %s: order %q: visitor key %q is not one of the run's endpoint", run.ID, o.Key, PlainKey(k))
			}
		}
	}
	if run.Settings != nil && !json.Valid(run.Settings) {
		return fmt.Errorf("create run %s: settings are not valid JSON", run.ID)
	}
	keys := make(map[string]struct{}, len(orders))
	for i, o := range orders {
		switch {
		case o.Key == "":
			return fmt.Errorf("create run %s: order %d has no key", run.ID, i)
		case o.Reference == "":
			return fmt.Errorf("create run %s: order %q has no reference", run.ID, o.Key)
		case len(o.VisitorKeys) != 0 && len(o.VisitorKeys) != len(o.Rows):
			return fmt.Errorf("create run %s: order %q has %d visitor keys for %d rows",
				run.ID, o.Key, len(o.VisitorKeys), len(o.Rows))
		}
		if _, dup := keys[o.Key]; dup {
			return fmt.Errorf("create run %s: order key %q appears twice", run.ID, o.Key)
		}
		keys[o.Key] = struct{}{}
	}
	return nil
}

// allRows returns rows plus a pending outcome for every order row rows
// leaves out, sorted by row.
func allRows(orders []OrderSpec, rows []RowOutcome) ([]RowOutcome, error) {
	n := len(rows)
	for _, o := range orders {
		n += len(o.Rows)
	}
	seen := make(map[int]struct{}, n)
	out := make([]RowOutcome, 0, n)
	for _, r := range rows {
		if r.Row <= 0 {
			return nil, fmt.Errorf("row outcome for row %d", r.Row)
		}
		if _, dup := seen[r.Row]; dup {
			return nil, fmt.Errorf("row %d has two outcomes", r.Row)
		}
		if r.Status == "" {
			r.Status = RowPending
		}
		seen[r.Row] = struct{}{}
		out = append(out, r)
	}
	for _, o := range orders {
		for _, row := range o.Rows {
			if row <= 0 {
				return nil, fmt.Errorf("order %q names row %d", o.Key, row)
			}
			if _, ok := seen[row]; !ok {
				seen[row] = struct{}{}
				out = append(out, RowOutcome{Row: row, Status: RowPending})
			}
		}
	}
	if !slices.IsSortedFunc(out, cmpRow) {
		slices.SortFunc(out, cmpRow)
	}
	return out, nil
}

func cmpRow(a, b RowOutcome) int { return a.Row - b.Row }

// newRunBucket makes the bucket of run id's orders and rows, in place of
// one a CreateRun that did not finish left.
func newRunBucket(tx *bolt.Tx, id []byte) (*bolt.Bucket, error) {
	all := tx.Bucket(bucketRun)
	if all.Bucket(id) != nil {
		if err := all.DeleteBucket(id); err != nil {
			return nil, err
		}
	}
	rb, err := all.CreateBucket(id)
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{bucketOrders, bucketKeys, bucketBodies, bucketRows} {
		if _, err := rb.CreateBucket(name); err != nil {
			return nil, err
		}
	}
	return rb, nil
}

// writeRun writes a run in chunks, its record last.
func (s *Store) writeRun(run *Run, orders []OrderSpec, rows []RowOutcome, now time.Time) error {
	id := []byte(run.ID)
	if err := s.updateNow(func(tx *bolt.Tx) error {
		_, err := newRunBucket(tx, id)
		return err
	}); err != nil {
		return err
	}

	for from := 0; from < len(orders); from += chunkOrders {
		to := min(from+chunkOrders, len(orders))
		if err := s.updateNow(func(tx *bolt.Tx) error {
			rb := tx.Bucket(bucketRun).Bucket(id)
			ob, bb := rb.Bucket(bucketOrders), rb.Bucket(bucketBodies)
			ob.FillPercent, bb.FillPercent = 0.95, 0.95
			for seq := from; seq < to; seq++ {
				spec := &orders[seq]
				o := Order{
					Key: spec.Key, Reference: spec.Reference, Seq: seq, State: Planned,
					IBX: spec.IBX, Cage: spec.Cage, Cabinet: spec.Cabinet,
					Start: spec.Start.UTC(), End: spec.End.UTC(), Count: spec.Count,
					Rows: spec.Rows, VisitorKeys: spec.VisitorKeys,
					CreatedAt: now, UpdatedAt: now,
				}
				v, err := json.Marshal(&o)
				if err != nil {
					return err
				}
				k := u64(seq)
				if err := ob.Put(k, v); err != nil {
					return err
				}
				if err := bb.Put(k, bytes.Clone(spec.Body)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}

	byKey := make([]int, len(orders))
	for i := range byKey {
		byKey[i] = i
	}
	slices.SortFunc(byKey, func(a, b int) int { return strings.Compare(orders[a].Key, orders[b].Key) })
	for from := 0; from < len(byKey); from += chunkRows {
		to := min(from+chunkRows, len(byKey))
		if err := s.updateNow(func(tx *bolt.Tx) error {
			kb := tx.Bucket(bucketRun).Bucket(id).Bucket(bucketKeys)
			kb.FillPercent = 0.95
			for _, seq := range byKey[from:to] {
				if err := kb.Put([]byte(orders[seq].Key), u64(seq)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}

	for from := 0; from < len(rows); from += chunkRows {
		to := min(from+chunkRows, len(rows))
		if err := s.updateNow(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRun).Bucket(id).Bucket(bucketRows)
			b.FillPercent = 0.95
			for i := from; i < to; i++ {
				v, err := json.Marshal(&rows[i])
				if err != nil {
					return err
				}
				if err := b.Put(u64(rows[i].Row), v); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}

	return s.updateNow(func(tx *bolt.Tx) error { return putRun(tx, run) })
}

func putRun(tx *bolt.Tx, run *Run) error {
	v, err := json.Marshal(run)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRuns).Put([]byte(run.ID), v)
}

func getRun(tx *bolt.Tx, id string) (*Run, error) {
	v := tx.Bucket(bucketRuns).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	var r Run
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	if r.Orders == nil {
		r.Orders = map[OrderState]int{}
	}
	if r.Rows == nil {
		r.Rows = map[RowStatus]int{}
	}
	return &r, nil
}

// Run returns one run.
func (s *Store) Run(id string) (Run, error) {
	var r *Run
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		r, err = getRun(tx, id)
		return err
	})
	if err != nil {
		return Run{}, err
	}
	return *r, nil
}

// Runs returns every run, newest first.
func (s *Store) Runs() ([]Run, error) {
	var runs []Run
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("run %s: %w", k, err)
			}
			runs = append(runs, r)
			return nil
		})
	})
	slices.SortStableFunc(runs, func(a, b Run) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return runs, err
}

func runBucket(tx *bolt.Tx, runID string) (*bolt.Bucket, error) {
	rb := tx.Bucket(bucketRun).Bucket([]byte(runID))
	if rb == nil || tx.Bucket(bucketRuns).Get([]byte(runID)) == nil {
		return nil, fmt.Errorf("run %s: %w", runID, ErrNotFound)
	}
	return rb, nil
}

// Orders returns a run's orders in plan order, without their bodies.
func (s *Store) Orders(runID string) ([]Order, error) { return s.orders(runID, nil) }

// orders is Orders, adding each record read to h when it is not nil.
func (s *Store) orders(runID string, h hash.Hash) ([]Order, error) {
	var out []Order
	err := s.view(func(tx *bolt.Tx) error {
		rb, err := runBucket(tx, runID)
		if err != nil {
			return err
		}
		b := rb.Bucket(bucketOrders)
		out = make([]Order, 0, b.Stats().KeyN)
		return b.ForEach(func(k, v []byte) error {
			if h != nil {
				addRecord(h, k, v)
			}
			var o Order
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("order %d of run %s: %w", fromU64(k), runID, err)
			}
			o.RunID = runID
			out = append(out, o)
			return nil
		})
	})
	return out, err
}

// Unsent is an order of a run that is planned or sending: what a worker
// still has to deal with.
type Unsent struct {
	Key, Reference string
	Seq            int
	State          OrderState // Planned: send it; Sending: search for it
	Due            time.Time  // a planned order's next attempt
	Since          time.Time  // when an order found sending was marked so
}

// Unsent returns every order of a run that is planned or sending, reading
// only what a worker needs.
func (s *Store) Unsent(runID string) ([]Unsent, error) {
	var out []Unsent
	err := s.view(func(tx *bolt.Tx) error {
		rb, err := runBucket(tx, runID)
		if err != nil {
			return err
		}
		return rb.Bucket(bucketOrders).ForEach(func(k, v []byte) error {
			var o struct {
				Key           string     `json:"key"`
				Reference     string     `json:"reference"`
				State         OrderState `json:"state"`
				NextAttemptAt time.Time  `json:"nextAttemptAt"`
				UpdatedAt     time.Time  `json:"updatedAt"`
			}
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("order %d of run %s: %w", fromU64(k), runID, err)
			}
			switch o.State {
			case Planned:
				out = append(out, Unsent{Key: o.Key, Reference: o.Reference, Seq: fromU64(k), State: Planned, Due: o.NextAttemptAt})
			case Sending:
				out = append(out, Unsent{Key: o.Key, Reference: o.Reference, Seq: fromU64(k), State: Sending, Since: o.UpdatedAt})
			}
			return nil
		})
	})
	return out, err
}

// Order returns one order with its body.
func (s *Store) Order(runID, key string) (Order, error) {
	var o Order
	err := s.view(func(tx *bolt.Tx) error {
		rb, err := runBucket(tx, runID)
		if err != nil {
			return err
		}
		seq, got, err := readOrder(rb, runID, key)
		if err != nil {
			return err
		}
		o = *got
		o.Body = bytes.Clone(rb.Bucket(bucketBodies).Get(seq))
		return nil
	})
	return o, err
}

func readOrder(rb *bolt.Bucket, runID, key string) (seq []byte, o *Order, err error) {
	seq = rb.Bucket(bucketKeys).Get([]byte(key))
	if seq == nil {
		return nil, nil, fmt.Errorf("order %q of run %s: %w", key, runID, ErrNotFound)
	}
	v := rb.Bucket(bucketOrders).Get(seq)
	if v == nil {
		return nil, nil, fmt.Errorf("order %q of run %s: %w", key, runID, ErrNotFound)
	}
	o = new(Order)
	if err := json.Unmarshal(v, o); err != nil {
		return nil, nil, fmt.Errorf("order %q of run %s: %w", key, runID, err)
	}
	o.RunID = runID
	return bytes.Clone(seq), o, nil
}

// Rows calls fn with every row outcome of a run, in row order. The rows are
// read a page at a time, so fn may call the store.
func (s *Store) Rows(runID string, fn func(RowOutcome) error) error { return s.rows(runID, nil, fn) }

// rows is Rows, adding each record read to h when it is not nil.
func (s *Store) rows(runID string, h hash.Hash, fn func(RowOutcome) error) error {
	var after []byte
	for {
		page := make([]RowOutcome, 0, rowPage)
		err := s.view(func(tx *bolt.Tx) error {
			rb, err := runBucket(tx, runID)
			if err != nil {
				return err
			}
			c := rb.Bucket(bucketRows).Cursor()
			var k, v []byte
			if after == nil {
				k, v = c.First()
			} else {
				k, v = c.Seek(after)
				if bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(page) < rowPage; k, v = c.Next() {
				if h != nil {
					addRecord(h, k, v)
				}
				r := RowOutcome{Row: fromU64(k)}
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("row %d of run %s: %w", r.Row, runID, err)
				}
				page = append(page, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < rowPage {
			return nil
		}
		after = u64(page[len(page)-1].Row)
	}
}

// AlreadyOrdered returns, for each of keys that a submitted order of a run
// at the endpoint at holds, the order that holds it. Orders placed at
// another endpoint never count. A key is the caller's visitor key; one
// made by Where.Key is looked up by its plain part (PlainKey) at at.
func (s *Store) AlreadyOrdered(at Where, keys []string) (map[string]Claim, error) {
	out := make(map[string]Claim)
	if at.Endpoint == "" || at.Endpoint == EndpointUnknown {
		return nil, errors.New("already ordered: no endpoint named")
	}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVisitors)
		salt := tx.Bucket(bucketMeta).Get(keySalt) // set once a run was pruned
		ws, err := wheres(tx, at)
		if err != nil {
			return err
		}
		for _, k := range keys {
			var v []byte
			for _, w := range ws {
				wk := w.Key(PlainKey(k))
				if v = b.Get([]byte(wk)); v == nil && salt != nil {
					v = b.Get([]byte(hashedKey(salt, wk)))
				}
				if v != nil {
					break
				}
			}
			if v == nil {
				continue
			}
			var c Claim
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("visitor %q: %w", k, err)
			}
			out[k] = c
		}
		return nil
	})
	return out, err
}
