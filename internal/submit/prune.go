package submit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// PruneOptions say what Prune removes.
type PruneOptions struct {
	// Before is the cut-off: runs that ended before it are pruned, and
	// folders of validations and uploads last changed before it removed.
	Before time.Time
	// DryRun only says what would be removed.
	DryRun bool
	// ReportDirs are folders of run report folders besides reports/ beside
	// the store (the daemon's --report-dir).
	ReportDirs []string
}

// Prune removes the personal data of the runs of st that ended before
// opt.Before, rewrites the store file so that nothing removed stays on the
// disk, and removes the runs' files: the roster copy (rosters/ beside the
// store), the report folders, and folders of validations and uploads older
// than the cut-off. It writes what it removed to w, a line a run. Prune
// closes st, whatever it returns.
func Prune(st *runstore.Store, opt PruneOptions, w io.Writer) error {
	base := filepath.Dir(st.Path())
	verb := "pruned"
	if opt.DryRun {
		verb = "would prune"
	}
	runs, err := st.Prune(runstore.PruneOptions{Before: opt.Before, DryRun: opt.DryRun, ScrubSettings: scrubSettings})
	if err != nil {
		st.Close()
		return err
	}
	pruned, err := st.Pruned()
	if err != nil {
		st.Close()
		return err
	}
	all, err := st.Runs()
	if err != nil {
		st.Close()
		return err
	}
	if !opt.DryRun && len(runs) > 0 {
		// Rewrite the file: deleted data stays in bbolt's free pages.
		if err := st.Compact(); err != nil {
			return err
		}
	} else if err := st.Close(); err != nil {
		return err
	}
	fl := pruneFiles{base: base, reportDirs: append([]string{filepath.Join(base, "reports")}, opt.ReportDirs...), dryRun: opt.DryRun}
	done := map[string]bool{}
	for _, r := range runs {
		done[r.RunID] = true
		fs := fl.of(r.RunID)
		fmt.Fprintf(w, "%s run %s (ended %s): %d request bodies, %d orders' visitor keys and messages, %d rows' messages, %d visitor keys in the index, %d amendments",
			verb, r.RunID, r.Ended.Format(time.RFC3339), r.Bodies, r.Orders, r.Rows, r.Keys, r.Amendments)
		if len(fs) > 0 {
			fmt.Fprintf(w, "; files: %s", strings.Join(fs, ", "))
		}
		fmt.Fprintln(w)
		if err := fl.remove(fs); err != nil {
			return err
		}
	}
	leftover := fl.leftover(pruned, done, all, opt.Before)
	if len(leftover) > 0 {
		fmt.Fprintf(w, "%s files of pruned runs, old validations and old uploads: %s\n", verb, strings.Join(leftover, ", "))
		if err := fl.remove(leftover); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%s %d runs that ended before %s\n", verb, len(runs), opt.Before.UTC().Format(time.RFC3339))
	return nil
}

// pruneFiles finds and removes the files of runs beside a store.
type pruneFiles struct {
	base       string
	reportDirs []string
	dryRun     bool
}

// of returns the files of run id: its roster copy and report folders (a
// folder with a trailing separator).
func (f pruneFiles) of(id string) []string {
	var out []string
	if m, _ := filepath.Glob(filepath.Join(f.base, "rosters", id+".*")); len(m) > 0 {
		out = append(out, m...)
	}
	for _, d := range f.reportDirs {
		if _, err := os.Stat(filepath.Join(d, id)); err == nil {
			out = append(out, filepath.Join(d, id)+string(filepath.Separator))
		}
	}
	return out
}

// leftover returns the files of runs pruned before (not now) whose removal
// did not finish, and the report folders of validations (no run recorded)
// and the web page's uploads (uploads/<id>/, drafts of rosters) last
// changed before the cut-off.
func (f pruneFiles) leftover(pruned map[string]time.Time, now map[string]bool, all []runstore.Run, cutoff time.Time) []string {
	recorded := map[string]bool{}
	for _, r := range all {
		recorded[r.ID] = true
	}
	var out []string
	for id := range pruned {
		if fs := f.of(id); len(fs) > 0 && !now[id] {
			out = append(out, fs...)
		}
	}
	for _, d := range append(f.reportDirs, filepath.Join(f.base, "uploads")) {
		entries, _ := os.ReadDir(d)
		for _, de := range entries {
			if !de.IsDir() || recorded[de.Name()] {
				continue
			}
			if fi, err := de.Info(); err == nil && newest(filepath.Join(d, de.Name()), fi.ModTime()).Before(cutoff) {
				out = append(out, filepath.Join(d, de.Name())+string(filepath.Separator))
			}
		}
	}
	return out
}

func (f pruneFiles) remove(paths []string) error {
	if f.dryRun {
		return nil
	}
	for _, p := range paths {
		if err := os.RemoveAll(strings.TrimSuffix(p, string(filepath.Separator))); err != nil {
			return err
		}
	}
	return nil
}

// newest returns the latest modification time of dir and the files in it.
func newest(dir string, t time.Time) time.Time {
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.ModTime().After(t) {
			t = fi.ModTime()
		}
		return nil
	})
	return t
}

// scrubSettings removes the contacts and report recipients from a run's
// settings.
func scrubSettings(raw json.RawMessage) (json.RawMessage, error) {
	var s Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if s.Order.TechnicalContact != "" {
		s.Order.TechnicalContact = runstore.Removed
	}
	for i := range s.Order.NotificationContacts {
		s.Order.NotificationContacts[i] = runstore.Removed
	}
	s.Order.ReportEmails = nil
	return json.Marshal(s)
}

// PruneEvery is how often a retention setting prunes.
const PruneEvery = 24 * time.Hour

// Retention prunes a store once a day: the runs that ended longer than Age
// ago, and their files (see Prune).
type Retention struct {
	Age time.Duration
	// ReportDirs are folders of run report folders besides reports/.
	ReportDirs []string
	// Open opens the store (waiting while another process has it).
	Open func() (*runstore.Store, error)
	Now  func() time.Time
	// Log gets each line of what was removed.
	Log func(string)
}

// PruneIfDue prunes when the store's last prune is PruneEvery old or more.
func (r Retention) PruneIfDue() error {
	st, err := r.Open()
	if err != nil {
		return err
	}
	last, err := st.LastPrune()
	st.Close()
	if err != nil || r.Now().Sub(last) < PruneEvery {
		return err
	}
	if st, err = r.Open(); err != nil {
		return err
	}
	var out bytes.Buffer
	err = Prune(st, PruneOptions{Before: r.Now().Add(-r.Age), ReportDirs: r.ReportDirs}, &out)
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		r.Log(sc.Text())
	}
	return err
}

// Daily runs PruneIfDue now and then every hour until ctx ends, telling
// failed of each failure.
func (r Retention) Daily(ctx context.Context, failed func(error)) {
	for {
		if err := r.PruneIfDue(); err != nil && ctx.Err() == nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}
