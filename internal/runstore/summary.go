package runstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"
)

// A run's saved summary is what the caller made of the run's orders and
// rows to show it (its summary), kept in the run's bucket under "summary"
// with the digest of the orders and row outcomes it was made from:
//
//	version (1 byte) | digest (32) | SHA-256 of the summary (32) | summary
//
// SavedSummary hands it out only while the run's orders and rows still hold
// exactly the bytes it was made from. No path that changes them (sending,
// cancelling, amending, pruning, restoring, upgrading the schema) needs to
// know about it: any change makes it stale by itself. Showing a finished
// run again then reads the run's raw records once instead of decoding them.

var keySummary = []byte("summary")

const summaryVersion = 1

// Digest identifies what a run's orders and row outcomes hold: two reads
// with the same digest read the same bytes.
type Digest [sha256.Size]byte

// digester hashes a run's orders and rows, each key and value with its
// length, in key order.
type digester struct{ orders, rows hash.Hash }

func newDigester() digester { return digester{sha256.New(), sha256.New()} }

func addRecord(h hash.Hash, k, v []byte) {
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(len(k)))
	binary.BigEndian.PutUint32(n[4:], uint32(len(v)))
	h.Write(n[:])
	h.Write(k)
	h.Write(v)
}

// digested are the buckets of a run the digest covers, each with its hash.
func (d digester) digested() []digested {
	return []digested{{bucketOrders, d.orders}, {bucketRows, d.rows}}
}

type digested struct {
	name []byte
	h    hash.Hash
}

// hashRecords adds every record of b to h, read through bbolt.
func hashRecords(b *bolt.Bucket, h hash.Hash) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		addRecord(h, k, v)
	}
}

func (d digester) sum() Digest {
	var out Digest
	h := sha256.New()
	h.Write(d.orders.Sum(nil))
	h.Write(d.rows.Sum(nil))
	h.Sum(out[:0])
	return out
}

// digestOf hashes the orders and rows of run bucket rb as tx holds them.
// It reads their pages from the file f rather than through bbolt's mapping
// of it: pages read through the mapping stay mapped, counted in the
// process's memory, for as long as the store is open. The pages tx reaches
// do not change while it is open. ok is false when they are not as bbolt
// writes them.
func digestOf(f io.ReaderAt, tx *bolt.Tx, rb *bolt.Bucket) (d Digest, ok bool) {
	pageSize := tx.DB().Info().PageSize
	m := &meta{pageSize: uint32(pageSize), pgid: uint64(tx.Size()) / uint64(pageSize)}
	dg := newDigester()
	for _, p := range dg.digested() {
		b := rb.Bucket(p.name)
		if b == nil {
			return Digest{}, false
		}
		if root := uint64(b.Root()); root != 0 {
			w := newPageWalk(f, m)
			w.record = func(k, v []byte) { addRecord(p.h, k, v) }
			w.tree(root, 0)
			if len(w.problems) > 0 {
				return Digest{}, false
			}
			continue
		}
		hashRecords(b, p.h) // an inline bucket lies in its parent's page, read already
	}
	return dg.sum(), true
}

// Contents is a run as read to show it: its record, its orders (without
// their bodies) and row outcomes, and the digest of the orders and rows
// as they were read.
type Contents struct {
	Run    Run
	Orders []Order
	Rows   []RowOutcome
	Digest Digest
}

// Contents reads a run's record, its orders and its row outcomes. The
// orders and the rows are decoded side by side, in read transactions of
// their own: of a large run, that is most of what showing it costs. The
// record is read first, so a change made while the rest is read leaves
// the record behind the digest, never ahead of it.
func (s *Store) Contents(runID string) (Contents, error) {
	run, err := s.Run(runID)
	if err != nil {
		return Contents{}, err
	}
	c := Contents{Run: run}
	d := newDigester()
	var g errgroup.Group
	g.Go(func() (err error) {
		c.Orders, err = s.orders(runID, d.orders)
		return err
	})
	g.Go(func() error {
		return s.rows(runID, d.rows, func(r RowOutcome) error { c.Rows = append(c.Rows, r); return nil })
	})
	if err := g.Wait(); err != nil {
		return Contents{}, err
	}
	c.Digest = d.sum()
	return c, nil
}

// ErrChanged is matched by the error SaveSummary returns when the run's
// orders or rows changed since the summary was made of them.
var ErrChanged = errors.New("the run's orders or rows changed since they were read")

// SaveSummary saves summary, the caller's summary of a run made from its
// orders and rows as Contents read them with digest d, in place of the one
// saved before. When they changed since (a prune removed what the summary
// quotes, an order moved on), nothing is saved: the error matches
// ErrChanged.
func (s *Store) SaveSummary(runID string, d Digest, summary []byte) error {
	v := make([]byte, 0, 1+2*sha256.Size+len(summary))
	v = append(v, summaryVersion)
	v = append(v, d[:]...)
	check := sha256.Sum256(summary)
	v = append(v, check[:]...)
	v = append(v, summary...)
	return s.update(func(tx *bolt.Tx) error {
		rb, err := runBucket(tx, runID)
		if err != nil {
			return refuse(err)
		}
		// Through bbolt: this transaction's own changes are not on disk.
		dg := newDigester()
		for _, p := range dg.digested() {
			hashRecords(rb.Bucket(p.name), p.h)
		}
		if dg.sum() != d {
			return refuse(fmt.Errorf("save the summary of run %s: %w", runID, ErrChanged))
		}
		return rb.Put(keySummary, v)
	})
}

// SavedSummary returns a run's record and, read with it, the summary
// SaveSummary saved of the run: nil when none was saved, when the run's
// orders or rows changed since (their digest is not the one it was saved
// with), or when the saved record is not whole.
func (s *Store) SavedSummary(runID string) (Run, []byte, error) {
	var (
		run     *Run
		summary []byte
	)
	f, err := os.Open(s.path)
	if err != nil {
		return Run{}, nil, err
	}
	defer f.Close()
	err = s.view(func(tx *bolt.Tx) error {
		var err error
		if run, err = getRun(tx, runID); err != nil {
			return err
		}
		rb, err := runBucket(tx, runID)
		if err != nil {
			return err
		}
		v := rb.Get(keySummary)
		if len(v) < 1+2*sha256.Size || v[0] != summaryVersion {
			return nil
		}
		body := v[1+2*sha256.Size:]
		if check := sha256.Sum256(body); !bytes.Equal(check[:], v[1+sha256.Size:1+2*sha256.Size]) {
			return nil
		}
		if d, ok := digestOf(f, tx, rb); !ok || !bytes.Equal(d[:], v[1:1+sha256.Size]) {
			return nil
		}
		summary = bytes.Clone(body)
		return nil
	})
	if err != nil {
		return Run{}, nil, err
	}
	return *run, summary, nil
}
