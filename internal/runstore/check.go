package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CheckReport is what Check found.
type CheckReport struct {
	Runs, Orders, Rows, Claims int
	// Problems are one line each; none means the store is sound.
	Problems []string
}

// OK reports whether Check found nothing wrong.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds the problems a check lists.
const maxProblems = 1000

func (r *CheckReport) add(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Check checks the store: bbolt's own consistency check of every page,
// then the store's invariants: every run recorded has its buckets; every
// order is in a known state and the run's counts match its orders; the
// order-key index names every order and nothing else; every order has its
// request body (unless the run was pruned); every order id leads to its
// order through the order id index; every row has a known outcome, every
// order's rows are there and the run's row counts match; every visitor
// claim names an order that was placed. It reads one transaction,
// so other changes can go on while it runs.
func (s *Store) Check() (CheckReport, error) {
	var rep CheckReport
	err := s.view(func(tx *bolt.Tx) error { return check(tx, &rep) })
	return rep, err
}

// CheckFile checks the store file at path, opened read-only: it waits
// LockTimeoutDefault for a process that has it open, then returns an error
// matching ErrStoreBusy.
func CheckFile(path string) (CheckReport, error) {
	var rep CheckReport
	if _, err := os.Stat(path); err != nil {
		return rep, fmt.Errorf("check %s: %w", path, err)
	}
	if err := checkHeader(path); err != nil {
		return rep, err
	}
	walked, err := verifyPages(path, LockTimeoutDefault)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return rep, &busyError{path: path}
	}
	if err != nil {
		return rep, err
	}
	var db *bolt.DB
	err = guard(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: LockTimeoutDefault})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return rep, &busyError{path: path}
	}
	if err != nil {
		return rep, fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	if err := reverify(path, db, walked); err != nil {
		return rep, err
	}
	err = guard(path, func() error { return db.View(func(tx *bolt.Tx) error { return check(tx, &rep) }) })
	return rep, err
}

// quiet prints no key or value in bbolt's check errors: they may hold
// visitors' names.
type quiet struct{}

func (quiet) KeyToString(k []byte) string   { return strconv.Itoa(len(k)) + "-byte key" }
func (quiet) ValueToString(v []byte) string { return strconv.Itoa(len(v)) + "-byte value" }

var knownOrderStates = []OrderState{Planned, Sending, Submitted, Rejected, Cancelling, Cancelled, Closed}
var knownRowStates = []RowStatus{RowPending, RowOrdered, RowRejected, RowInvalid, RowAlreadyOrdered, RowCancelled}

func check(tx *bolt.Tx, rep *CheckReport) error {
	readAll(tx)
	for err := range tx.Check(bolt.WithKVStringer(quiet{})) {
		rep.add("bbolt: %v", err)
	}
	if !rep.OK() {
		// The pages themselves are damaged: reading on could crash.
		return nil
	}
	for _, name := range [][]byte{bucketMeta, bucketRuns, bucketRun, bucketVisitors} {
		if tx.Bucket(name) == nil {
			rep.add("bucket %q is missing", name)
		}
	}
	if !rep.OK() {
		return nil
	}
	placed := map[string]Order{} // run id + "\x00" + order key → submitted order
	held := map[string]Order{}   // run id + "\x00" + order key → every order with an order id
	where := map[string]Where{}  // run id → its endpoint
	err := tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
		rep.Runs++
		var run Run
		if err := json.Unmarshal(v, &run); err != nil {
			rep.add("run %s: its record is not readable: %v", k, err)
			return nil
		}
		where[run.ID] = run.Where()
		checkRun(tx, &run, rep, placed, held)
		return nil
	})
	if err != nil {
		return err
	}
	// The order id index: every order id an order holds leads to an order
	// holding it (a later run's, when two hold it). Entries whose order
	// no longer holds the id are stale and ignored by FindOrder.
	if ib := tx.Bucket(bucketOrderIDs); ib != nil {
		for _, o := range held {
			v := ib.Get([]byte(where[o.RunID].Key(o.OrderID)))
			if v == nil {
				rep.add("run %s: order %s is not in the order id index", o.RunID, o.OrderID)
				continue
			}
			if t, ok := held[string(v)]; !ok || t.OrderID != o.OrderID {
				rep.add("the order id index leads order %s to an order that does not hold it", o.OrderID)
			}
		}
	}
	return tx.Bucket(bucketVisitors).ForEach(func(k, v []byte) error {
		rep.Claims++
		var c Claim
		if err := json.Unmarshal(v, &c); err != nil {
			rep.add("a visitor claim is not readable: %v", err)
			return nil
		}
		o, ok := placed[c.RunID+"\x00"+c.OrderKey]
		switch {
		case !ok:
			rep.add("a visitor claim names order %q of run %s, which is not placed", c.OrderKey, c.RunID)
		case o.OrderID != c.OrderID:
			rep.add("a visitor claim names order %s of run %s, which is %s", c.OrderID, c.RunID, o.OrderID)
		case !slices.Contains(o.VisitorKeys, string(k)):
			rep.add("a visitor claim on order %s of run %s is not one of its visitors", c.OrderID, c.RunID)
		}
		return nil
	})
}

func checkRun(tx *bolt.Tx, run *Run, rep *CheckReport, placed, held map[string]Order) {
	id := run.ID
	rb := tx.Bucket(bucketRun).Bucket([]byte(id))
	if rb == nil {
		rep.add("run %s: its orders and rows are missing", id)
		return
	}
	ob, kb, bb, rowb := rb.Bucket(bucketOrders), rb.Bucket(bucketKeys), rb.Bucket(bucketBodies), rb.Bucket(bucketRows)
	if ob == nil || kb == nil || bb == nil || rowb == nil {
		rep.add("run %s: a bucket of its orders, keys, bodies or rows is missing", id)
		return
	}
	pruned := isPruned(tx, id)
	orders := map[OrderState]int{}
	keys := map[string]int{}
	var orderRows []int
	_ = ob.ForEach(func(k, v []byte) error {
		rep.Orders++
		seq := fromU64(k)
		var o Order
		if err := json.Unmarshal(v, &o); err != nil {
			rep.add("run %s: order %d is not readable: %v", id, seq, err)
			return nil
		}
		if !slices.Contains(knownOrderStates, o.State) {
			rep.add("run %s: order %q is in the unknown state %q", id, o.Key, o.State)
		}
		orders[o.State]++
		keys[o.Key] = seq
		// (A cancelled order may have none: a planned order can be cancelled.)
		if (o.State == Submitted || o.State == Cancelling) && o.OrderID == "" {
			rep.add("run %s: order %q is %s but has no order id", id, o.Key, o.State)
		}
		o.RunID = id
		if o.State == Submitted || o.State == Cancelling {
			placed[id+"\x00"+o.Key] = o
		}
		if o.OrderID != "" && o.State != Rejected {
			held[id+"\x00"+o.Key] = o
		}
		if !pruned && bb.Get(k) == nil {
			rep.add("run %s: order %q has no request body", id, o.Key)
		}
		orderRows = append(orderRows, o.Rows...)
		return nil
	})
	for _, st := range knownOrderStates {
		if orders[st] != run.Orders[st] {
			rep.add("run %s: it counts %d orders %s, its orders say %d", id, run.Orders[st], st, orders[st])
		}
	}
	n := 0
	_ = kb.ForEach(func(k, v []byte) error {
		n++
		if len(v) != 8 {
			rep.add("run %s: the index entry of order %q is damaged", id, k)
			return nil
		}
		if seq, ok := keys[string(k)]; !ok || seq != fromU64(v) {
			rep.add("run %s: the index names order %q at %d, which is not there", id, k, fromU64(v))
		}
		return nil
	})
	if n != len(keys) {
		rep.add("run %s: the index has %d entries for %d orders", id, n, len(keys))
	}
	rows := map[RowStatus]int{}
	have := map[int]bool{}
	_ = rowb.ForEach(func(k, v []byte) error {
		rep.Rows++
		var r RowOutcome
		if err := json.Unmarshal(v, &r); err != nil {
			rep.add("run %s: row %d is not readable: %v", id, fromU64(k), err)
			return nil
		}
		if !slices.Contains(knownRowStates, r.Status) {
			rep.add("run %s: row %d has the unknown outcome %q", id, fromU64(k), r.Status)
		}
		rows[r.Status]++
		have[fromU64(k)] = true
		return nil
	})
	for _, r := range orderRows {
		if !have[r] {
			rep.add("run %s: row %d of an order has no outcome", id, r)
		}
	}
	for _, st := range knownRowStates {
		if rows[st] != run.Rows[st] {
			rep.add("run %s: it counts %d rows %s, its rows say %d", id, run.Rows[st], st, rows[st])
		}
	}
}

// readAll reads every bucket, key and value in the calling goroutine, so
// that a damaged page panics or faults here, where guard turns it into an
// error, and not in the goroutine of bbolt's own check, where nothing can.
func readAll(tx *bolt.Tx) {
	var sum uint32
	var walk func(b *bolt.Bucket)
	walk = func(b *bolt.Bucket) {
		_ = b.ForEach(func(k, v []byte) error {
			sum = crc32.Update(crc32.Update(sum, crc32.IEEETable, k), crc32.IEEETable, v)
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					walk(nb)
				}
			}
			return nil
		})
	}
	_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		walk(b)
		return nil
	})
	_ = sum
}
