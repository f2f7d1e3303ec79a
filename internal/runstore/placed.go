package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PlacedOrder is an order placed outside any run of the store (by hand, or
// by another tool) that a run takes on, so that changes to it are tracked
// like changes to the orders the store placed.
type PlacedOrder struct {
	// Key names the order in the run; OrderID is Equinix's order number.
	Key, Reference, OrderID string
	IBX, Cage, Cabinet      string
	// Start and End are the order's window as read from Equinix.
	Start, End time.Time
	// Body is what the order asks for, in the shape of a create request
	// (details.openCabinet, contacts), as read from Equinix: amendments
	// compare their change with it.
	Body []byte
	// Rows are the run's rows for the order (e.g. the messages naming it).
	Rows []int
}

// CreatePlacedRun records a run of orders that are placed already: each is
// submitted from the start, under its order id, and its rows ordered; the
// run is done. It is written in one transaction, so a crash leaves the
// whole run or nothing. If the run already exists nothing changes and
// created is false.
func (s *Store) CreatePlacedRun(run Run, orders []PlacedOrder) (created bool, err error) {
	if run.ID == "" {
		return false, errors.New("create run: empty run id")
	}
	if run.Endpoint == "" || run.Endpoint == EndpointUnknown {
		return false, fmt.Errorf("create run %s: no endpoint named", run.ID)
	}
	if run.Settings != nil && !json.Valid(run.Settings) {
		return false, fmt.Errorf("create run %s: settings are not valid JSON", run.ID)
	}
	keys := map[string]bool{}
	for i, o := range orders {
		switch {
		case o.Key == "":
			return false, fmt.Errorf("create run %s: order %d has no key", run.ID, i)
		case o.OrderID == "":
			return false, fmt.Errorf("create run %s: order %q has no order id", run.ID, o.Key)
		case keys[o.Key]:
			return false, fmt.Errorf("create run %s: order key %q appears twice", run.ID, o.Key)
		}
		keys[o.Key] = true
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	now := s.opt.Now().UTC()
	err = s.updateNow(func(tx *bolt.Tx) error {
		id := []byte(run.ID)
		if tx.Bucket(bucketRuns).Get(id) != nil {
			return nil
		}
		rb, err := newRunBucket(tx, id)
		if err != nil {
			return err
		}
		run.CreatedAt, run.UpdatedAt, run.State = now, now, RunDone
		run.Orders, run.Rows = map[OrderState]int{}, map[RowStatus]int{}
		for seq, p := range orders {
			o := Order{Key: p.Key, Reference: p.Reference, Seq: seq, State: Submitted, OrderID: p.OrderID,
				IBX: p.IBX, Cage: p.Cage, Cabinet: p.Cabinet, Start: p.Start.UTC(), End: p.End.UTC(), Rows: p.Rows,
				CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
			v, err := json.Marshal(&o)
			if err != nil {
				return err
			}
			k := u64(seq)
			if err := rb.Bucket(bucketOrders).Put(k, v); err != nil {
				return err
			}
			if err := rb.Bucket(bucketBodies).Put(k, p.Body); err != nil {
				return err
			}
			if err := rb.Bucket(bucketKeys).Put([]byte(p.Key), k); err != nil {
				return err
			}
			if err := indexOrderID(tx, run.Where(), run.ID, p.Key, p.OrderID); err != nil {
				return err
			}
			for _, row := range p.Rows {
				r := RowOutcome{Row: row, Status: RowOrdered}
				if old := rb.Bucket(bucketRows).Get(u64(row)); old != nil {
					if err := json.Unmarshal(old, &r); err != nil {
						return err
					}
					run.Rows[r.Status]--
				}
				r.OrderIDs = append(r.OrderIDs, p.OrderID)
				v, err := json.Marshal(&r)
				if err != nil {
					return err
				}
				if err := rb.Bucket(bucketRows).Put(u64(row), v); err != nil {
					return err
				}
				run.Rows[r.Status]++
			}
			run.Orders[Submitted]++
		}
		created = true
		return putRun(tx, &run)
	})
	if err != nil {
		return false, fmt.Errorf("create run %s: %w", run.ID, err)
	}
	return created, nil
}
