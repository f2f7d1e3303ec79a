package submit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/plan"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// The end-to-end submit benchmarks place real orders over HTTP with the
// real client against the sandbox, tracked in a bbolt file with fsync on:
//
//	go test -run '^$' -bench Sandbox -benchtime 3x ./internal/submit/
//
// The sandbox runs in a process of its own, as the API is elsewhere: its
// work is not this process's. With latency L and concurrency C no client can
// do better than C/L orders per second; each benchmark reports its
// throughput, its share of that bound, and the share that the bare client
// reaches in the same run (C goroutines calling CreateWorkVisit, no store,
// no queue). The resume benchmark reopens a finished run of 20,000 orders and
// counts the requests it makes.

const sandboxChildEnv = "WVBATCH_BENCH_SANDBOX_LATENCY"

func TestMain(m *testing.M) {
	if lat := os.Getenv(sandboxChildEnv); lat != "" {
		serveSandbox(lat)
		return
	}
	os.Exit(m.Run())
}

var benchStart = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

// serveSandbox is the sandbox child: it prints its URL and serves until
// killed.
func serveSandbox(latency string) {
	d, err := time.ParseDuration(latency)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv, err := sandbox.New(sandbox.Config{StartAt: benchStart, Latency: d, Permissive: true, Seed: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	url, _, err := srv.Start("127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(url)
	select {}
}

// remoteSandbox is a sandbox in a child process, and a client of it that
// counts its requests and has no rate limit of its own.
type remoteSandbox struct {
	url      string
	client   *equinix.Client
	requests atomic.Int64
}

func startSandbox(b *testing.B, latency time.Duration) *remoteSandbox {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sandboxChildEnv+"="+latency.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("sandbox child: %v", err)
	}
	r := &remoteSandbox{url: strings.TrimSpace(line)}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.MaxIdleConns = equinix.MaxIdleConnsPerHost, equinix.MaxIdleConnsPerHost
	rt := &countingTransport{rt: tr, n: &r.requests}
	r.client, err = equinix.New(equinix.Config{
		Endpoint: r.url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret,
		RateLimit: 1e6, Timeout: 30 * time.Second,
		HTTPClient: &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

type countingTransport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(req)
}

// held is how many orders the sandbox holds.
func (r *remoteSandbox) held(b *testing.B) int {
	b.Helper()
	resp, err := http.Get(r.url + "/sandbox/orders")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var dump struct {
		Orders []json.RawMessage `json:"orders"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dump); err != nil {
		b.Fatal(err)
	}
	return len(dump.Orders)
}

// benchOrders are n one-visitor orders, each in its own window.
func benchOrders(b *testing.B, id string, n int) []runstore.OrderSpec {
	b.Helper()
	of := roster.OrderFields{Description: "Benchmark maintenance visit"}
	specs := make([]runstore.OrderSpec, n)
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
		specs[i] = runstore.OrderSpec{Key: o.Key, Reference: o.Reference, IBX: o.IBX, Cage: o.Cage, Start: o.Start, End: o.End,
			Count: 1, Body: body, Rows: []int{i + 2}}
	}
	return specs
}

// recordRun records a run of n one-visitor orders.
func recordRun(b *testing.B, st *runstore.Store, id string, n int) {
	b.Helper()
	if _, err := st.CreateRun(runstore.Run{ID: id, File: "bench.csv", Endpoint: "sandbox"}, benchOrders(b, id, n), nil); err != nil {
		b.Fatal(err)
	}
}

func runConfig(conc int) queue.RunConfig {
	return queue.RunConfig{Concurrency: conc, Policy: Policy}
}

// bareCreates is the baseline: conc goroutines creating the orders with the
// client alone.
func bareCreates(b *testing.B, c *equinix.Client, specs []runstore.OrderSpec, conc int) time.Duration {
	b.Helper()
	reqs := make([]*equinix.WorkVisitRequest, len(specs))
	for i, s := range specs {
		reqs[i] = new(equinix.WorkVisitRequest)
		if err := json.Unmarshal(s.Body, reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
	next := make(chan *equinix.WorkVisitRequest)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for req := range next {
				if _, err := c.CreateWorkVisit(context.Background(), req); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	return time.Since(start)
}

func BenchmarkSubmitSandbox(b *testing.B) {
	const orders = 2000
	for _, tc := range []struct {
		conc    int
		latency time.Duration
	}{
		{8, 0}, {32, 0},
		{8, 20 * time.Millisecond}, {32, 20 * time.Millisecond},
		{8, 50 * time.Millisecond}, {64, 50 * time.Millisecond},
		{32, 100 * time.Millisecond},
	} {
		b.Run(fmt.Sprintf("concurrency=%d/latency=%s", tc.conc, tc.latency), func(b *testing.B) {
			sb := startSandbox(b, tc.latency)
			st, err := runstore.Open(filepath.Join(b.TempDir(), "wvbatch.db"), runstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var total, bare time.Duration
			runs := 0
			for b.Loop() {
				b.StopTimer()
				id := fmt.Sprintf("r%d", runs)
				recordRun(b, st, id, orders)
				bare += bareCreates(b, sb.client, benchOrders(b, "bare"+id, orders), tc.conc)
				b.StartTimer()
				start := time.Now()
				tally, err := queue.Submit(context.Background(), st, id, API{Client: sb.client}, runConfig(tc.conc))
				total += time.Since(start)
				runs++
				if err != nil || tally.Submitted != orders {
					b.Fatalf("Submit = %+v, %v", tally, err)
				}
			}
			if got := sb.held(b); got != 2*orders*runs {
				b.Fatalf("the sandbox holds %d orders, want %d", got, 2*orders*runs)
			}
			rate := float64(orders*runs) / total.Seconds()
			bareRate := float64(orders*runs) / bare.Seconds()
			b.ReportMetric(rate, "orders/s")
			b.ReportMetric(rate/bareRate, "x_bare_client")
			if tc.latency > 0 {
				bound := float64(tc.conc) / tc.latency.Seconds()
				b.ReportMetric(100*rate/bound, "%_of_C/L")
				b.ReportMetric(100*bareRate/bound, "bare_%_of_C/L")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkResumeFinishedSandbox resumes a finished run of 20,000 orders,
// opening the store afresh each time as a new process does.
func BenchmarkResumeFinishedSandbox(b *testing.B) {
	const orders = 20000
	sb := startSandbox(b, 0)
	path := filepath.Join(b.TempDir(), "wvbatch.db")
	st, err := runstore.Open(path, runstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	recordRun(b, st, "big", orders)
	if tally, err := queue.Submit(context.Background(), st, "big", API{Client: sb.client}, runConfig(64)); err != nil || tally.Submitted != orders {
		b.Fatalf("Submit = %+v, %v", tally, err)
	}
	st.Close()
	before := sb.requests.Load()
	for b.Loop() {
		st, err := runstore.Open(path, runstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		tally, err := queue.Submit(context.Background(), st, "big", API{Client: sb.client}, runConfig(64))
		st.Close()
		if err != nil || tally.Submitted != orders {
			b.Fatalf("Submit = %+v, %v", tally, err)
		}
	}
	if n := sb.requests.Load() - before; n != 0 {
		b.Fatalf("resuming a finished run made %d API requests", n)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/resume")
	b.ReportMetric(0, "ns/op")
}
