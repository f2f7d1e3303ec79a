package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/submit"
)

type pruneOptions struct {
	store     storeFlag
	olderThan string
	dryRun    bool
	reportDir string
	wait      time.Duration
}

func newPruneCmd(e *env) *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune --older-than 90d",
		Short: "Remove visitors' names, emails and phones of runs that ended long ago",
		Long: `prune removes the personal data of runs that ended (done or cancelled, nothing
left to send) before the cut-off: from the store, the request bodies, the row
messages that quote cells, the contacts and report recipients; the run's roster
copy (rosters/) and its report folder (reports/, and --report-dir); and report
folders of validations and the web page's uploads (uploads/) older than the
cut-off. It keeps what exactly-once
needs: run ids, order ids and keys, references, row outcomes and codes, and
each visitor's key with the name or username replaced by a salted hash, so a
roster submitted again still orders nothing twice. The store file is then
rewritten, so that nothing removed stays on the disk. It prints what it
removed; --dry-run only prints it. A retention setting in the config file
(retention: 90d) makes 'schedule run' and 'schedule tick' prune once a day.

Exit status: 0 done, 2 a bad --older-than, 4 the store stayed in use for --wait.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			age, err := parseAge(o.olderThan)
			if err != nil {
				return usageErr(fmt.Errorf("--older-than %q: %v", o.olderThan, err), "write it like 90d, 12w or 2160h")
			}
			return pruneStore(cmd.Context(), e, &o.store, age, o.dryRun, o.reportDir, o.wait, e.stdout)
		},
	}
	o.store.bind(cmd.Flags())
	cmd.Flags().StringVar(&o.olderThan, "older-than", "", "prune runs that ended longer ago than this: 90d, 12w, 2160h (required)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would be removed and change nothing")
	cmd.Flags().StringVar(&o.reportDir, "report-dir", "", "a folder of run report folders to prune too (the daemon's --report-dir); reports/ beside the store always is")
	cmd.Flags().DurationVar(&o.wait, "wait", 10*time.Minute, "how long to wait while another wvbatch has the store open")
	_ = cmd.MarkFlagRequired("older-than")
	return cmd
}

// parseAge reads an age: days (90d), weeks (12w) or a Go duration.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	switch {
	case strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w"):
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil {
			return 0, errors.New("want a whole number of days (90d) or weeks (12w)")
		}
		d = time.Duration(n) * 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			d *= 7
		}
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want days (90d), weeks (12w) or a duration (2160h)")
		}
	}
	switch {
	case d <= 0:
		return 0, errors.New("must be positive")
	case d > 100*365*24*time.Hour:
		return 0, errors.New("longer than a hundred years")
	}
	return d, nil
}

// scrubSettings removes the contacts and report recipients from a run's
// settings.
func scrubSettings(raw json.RawMessage) (json.RawMessage, error) {
	var s submit.Settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if s.Order.TechnicalContact != "" {
		s.Order.TechnicalContact = queue.Removed
	}
	for i := range s.Order.NotificationContacts {
		s.Order.NotificationContacts[i] = queue.Removed
	}
	s.Order.ReportEmails = nil
	return json.Marshal(s)
}

// pruneStore prunes the runs that ended more than age ago and their files,
// and prints what it removed to w.
func pruneStore(ctx context.Context, e *env, f *storeFlag, age time.Duration, dryRun bool, reportDir string, wait time.Duration, w io.Writer) error {
	st, err := openWaiting(ctx, e, f, wait)
	if err != nil {
		return err
	}
	cutoff := e.now().Add(-age)
	verb := "pruned"
	if dryRun {
		verb = "would prune"
	}
	runs, err := st.Prune(queue.PruneOptions{Before: cutoff, DryRun: dryRun, ScrubSettings: scrubSettings})
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
	if !dryRun && len(runs) > 0 {
		// Rewrite the file: deleted data stays in bbolt's free pages.
		if err := st.Compact(); err != nil {
			return err
		}
	} else if err := st.Close(); err != nil {
		return err
	}
	base := filepath.Dir(f.resolve(e))
	reportDirs := []string{filepath.Join(base, "reports")}
	if reportDir != "" {
		reportDirs = append(reportDirs, reportDir)
	}
	files := func(id string) []string {
		var out []string
		if m, _ := filepath.Glob(filepath.Join(base, "rosters", id+".*")); len(m) > 0 {
			out = append(out, m...)
		}
		for _, d := range reportDirs {
			if _, err := os.Stat(filepath.Join(d, id)); err == nil {
				out = append(out, filepath.Join(d, id)+string(filepath.Separator))
			}
		}
		return out
	}
	remove := func(paths []string) error {
		if dryRun {
			return nil
		}
		for _, p := range paths {
			if err := os.RemoveAll(strings.TrimSuffix(p, string(filepath.Separator))); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range runs {
		fs := files(r.RunID)
		fmt.Fprintf(w, "%s run %s (ended %s): %d request bodies, %d orders' visitor keys and messages, %d rows' messages, %d visitor keys in the index, %d amendments",
			verb, r.RunID, r.Ended.Format(time.RFC3339), r.Bodies, r.Orders, r.Rows, r.Keys, r.Amendments)
		if len(fs) > 0 {
			fmt.Fprintf(w, "; files: %s", strings.Join(fs, ", "))
		}
		fmt.Fprintln(w)
		if err := remove(fs); err != nil {
			return err
		}
	}
	// Files of runs pruned before whose removal did not finish, and the
	// report folders of validations (no run recorded) older than the
	// cut-off.
	recorded := map[string]bool{}
	for _, r := range all {
		recorded[r.ID] = true
	}
	var leftover []string
	for id := range pruned {
		if fs := files(id); len(fs) > 0 && !containsRun(runs, id) {
			leftover = append(leftover, fs...)
		}
	}
	// The web page's uploads (uploads/<id>/) are drafts of rosters, not runs.
	for _, d := range append(reportDirs, filepath.Join(base, "uploads")) {
		entries, _ := os.ReadDir(d)
		for _, de := range entries {
			if !de.IsDir() || recorded[de.Name()] {
				continue
			}
			if fi, err := de.Info(); err == nil && newest(filepath.Join(d, de.Name()), fi.ModTime()).Before(cutoff) {
				leftover = append(leftover, filepath.Join(d, de.Name())+string(filepath.Separator))
			}
		}
	}
	if len(leftover) > 0 {
		fmt.Fprintf(w, "%s files of pruned runs, old validations and old uploads: %s\n", verb, strings.Join(leftover, ", "))
		if err := remove(leftover); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%s %d runs that ended before %s\n", verb, len(runs), cutoff.UTC().Format(time.RFC3339))
	return nil
}

func containsRun(runs []queue.PrunedRun, id string) bool {
	for _, r := range runs {
		if r.RunID == id {
			return true
		}
	}
	return false
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
