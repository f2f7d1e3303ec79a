package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// endpointName is what a run records of where it orders: "sandbox", or
// the API's base URL with its scheme and host in lower case and no
// trailing slash.
func (c *apiConn) endpointName() string {
	if c.sandbox != nil {
		return "sandbox"
	}
	return equinix.NormalEndpoint(c.endpoint)
}

// where names the endpoint and account the connection orders at (see
// submit.Login).
func (c *apiConn) where(ctx context.Context) (runstore.Where, error) {
	if c.sandbox != nil {
		return runstore.Where{Endpoint: "sandbox"}, nil
	}
	at, err := submit.Login(ctx, c.client, c.endpointName(), c.log, c.tuneRun)
	return at, apiErr(err)
}

// whereOffline names the endpoint the flags, environment and config file
// point at, without connecting or needing credentials.
func (f *apiFlags) whereOffline(e *env) (runstore.Where, error) {
	if f.sandbox {
		return runstore.Where{Endpoint: "sandbox"}, nil
	}
	cfg, err := f.clientConfig(e)
	if err != nil {
		return runstore.Where{}, err
	}
	return runstore.Where{Endpoint: equinix.NormalEndpoint(cmp.Or(cfg.Endpoint, equinix.EndpointDefault))}, nil
}

// endpointErr is the command's error for a run worked on through another
// endpoint than the one it ordered at.
func endpointErr(err error) error {
	var ee *submit.EndpointError
	if !errors.As(err, &ee) {
		return err
	}
	if ee.Run.Endpoint == runstore.EndpointUnknown {
		return usageErr(err, "say where it ordered with --endpoint URL or --sandbox; nothing was sent")
	}
	return usageErr(err, "drop --endpoint and --sandbox (and EQUINIX_API_ENDPOINT) to work on the run where it ordered; nothing was sent")
}

type resumeOptions struct {
	runID string
	run   runFlags
	now   string
}

func newResumeCmd(e *env) *cobra.Command {
	var o resumeOptions
	cmd := &cobra.Command{
		Use:   "resume RUN",
		Short: "Carry on with a run that was interrupted",
		Long: `resume finishes a recorded run: orders whose answer was lost are first looked up
at Equinix by their reference, so nothing is ever ordered twice.

` + runIDHelp,
		Args: exactArgs(1, "name the run: 'wvbatch runs' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runID = args[0]
			return runResume(cmd.Context(), o, e)
		},
	}
	o.run.bind(cmd)
	bindYes(cmd, &o.run.yes)
	o.run.mail.bindNotify(cmd.Flags())
	cmd.Flags().StringVar(&o.now, "now", "", "with --sandbox: start the sandbox clock at this RFC 3339 instant")
	return cmd
}

func runResume(ctx context.Context, o resumeOptions, e *env) error {
	st, err := o.run.store.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	run, err := findRun(st, o.runID)
	if err != nil {
		return err
	}
	now, err := parseNowPtr(o.now)
	if err != nil {
		return err
	}
	return resumeRun(ctx, e, st, run, o.run, now, nil)
}

func parseNowPtr(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--now %q is not an RFC 3339 time", s), "write it like 2027-01-01T09:00:00Z")
	}
	return &t, nil
}

// followRun points the API flags where the run was ordered (see
// submit.FollowRun) and says whether the endpoint was named explicitly.
func (f *apiFlags) followRun(e *env, run runstore.Run) (explicit bool) {
	f.sandbox, f.endpoint, explicit = submit.FollowRun(run, f.sandbox, f.endpoint, e.getenv(equinix.EnvEndpoint))
	return explicit
}

// resumeRun connects to where the run orders and submits what is left.
func resumeRun(ctx context.Context, e *env, st *runstore.Store, run runstore.Run, f runFlags, now *time.Time, imp *importer.Result) error {
	var set submit.Settings
	if err := submit.RunSettings(run, &set); err != nil {
		return err
	}
	if submit.NothingToSend(run) {
		fmt.Fprintf(f.say(e), "run %s is finished: nothing to send\n", run.ID)
	} else if left := run.Orders[runstore.Planned] + run.Orders[runstore.Sending]; left > 0 {
		q := fmt.Sprintf("Place the %s of run %s left to place, at %s? (orders whose answer was lost are looked up first, never sent twice)",
			report.Plural(left, "order", "orders"), run.ID, run.Where())
		if err := askYes(e, f.yes, "resume", q); err != nil {
			return err
		}
	}
	conn := f.api.runConn(ctx, e, run, set, now)
	defer conn.close()
	out, err := f.pipeline(e, st).Resume(ctx, run, conn.connect, imp)
	auditRun(e, "resume", out).Msg("run resumed from the command line")
	return ranRun(ctx, e, out, endpointErr(err), f.json)
}

type runsOptions struct {
	store    storeFlag
	json     bool
	endpoint string
}

func newRunsCmd(e *env) *cobra.Command {
	var o runsOptions
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the recorded runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := o.store.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := submit.RunsAt(st, o.endpoint)
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(e.stdout, submit.RunViews(runs))
			}
			if len(runs) == 0 {
				fmt.Fprintf(e.stdout, "no runs in %s\n", st.Path())
				return nil
			}
			return submit.WriteRunsTable(e.stdout, st, runs)
		},
	}
	o.store.bind(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the runs as JSON")
	cmd.Flags().StringVar(&o.endpoint, "endpoint", "", "only the runs that ordered at this endpoint: sandbox, or the API's URL")
	return cmd
}

type statusOptions struct {
	store storeFlag
	json  bool
}

func newStatusCmd(e *env) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status RUN",
		Short: "Show a run's orders and rows",
		Long:  "status shows a run's endpoint, orders and rows.\n\n" + runIDHelp,
		Args:  exactArgs(1, "name the run: 'wvbatch runs' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := o.store.open(e)
			if err != nil {
				return err
			}
			defer st.Close()
			run, err := findRun(st, args[0])
			if err != nil {
				return err
			}
			sum, err := (&submit.Pipeline{Store: st}).Status(run.ID, o.json)
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(e.stdout, sum)
			}
			sum.WriteText(e.stdout)
			fmt.Fprintf(e.stdout, "started by: %s\n", submit.StartedBy(run))
			report.WriteAmendmentsText(e.stdout, sum.Amendments)
			return nil
		},
	}
	o.store.bind(cmd.Flags())
	cmd.Flags().BoolVar(&o.json, "json", false, "print the run as JSON (every order, every row's outcome and every problem)")
	return cmd
}

type cancelOptions struct {
	runID  string
	reason string
	run    runFlags
	dryRun bool
	orders []string // --order: only these order ids
}

func newCancelCmd(e *env) *cobra.Command {
	var o cancelOptions
	cmd := &cobra.Command{
		Use:   "cancel RUN --reason TEXT",
		Short: "Cancel every order a run placed",
		Long: `cancel cancels the run's orders at Equinix, recording each outcome. Running it
again retries only what is not cancelled yet. It lists the orders it will cancel
and asks first (--yes answers; --dry-run only lists them).

` + runIDHelp,
		Args: exactArgs(1, "name the run: 'wvbatch runs' lists them"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.runID = args[0]
			return runCancel(cmd.Context(), o, e)
		},
	}
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the visits are cancelled (5 to 4000 characters; Equinix records it)")
	o.run.bind(cmd)
	bindYes(cmd, &o.run.yes)
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "show the orders it would cancel, and cancel nothing")
	cmd.Flags().StringArrayVar(&o.orders, "order", nil, "cancel only this order of the run (an order id; repeat for more)")
	o.run.mail.bindNotify(cmd.Flags())
	return cmd
}

func runCancel(ctx context.Context, o cancelOptions, e *env) error {
	reason := strings.TrimSpace(o.reason)
	if n := len([]rune(reason)); n < 5 || n > 4000 {
		return usageErr(errors.New("--reason must be 5 to 4000 characters"), `say why, e.g. --reason "maintenance postponed"`)
	}
	st, run, set, err := o.run.store.openRun(e, o.runID)
	if err != nil {
		return err
	}
	defer st.Close()
	n, keys, err := printCancelPlan(o.run.say(e), st, run, o.orders)
	if err != nil {
		return err
	}
	if o.dryRun {
		fmt.Fprintln(o.run.say(e), "dry run: nothing was cancelled")
		return nil
	}
	if n > 0 {
		q := fmt.Sprintf("Cancel %s of run %s at %s, with the reason %q?", report.Plural(n, "order", "orders"), run.ID, run.Where(), reason)
		if err := askYes(e, o.run.yes, "cancel", q); err != nil {
			return err
		}
	}
	lazy := o.run.api.runConn(ctx, e, run, set, nil)
	defer lazy.close()
	conn, err := lazy.connect()
	if err != nil {
		return err
	}
	var out *submit.Outcome
	if len(o.orders) > 0 {
		out, err = o.run.pipeline(e, st).CancelOrders(ctx, run.ID, keys, conn.Client, reason)
	} else {
		out, err = o.run.pipeline(e, st).Cancel(ctx, run.ID, conn.Client, reason)
	}
	if err != nil {
		return err
	}
	auditRun(e, "cancel", out).Strs("orders", o.orders).Str("reason", reason).Msg("orders cancelled from the command line")
	fmt.Fprintf(o.run.say(e), "cancelled %s of run %s\n", report.Plural(out.Tally.Cancelled, "order", "orders"), run.ID)
	if out.Stopped != nil {
		fmt.Fprintf(e.stderr, "run it again to retry: wvbatch cancel %s --reason %q\n", run.ID, reason)
		return apiErr(out.Stopped)
	}
	if rerr := ranRun(ctx, e, out, nil, o.run.json); rerr != nil && !errors.Is(rerr, errRowsFailed) {
		return rerr
	}
	return nil
}

// printCancelPlan lists the orders of run that cancel would cancel (placed,
// or being cancelled; only those of ids when given) and returns how many,
// with their keys. An id that is not a placed order of the run is a usage
// error.
func printCancelPlan(w io.Writer, st *runstore.Store, run runstore.Run, ids []string) (int, []string, error) {
	todo, err := submit.CancelPlan(st, run, ids)
	if _, ok := errors.AsType[*submit.NotPlacedError](err); ok {
		return 0, nil, usageErr(err, "'wvbatch status "+run.ID+"' lists its orders; nothing was cancelled")
	} else if err != nil {
		return 0, nil, err
	}
	submit.WriteCancelPlan(w, run, todo, len(ids) == 0)
	keys := make([]string, 0, len(todo))
	for _, od := range todo {
		keys = append(keys, od.Key)
	}
	return len(todo), keys, nil
}
