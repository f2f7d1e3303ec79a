package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestCancelSettlesOrdersChangedOutside cancels one order of a run outside
// wvbatch (as in Equinix's portal) and lets Equinix close another; `wvbatch
// cancel` of the run then settles every order: the one cancelled already is
// read back and recorded cancelled (no longer counted as ordered), the
// closed one recorded closed, the rest cancelled; exit 0.
func TestCancelSettlesOrdersChangedOutside(t *testing.T) {
	t.Parallel()
	srv, url, stop := startDemoSandbox(t, "127.0.0.1:0")
	defer func() { _ = stop(context.Background()) }()
	c := newCLI(t, map[string]string{"EQUINIX_API_ENDPOINT": url,
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret})
	code, out, _ := c.run("submit", "../../samples/contractors.csv", "--yes", "--no-preflight", "--now", demoNow)
	m := runIDRe.FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("submit: exit %d", code)
	}
	runID := m[1]
	held := srv.Orders()
	if len(held) < 3 {
		t.Fatalf("the sandbox holds %d orders; want 3", len(held))
	}
	outside, closed := held[0], held[1]
	if err := srv.SetOrderStatus(outside.ID, sandbox.StatusCancelled); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetOrderStatus(closed.ID, sandbox.StatusClosed); err != nil {
		t.Fatal(err)
	}

	for i := range 2 { // a second cancel finds nothing left to do
		code, out, _ = c.run("cancel", "--yes", runID, "--reason", "maintenance postponed")
		if code != exitOK || !strings.Contains(out, "cancelled") {
			t.Fatalf("cancel %d: exit %d, want 0", i+1, code)
		}
	}
	run, rows := storedRows(t, c.env["XDG_STATE_HOME"]+"/wvbatch/wvbatch.db", runID)
	if run.State != runstore.RunCancelled || run.Orders[runstore.Cancelled] != len(held)-1 || run.Orders[runstore.Closed] != 1 {
		t.Errorf("run after cancel: %s %v; want cancelled, %d orders cancelled and 1 closed", run.State, run.Orders, len(held)-1)
	}
	st, err := runstore.Open(c.env["XDG_STATE_HOME"]+"/wvbatch/wvbatch.db", runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orders, err := st.Orders(runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		want := runstore.Cancelled
		if o.OrderID == closed.ID {
			want = runstore.Closed
		}
		if o.State != want {
			t.Errorf("order %s: %s, want %s", o.OrderID, o.State, want)
		}
	}
	cancelled := 0
	for _, r := range rows {
		if r.Status == runstore.RowCancelled {
			cancelled++
		}
	}
	if cancelled == 0 {
		t.Errorf("no row recorded cancelled: %v", run.Rows)
	}
	for _, o := range srv.Orders() {
		want := sandbox.StatusCancelled
		if o.ID == closed.ID {
			want = sandbox.StatusClosed
		}
		if o.Status != want {
			t.Errorf("sandbox order %s: %s, want %s", o.ID, o.Status, want)
		}
	}
}

// TestCrashSafetyCancel places a run through the crash harness's sandbox,
// then runs `wvbatch cancel RUN` as a subprocess against a sandbox that
// faults a fifth of the requests, killing it with SIGKILL at random
// moments; after the last kill `wvbatch cancel` runs until it exits 0.
// Then every order the sandbox holds for the run is cancelled, one per
// reference, and the store records every order cancelled.
func TestCrashSafetyCancel(t *testing.T) {
	kills := crashAmendKillsDefault
	if s := os.Getenv("WVBATCH_SOAK_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WVBATCH_SOAK_KILLS=%q: want a positive number of kills", s)
		}
		kills = n
	}
	seed := uint64(11)
	h, srv, inject := newAmendHarness(t, seed)
	r := h.newSmallRun(crashAmendRows)
	h.finish(r)
	inject.on(srv, 0.2)

	cancel := []string{"cancel", "--yes", r.id, "--reason", "maintenance postponed", "--endpoint", h.url, "--store", h.store,
		"--concurrency", strconv.Itoa(crashConcurrency), "--timeout", crashTimeout.String(), "--log-level", "debug", "--log-format", "json"}
	killed, natural := 0, 0
	for killed < kills {
		c := h.start(cancel...)
		if !c.waitFor(h.killDelay()) && c.kill() {
			killed++
			h.scan(c)
			continue
		}
		natural++
		code := h.ended(c)
		if code != exitOK && code != exitFailure {
			t.Fatalf("%s: exit status %d, want 0 or 1\n%s", c, code, c.tail(20))
		}
		if code == exitOK {
			break // everything is cancelled: no kill can land any more
		}
		if natural > 3*kills+20 {
			t.Fatalf("%d children ended on their own before %d kills; the last: %s", natural, kills, c)
		}
	}
	done := false
	for i := 0; i < crashFinishResumes && !done; i++ {
		c := h.start(cancel...)
		if !c.waitFor(crashChildTimeout) {
			c.kill()
			t.Fatalf("%s did not end within %s", c, crashChildTimeout)
		}
		switch code := h.ended(c); code {
		case exitOK:
			done = true
		case exitFailure:
		default:
			t.Fatalf("%s: exit status %d\n%s", c, code, c.tail(20))
		}
	}
	if !done {
		t.Fatalf("run %s not cancelled after %d runs of wvbatch cancel without kills", r.id, crashFinishResumes)
	}
	held := h.sandboxByRef()
	if len(held) != len(r.plan) {
		t.Errorf("the sandbox holds %d references, the plan %d orders", len(held), len(r.plan))
	}
	for ref, hs := range held {
		if len(hs) != 1 {
			t.Errorf("reference %s: %d orders", ref, len(hs))
		}
		if hs[0].Status != sandbox.StatusCancelled {
			t.Errorf("order %s (%s): %s, want CANCELLED", hs[0].ID, ref, hs[0].Status)
		}
	}
	for _, o := range h.storedOrders(r.id) {
		if o.State != runstore.Cancelled {
			t.Errorf("stored order %s: %s, want cancelled", o.OrderID, o.State)
		}
	}
	t.Logf("cancel crash test (seed %d): %d kills, %d children ended on their own, %d orders cancelled; faults injected: %v",
		seed, killed, natural, len(held), inject.counts())
}
