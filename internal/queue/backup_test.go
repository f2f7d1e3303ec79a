package queue

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestBackupMidRunRestoreResume backs the store up while a run is being
// submitted, lets the run finish, restores the backup and resumes: every
// order is placed exactly once, the orders placed after the backup found
// by their references; a run made after the backup and made again after
// the restore is not ordered twice either.
func TestBackupMidRunRestoreResume(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(60, 2)
	createRun(t, s, "r", orders, nil)
	api := newFakeAPI()
	api.delay = time.Millisecond
	var created atomic.Int64
	var backup bytes.Buffer
	backedUp := make(chan error, 1)
	api.create = func(o *runstore.Order, n int) (bool, error) {
		if created.Add(1) == 20 {
			go func() {
				_, err := s.Backup(&backup)
				backedUp <- err
			}()
		}
		return true, nil
	}
	cfg := testConfig(newClock())
	if _, err := Submit(context.Background(), s, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	if err := <-backedUp; err != nil {
		t.Fatal(err)
	}
	// A second run, made after the backup.
	later := specs(5, 1)
	for i := range later {
		later[i].Key, later[i].Reference = "later-"+later[i].Key, fmt.Sprintf("LATER-%d", i)
	}
	createRun(t, s, "r2", later, nil)
	if _, err := Submit(context.Background(), s, "r2", api, cfg); err != nil {
		t.Fatal(err)
	}
	if len(api.placed) != 65 {
		t.Fatalf("%d orders placed before the restore, want 65", len(api.placed))
	}

	dir := t.TempDir()
	bfile := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(bfile, backup.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := runstore.CheckFile(bfile)
	if err != nil || !rep.OK() {
		t.Fatalf("the backup does not check: %v %v", err, rep.Problems)
	}
	path := s.Path()
	s.Close()
	now := time.Now()
	res, err := runstore.Restore(bfile, path, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Aside == "" || res.Runs != 1 || res.InDoubt == 0 || res.InDoubt >= 60 {
		t.Errorf("restore = %+v; want the old store aside, 1 run, some orders but not all in doubt", res)
	}
	if _, err := os.Stat(res.Aside); err != nil {
		t.Errorf("the replaced store was not kept: %v", err)
	}
	s2, err := runstore.Open(path, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := Submit(context.Background(), s2, "r", api, cfg); err != nil {
		t.Fatal(err)
	}
	// The later run is made again from its roster: same references.
	if created, err := s2.CreateRun(runstore.Run{ID: "r2", File: "roster.xlsx", Hash: "h", Endpoint: "sandbox"}, later, nil); err != nil || !created {
		t.Fatalf("CreateRun after the restore = %v, %v", created, err)
	}
	if _, err := Submit(context.Background(), s2, "r2", api, cfg); err != nil {
		t.Fatal(err)
	}
	for _, o := range append(orders, later...) {
		if n := api.creates[o.Reference]; n != 1 {
			t.Errorf("%s created %d times", o.Reference, n)
		}
	}
	for _, id := range []string{"r", "r2"} {
		run := checkCounts(t, s2, id)
		if run.State != runstore.RunDone || run.Orders[runstore.Submitted] != len(orders)*map[string]int{"r": 1, "r2": 0}[id]+len(later)*map[string]int{"r": 0, "r2": 1}[id] {
			t.Errorf("run %s after the restore: %s %v", id, run.State, run.Orders)
		}
	}
	noResend(t, api.callLog())
	rep, err = s2.Check()
	if err != nil || !rep.OK() {
		t.Errorf("the restored store does not check: %v %v", err, rep.Problems)
	}
}
