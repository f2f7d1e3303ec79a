package submit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/plan"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// The end-to-end submit benchmarks place real orders over HTTP with the
// real client against the sandbox, tracked in a bbolt file with fsync on:
//
//	go test -run '^$' -bench Sandbox -benchtime 1x ./internal/submit/
//
// With latency L and concurrency C no client can do better than C/L orders
// per second; the benchmark reports its throughput and its share of that
// bound. The resume benchmark reopens a finished run of 20,000 orders and
// counts the API requests it makes.

var benchStart = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

// countingSandbox is a served sandbox that counts the requests it gets.
type countingSandbox struct {
	*sandbox.Server
	n atomic.Int64
}

func (c *countingSandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.Server.ServeHTTP(w, r)
}

// Requests is how many requests the sandbox got.
func (c *countingSandbox) Requests() int64 { return c.n.Load() }

// sandboxClient serves a sandbox and returns a client of it with no rate
// limit of its own, and the sandbox to count what it holds.
func sandboxClient(b *testing.B, latency time.Duration) (*equinix.Client, *countingSandbox) {
	b.Helper()
	srv, err := sandbox.New(sandbox.Config{StartAt: benchStart, Latency: latency, Permissive: true, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	cs := &countingSandbox{Server: srv}
	hs := httptest.NewServer(cs)
	b.Cleanup(hs.Close)
	c, err := equinix.New(equinix.Config{
		Endpoint: hs.URL, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		RateLimit: 1e6, Timeout: 30 * time.Second,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c, cs
}

// recordRun records a run of n one-visitor orders, each in its own window.
func recordRun(b *testing.B, st *queue.Store, id string, n int) {
	b.Helper()
	of := roster.OrderFields{Description: "Benchmark maintenance visit"}
	specs := make([]queue.OrderSpec, n)
	for i := range specs {
		start := benchStart.Add(24*time.Hour + time.Duration(i)*10*time.Minute)
		o := plan.Order{
			Key: fmt.Sprintf("k%06d", i), Reference: fmt.Sprintf("BENCH-%s-%06d", id, i),
			IBX: "AM1", Cage: "AM1:01:000111", Start: start, End: start.Add(4 * time.Hour), Zone: "Europe/Amsterdam", Count: 1,
			Visitors: []roster.Visitor{{Row: i + 2, FirstName: "Anna", LastName: "de Vries", Company: "Voltcare BV"}},
		}
		body, err := json.Marshal(Request(&o, of))
		if err != nil {
			b.Fatal(err)
		}
		specs[i] = queue.OrderSpec{Key: o.Key, Reference: o.Reference, IBX: o.IBX, Cage: o.Cage, Start: o.Start, End: o.End,
			Count: 1, Body: body, Rows: []int{i + 2}}
	}
	if _, err := st.CreateRun(queue.Run{ID: id, File: "bench.csv"}, specs, nil); err != nil {
		b.Fatal(err)
	}
}

func runConfig(conc int) queue.RunConfig {
	return queue.RunConfig{Concurrency: conc, Classify: Classify, RetryAfter: RetryAfter, ToStored: ToStored}
}

func BenchmarkSubmitSandbox(b *testing.B) {
	const orders = 2000
	for _, tc := range []struct {
		conc    int
		latency time.Duration
	}{{8, 0}, {32, 0}, {8, 20 * time.Millisecond}, {32, 20 * time.Millisecond}, {64, 50 * time.Millisecond}} {
		b.Run(fmt.Sprintf("concurrency=%d/latency=%s", tc.conc, tc.latency), func(b *testing.B) {
			client, srv := sandboxClient(b, tc.latency)
			st, err := queue.Open(filepath.Join(b.TempDir(), "wvbatch.db"), queue.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var total time.Duration
			runs := 0
			for b.Loop() {
				b.StopTimer()
				id := fmt.Sprintf("r%d", runs)
				recordRun(b, st, id, orders)
				b.StartTimer()
				start := time.Now()
				tally, err := queue.Submit(context.Background(), st, id, API{Client: client}, runConfig(tc.conc))
				total += time.Since(start)
				runs++
				if err != nil || tally.Submitted != orders {
					b.Fatalf("Submit = %+v, %v", tally, err)
				}
			}
			if got := len(srv.Orders()); got != orders*runs {
				b.Fatalf("the sandbox holds %d orders, want %d", got, orders*runs)
			}
			rate := float64(orders*runs) / total.Seconds()
			b.ReportMetric(rate, "orders/s")
			if tc.latency > 0 {
				bound := float64(tc.conc) / tc.latency.Seconds()
				b.ReportMetric(100*rate/bound, "%_of_C/L")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkResumeFinishedSandbox resumes a finished run of 20,000 orders.
func BenchmarkResumeFinishedSandbox(b *testing.B) {
	const orders = 20000
	client, srv := sandboxClient(b, 0)
	path := filepath.Join(b.TempDir(), "wvbatch.db")
	st, err := queue.Open(path, queue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	recordRun(b, st, "big", orders)
	if tally, err := queue.Submit(context.Background(), st, "big", API{Client: client}, runConfig(64)); err != nil || tally.Submitted != orders {
		b.Fatalf("Submit = %+v, %v", tally, err)
	}
	st.Close()
	before := srv.Requests()
	for b.Loop() {
		// A resume in a new process opens the store afresh.
		st, err := queue.Open(path, queue.Options{})
		if err != nil {
			b.Fatal(err)
		}
		tally, err := queue.Submit(context.Background(), st, "big", API{Client: client}, runConfig(64))
		st.Close()
		if err != nil || tally.Submitted != orders {
			b.Fatalf("Submit = %+v, %v", tally, err)
		}
	}
	if n := srv.Requests() - before; n != 0 {
		b.Fatalf("resuming a finished run made %d API requests", n)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/resume")
}
