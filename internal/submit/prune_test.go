package submit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestPrune places a run, then prunes it: a dry run removes nothing; the
// prune scrubs the store, removes the run's roster copy and report folder,
// and the folders of uploads older than the cut-off, keeping newer ones.
func TestPrune(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	w.in.Import.Order.ReportEmails = nil
	out := w.place(t)
	path := w.p.Store.Path()
	base := filepath.Dir(path)
	runID := out.Run.ID
	copies, _ := filepath.Glob(filepath.Join(base, "rosters", runID+".*"))
	reports := filepath.Join(base, "reports", runID)
	if len(copies) != 1 {
		t.Fatalf("roster copies %v, want one", copies)
	}
	if _, err := os.Stat(reports); err != nil {
		t.Fatal(err)
	}
	oldUpload, newUpload := filepath.Join(base, "uploads", "old"), filepath.Join(base, "uploads", "new")
	for _, d := range []string{oldUpload, newUpload} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(oldUpload, long, long); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-time.Hour)
	// The run ended now: its data is pruned with a cut-off in the future.
	prune := func(dry bool, before time.Time) string {
		t.Helper()
		st, err := runstore.Open(path, runstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := Prune(st, PruneOptions{Before: before, DryRun: dry}, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	w.p.Store.Close()

	dry := prune(true, time.Now().Add(time.Hour))
	if !strings.Contains(dry, "would prune run "+runID) || !strings.Contains(dry, "would prune files of pruned runs, old validations and old uploads: ") || !strings.Contains(dry, oldUpload+"/") {
		t.Errorf("dry run said:\n%s", dry)
	}
	for _, p := range []string{copies[0], reports, oldUpload} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the dry run removed %s: %v", p, err)
		}
	}

	if got := prune(false, cutoff); !strings.Contains(got, "pruned 0 runs that ended before") || !strings.Contains(got, oldUpload) {
		t.Errorf("prune before the run ended said:\n%s", got)
	}
	if _, err := os.Stat(copies[0]); err != nil {
		t.Errorf("a run that ended after the cut-off lost its roster copy: %v", err)
	}
	if _, err := os.Stat(newUpload); err != nil {
		t.Errorf("an upload newer than the cut-off was removed: %v", err)
	}
	if _, err := os.Stat(oldUpload); !os.IsNotExist(err) {
		t.Errorf("an upload older than the cut-off is still there: %v", err)
	}
	got := prune(false, time.Now().Add(time.Hour))
	if !strings.Contains(got, "pruned run "+runID) || !strings.Contains(got, "pruned 1 runs that ended before") {
		t.Errorf("prune said:\n%s", got)
	}
	for _, p := range []string{copies[0], reports, newUpload} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
}

// TestRetentionPrunesOnceADay prunes a placed run through a retention
// setting, then asks again within the day: nothing more is pruned.
func TestRetentionPrunesOnceADay(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	w.in.Import.Order.ReportEmails = nil
	w.place(t)
	path := w.p.Store.Path()
	w.p.Store.Close()
	now := time.Now().Add(48 * time.Hour)
	var lines []string
	r := Retention{Age: 24 * time.Hour, Now: func() time.Time { return now },
		Open: func() (*runstore.Store, error) {
			return runstore.Open(path, runstore.Options{Now: func() time.Time { return now }})
		},
		Log: func(l string) { lines = append(lines, l) }}
	if err := r.PruneIfDue(); err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "pruned 1 runs that ended before") {
		t.Fatalf("first prune logged %q", lines)
	}
	lines = nil
	now = now.Add(time.Hour)
	if err := r.PruneIfDue(); err != nil || len(lines) != 0 {
		t.Errorf("an hour later: %v, logged %q; want nothing done", err, lines)
	}
	now = now.Add(PruneEvery)
	if err := r.PruneIfDue(); err != nil || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "pruned 0 runs") {
		t.Errorf("a day later: %v, logged %q; want a prune (of nothing more)", err, lines)
	}
}
