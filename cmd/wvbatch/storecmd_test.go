package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// startSandbox serves a sandbox until the test ends and returns it and its
// URL.
func startSandbox(t *testing.T, cfg sandbox.Config) (*sandbox.Server, string) {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	return srv, url
}

// sandboxCLI serves a sandbox with latency and returns a cli pointed at it
// and a roster of rows visitors.
func sandboxCLI(t *testing.T, latency time.Duration, rows int) (*cli, *sandbox.Server, string) {
	t.Helper()
	dir := t.TempDir()
	srv, url := startSandbox(t, sandbox.Config{StartAt: crashStart, Latency: latency})
	roster := csvRoster(t, dir, rows, 7)
	c := newCLI(t, map[string]string{"EQUINIX_API_ENDPOINT": url, "EQUINIX_API_CLIENTID": sandbox.DefaultClientID,
		"EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret})
	return c, srv, roster
}

// runUntil runs the command until the sandbox holds at least n orders,
// then cancels it (as Ctrl-C does) and returns its exit code and output.
func (c *cli) runUntil(srv *sandbox.Server, n int, args ...string) (int, string, string) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
	}()
	wait, stop := context.WithTimeout(ctx, 30*time.Second)
	_ = srv.WaitOrders(wait, n)
	stop()
	cancel()
	code := <-done
	c.t.Logf("wvbatch %s → %d (cancelled)\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func sandboxByRef(t *testing.T, srv *sandbox.Server) map[string]int {
	t.Helper()
	byRef := map[string]int{}
	for _, o := range srv.Orders() {
		byRef[o.CustomerReferenceID]++
	}
	for ref, n := range byRef {
		if n != 1 {
			t.Errorf("reference %s ordered %d times", ref, n)
		}
	}
	return byRef
}

// TestStoreBackupRestoreResume backs the store up in the middle of a run
// (interrupted with orders placed and orders left), finishes the run,
// restores the backup and resumes: every order is placed exactly once.
func TestStoreBackupRestoreResume(t *testing.T) {
	t.Parallel()
	c, srv, roster := sandboxCLI(t, 30*time.Millisecond, 300)
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	backup := filepath.Join(dir, "backup.db")
	flags := []string{"--store", store, "--concurrency", "2"}

	code, _, errOut := c.runUntil(srv, 3, append([]string{"submit", roster, "--yes", "--now", crashNow, "--no-preflight"}, flags...)...)
	if code != exitFailure {
		t.Fatalf("interrupted submit: exit %d, want %d", code, exitFailure)
	}
	m := regexp.MustCompile(`resume with: wvbatch resume (r[0-9a-f]+)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatal("no resume hint")
	}
	runID := m[1]
	code, out, _ := c.run("store", "backup", backup, "--store", store)
	if code != exitOK || !strings.Contains(out, "checked") {
		t.Fatalf("store backup: exit %d", code)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	run, _ := storedRows(t, backup, runID)
	if run.Orders[runstore.Planned] == 0 || run.Orders[runstore.Submitted] == 0 {
		t.Fatalf("the backup is not of a run half done: %v", run.Orders)
	}
	planned := run.Orders[runstore.Planned] + run.Orders[runstore.Submitted]

	// The run goes on and finishes after the backup.
	if code, _, _ := c.run(append([]string{"resume", "--yes", runID}, flags...)...); code != exitOK {
		t.Fatalf("resume: exit %d", code)
	}
	if got := len(sandboxByRef(t, srv)); got != planned {
		t.Fatalf("the sandbox holds %d orders, want %d", got, planned)
	}
	if code, out, _ := c.run("store", "check", "--store", store); code != exitOK || !strings.Contains(out, "is sound") {
		t.Fatalf("store check: exit %d\n%s", code, out)
	}

	// Lost: the store is replaced by the backup, and the run resumed.
	code, out, _ = c.run("store", "restore", backup, "--store", store)
	if code != exitOK || !strings.Contains(out, "will be searched for before they are sent") {
		t.Fatalf("store restore: exit %d", code)
	}
	if m, _ := filepath.Glob(store + ".before-restore-*"); len(m) != 1 {
		t.Errorf("the replaced store was not kept: %v", m)
	}
	if code, _, _ := c.run(append([]string{"resume", "--yes", runID}, flags...)...); code != exitOK {
		t.Fatalf("resume after the restore: exit %d", code)
	}
	if got := len(sandboxByRef(t, srv)); got != planned {
		t.Errorf("after the restore the sandbox holds %d orders, want %d", got, planned)
	}
	run, _ = storedRows(t, store, runID)
	if run.Orders[runstore.Submitted] != planned {
		t.Errorf("the restored store records %d orders submitted, want %d", run.Orders[runstore.Submitted], planned)
	}
	if code, out, _ := c.run("store", "check", "--store", store); code != exitOK || !strings.Contains(out, "is sound") {
		t.Errorf("store check after the restore: exit %d\n%s", code, out)
	}
}

// TestStoreBackupWaitsForTheStore: a backup asked for while another
// wvbatch has the store is sent by it at once; one that has it open and
// does not answer (here: bbolt itself holding the lock) is waited for;
// store check says the store is busy.
func TestStoreBackupWaitsForTheStore(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	st, err := runstore.Open(store, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c.run("store", "check", "--store", store); code != exitStoreBusy || !strings.Contains(errOut, "hint:") {
		t.Errorf("store check of a busy store: exit %d, want %d", code, exitStoreBusy)
	}
	start := time.Now()
	code, out, errOut := c.run("store", "backup", filepath.Join(dir, "b.db"), "--store", store, "--wait", "1ms")
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("sent by the wvbatch that has it open, pid %d", os.Getpid())) {
		t.Errorf("backup of a store in use: exit %d after %v, want 0 at once\n%s%s", code, time.Since(start), out, errOut)
	}
	if code, _, errOut := c.run("store", "backup", store, "--store", store); code != exitUsage || !strings.Contains(errOut, "is the store itself") {
		t.Errorf("a backup onto the store: exit %d, want %d\n%s", code, exitUsage, errOut)
	}
	if code, _, errOut := c.run("store", "backup", filepath.Join(dir, "no", "such", "b.db"), "--store", store); code != exitFailure || !strings.Contains(errOut, "hint:") {
		t.Errorf("a backup into a missing folder: exit %d, want %d with a hint\n%s", code, exitFailure, errOut)
	}
	st.Close()

	db, err := bolt.Open(store, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c.run("store", "backup", filepath.Join(dir, "b.db"), "--store", store, "--wait", "1ms"); code != exitStoreBusy || !strings.Contains(errOut, "hint:") {
		t.Errorf("backup with no wait of a store held by a silent process: exit %d, want %d\n%s", code, exitStoreBusy, errOut)
	}
	// The silent holder says nothing when it lets go: holding the lock for
	// a while is what the backup is to wait out.
	const hold = 500 * time.Millisecond
	start = time.Now()
	go func() {
		time.Sleep(hold)
		db.Close()
	}()
	code, out, _ = c.run("store", "backup", filepath.Join(dir, "b.db"), "--store", store)
	if code != exitOK || time.Since(start) < hold || strings.Contains(out, "sent by") {
		t.Errorf("backup: exit %d after %v, want 0 after the store was let go\n%s", code, time.Since(start), out)
	}
}

// TestStoreCheckDamaged: a store whose invariants are broken fails the
// check with exit 1, one line per problem and a hint.
func TestStoreCheckDamaged(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	store := filepath.Join(t.TempDir(), "s.db")
	if code, _, _ := c.run("submit", "../../samples/contractors.csv", "--sandbox", "--yes", "--now", demoNow, "--store", store, "--report-dir", t.TempDir()); code != exitOK {
		t.Fatalf("submit: exit %d", code)
	}
	b, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	// Flip every recorded "submitted" order to an unknown state, in place.
	b = bytes.ReplaceAll(b, []byte(`"state":"submitted"`), []byte(`"state":"submittex"`))
	if err := os.WriteFile(store, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := c.run("store", "check", "--store", store)
	if code != exitFailure || !strings.Contains(out, `unknown state "submittex"`) || !strings.Contains(errOut, "is damaged: ") || !strings.Contains(errOut, "hint: restore it from a backup") {
		t.Errorf("store check: exit %d\n%s%s", code, out, errOut)
	}
}
