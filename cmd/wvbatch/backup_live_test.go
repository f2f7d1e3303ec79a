package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/rostergen"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// liveChild is a wvbatch process: this test binary run as wvbatch.
type liveChild struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
}

func startLive(t *testing.T, env []string, args ...string) *liveChild {
	t.Helper()
	c := &liveChild{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *liveChild) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// waitSandbox waits, at most a minute, until cond holds for the sandbox's
// orders or the child ends.
func (c *liveChild) waitSandbox(srv *sandbox.Server, cond func([]sandbox.Order) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = srv.WaitFor(ctx, cond)
}

// wait waits for the child to end, at most d, and returns its exit status.
func (c *liveChild) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("wvbatch %s did not end within %v\n%s", strings.Join(c.cmd.Args[1:], " "), d, c.out.String())
		return -1
	}
}

// runLive runs a wvbatch process to its end and returns its exit status,
// output and how long it took.
func runLive(t *testing.T, env []string, args ...string) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	c := startLive(t, env, args...)
	code := c.wait(t, 2*time.Minute)
	return code, c.out.String(), time.Since(start)
}

// csvRoster writes dir/roster.csv, a roster of made-up visitors.
func csvRoster(t *testing.T, dir string, rows int, seed int64) string {
	t.Helper()
	roster := filepath.Join(dir, "roster.csv")
	if err := rostergen.WriteFile(roster, rostergen.Options{Rows: rows, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return roster
}

// TestStoreBackupWhileSubmitting runs wvbatch as separate processes: a
// submit against a slow sandbox holds the store; `store backup` in the
// middle of it is sent by the submit at once, and checks sound. The submit
// finishes; the backup is restored as the README says and the run resumed:
// every order is at the sandbox exactly once. Then a backup in the middle
// of a cancel of the run is sent by the cancel.
func TestStoreBackupWhileSubmitting(t *testing.T) {
	dir := t.TempDir()
	srv, url := startSandbox(t, sandbox.Config{StartAt: crashStart, Latency: 80 * time.Millisecond})
	roster := csvRoster(t, dir, 400, 11)
	env := childEnv(dir)
	store := filepath.Join(dir, "state", "wvbatch.db")
	backup := filepath.Join(dir, "backup.db")
	flags := []string{"--endpoint", url, "--store", store, "--concurrency", "1"}

	submit := startLive(t, env, append([]string{"submit", roster, "--yes", "--now", crashNow, "--no-preflight"}, flags...)...)
	submit.waitSandbox(srv, func(o []sandbox.Order) bool { return len(o) >= 5 })
	code, out, took := runLive(t, env, "store", "backup", backup, "--store", store)
	if !submit.running() {
		t.Fatalf("the submit ended before the backup did; make the sandbox slower\n%s", submit.out.String())
	}
	want := fmt.Sprintf("sent by the wvbatch that has it open, pid %d", submit.cmd.Process.Pid)
	if code != exitOK || !strings.Contains(out, want) || !strings.Contains(out, "checked") {
		t.Fatalf("store backup in the middle of a submit: exit %d after %v; want 0 and %q\n%s", code, took, want, out)
	}
	t.Logf("store backup in the middle of a submit: %v (%d orders placed then)", took.Round(time.Millisecond), len(srv.Orders()))
	if took > 10*time.Second {
		t.Errorf("store backup took %v in the middle of a submit", took)
	}
	if code, out, _ := runLive(t, env, "store", "check", "--store", backup); code != exitOK || !strings.Contains(out, "is sound") {
		t.Fatalf("store check of the backup: exit %d\n%s", code, out)
	}
	if code := submit.wait(t, 2*time.Minute); code != exitOK {
		t.Fatalf("submit: exit %d\n%s", code, submit.out.String())
	}
	placed := len(sandboxByRef(t, srv))

	// The backup holds the run half done.
	m := regexp.MustCompile(`\b(r[0-9a-f]{6,})\b`).FindStringSubmatch(submit.out.String())
	if m == nil {
		t.Fatalf("no run id in the submit's output\n%s", submit.out.String())
	}
	runID := m[1]
	run, _ := storedRows(t, backup, runID)
	if run.Orders[runstore.Planned] == 0 || run.Orders[runstore.Submitted] == 0 || run.Orders[runstore.Planned]+run.Orders[runstore.Submitted]+run.Orders[runstore.Sending] != placed {
		t.Fatalf("the backup is not of the run half done: %v, %d placed", run.Orders, placed)
	}

	// The store is lost: restore the backup, resume.
	if code, out, _ := runLive(t, env, "store", "restore", backup, "--store", store); code != exitOK {
		t.Fatalf("store restore: exit %d\n%s", code, out)
	}
	if code, out, _ := runLive(t, env, append([]string{"resume", "--yes", runID}, flags...)...); code != exitOK {
		t.Fatalf("resume after the restore: exit %d\n%s", code, out)
	}
	byRef := sandboxByRef(t, srv) // fails on a reference ordered twice
	if len(byRef) != placed || len(srv.Orders()) != placed {
		t.Errorf("after the restore and resume the sandbox holds %d orders (%d references), want %d", len(srv.Orders()), len(byRef), placed)
	}
	run, _ = storedRows(t, store, runID)
	if run.Orders[runstore.Submitted] != placed {
		t.Errorf("the restored store records %v, want %d submitted", run.Orders, placed)
	}

	// A backup in the middle of a cancel of the run.
	cancel := startLive(t, env, append([]string{"cancel", "--yes", "--reason", "maintenance postponed", runID}, flags...)...)
	cancel.waitSandbox(srv, func(o []sandbox.Order) bool { return cancelled(o) >= 3 })
	code, out, took = runLive(t, env, "store", "backup", filepath.Join(dir, "during-cancel.db"), "--store", store)
	if !cancel.running() {
		t.Fatalf("the cancel ended before the backup did\n%s", cancel.out.String())
	}
	want = "sent by the wvbatch that has it open, pid " + strconv.Itoa(cancel.cmd.Process.Pid)
	if code != exitOK || !strings.Contains(out, want) {
		t.Fatalf("store backup in the middle of a cancel: exit %d after %v; want 0 and %q\n%s", code, took, want, out)
	}
	t.Logf("store backup in the middle of a cancel: %v", took.Round(time.Millisecond))
	if code := cancel.wait(t, 2*time.Minute); code != exitOK {
		t.Fatalf("cancel: exit %d\n%s", code, cancel.out.String())
	}
	if n := cancelled(srv.Orders()); n != placed {
		t.Errorf("%d of %d orders cancelled", n, placed)
	}
	if _, err := os.Lstat(store + ".sock"); err == nil {
		t.Error("the backup socket outlives the processes that had the store open")
	}
}

func cancelled(orders []sandbox.Order) int {
	n := 0
	for _, o := range orders {
		if o.Status == sandbox.StatusCancelled {
			n++
		}
	}
	return n
}
