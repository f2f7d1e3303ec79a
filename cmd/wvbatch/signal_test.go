package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/rostergen"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestSubmitInterrupt sends SIGINT and SIGTERM to `wvbatch submit` while
// orders are in flight: it stops taking new orders, records what was in
// flight, says how to resume and exits 1; resuming then places the rest,
// each order exactly once.
func TestSubmitInterrupt(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv, url, roster := slowSandbox(t, dir)
			store := filepath.Join(dir, "s.db")
			args := []string{"--endpoint", url, "--store", store, "--concurrency", "2", "--no-preflight"}

			cmd := exec.Command(os.Args[0], append([]string{"submit", roster, "--yes", "--now", crashNow}, args...)...)
			cmd.Env = childEnv(dir)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Let some orders go out, then interrupt.
			waitOrders(t, srv, 20*time.Second, 3)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			t.Logf("submit → %d (%v)\n%s%s", code, err, out.String(), errOut.String())
			if code != exitFailure {
				t.Fatalf("exit %d after %s, want %d", code, sig, exitFailure)
			}
			m := regexp.MustCompile(`resume with: wvbatch resume (r[0-9a-f]+)`).FindStringSubmatch(errOut.String())
			if m == nil {
				t.Fatal("stderr does not say how to resume")
			}
			runID := m[1]
			run, _ := storedRows(t, store, runID)
			held := len(srv.Orders())
			if run.State != runstore.RunInterrupted || run.Orders[runstore.Sending] != 0 {
				t.Errorf("after %s: run %s with %d orders sending, want interrupted with none sending", sig, run.State, run.Orders[runstore.Sending])
			}
			if run.Orders[runstore.Submitted] != held {
				t.Errorf("the run recorded %d orders submitted; the sandbox holds %d", run.Orders[runstore.Submitted], held)
			}
			planned := run.Orders[runstore.Submitted] + run.Orders[runstore.Planned]
			if run.Orders[runstore.Planned] == 0 {
				t.Fatalf("the interrupt came too late: nothing was left to resume")
			}

			res := exec.Command(os.Args[0], append([]string{"resume", "--yes", runID}, args[:len(args)-1]...)...)
			res.Env = childEnv(dir)
			b, err := res.CombinedOutput()
			if err != nil {
				t.Fatalf("resume: %v\n%s", err, b)
			}
			byRef := map[string]int{}
			for _, o := range srv.Orders() {
				byRef[o.CustomerReferenceID]++
			}
			for ref, n := range byRef {
				if n != 1 {
					t.Errorf("reference %s ordered %d times", ref, n)
				}
			}
			if len(byRef) != planned {
				t.Errorf("the sandbox holds %d orders, want the %d planned", len(byRef), planned)
			}
			if !strings.Contains(string(b), "done") {
				t.Errorf("resume does not say the run is done:\n%s", b)
			}
		})
	}
}

// slowSandbox serves a sandbox that answers in 150 ms and writes a roster
// of 400 rows (about 50 orders) in dir: a run that takes a few seconds.
func slowSandbox(t *testing.T, dir string) (srv *sandbox.Server, url, roster string) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{StartAt: crashStart, Latency: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	roster = filepath.Join(dir, "roster.csv")
	if err := rostergen.WriteFile(roster, rostergen.Options{Rows: 400, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return srv, url, roster
}
