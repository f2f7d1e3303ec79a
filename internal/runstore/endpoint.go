package runstore

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// wheres lists the endpoints whose records count for at: at itself; for an
// account, the runs at the same endpoint that did not learn theirs; with no
// account (a ready token), every account's runs at the endpoint. Never
// twice: a record that may be the same account's counts.
func wheres(tx *bolt.Tx, at Where) ([]Where, error) {
	ws := []Where{at}
	if at.Account != "" {
		return append(ws, Where{Endpoint: at.Endpoint}), nil
	}
	seen := map[string]bool{}
	err := tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
		var r struct {
			Endpoint string `json:"endpoint"`
			Account  string `json:"account"`
		}
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("run %s: %w", k, err)
		}
		if r.Endpoint == at.Endpoint && r.Account != "" && !seen[r.Account] {
			seen[r.Account] = true
			ws = append(ws, Where{Endpoint: r.Endpoint, Account: r.Account})
		}
		return nil
	})
	return ws, err
}

// upgradeEndpoints takes a store to runs that name their endpoint: every
// run takes the endpoint its settings recorded ({"endpoint": …}), or
// EndpointUnknown; its orders' visitor keys and its claims move under that
// endpoint (Where.Key), so that a run of an unknown endpoint holds no
// visitor for any other run; and the order id index is built again under
// the endpoints.
func upgradeEndpoints(tx *bolt.Tx) error {
	runs := tx.Bucket(bucketRuns)
	where := map[string]Where{}
	err := runs.ForEach(func(k, v []byte) error {
		var r Run
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("run %s: %w", k, err)
		}
		if r.Endpoint == "" {
			var set struct {
				Endpoint string `json:"endpoint"`
			}
			_ = json.Unmarshal(r.Settings, &set)
			r.Endpoint = cmp.Or(strings.TrimRight(strings.TrimSpace(set.Endpoint), "/"), EndpointUnknown)
		}
		where[string(k)] = r.Where()
		nv, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		return runs.Put(k, nv)
	})
	if err != nil {
		return err
	}
	for id, w := range where {
		rb := tx.Bucket(bucketRun).Bucket([]byte(id))
		if rb == nil || rb.Bucket(bucketOrders) == nil {
			continue
		}
		if err := forEachJSON(rb.Bucket(bucketOrders), true, func(o *Order) bool {
			changed := false
			for i, k := range o.VisitorKeys {
				if k != "" {
					o.VisitorKeys[i], changed = w.Key(PlainKey(k)), true
				}
			}
			return changed
		}); err != nil {
			return fmt.Errorf("run %s: %w", id, err)
		}
	}
	type claim struct{ k, v []byte }
	var claims []claim
	if err := tx.Bucket(bucketVisitors).ForEach(func(k, v []byte) error {
		var c Claim
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("visitor claim: %w", err)
		}
		w, ok := where[c.RunID]
		if !ok {
			w = Where{Endpoint: EndpointUnknown}
		}
		claims = append(claims, claim{[]byte(w.Key(PlainKey(string(k)))), bytes.Clone(v)})
		return nil
	}); err != nil {
		return err
	}
	if err := tx.DeleteBucket(bucketVisitors); err != nil {
		return err
	}
	b, err := tx.CreateBucket(bucketVisitors)
	if err != nil {
		return err
	}
	for _, c := range claims {
		if err := b.Put(c.k, c.v); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketOrderIDs) != nil {
		if err := tx.DeleteBucket(bucketOrderIDs); err != nil {
			return err
		}
	}
	return migrateOrderIDs(tx)
}
