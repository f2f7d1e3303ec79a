package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

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

// pruneStore prunes the runs that ended more than age ago and their files,
// and prints what it removed to w.
func pruneStore(ctx context.Context, e *env, f *storeFlag, age time.Duration, dryRun bool, reportDir string, wait time.Duration, w io.Writer) error {
	st, err := openWaiting(ctx, e, f, wait)
	if err != nil {
		return err
	}
	opt := submit.PruneOptions{Before: e.now().Add(-age), DryRun: dryRun}
	if reportDir != "" {
		opt.ReportDirs = []string{reportDir}
	}
	return submit.Prune(st, opt, w)
}
