package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/rostergen"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestCrashSafetyReschedule places a run (through the crash harness's
// sandbox, with latency and faults), then runs `wvbatch reschedule RUN
// --shift 24h --again` as a subprocess and kills it with SIGKILL at random
// moments; a child that is killed is followed by the same command, which
// resumes its amendment, and one that ends on its own by the same command,
// which shifts the run once more. After the last kill `wvbatch amend RUN`
// finishes what is left, and one more shift runs without kills. Then, from
// what the sandbox holds:
//
//   - every order was updated exactly once per amendment the store holds
//     (no update applied twice, none missed);
//   - every order's window is its first window shifted by a day per
//     amendment, and the store says the same;
//   - every amendment is done with all its orders applied.
//
// WVBATCH_SOAK_KILLS=N makes N kills instead of crashAmendKillsDefault.
const (
	crashAmendKillsDefault = 6
	// crashAmendRows is the roster's size: about 15 orders.
	crashAmendRows = 120
	// crashAmendSlow is how long the sandbox holds a slow answer before it
	// performs the request; crashAmendSettle, how long wvbatch waits
	// before it trusts a read-back, must be longer.
	crashAmendSlow   = 300 * time.Millisecond
	crashAmendSettle = 400 * time.Millisecond
)

// newAmendHarness is the crash harness with a sandbox that injects faults
// only when asked (injectFaults), so that the run to amend is placed
// quickly.
func newAmendHarness(t *testing.T, seed uint64) (*crashHarness, *sandbox.Server, *faultInjector) {
	dir := t.TempDir()
	if keep := os.Getenv("WVBATCH_CRASH_DIR"); keep != "" {
		dir = filepath.Join(keep, fmt.Sprintf("crash-amend-%d-%s", seed, time.Now().Format("20060102-150405")))
		t.Logf("keeping the harness's files in %s", dir)
	}
	for _, d := range []string{"logs", "rosters", "config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inject := &faultInjector{rng: rand.New(rand.NewPCG(seed, 0xfa17)), n: map[string]int{}}
	srv, err := sandbox.New(sandbox.Config{
		StartAt: crashStart, Latency: 20 * time.Millisecond, LatencyJitter: 30 * time.Millisecond,
		SlowDelay: crashAmendSlow, Seed: int64(seed), Logger: zerolog.New(inject).Level(zerolog.DebugLevel),
	})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	h := &crashHarness{
		began: time.Now(), t: t, dir: dir, store: filepath.Join(dir, "state", "wvbatch.db"), url: url,
		faults: &faultCounter{log: io.Discard, byKind: map[string]int{}},
		rng:    rand.New(rand.NewPCG(seed, 0xa3e2d)), seed: seed, env: childEnv(dir),
	}
	t.Cleanup(func() {
		if t.Failed() {
			h.explain()
		}
	})
	// The sandbox is not rate limited; nor are the children.
	cfg := filepath.Join(dir, "config", "wvbatch")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "config.yaml"), []byte("rate: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return h, srv, inject
}

// faultInjector reads the sandbox's log, a debug line per request, and
// after a share of the requests queues a random fault for a later one
// (sandbox.Server.FailNext), so that faults follow the traffic.
type faultInjector struct {
	mu   sync.Mutex
	srv  *sandbox.Server
	rate float64
	rng  *rand.Rand
	n    map[string]int
}

var faultKinds = []sandbox.Fault{sandbox.Fault429, sandbox.Fault500, sandbox.Fault502, sandbox.Fault503, sandbox.FaultSlow, sandbox.FaultReset}

func (f *faultInjector) on(srv *sandbox.Server, rate float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.srv, f.rate = srv, rate
}

func (f *faultInjector) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv == nil || !bytes.Contains(p, []byte(`"sandbox request"`)) || f.rng.Float64() >= f.rate {
		return len(p), nil
	}
	k := faultKinds[f.rng.IntN(len(faultKinds))]
	f.n[k.String()]++
	return len(p), f.srv.FailNext(k)
}

func (f *faultInjector) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.n)
}

func TestCrashSafetyReschedule(t *testing.T) {
	kills := crashAmendKillsDefault
	if s := os.Getenv("WVBATCH_SOAK_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WVBATCH_SOAK_KILLS=%q: want a positive number of kills", s)
		}
		kills = n
	}
	seed := uint64(7)
	if s := os.Getenv("WVBATCH_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WVBATCH_CRASH_SEED=%q: want a number", s)
		}
		seed = n
	}
	h, srv, inject := newAmendHarness(t, seed)
	r := h.newSmallRun(crashAmendRows)
	h.finish(r)
	first := map[string]sandbox.Order{}
	for ref, held := range h.sandboxByRef() {
		first[ref] = held[0]
	}
	// From now on a fifth of the requests are followed by a fault for the
	// next one: 429, 5xx, slow answers (performed after the client gave
	// up) and reset connections, for updates and read-backs alike.
	inject.on(srv, 0.2)

	common := []string{"--endpoint", h.url, "--store", h.store, "--concurrency", strconv.Itoa(crashConcurrency),
		"--timeout", crashTimeout.String(), "--settle-delay", crashAmendSettle.String(),
		"--log-level", "debug", "--log-format", "json"}
	killed, natural := 0, 0
	for killed < kills {
		c := h.start(append([]string{"reschedule", "--yes", r.id, "--shift", "24h", "--again"}, common...)...)
		if !c.waitFor(h.killDelay()) && c.kill() {
			killed++
			h.scan(c)
			h.noExtraPatches(r, fmt.Sprintf("kill %d (%s)", killed, c))
			continue
		}
		natural++
		if natural > 3*kills+20 {
			t.Fatalf("%d children ended on their own before %d kills; the last: %s", natural, kills, c)
		}
		if code := h.ended(c); code != exitOK && code != exitFailure {
			t.Fatalf("%s: exit status %d, want 0 or 1\n%s", c, code, c.tail(20))
		}
		h.noExtraPatches(r, c.String())
	}

	// Finish the amendment the last kill left, if any.
	for i := 0; ; i++ {
		if i == crashFinishResumes {
			t.Fatalf("amendments of run %s not finished after %d runs of wvbatch amend", r.id, i)
		}
		c := h.start(append([]string{"amend", "--yes", r.id}, common...)...)
		if !c.waitFor(crashChildTimeout) {
			c.kill()
			t.Fatalf("%s did not end within %s", c, crashChildTimeout)
		}
		code := h.ended(c)
		if code == exitUsage && strings.Contains(c.tail(5), "no unfinished amendment") {
			break
		}
		if code != exitOK && code != exitFailure {
			t.Fatalf("%s: exit status %d\n%s", c, code, c.tail(20))
		}
	}

	// One more shift, without kills, applies to every order once more.
	if c := h.start(append([]string{"reschedule", "--yes", r.id, "--shift", "24h", "--again"}, common...)...); !c.waitFor(crashChildTimeout) {
		c.kill()
		t.Fatalf("%s did not end within %s", c, crashChildTimeout)
	} else if code := h.ended(c); code != exitOK {
		t.Fatalf("%s: exit status %d, want 0\n%s", c, code, c.tail(20))
	}

	amendments := h.amendments(r.id)
	n := len(amendments)
	if n == 0 {
		t.Fatal("no amendment recorded")
	}
	for _, a := range amendments {
		if a.State != runstore.AmendDone || a.Orders[runstore.AmendApplied] != len(r.plan) {
			t.Errorf("amendment %d: %s, orders %v; want done with all %d applied", a.N, a.State, a.Orders, len(r.plan))
		}
	}
	stored := map[string]runstore.Order{}
	for _, o := range h.storedOrders(r.id) {
		stored[o.Reference] = o
	}
	shift := time.Duration(n) * 24 * time.Hour
	held := h.sandboxByRef()
	if len(held) != len(r.plan) {
		t.Errorf("the sandbox holds %d references, the plan %d orders", len(held), len(r.plan))
	}
	for ref, hs := range held {
		o := hs[0]
		want := first[ref].VisitStart.Add(shift)
		if len(o.Patches) != n {
			t.Errorf("order %s (%s): updated %d times, want %d (one per amendment)", o.ID, ref, len(o.Patches), n)
		}
		if !o.VisitStart.Equal(want) || !o.VisitEnd.Equal(first[ref].VisitEnd.Add(shift)) {
			t.Errorf("order %s: window starts %s, want %s", o.ID, o.VisitStart, want)
		}
		if s := stored[ref]; !s.Start.Equal(o.VisitStart) || !s.End.Equal(o.VisitEnd) {
			t.Errorf("order %s: the store says %s–%s, the sandbox %s–%s", o.ID, s.Start, s.End, o.VisitStart, o.VisitEnd)
		}
	}
	t.Logf("reschedule crash test (seed %d): %d kills, %d children ended on their own, %d amendments, %d orders each updated %d times; faults injected: %v",
		seed, killed, natural, n, len(first), n, inject.counts())
}

// noExtraPatches fails at once when an order was updated more often than
// the store holds amendments, or two orders hold one reference.
func (h *crashHarness) noExtraPatches(r *crashRun, after string) {
	h.t.Helper()
	n := len(h.amendments(r.id))
	for ref, held := range h.sandboxByRef() {
		if p := len(held[0].Patches); p > n {
			h.t.Fatalf("after %s: order %s (%s) was updated %d times for %d amendments", after, held[0].ID, ref, p, n)
		}
		if len(held) > 1 {
			h.t.Fatalf("after %s: %d orders hold reference %s", after, len(held), ref)
		}
	}
}

func (h *crashHarness) amendments(runID string) []runstore.Amendment {
	h.t.Helper()
	st, err := runstore.Open(h.store, runstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		h.t.Fatalf("open the store after a child ended: %v", err)
	}
	defer st.Close()
	as, err := st.Amendments(runID)
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

func (h *crashHarness) storedOrders(runID string) []runstore.Order {
	h.t.Helper()
	st, err := runstore.Open(h.store, runstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	orders, err := st.Orders(runID)
	if err != nil {
		h.t.Fatal(err)
	}
	return orders
}

// newSmallRun is newRun with a roster of rows rows.
func (h *crashHarness) newSmallRun(rows int) *crashRun {
	h.t.Helper()
	file := filepath.Join(h.dir, "rosters", fmt.Sprintf("roster-%02d.csv", len(h.runs)))
	if err := rostergen.WriteFile(file, rostergen.Options{Rows: rows, Seed: int64(h.seed), Start: rostergen.DefaultStart}); err != nil {
		h.t.Fatal(err)
	}
	// validate names the run of the endpoint submit orders at.
	where := []string{"--sandbox"}
	if h.url != "" {
		where = []string{"--endpoint", h.url}
	}
	out := h.wvbatch(append([]string{"validate", file, "--json", "--now", crashNow, "--report-dir", filepath.Join(h.dir, "validate")}, where...)...)
	var sum report.Summary
	if err := json.Unmarshal(out, &sum); err != nil {
		h.t.Fatalf("validate %s --json: %v\n%s", file, err, out)
	}
	if sum.InvalidRows != 0 || len(sum.Plan) == 0 {
		h.t.Fatalf("validate %s: %d invalid rows, %d orders", file, sum.InvalidRows, len(sum.Plan))
	}
	r := &crashRun{file: file, id: sum.RunID, plan: sum.Plan}
	h.runs = append(h.runs, r)
	return r
}
