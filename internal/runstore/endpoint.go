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

// settingsEndpoint is the endpoint a run's settings recorded ({"endpoint":
// …}), "" when they name none.
func settingsEndpoint(settings json.RawMessage) (string, error) {
	if len(settings) == 0 {
		return "", nil
	}
	var set struct {
		Endpoint string `json:"endpoint"`
	}
	if err := json.Unmarshal(settings, &set); err != nil {
		return "", err
	}
	return strings.TrimRight(strings.TrimSpace(set.Endpoint), "/"), nil
}

// upgradeEndpoints takes a store to runs that name their endpoint: every
// run takes the endpoint its settings recorded ({"endpoint": …}), or
// EndpointUnknown; its orders' visitor keys and its claims move under that
// endpoint (Where.Key), so that a run of an unknown endpoint holds no
// visitor for any other run; and the order id index is built again under
// the endpoints. A run whose settings cannot be decoded keeps
// EndpointUnknown, and the upgrade notes how many did (addNote).
func upgradeEndpoints(tx *bolt.Tx) error {
	runs := tx.Bucket(bucketRuns)
	where := map[string]Where{}
	var unread []string
	err := runs.ForEach(func(k, v []byte) error {
		var r Run
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("run %s: %w", k, err)
		}
		if r.Endpoint == "" {
			endpoint, err := settingsEndpoint(r.Settings)
			if err != nil {
				unread = append(unread, fmt.Sprintf("%s (%v)", k, err))
			}
			r.Endpoint = cmp.Or(endpoint, EndpointUnknown)
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
	if n := len(unread); n > 0 {
		if n > 5 {
			unread = append(unread[:5], fmt.Sprintf("and %d more", n-5))
		}
		if err := addNote(tx, fmt.Sprintf("the settings of %d runs recorded before runs named their endpoint cannot be read: "+
			"they keep the endpoint %q, and are worked on only at an endpoint named explicitly: %s",
			n, EndpointUnknown, strings.Join(unread, "; "))); err != nil {
			return err
		}
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
