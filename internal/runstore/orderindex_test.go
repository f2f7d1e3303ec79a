package runstore

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// submitAll takes every order of a run through sending to submitted, with
// order ids prefix-0, prefix-1, …
func submitAll(t *testing.T, s *Store, runID string, orders []OrderSpec, prefix string) {
	t.Helper()
	for i, o := range orders {
		if _, err := s.MarkSending(runID, o.Key); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSubmitted(runID, o.Key, prefix+"-"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindOrder(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(3, 1)
	createRun(t, s, "r1", orders, nil)
	submitAll(t, s, "r1", orders[:2], "1")
	placed := []PlacedOrder{{Key: "p", Reference: "P", OrderID: "9-9", IBX: "AM1", Rows: []int{1},
		Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), Body: []byte(`{}`)}}
	if _, err := s.CreatePlacedRun(Run{ID: "e1", File: "messages", Endpoint: "sandbox"}, placed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, run, key string
		found        bool
	}{
		{"1-0", "r1", orders[0].Key, true},
		{"1-1", "r1", orders[1].Key, true},
		{"9-9", "e1", "p", true},
		{"1-2", "", "", false}, // the third order was never submitted
		{"", "", "", false},
	}
	for _, tt := range tests {
		run, o, found, err := s.FindOrder(sandbox, tt.id)
		if err != nil || found != tt.found || run != tt.run || o.Key != tt.key || found && (o.OrderID != tt.id || o.RunID != tt.run) {
			t.Errorf("FindOrder(%q) = %s, %s (%s), %v, %v; want %s, %s, %v", tt.id, run, o.Key, o.OrderID, found, err, tt.run, tt.key, tt.found)
		}
	}
}

// TestFindOrderMigration opens a store written before the index (schema 1)
// and finds its orders by id: the upgrade indexed them.
func TestFindOrderMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	s, err := open(path, Options{}, migrations()[:1])
	if err != nil {
		t.Fatal(err)
	}
	orders := specs(2, 1)
	createRun(t, s, "old", orders, nil)
	// A schema-1 store has no index: record the orders as submitted the
	// way that wvbatch did, without one.
	for i, o := range orders {
		if _, err := s.MarkSending("old", o.Key); err != nil {
			t.Fatal(err)
		}
		err := s.updateNow(func(tx *bolt.Tx) error {
			rb, _ := runBucket(tx, "old")
			seq, got, err := readOrder(rb, "old", o.Key)
			if err != nil {
				return err
			}
			got.State, got.OrderID = Submitted, "1-"+string(rune('0'+i))
			v, err := json.Marshal(got)
			if err != nil {
				return err
			}
			return rb.Bucket(bucketOrders).Put(seq, v)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if got := schemaOf(t, path); got != "1" {
		t.Fatalf("schema %s, want 1", got)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, o := range orders {
		id := "1-" + string(rune('0'+i))
		run, got, found, err := s.FindOrder(sandbox, id)
		if err != nil || !found || run != "old" || got.Key != o.Key {
			t.Errorf("after the upgrade FindOrder(%s) = %s, %s, %v, %v; want old, %s", id, run, got.Key, found, err, o.Key)
		}
	}
}
