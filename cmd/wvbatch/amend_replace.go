package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// Visitors cannot be changed on a placed order. When an edited roster
// names a different list of visitors for a place and window that an earlier
// run ordered, `submit --replace` orders the whole new list and then
// cancels the earlier orders, each with a reason naming its replacement.
// Without --replace, submit shows what --replace would do and orders only
// the visitors not yet ordered, as before.

// bindReplace adds submit's --replace flag.
func bindReplace(cmd *cobra.Command) {
	cmd.Flags().Bool("replace", false, "for a roster edited after it was ordered: order the changed visitor lists again, then cancel the earlier orders they replace")
}

// runSubmitRoster is submit of one roster: with --replace, or when an
// earlier run ordered a different visitor list for the roster's places and
// windows, it shows the orders to replace; then it submits.
func runSubmitRoster(ctx context.Context, cmd *cobra.Command, o submitOptions, e *env) error {
	replace, _ := cmd.Flags().GetBool("replace")
	s, err := o.start(ctx, e)
	if err != nil {
		return err
	}
	defer s.close()
	if replace {
		return runSubmitReplace(ctx, o, e, s)
	}
	if path := o.run.store.resolve(e); fileExists(path) {
		reps, err := s.p.PreviewReplace(ctx, &s.in)
		if err != nil {
			return prepareErr(err)
		}
		if len(reps) > 0 {
			submit.WriteReplacements(o.run.say(e), reps, false)
			fmt.Fprintf(o.run.say(e), "  without --replace, only visitors not yet ordered are ordered, and visitors taken off the roster keep their access;\n"+
				"  to cancel and order again: wvbatch submit %s --replace\n", o.file)
		}
	}
	return s.submit(ctx, o, e)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// runSubmitReplace is submit --replace: the roster's changed visitor lists
// are ordered again by a replacing run, and the earlier orders they replace
// cancelled once their replacements are placed.
func runSubmitReplace(ctx context.Context, o submitOptions, e *env, s *submitting) error {
	p := s.p
	reps, err := p.PreviewReplace(ctx, &s.in)
	if err != nil {
		return prepareErr(err)
	}
	id := submit.ReplaceRunID(s.in.Imported.RunID)
	if run, err := p.Store.Run(id); err == nil && !o.dryRun {
		fmt.Fprintf(o.run.say(e), "%s: replacing run %s (%s) was recorded: carrying on; nothing is ordered or cancelled twice\n",
			o.file, run.ID, run.CreatedAt.Local().Format("2006-01-02 15:04"))
		var set submit.ReplaceSettings
		if err := submit.RunSettings(run, &set); err != nil {
			return err
		}
		if err := resumeRun(ctx, e, p.Store, run, o.run, o.roster.nowPtr(), s.in.Imported); err != nil && !errors.Is(err, errRowsFailed) {
			return err
		}
		if len(set.Replaces) == 0 {
			return nil
		}
		return cancelReplaced(ctx, e, s, run.ID, set.Replaces, o.file)
	}
	if len(reps) == 0 {
		fmt.Fprintln(o.run.say(e), "no earlier order holds a different visitor list for this roster's places and windows: nothing to replace")
		return s.submit(ctx, o, e)
	}
	submit.WriteReplacements(o.run.say(e), reps, true)
	prep, err := p.PrepareReplace(ctx, s.in, reps)
	if err != nil {
		return prepareErr(err)
	}
	r := prep.New
	submit.WritePlan(o.run.say(e), prep.Import, r)
	if o.dryRun {
		fmt.Fprintln(o.run.say(e), "dry run: nothing was sent, cancelled or recorded")
		return nil
	}
	q := strings.TrimSuffix(submit.PlaceQuestion(prep.Import, r, prep.Conn), "?") +
		fmt.Sprintf(", then cancel the %s they replace?", report.Plural(len(reps), "earlier order", "earlier orders"))
	if err := askYes(e, o.run.yes, "submit --replace", q); err != nil {
		return err
	}
	p.Hooks.Recorded = func(run runstore.Run) {
		fmt.Fprintf(o.run.say(e), "run %s recorded in %s; it replaces %d earlier orders\n", run.ID, p.Store.Path(), len(reps))
	}
	out, err := p.Execute(ctx, prep)
	if err := ranRun(ctx, e, out, err, o.run.json); err != nil && !errors.Is(err, errRowsFailed) {
		fmt.Fprintf(e.stderr, "the earlier orders were not cancelled; finish with: wvbatch submit %s --replace\n", o.file)
		return err
	}
	return cancelReplaced(ctx, e, s, prep.New.Run.ID, reps, o.file)
}

// cancelReplaced cancels what a replacing run replaces, and says what
// became of each earlier order.
func cancelReplaced(ctx context.Context, e *env, s *submitting, runID string, reps []submit.Replacement, file string) error {
	conn, err := s.conn.connect()
	if err != nil {
		return err
	}
	done, failed, err := s.p.CancelReplaced(ctx, conn.Client, runID, reps, file)
	submit.WriteReplaced(s.say, done)
	if err != nil {
		return err
	}
	if failed > 0 {
		fmt.Fprintf(e.stderr, "%d earlier orders are not cancelled; run the same command again to retry\n", failed)
		return errRowsFailed
	}
	return nil
}
