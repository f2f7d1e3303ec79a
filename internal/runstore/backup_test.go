package runstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestCheckFindsBrokenInvariants damages a sound store in each way Check
// looks for and expects it to say so.
func TestCheckFindsBrokenInvariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		break_ func(tx *bolt.Tx) error
		want   string
	}{
		{"unknown order state", func(tx *bolt.Tx) error {
			ob := tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketOrders)
			k, v := ob.Cursor().First()
			return ob.Put(k, bytes.Replace(v, []byte(`"state":"submitted"`), []byte(`"state":"lost"`), 1))
		}, `unknown state "lost"`},
		{"counts", func(tx *bolt.Tx) error {
			ob := tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketOrders)
			k, v := ob.Cursor().First()
			return ob.Put(k, bytes.Replace(v, []byte(`"state":"submitted"`), []byte(`"state":"rejected"`), 1))
		}, "it counts 0 orders rejected, its orders say 1"},
		{"index entry missing", func(tx *bolt.Tx) error {
			kb := tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketKeys)
			k, _ := kb.Cursor().First()
			return kb.Delete(k)
		}, "the index has 2 entries for 3 orders"},
		{"index entry wrong", func(tx *bolt.Tx) error {
			kb := tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketKeys)
			k, _ := kb.Cursor().First()
			return kb.Put(k, u64(7))
		}, "which is not there"},
		{"row without outcome", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketRows).Delete(u64(2))
		}, "row 2 of an order has no outcome"},
		{"row unknown outcome", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketRows).Put(u64(3), []byte(`{"status":"maybe"}`))
		}, `row 3 has the unknown outcome "maybe"`},
		{"body missing", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketBodies).Delete(u64(1))
		}, "has no request body"},
		{"claim on nothing", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketVisitors).Put([]byte("u:someone|x"), []byte(`{"runId":"r","orderKey":"nope","orderId":"1-1"}`))
		}, "which is not placed"},
		{"order id not indexed", func(tx *bolt.Tx) error {
			ib := tx.Bucket(bucketOrderIDs)
			k, _ := ib.Cursor().First()
			return ib.Delete(k)
		}, "is not in the order id index"},
		{"run without orders", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRun).DeleteBucket([]byte("r"))
		}, "its orders and rows are missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			orders := specs(3, 2)
			createRun(t, s, "r", orders, nil)
			submitAll(t, s, "r", orders, "1")
			rep, err := s.Check()
			if err != nil || !rep.OK() || rep.Runs != 1 || rep.Orders != 3 || rep.Rows != 6 || rep.Claims != 6 {
				t.Fatalf("a sound store: %+v, %v", rep, err)
			}
			if err := s.updateNow(tc.break_); err != nil {
				t.Fatal(err)
			}
			rep, err = s.Check()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(rep.Problems, "\n"), tc.want) {
				t.Errorf("problems %q; want one saying %q", rep.Problems, tc.want)
			}
		})
	}
}

// TestCheckFileFindsDamagedPages: bbolt's own check runs, and its
// messages name no key or value.
func TestCheckFileFindsDamagedPages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	createRun(t, s, "r", specs(200, 3), nil)
	path := s.Path()
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Page 4 onwards holds the data: scribble over a page header.
	ps := os.Getpagesize()
	for i := 5 * ps; i < 5*ps+16; i++ {
		b[i] = 0xff
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := CheckFile(path)
	if err == nil && rep.OK() {
		t.Fatal("a damaged file checks fine")
	}
	if strings.Contains(strings.Join(rep.Problems, "\n"), "visitor") {
		t.Errorf("the problems show a key: %q", rep.Problems)
	}
}

// TestRestoreOverADamagedStore: a store that cannot be opened any more is
// replaced by the backup and kept aside; a store in use is not replaced.
func TestRestoreOverADamagedStore(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	createRun(t, s, "r", specs(3, 1), nil)
	dir := t.TempDir()
	bfile := filepath.Join(dir, "backup.db")
	if _, err := s.BackupFile(bfile); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	if _, err := Restore(bfile, path, time.Now()); !errors.Is(err, ErrStoreBusy) {
		t.Errorf("restore over a store in use: %v, want ErrStoreBusy", err)
	}
	s.Close()
	if err := os.WriteFile(path, bytes.Repeat([]byte("damaged!"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("the damaged store opens")
	}
	res, err := Restore(bfile, path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(res.Aside); err != nil || !bytes.HasPrefix(b, []byte("damaged!")) {
		t.Errorf("the damaged store was not kept aside: %v", err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r, err := s2.Run("r"); err != nil || r.Orders[Sending] != 3 {
		t.Errorf("restored run: %+v %v; want its 3 planned orders in doubt (sending)", r.Orders, err)
	}
}
