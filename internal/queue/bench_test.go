package queue

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// instantAPI answers every request at once.
type instantAPI struct{ n atomic.Int64 }

func (a *instantAPI) Create(ctx context.Context, o *runstore.Order) (string, error) {
	return fmt.Sprintf("1-%d", a.n.Add(1)), nil
}

func (a *instantAPI) FindByReference(ctx context.Context, ref string) (string, bool, error) {
	return "", false, nil
}

// BenchmarkSubmit measures orders submitted per second end to end (two
// durable changes per order, fsync on) against an API that answers at
// once; compare with BenchmarkBaselineCommitPerChange.
func BenchmarkSubmit(b *testing.B) {
	const orders = 2000
	for _, conc := range []int{8, 32} {
		for _, delay := range []time.Duration{0, time.Millisecond} {
			b.Run(fmt.Sprintf("concurrency=%d/delay=%s", conc, delay), func(b *testing.B) {
				s, err := runstore.Open(filepath.Join(b.TempDir(), "db"), runstore.Options{CommitDelay: delay})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				specs := specs(orders, 10)
				var total time.Duration
				i := 0
				for b.Loop() {
					b.StopTimer()
					id := fmt.Sprintf("run-%d", i)
					i++
					createRun(b, s, id, specs, nil)
					b.StartTimer()
					start := time.Now()
					tally, err := Submit(context.Background(), s, id, &instantAPI{}, RunConfig{Concurrency: conc})
					total += time.Since(start)
					if err != nil || tally.Submitted != orders {
						b.Fatalf("Submit = %+v, %v", tally, err)
					}
				}
				b.ReportMetric(float64(orders*i)/total.Seconds(), "orders/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkBaselineCommitPerChange is the same work without group commit:
// each order's two changes are two bbolt transactions, each fsynced.
func BenchmarkBaselineCommitPerChange(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("orders"))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 400)
	n := 0
	for b.Loop() {
		key := binary.BigEndian.AppendUint64(nil, uint64(n))
		n++
		for range 2 {
			if err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("orders")).Put(key, value)
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkSubmitFinished measures resuming a finished 20,000-order run.
func BenchmarkSubmitFinished(b *testing.B) {
	s := openStore(b)
	createRun(b, s, "r", specs(20000, 2), nil)
	markSubmitted(b, s, "r", 0)
	api := &instantAPI{}
	for b.Loop() {
		if _, err := Submit(context.Background(), s, "r", api, RunConfig{}); err != nil {
			b.Fatal(err)
		}
	}
	if api.n.Load() != 0 {
		b.Fatalf("%d requests for a finished run", api.n.Load())
	}
}
