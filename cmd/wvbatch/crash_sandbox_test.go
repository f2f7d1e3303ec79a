package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestCrashSafetyInProcessSandbox runs the crash harness's kills against
// `wvbatch submit --sandbox`: the sandbox lives inside each child and keeps
// its orders in sandbox.json beside the store. After every kill, every
// order the store recorded as placed is in sandbox.json under its
// reference, and no order id or reference is held twice; once the run is
// finished without kills, every planned order is held exactly once.
func TestCrashSafetyInProcessSandbox(t *testing.T) {
	kills := crashKillsDefault
	if s := os.Getenv("WVBATCH_SOAK_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WVBATCH_SOAK_KILLS=%q: want a positive number of kills", s)
		}
		kills = n
	}
	seed := uint64(5)
	dir := t.TempDir()
	for _, d := range []string{"logs", "rosters", "config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := &crashHarness{began: time.Now(), t: t, dir: dir, store: filepath.Join(dir, "state", "wvbatch.db"),
		rng: rand.New(rand.NewPCG(seed, 0x5a4d)), seed: seed, env: childEnv(dir)}
	r := h.newSmallRun(crashRows)
	state := filepath.Join(dir, "state", "sandbox.json")
	runID := ""
	submit := []string{"submit", r.file, "--sandbox", "--sandbox-latency", "20ms", "--yes", "--no-preflight", "--now", crashNow,
		"--store", h.store, "--concurrency", strconv.Itoa(crashConcurrency), "--log-level", "debug", "--log-format", "json"}

	check := func(after string) map[string]string {
		t.Helper()
		held := heldInState(t, state)
		st, err := runstore.Open(h.store, runstore.Options{LockTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("after %s: %v", after, err)
		}
		// The run's id names its endpoint too: it is the one run the
		// store holds, once the first child recorded it.
		var orders []runstore.Order
		runs, err := st.Runs()
		if err == nil && len(runs) == 1 {
			runID = runs[0].ID
			orders, err = st.Orders(runID)
		}
		st.Close()
		if err != nil || len(runs) > 1 {
			t.Fatalf("after %s: %d runs, %v", after, len(runs), err)
		}
		for _, o := range orders {
			if o.OrderID == "" {
				continue
			}
			if got, ok := held[o.Reference]; !ok || got != o.OrderID {
				t.Fatalf("after %s: the store holds order %s (%s), sandbox.json %q", after, o.OrderID, o.Reference, got)
			}
		}
		return held
	}
	killed, natural := 0, 0
	for killed < kills {
		c := h.start(submit...)
		if !c.waitFor(h.killDelay()) && c.kill() {
			killed++
			check(fmt.Sprintf("kill %d (%s)", killed, c))
			continue
		}
		natural++
		code := c.cmd.ProcessState.ExitCode()
		if code != exitOK && code != exitFailure {
			t.Fatalf("%s: exit status %d\n%s", c, code, c.tail(20))
		}
		check(c.String())
		if code == exitOK {
			break
		}
	}
	for i := 0; ; i++ {
		if i == crashFinishResumes {
			t.Fatalf("run %s not done after %d submits without kills", r.id, i)
		}
		c := h.start(submit...)
		if !c.waitFor(crashChildTimeout) {
			c.kill()
			t.Fatalf("%s did not end", c)
		}
		if code := c.cmd.ProcessState.ExitCode(); code == exitOK {
			break
		} else if code != exitFailure {
			t.Fatalf("%s: exit status %d\n%s", c, code, c.tail(20))
		}
	}
	held := check("the last submit")
	if len(held) != len(r.plan) {
		t.Errorf("sandbox.json holds %d orders; the plan %d", len(held), len(r.plan))
	}
	stored := h.storedOrders(runID)
	if len(stored) != len(r.plan) {
		t.Errorf("the store holds %d orders; the plan %d", len(stored), len(r.plan))
	}
	for _, o := range stored {
		if held[o.Reference] != o.OrderID {
			t.Errorf("order %s: sandbox.json holds %q, the store %q", o.Reference, held[o.Reference], o.OrderID)
		}
		if o.State != runstore.Submitted {
			t.Errorf("order %s: %s, want submitted", o.Reference, o.State)
		}
	}
	t.Logf("in-process sandbox crash test (seed %d): %d kills, %d children ended on their own, %d orders held once each",
		seed, killed, natural, len(held))
}

// heldInState reads sandbox.json: reference → order id, failing on an id
// or a reference held twice.
func heldInState(t *testing.T, path string) map[string]string {
	t.Helper()
	held, refs := map[string]string{}, map[string]string{} // reference → id, id → reference
	hold := func(o sandbox.Order, from string) {
		if ref, ok := refs[o.ID]; ok && ref != o.CustomerReferenceID {
			t.Fatalf("%s: order id %s handed out twice (%s and %s)", from, o.ID, ref, o.CustomerReferenceID)
		}
		if id := held[o.CustomerReferenceID]; id != "" && id != o.ID {
			t.Fatalf("%s: reference %s held twice (%s and %s)", from, o.CustomerReferenceID, id, o.ID)
		}
		refs[o.ID], held[o.CustomerReferenceID] = o.CustomerReferenceID, o.ID
	}
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err == nil {
		var st struct {
			Orders []sandbox.Order `json:"orders"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, o := range st.Orders {
			if _, ok := refs[o.ID]; ok {
				t.Fatalf("%s: order id %s held twice", path, o.ID)
			}
			hold(o, path)
		}
	}
	// The journal's changes since the file was written whole; a last
	// line a kill cut short was never answered.
	b, err = os.ReadFile(path + ".log")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for i, line := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasSuffix(line, []byte("\n")) {
			break
		}
		var o sandbox.Order
		if err := json.Unmarshal(line, &o); err != nil {
			t.Fatalf("%s.log line %d: %v", path, i+1, err)
		}
		hold(o, path+".log")
	}
	return held
}
