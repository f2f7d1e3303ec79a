package runstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bucketOrderIDs indexes Equinix order ids: the order id under its run's
// endpoint (Where.Key) → run id, NUL, the order's key in the run. The same
// order id at two endpoints names two orders. The order itself stays the truth: an entry whose
// order no longer holds the id is ignored.
var bucketOrderIDs = []byte("orderids")

// indexOrderID records that the order key of run runID holds orderID. A
// later run's order with the same id takes the entry, as the newest run
// holding an id is the one FindOrder answers with.
func indexOrderID(tx *bolt.Tx, at Where, runID, key, orderID string) error {
	if orderID == "" {
		return nil
	}
	b := tx.Bucket(bucketOrderIDs)
	if b == nil {
		return fmt.Errorf("the order id index is missing: %w", ErrNotFound)
	}
	return b.Put([]byte(at.Key(orderID)), []byte(runID+"\x00"+key))
}

// FindOrder returns the run at the endpoint at and its order that hold
// Equinix order orderID (not counting an order Equinix rejected), found by
// the store's index of order ids rather than by reading every run.
func (s *Store) FindOrder(at Where, orderID string) (runID string, o Order, found bool, err error) {
	if orderID == "" {
		return "", Order{}, false, nil
	}
	err = s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOrderIDs)
		if b == nil {
			return nil
		}
		ws, err := wheres(tx, at)
		if err != nil {
			return err
		}
		var v []byte
		for _, w := range ws {
			if v = b.Get([]byte(w.Key(orderID))); v != nil {
				break
			}
		}
		if v == nil {
			return nil
		}
		id, key, ok := bytes.Cut(v, []byte{0})
		if !ok {
			return fmt.Errorf("order id %s: damaged index entry %q", orderID, v)
		}
		rb, err := runBucket(tx, string(id))
		if err != nil {
			return nil // the run is gone: the entry is stale
		}
		_, got, err := readOrder(rb, string(id), string(key))
		if err != nil || got.OrderID != orderID || got.State == Rejected {
			return nil // the order no longer holds the id
		}
		runID, o, found = string(id), *got, true
		o.RunID = runID
		return nil
	})
	return runID, o, found, err
}

// migrateOrderIDs builds the index of order ids of a store from before it:
// every run's orders, oldest run first, so that the newest run holding an
// id has its entry.
func migrateOrderIDs(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketOrderIDs); err != nil {
		return err
	}
	var runs []Run
	if err := tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
		var r Run
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("run %s: %w", k, err)
		}
		runs = append(runs, r)
		return nil
	}); err != nil {
		return err
	}
	slices.SortStableFunc(runs, func(a, b Run) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	for _, r := range runs {
		rb := tx.Bucket(bucketRun).Bucket([]byte(r.ID))
		if rb == nil || rb.Bucket(bucketOrders) == nil {
			continue
		}
		if err := rb.Bucket(bucketOrders).ForEach(func(k, v []byte) error {
			var o Order
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("order %d of run %s: %w", fromU64(k), r.ID, err)
			}
			if o.State == Rejected {
				return nil
			}
			return indexOrderID(tx, r.Where(), r.ID, o.Key, o.OrderID)
		}); err != nil {
			return err
		}
	}
	return nil
}
