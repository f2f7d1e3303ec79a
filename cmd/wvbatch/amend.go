package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// amendOptions are the flags of reschedule and amend.
type amendOptions struct {
	cmd         string // "reschedule" or "amend"
	runID       string
	shift       time.Duration
	start, end  string
	openCabinet string // "", or true or false
	notify      []string
	again       bool
	now         string
	settle      time.Duration
	run         runFlags
}

func newRescheduleCmd(e *env) *cobra.Command {
	o := amendOptions{cmd: "reschedule"}
	cmd := &cobra.Command{
		Use:   "reschedule RUN (--shift 24h | --start TIME --end TIME)",
		Short: "Move the visit window of every order a run placed",
		Long: `reschedule moves every open order of a run: by --shift (e.g. 24h, -2h30m), or to
the window --start and --end (RFC 3339, or a local time of the orders' IBX such as
"2027-01-12 08:00"). A window longer than 14 days or starting in the past is refused,
with the reason, before anything is sent.

Each order's change is recorded before its update is sent; an update whose answer
was lost is checked by reading the order back before it is ever sent again, so no
order is changed twice. Closed or cancelled orders are reported and skipped. If it
stops, run the same command again to finish. A shift that was already applied is
refused unless --again is given.

Exit status: 0 when every open order was moved, 3 when some were skipped or
refused, 2 when the change was refused before sending, 1 when it stopped.`,
		Args: exactArgs(1, "name the run: 'wvbatch runs' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runID = args[0]
			return runAmend(cmd.Context(), o, e)
		},
	}
	cmd.Flags().DurationVar(&o.shift, "shift", 0, "move every order's window by this much (e.g. 24h, -30m)")
	cmd.Flags().StringVar(&o.start, "start", "", "new start of the window (with --end)")
	cmd.Flags().StringVar(&o.end, "end", "", "new end of the window (with --start)")
	cmd.Flags().BoolVar(&o.again, "again", false, "apply a shift that was already applied once more")
	o.bindCommon(cmd)
	return cmd
}

func newAmendCmd(e *env) *cobra.Command {
	o := amendOptions{cmd: "amend"}
	cmd := &cobra.Command{
		Use:   "amend RUN [--open-cabinet true|false] [--notify-contact USERNAME...]",
		Short: "Change the open-cabinet flag or add notification contacts to every order a run placed",
		Long: `amend changes what Equinix allows to be changed on a placed work visit, for every
open order of a run: whether Equinix staff open the cabinet (--open-cabinet), and
the registered users Equinix notifies (--notify-contact, added to those the order
has). Visitors cannot be changed on a placed order: submit the edited roster instead.

Orders that already ask for the change are left alone; closed or cancelled orders
are reported and skipped. 'wvbatch amend RUN' without flags finishes an amendment
(or reschedule) that stopped.`,
		Args: exactArgs(1, "name the run: 'wvbatch runs' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runID = args[0]
			return runAmend(cmd.Context(), o, e)
		},
	}
	cmd.Flags().StringVar(&o.openCabinet, "open-cabinet", "", "whether Equinix staff open the cabinet for the visitors: true or false")
	cmd.Flags().StringSliceVar(&o.notify, "notify-contact", nil, "registered username to notify about the orders (repeat, or separate with commas)")
	o.bindCommon(cmd)
	return cmd
}

func (o *amendOptions) bindCommon(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.now, "now", "", "the clock for the check that no window starts in the past (RFC 3339; default: the run's --now, else now)")
	cmd.Flags().DurationVar(&o.settle, "settle-delay", queue.SettleDelayDefault, "wait after an unanswered update before reading the order back")
	o.run.bind(cmd)
	bindYes(cmd, &o.run.yes)
}

func runAmend(ctx context.Context, o amendOptions, e *env) error {
	st, run, set, err := o.run.store.openRun(e, o.runID)
	if err != nil {
		return err
	}
	defer st.Close()
	req, err := (&submit.Pipeline{Store: st}).AmendRequest(run.ID, submit.AmendAsk{Move: o.cmd == "reschedule", Shift: o.shift,
		Start: o.start, End: o.end, OpenCabinet: o.openCabinet, Notify: o.notify})
	if ae, ok := errors.AsType[*submit.AskError](err); ok {
		return usageErr(ae, ae.Hint)
	} else if err != nil {
		return err
	}
	now, err := parseNowPtr(cmp.Or(o.now, set.Now))
	if err != nil {
		return err
	} else if now == nil {
		t := e.now()
		now = &t
	}
	// With --json, stdout carries the report alone.
	say := e.stdout
	if o.run.json {
		say = e.stderr
	}
	what := "finish the run's unfinished amendment"
	if req != nil {
		what = req.String()
	}
	q := fmt.Sprintf("Change the %s of run %s at %s: %s?", report.Plural(run.Orders[runstore.Submitted], "placed order", "placed orders"),
		run.ID, run.Where(), what)
	if err := askYes(e, o.run.yes, o.cmd, q); err != nil {
		return err
	}
	p := o.run.pipeline(e, st)
	a, err := o.record(p, run, req, now, say)
	if err != nil {
		return err
	}
	conn := o.run.api.runConn(ctx, e, run, set, nil)
	defer conn.close()
	out, err := p.Amend(ctx, run.ID, a, conn.connect, o.settle)
	if err != nil {
		return err
	}
	auditAmendment(e, o.cmd, out.Report, out.Stopped)
	return o.printAmended(ctx, e, run.ID, out)
}

// record records the amendment asked for (req; nil finishes an unfinished
// one) and says so; a refused change is a usage error.
func (o *amendOptions) record(p *submit.Pipeline, run runstore.Run, req *runstore.AmendRequest, now *time.Time, say io.Writer) (runstore.Amendment, error) {
	a, created, err := p.StartAmendment(run.ID, req, *now, o.again)
	var re *runstore.RefusedError
	switch {
	case errors.Is(err, submit.ErrNoAmendment):
		return a, usageErr(err, "say what to change: --open-cabinet true, --notify-contact USERNAME, or 'wvbatch reschedule RUN --shift 24h'")
	case errors.As(err, &re):
		return a, usageErr(err, "nothing was sent; change the request and run it again")
	case errors.Is(err, runstore.ErrAmendRepeated):
		return a, usageErr(err, "nothing was sent; add --again to shift the orders once more")
	case errors.Is(err, runstore.ErrAmendUnfinished):
		return a, usageErr(err, fmt.Sprintf("or finish it with 'wvbatch amend %s'", run.ID))
	case err != nil:
		return a, err
	case req == nil:
		fmt.Fprintf(say, "finishing amendment %d of run %s: %s\n", a.N, run.ID, a.Request)
	case created:
		fmt.Fprintf(say, "amendment %d of run %s recorded: %s\n", a.N, run.ID, a.Request)
	default:
		fmt.Fprintf(say, "amendment %d of run %s (%s) was not finished: carrying on; no order is changed twice\n", a.N, run.ID, a.Request)
	}
	return a, nil
}

// printAmended prints what an amendment did (as JSON with --json) and the
// run's report, and maps it to the command's error.
func (o *amendOptions) printAmended(ctx context.Context, e *env, runID string, out *submit.AmendOutcome) error {
	rep := out.Report
	if o.run.json {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
		// The run's own summary goes to the report folder only.
		quiet := *e
		quiet.stdout = io.Discard
		e = &quiet
	} else {
		rep.WriteText(e.stdout)
		fmt.Fprintf(e.stdout, "report: %s\n", out.ReportPath)
	}
	if err := printOutcome(e, out.Run, false); err != nil {
		return err
	}
	if out.Stopped != nil {
		fmt.Fprintf(e.stderr, "run it again to finish: wvbatch amend %s\n", runID)
		if ctx.Err() != nil {
			return &cliError{code: exitFailure, err: errors.New("interrupted: updates in flight were recorded")}
		}
		return apiErr(out.Stopped)
	}
	if rep.Failed() > 0 {
		return errRowsFailed
	}
	return nil
}
