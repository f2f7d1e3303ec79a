package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
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

// The crash-safety harness runs `wvbatch submit` and `wvbatch resume` as
// subprocesses (this test binary re-executed as wvbatch, see TestMain)
// against an in-process sandbox with latency and every fault kind on, and
// kills them with SIGKILL at random moments. When a run finishes between two
// kills the harness carries on with a new roster, so that every kill lands
// on a run with work left. After the last kill it resumes the current run
// without kills until it is done, then checks what Equinix (the sandbox)
// holds against what was planned:
//
//   - exactly one order per planned order, found by its customer reference;
//   - no order that no plan holds;
//   - the order id each run recorded is the sandbox's id for that reference;
//   - every order submitted, none rejected, none left planned or sending;
//   - every roster row with a final outcome (ordered).
//
// `go test` makes crashKillsDefault kills. WVBATCH_SOAK_KILLS=N (make soak)
// makes N and prints a tally; WVBATCH_CRASH_SEED picks the seed of the
// rosters, the sandbox's faults and the kill delays; WVBATCH_CRASH_DIR keeps
// the rosters, the store and every child's log in a folder under it.
const (
	crashKillsDefault = 6
	crashRows         = 400 // rows per roster: about 50 orders
	crashNow          = "2027-01-04T09:00:00Z"
	crashConcurrency  = 4
	// crashTimeout is wvbatch's per-request timeout: longer than the
	// sandbox's latency, shorter than its slow answers.
	crashTimeout = 200 * time.Millisecond
	// crashKillMin and crashKillMax bound how long a child lives before
	// it is killed, from its start.
	crashKillMin = 50 * time.Millisecond
	crashKillMax = 600 * time.Millisecond
	// crashFinishResumes bounds the resumes, without kills, that finish
	// the last run.
	crashFinishResumes = 12
	// crashChildTimeout bounds one child that is not killed.
	crashChildTimeout = 5 * time.Minute
)

// crashStart is crashNow, the sandbox clock's start.
var crashStart = func() time.Time {
	t, err := time.Parse(time.RFC3339, crashNow)
	if err != nil {
		panic(err)
	}
	return t
}()

func TestCrashSafety(t *testing.T) {
	kills, soak := crashKillsDefault, false
	if s := os.Getenv("WVBATCH_SOAK_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WVBATCH_SOAK_KILLS=%q: want a positive number of kills", s)
		}
		kills, soak = n, true
	}
	seed := uint64(1)
	if s := os.Getenv("WVBATCH_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WVBATCH_CRASH_SEED=%q: want a number", s)
		}
		seed = n
	}

	h := newCrashHarness(t, seed)
	if soak {
		// The tally is printed whether the soak passes or fails.
		t.Cleanup(func() { h.report(true) })
	}
	r := h.newRun()
	natural := 0 // children that ended on their own before their kill
	for h.tally.kills < kills {
		c := h.next(r)
		if !c.waitFor(h.killDelay()) && c.kill() {
			h.afterKill(r, c)
			continue
		}
		natural++
		if natural > 3*kills+20 {
			t.Fatalf("%d children ended on their own before %d kills; the last: %s", natural, kills, c)
		}
		switch code := h.ended(c); code {
		case exitOK:
			// The run is done before the next kill: go on with a new
			// roster so that the kills keep landing on work in flight.
			r = h.newRun()
		case exitFailure:
			// Stopped (e.g. orders whose fate could not be checked yet):
			// resume it.
		default:
			t.Fatalf("%s: exit status %d, want 0 or 1\n%s", c, code, c.tail(20))
		}
	}
	h.finish(r)
	h.check()

	h.report(soak)
}

// crashHarness is the sandbox, the store, the rosters and the children of
// one TestCrashSafety.
type crashHarness struct {
	began  time.Time // the sandbox clock's crashNow
	t      *testing.T
	dir    string
	store  string
	url    string
	faults *faultCounter
	rng    *rand.Rand
	seed   uint64
	env    []string

	children []*crashChild
	runs     []*crashRun
	tally    crashTally
	suspects []string // references held more or less than once
}

// crashRun is one roster and the run it makes.
type crashRun struct {
	file string
	id   string
	plan []report.PlannedOrder // as validate plans it, without the store
}

type crashTally struct {
	kills        int // children killed
	killsSending int // kills that left orders sending
	leftSending  int // orders left sending, summed over the kills
	submits      int
	resumes      int
	stopped      int // children that ended with exit status 1, then resumed
	runs         int
	orders       int // planned
	rows         int
	submitted    int // orders the runs recorded as submitted
	rejected     int
	rowsOrdered  int
	checked      bool
	held         int // orders the sandbox holds
	duplicates   int // orders the sandbox holds beyond the first for their reference
	missing      int
	uncertain    int // answers to creates that left the order's fate unknown
	found        int // orders found placed by searching their reference
	faults       map[string]int
	requests     int
	creates      int
	elapsed      time.Duration
}

func (c *crashTally) String(seed uint64) string {
	var faults []string
	total := 0
	for _, k := range []string{"429", "500", "502", "503", "slow", "reset", "drop-created"} {
		faults = append(faults, fmt.Sprintf("%s %d", k, c.faults[k]))
		total += c.faults[k]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "crash-safety tally (seed %d, %d kills)\n", seed, c.kills)
	fmt.Fprintf(&b, "  children: %d killed (%d of them left orders sending, %d orders summed over the kills), %d submits, %d resumes, %d stopped on their own and resumed\n",
		c.kills, c.killsSending, c.leftSending, c.submits, c.resumes, c.stopped)
	fmt.Fprintf(&b, "  plan:     %d runs, %d orders, %d rows\n", c.runs, c.orders, c.rows)
	fmt.Fprintf(&b, "  sandbox:  %d requests (%d creates), %d faults (%s); %d orders held\n",
		c.requests, c.creates, total, strings.Join(faults, ", "), c.held)
	fmt.Fprintf(&b, "  wvbatch:  %d uncertain answers to creates, %d orders found placed by their reference\n", c.uncertain, c.found)
	if c.checked {
		fmt.Fprintf(&b, "  outcome:  %d of %d orders submitted, %d rejected, %d duplicates, %d missing; %d of %d rows ordered\n",
			c.submitted, c.orders, c.rejected, c.duplicates, c.missing, c.rowsOrdered, c.rows)
	} else {
		fmt.Fprintf(&b, "  outcome:  stopped before the last run was finished and checked; %d duplicates so far\n", c.duplicates)
	}
	fmt.Fprintf(&b, "  time:     %s", c.elapsed.Round(time.Millisecond))
	return b.String()
}

func newCrashHarness(t *testing.T, seed uint64) *crashHarness {
	dir := t.TempDir()
	if keep := os.Getenv("WVBATCH_CRASH_DIR"); keep != "" {
		// Keep the rosters, the store and every child's log.
		dir = filepath.Join(keep, fmt.Sprintf("crash-%d-%s", seed, time.Now().Format("20060102-150405")))
		t.Logf("keeping the harness's files in %s", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sandboxLog, err := os.Create(filepath.Join(dir, "sandbox.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sandboxLog.Close() })
	began := time.Now()
	faults := &faultCounter{began: began, log: sandboxLog, byKind: map[string]int{}}
	srv, err := sandbox.New(sandbox.Config{
		StartAt:       crashStart,
		Latency:       20 * time.Millisecond,
		LatencyJitter: 30 * time.Millisecond,
		FaultRate:     0.15,
		FaultKinds: []sandbox.Fault{sandbox.Fault429, sandbox.Fault500, sandbox.Fault502, sandbox.Fault503,
			sandbox.FaultSlow, sandbox.FaultReset, sandbox.FaultDropCreated},
		SlowDelay: 300 * time.Millisecond,
		Seed:      int64(seed),
		Logger:    zerolog.New(faults).Level(zerolog.DebugLevel),
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
	for _, d := range []string{"logs", "rosters", "config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := &crashHarness{
		began: began, t: t, dir: dir, store: filepath.Join(dir, "state", "wvbatch.db"), url: url, faults: faults,
		rng: rand.New(rand.NewPCG(seed, 0xc1a54)), seed: seed,
	}
	h.env = childEnv(dir)
	t.Cleanup(func() {
		if t.Failed() {
			h.explain()
		}
	})
	return h
}

// childEnv is the environment of every child: this binary runs as wvbatch,
// with the sandbox's credentials and nothing of the user's configuration.
func childEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "EQUINIX_") || strings.HasPrefix(k, "WVBATCH_") || strings.HasPrefix(k, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"WVBATCH_RUN_MAIN=1",
		"EQUINIX_API_CLIENTID="+sandbox.DefaultClientID,
		"EQUINIX_API_CLIENTSECRET="+sandbox.DefaultClientSecret,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"),
	)
}

// newRun writes the next roster, plans it with validate and returns it.
func (h *crashHarness) newRun() *crashRun {
	h.t.Helper()
	i := len(h.runs)
	file := filepath.Join(h.dir, "rosters", fmt.Sprintf("roster-%02d.csv", i))
	// Each roster's visits start three weeks after the last one's, so no
	// visitor of one is already ordered by another.
	if err := rostergen.WriteFile(file, rostergen.Options{Rows: crashRows, Seed: int64(h.seed)*1000 + int64(i),
		Start: rostergen.DefaultStart.AddDate(0, 0, 21*i)}); err != nil {
		h.t.Fatal(err)
	}
	out := h.wvbatch("validate", file, "--endpoint", h.url, "--json", "--now", crashNow, "--report-dir", filepath.Join(h.dir, "validate", strconv.Itoa(i)))
	var sum report.Summary
	if err := json.Unmarshal(out, &sum); err != nil {
		h.t.Fatalf("validate %s --json: %v\n%s", file, err, out)
	}
	if sum.InvalidRows != 0 || sum.ValidRows != crashRows || len(sum.Plan) == 0 {
		h.t.Fatalf("validate %s: %d valid and %d invalid rows, %d orders; want %d valid rows", file, sum.ValidRows, sum.InvalidRows, len(sum.Plan), crashRows)
	}
	r := &crashRun{file: file, id: sum.RunID, plan: sum.Plan}
	h.runs = append(h.runs, r)
	return r
}

// next starts the child that carries r on: submit until the run is
// recorded; then mostly resume, sometimes submit of the same roster again
// (which resumes too).
func (h *crashHarness) next(r *crashRun) *crashChild {
	common := []string{"--endpoint", h.url, "--store", h.store, "--concurrency", strconv.Itoa(crashConcurrency),
		"--timeout", crashTimeout.String(), "--log-level", "debug", "--log-format", "json"}
	if !h.recorded(r.id) || h.rng.IntN(5) == 0 {
		h.tally.submits++
		return h.start(append([]string{"submit", r.file, "--yes", "--now", crashNow}, common...)...)
	}
	h.tally.resumes++
	return h.start(append([]string{"resume", "--yes", r.id}, common...)...)
}

func (h *crashHarness) killDelay() time.Duration {
	return crashKillMin + time.Duration(h.rng.Int64N(int64(crashKillMax-crashKillMin)))
}

// afterKill counts the orders the kill left sending and checks at once
// that no order is held twice, so that a failure names the kill that
// caused it.
func (h *crashHarness) afterKill(r *crashRun, c *crashChild) {
	h.t.Helper()
	h.tally.kills++
	if n := h.sending(r.id); n > 0 {
		h.tally.killsSending++
		h.tally.leftSending += n
		c.note = fmt.Sprintf("%d orders left sending", n)
	}
	h.scan(c)
	h.noDuplicates(fmt.Sprintf("kill %d (%s)", h.tally.kills, c))
}

// noDuplicates fails at once when the sandbox holds two orders with one
// reference.
func (h *crashHarness) noDuplicates(after string) {
	h.t.Helper()
	for ref, held := range h.sandboxByRef() {
		if len(held) > 1 {
			h.suspects = append(h.suspects, ref)
			h.t.Fatalf("after %s: the sandbox holds %d orders with reference %s: %s", after, len(held), ref, orderIDs(held))
		}
	}
}

// ended accounts for a child that ended on its own and returns its exit
// status.
func (h *crashHarness) ended(c *crashChild) int {
	h.t.Helper()
	h.scan(c)
	h.noDuplicates(c.String())
	code := c.cmd.ProcessState.ExitCode()
	if code == exitFailure {
		h.tally.stopped++
	}
	return code
}

// finish resumes r without kills until it is done.
func (h *crashHarness) finish(r *crashRun) {
	h.t.Helper()
	for range crashFinishResumes {
		c := h.next(r)
		if !c.waitFor(crashChildTimeout) {
			c.kill()
			h.t.Fatalf("%s did not end within %s\n%s", c, crashChildTimeout, c.tail(20))
		}
		switch code := h.ended(c); code {
		case exitOK:
			return
		case exitFailure:
		default:
			h.t.Fatalf("%s: exit status %d, want 0 or 1\n%s", c, code, c.tail(20))
		}
	}
	h.t.Fatalf("run %s not done after %d resumes without kills", r.id, crashFinishResumes)
}

// check compares what the sandbox holds with every run's plan and store.
func (h *crashHarness) check() {
	t := h.t
	t.Helper()
	byRef := h.sandboxByRef()
	planned := map[string]bool{}
	for _, r := range h.runs {
		var sum report.RunSummary
		out := h.wvbatch("status", r.id, "--json", "--store", h.store)
		if err := json.Unmarshal(out, &sum); err != nil {
			t.Fatalf("status %s --json: %v\n%s", r.id, err, out)
		}
		if sum.State != string(runstore.RunDone) {
			t.Errorf("run %s is %s, want %s", r.id, sum.State, runstore.RunDone)
		}
		stored := map[string]report.RunOrder{}
		for _, o := range sum.OrderList {
			stored[o.CustomerReference] = o
		}
		if len(sum.OrderList) != len(r.plan) || len(stored) != len(r.plan) {
			t.Errorf("run %s: the store holds %d orders (%d references), the plan %d", r.id, len(sum.OrderList), len(stored), len(r.plan))
		}
		for _, p := range r.plan {
			ref := p.CustomerReference
			planned[ref] = true
			o, ok := stored[ref]
			if !ok {
				t.Errorf("run %s: planned order %s (%s) is not in the store", r.id, p.Key, ref)
				continue
			}
			got := byRef[ref]
			switch {
			case o.State == string(runstore.Rejected):
				h.tally.rejected++
				t.Errorf("run %s: order %s was rejected: %+v", r.id, ref, o.Error)
			case o.State != string(runstore.Submitted):
				t.Errorf("run %s: order %s is %s after %d attempts, want submitted", r.id, ref, o.State, o.Attempts)
			}
			switch {
			case len(got) == 0:
				h.tally.missing++
				h.suspects = append(h.suspects, ref)
				t.Errorf("run %s: no sandbox order has reference %s (the store says %s %q)", r.id, ref, o.State, o.OrderID)
				continue
			case len(got) > 1:
				h.suspects = append(h.suspects, ref)
				t.Errorf("run %s: %d sandbox orders have reference %s: %s (the store says %q)", r.id, len(got), ref, orderIDs(got), o.OrderID)
			}
			if o.State == string(runstore.Submitted) {
				h.tally.submitted++
			}
			if got[0].ID != o.OrderID {
				t.Errorf("run %s: order %s: the store says order id %q, the sandbox %s", r.id, ref, o.OrderID, orderIDs(got))
			}
			if got[0].Visitors != p.Visitors {
				t.Errorf("run %s: order %s: the sandbox order has %d visitors, the plan %d", r.id, ref, got[0].Visitors, p.Visitors)
			}
		}
		h.tally.rowsOrdered += sum.Rows[string(runstore.RowOrdered)]
		if sum.RowsTotal != crashRows || sum.RowsOK != crashRows || sum.Rows[string(runstore.RowPending)] != 0 {
			t.Errorf("run %s: rows %v (%d of %d ordered), want all %d ordered", r.id, sum.Rows, sum.RowsOK, sum.RowsTotal, crashRows)
		}
	}
	total := 0
	for ref, held := range byRef {
		total += len(held)
		if !planned[ref] {
			t.Errorf("the sandbox holds %d orders with reference %q that no plan has: %s", len(held), ref, orderIDs(held))
		}
	}
	if total != h.tally.submitted {
		t.Errorf("the sandbox holds %d orders, the runs submitted %d", total, h.tally.submitted)
	}
	h.tally.checked = true
}

// report logs the tally, and prints it to stdout too for a soak. After a
// failure the plan and outcome lines cover what was checked.
func (h *crashHarness) report(stdout bool) {
	h.tally.elapsed = time.Since(h.began)
	h.tally.runs, h.tally.orders, h.tally.rows = len(h.runs), 0, len(h.runs)*crashRows
	for _, r := range h.runs {
		h.tally.orders += len(r.plan)
	}
	h.faults.mu.Lock()
	h.tally.faults, h.tally.requests, h.tally.creates = maps.Clone(h.faults.byKind), h.faults.requests, h.faults.creates
	h.faults.mu.Unlock()
	h.tally.held, h.tally.duplicates = 0, 0
	for _, held := range h.sandboxByRef() {
		h.tally.held += len(held)
		h.tally.duplicates += len(held) - 1
	}
	s := h.tally.String(h.seed)
	h.t.Log(s)
	if stdout {
		fmt.Println(s)
	}
}

// recorded reports whether the store holds run id.
func (h *crashHarness) recorded(id string) bool {
	run, ok := h.storedRun(id)
	return ok && run.ID == id
}

// sending returns how many orders of run id are sending.
func (h *crashHarness) sending(id string) int {
	run, _ := h.storedRun(id)
	return run.Orders[runstore.Sending]
}

// storedRun reads a run from the store, which no child holds now.
func (h *crashHarness) storedRun(id string) (runstore.Run, bool) {
	h.t.Helper()
	if _, err := os.Stat(h.store); errors.Is(err, os.ErrNotExist) {
		return runstore.Run{}, false
	}
	st, err := runstore.Open(h.store, runstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		h.t.Fatalf("open the store after a child ended: %v", err)
	}
	defer st.Close()
	run, err := st.Run(id)
	if errors.Is(err, runstore.ErrNotFound) {
		return run, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return run, true
}

func (h *crashHarness) sandboxByRef() map[string][]sandbox.Order {
	h.t.Helper()
	res, err := http.Get(h.url + "/sandbox/orders")
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var dump struct {
		Orders []sandbox.Order `json:"orders"`
	}
	if err := json.NewDecoder(res.Body).Decode(&dump); err != nil {
		h.t.Fatalf("GET /sandbox/orders: %v", err)
	}
	out := map[string][]sandbox.Order{}
	for _, o := range dump.Orders {
		out[o.CustomerReferenceID] = append(out[o.CustomerReferenceID], o)
	}
	return out
}

func orderIDs(held []sandbox.Order) string {
	ids := make([]string, len(held))
	for i, o := range held {
		ids[i] = fmt.Sprintf("%s (created at +%s)", o.ID, o.Created.Sub(crashStart).Round(time.Millisecond))
	}
	return strings.Join(ids, ", ")
}

// wvbatch runs a command that must succeed and returns its stdout.
func (h *crashHarness) wvbatch(args ...string) []byte {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = h.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("wvbatch %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// crashChild is one wvbatch submit or resume.
type crashChild struct {
	n       int
	at      time.Duration // when it started, on the sandbox clock since crashNow
	args    []string
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	lived   time.Duration
	killed  bool
	out     string // stdout and stderr
	note    string
}

func (h *crashHarness) start(args ...string) *crashChild {
	h.t.Helper()
	c := &crashChild{n: len(h.children) + 1, args: args, done: make(chan struct{})}
	c.out = filepath.Join(h.dir, "logs", fmt.Sprintf("%03d-%s.log", c.n, args[0]))
	f, err := os.Create(c.out)
	if err != nil {
		h.t.Fatal(err)
	}
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = h.env
	c.cmd.Stdout, c.cmd.Stderr = f, f
	c.started = time.Now()
	c.at = c.started.Sub(h.began)
	if err := c.cmd.Start(); err != nil {
		f.Close()
		h.t.Fatal(err)
	}
	h.children = append(h.children, c)
	go func() {
		_ = c.cmd.Wait()
		c.lived = time.Since(c.started)
		f.Close()
		close(c.done)
	}()
	return c
}

// waitFor waits up to d for the child to end and reports whether it did.
func (c *crashChild) waitFor(d time.Duration) bool {
	t := time.NewTimer(d - time.Since(c.started))
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// kill sends SIGKILL and reports whether the child died of it (rather
// than ending on its own just before).
func (c *crashChild) kill() bool {
	_ = c.cmd.Process.Kill()
	<-c.done
	c.killed = c.cmd.ProcessState.ExitCode() == -1
	return c.killed
}

func (c *crashChild) String() string {
	s := fmt.Sprintf("child %d (wvbatch %s %s) started at +%s", c.n, c.args[0], filepath.Base(c.args[1]), c.at.Round(time.Millisecond))
	select {
	case <-c.done:
	default:
		return s + " running"
	}
	switch {
	case c.killed:
		s += fmt.Sprintf(" killed after %s", c.lived.Round(time.Millisecond))
	default:
		s += fmt.Sprintf(" exited %d after %s", c.cmd.ProcessState.ExitCode(), c.lived.Round(time.Millisecond))
	}
	if c.note != "" {
		s += ": " + c.note
	}
	return s
}

// tail returns the child's last n lines of output.
func (c *crashChild) tail(n int) string {
	b, _ := os.ReadFile(c.out)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// scan counts what the child logged and fails on a panic or a data race.
func (h *crashHarness) scan(c *crashChild) {
	h.t.Helper()
	f, err := os.Open(c.out)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		for _, bad := range []string{"panic:", "WARNING: DATA RACE", "fatal error:"} {
			if bytes.Contains(line, []byte(bad)) {
				h.t.Fatalf("%s: %s\n%s", c, bad, c.tail(60))
			}
		}
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var l struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(line, &l) != nil {
			continue
		}
		switch l.Message {
		case "order found placed":
			h.tally.found++
		case "order may have been placed; searching for it before sending again":
			h.tally.uncertain++
		}
	}
}

// explain logs, for a failed test, every child and what the children
// logged about the references held more or less than once.
func (h *crashHarness) explain() {
	var b strings.Builder
	for _, c := range h.children {
		fmt.Fprintf(&b, "  %s\n", c)
	}
	h.t.Logf("children (seed %d):\n%s", h.seed, b.String())
	for _, ref := range h.suspects {
		var lines []string
		for _, c := range h.children {
			b, _ := os.ReadFile(c.out)
			for l := range strings.SplitSeq(string(b), "\n") {
				if strings.Contains(l, ref) {
					lines = append(lines, fmt.Sprintf("  child %d: %s", c.n, l))
				}
			}
		}
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		h.t.Logf("what the children logged about reference %s:\n%s", ref, strings.Join(lines, "\n"))
	}
}

// faultCounter reads the sandbox's log, a debug line per request and a
// warning per fault, and keeps it in a file.
type faultCounter struct {
	mu       sync.Mutex
	began    time.Time
	log      io.Writer
	byKind   map[string]int
	requests int
	creates  int
}

func (f *faultCounter) Write(p []byte) (int, error) {
	var l struct {
		Message string `json:"message"`
		Method  string `json:"method"`
		Path    string `json:"path"`
		Fault   string `json:"fault"`
	}
	if err := json.Unmarshal(p, &l); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := fmt.Fprintf(f.log, "+%s %s", time.Since(f.began).Round(time.Millisecond), p); err != nil {
		return 0, err
	}
	switch l.Message {
	case "sandbox request":
		f.requests++
		if l.Method == http.MethodPost && l.Path == "/colocations/v2/orders/workVisits" {
			f.creates++
		}
	case "sandbox: injecting fault":
		f.byKind[l.Fault]++
	}
	return len(p), nil
}
