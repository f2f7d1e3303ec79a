package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/progress"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// runFlags are the flags of every command that sends orders.
type runFlags struct {
	api         apiFlags
	store       storeFlag
	concurrency int
	json        bool
	reportDir   string
	mail        mailFlags
	// yes answers the question before anything is sent (--yes; scheduled
	// runs are the daemon's own decision).
	yes bool
}

func (f *runFlags) bind(cmd *cobra.Command) {
	f.api.bind(cmd.Flags())
	f.api.store = &f.store
	f.store.bind(cmd.Flags())
	cmd.Flags().IntVar(&f.concurrency, "concurrency", queue.ConcurrencyDefault, "orders in flight at once")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the run's summary as JSON")
	cmd.Flags().StringVar(&f.reportDir, "report-dir", "", "folder for the run's report (default: beside the store)")
	f.mail.bind(cmd.Flags())
}

type submitOptions struct {
	file         string
	roster       rosterFlags
	run          runFlags
	dryRun       bool
	noPreflight  bool
	allOrNothing bool
}

func newSubmitCmd(e *env) *cobra.Command {
	var o submitOptions
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Check a roster and place its work visit orders",
		Long: `submit checks every row of a roster, checks cages, cabinets, accounts and users
against the Equinix account, shows the orders it will place and places them,
recording each in the store before it is sent. Submitting the same roster with
the same settings again resumes that run; it never orders twice. A corrected
roster orders only the visitors no earlier run ordered for the same place and
window.

Exit status: 0 when every row was ordered, 3 when some rows are invalid or were
refused, 4 when the store is in use, 1 when the run stopped (resume it with
'wvbatch resume RUN').`,
		Args: submitArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if isMessages(args) {
				return runSubmitMessages(cmd.Context(), o, e, args)
			}
			o.file = args[0]
			return runSubmitRoster(cmd.Context(), cmd, o, e)
		},
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "plan and pre-flight, but send nothing and record nothing")
	bindYes(cmd, &o.run.yes)
	cmd.Flags().BoolVar(&o.allOrNothing, "all-or-nothing", false, "order nothing when any row is invalid or fails the pre-flight (exit 3)")
	cmd.Flags().BoolVar(&o.noPreflight, "no-preflight", false, "skip checking cages, cabinets, accounts and users before ordering")
	bindReplace(cmd)
	o.roster.bind(cmd.Flags())
	o.run.bind(cmd)
	return cmd
}

// submitting is one submit's pipeline, with the store it opens and the
// connection it makes when they are needed, and its roster.
type submitting struct {
	p    *submit.Pipeline
	conn *lazyConn
	in   submit.Input
	say  io.Writer // where messages go (stderr with --json)
}

func (o submitOptions) start(ctx context.Context, e *env) (*submitting, error) {
	check, err := o.roster.checkConfig(e)
	if err != nil {
		return nil, err
	}
	at, err := o.run.api.whereOffline(e)
	if err != nil {
		return nil, err
	}
	s := &submitting{say: o.run.say(e), p: o.run.pipeline(e, nil), conn: o.run.api.lazy(ctx, e, o.roster.nowPtr(), true, nil)}
	s.in = submit.Input{
		Import:  importer.Options{Path: o.file, Read: o.roster.readOptions(), Check: check, Order: o.roster.orderFields()},
		At:      at,
		Connect: s.conn.connect, NoPreflight: o.noPreflight, Now: o.roster.now, New: o.dryRun,
		StartedBy: e.getenv("USER"), AllOrNothing: o.allOrNothing,
	}
	if o.dryRun && o.noPreflight {
		s.in.Connect = nil // nothing to check or send: no credentials needed
	}
	s.p.Hooks.Recorded = func(run runstore.Run) {
		fmt.Fprintf(o.run.say(e), "run %s recorded in %s (endpoint %s)\n", run.ID, s.p.Store.Path(), run.Where())
	}
	return s, nil
}

func (s *submitting) close() {
	s.p.Close()
	s.conn.close()
}

// submit prepares the roster, shows its plan, asks, and executes it; the
// run of the same roster recorded already is resumed.
func (s *submitting) submit(ctx context.Context, o submitOptions, e *env) error {
	p := s.p
	prep, err := p.Prepare(ctx, s.in)
	if err != nil {
		return prepareErr(err)
	}
	if run := prep.Existing; run != nil {
		fmt.Fprintf(o.run.say(e), "%s: same roster, settings and endpoint as run %s (%s): resuming it; nothing is ordered twice\n",
			o.file, run.ID, run.CreatedAt.Local().Format("2006-01-02 15:04"))
		return resumeRun(ctx, e, p.Store, *run, o.run, o.roster.nowPtr(), prep.Import)
	}
	r := prep.New
	submit.WritePlan(o.run.say(e), prep.Import, r)
	if o.dryRun {
		fmt.Fprintln(o.run.say(e), "dry run: nothing was sent or recorded")
		if prep.Import.InvalidRows > 0 {
			return errRowsFailed
		}
		return nil
	}
	if o.allOrNothing && prep.Import.InvalidRows > 0 {
		return notAll(e, prep.Import)
	}
	if len(r.Orders) > 0 {
		if err := askYes(e, o.run.yes, "submit", submit.PlaceQuestion(prep.Import, r, prep.Conn)); err != nil {
			return err
		}
	}
	out, err := p.Execute(ctx, prep)
	auditRun(e, "order", out).Msg("orders placed from the command line")
	return ranRun(ctx, e, out, endpointErr(err), o.run.json)
}

// notAll says that --all-or-nothing ordered nothing, and is exit status 3.
func notAll(e *env, res *importer.Result) error {
	fmt.Fprintf(e.stderr, "wvbatch: --all-or-nothing: %d of %d rows invalid or refused by the pre-flight: nothing was ordered or recorded\n",
		res.InvalidRows, res.Rows)
	fmt.Fprintln(e.stderr, "hint: fix the rows listed above (or in the report of 'wvbatch validate'), then submit again")
	return errRowsFailed
}

// say is where a command's messages go: stdout, or stderr with --json,
// whose stdout carries the JSON document alone.
func (f *runFlags) say(e *env) io.Writer {
	if f.json {
		return e.stderr
	}
	return e.stdout
}

// prepareErr is the command's error for what kept a roster from being
// prepared: an order-level field the account refuses is a usage error.
func prepareErr(err error) error {
	var fe *submit.OrderFieldError
	if errors.As(err, &fe) {
		return usageErr(fmt.Errorf("%s: %s", fe.Field, fe.Message), fe.Hint)
	}
	return apiErr(err)
}

// lazyConn connects to the API the flags name when the pipeline first
// needs it (see submit.LazyConn).
type lazyConn struct{ submit.LazyConn }

// lazy is a lazyConn to where the flags point; explicit: the endpoint was
// named on the command line or in EQUINIX_API_ENDPOINT, not taken from
// run's record. With run set, connect refuses another endpoint than its own.
func (f *apiFlags) lazy(ctx context.Context, e *env, now *time.Time, explicit bool, run *runstore.Run) *lazyConn {
	return &lazyConn{submit.LazyConn{Run: run, Dial: func() (*submit.Conn, func(), error) {
		c, err := f.connect(e, now)
		if err != nil {
			return nil, nil, err
		}
		if ctx == nil {
			ctx = context.Background()
		}
		at, err := c.where(ctx)
		if err != nil {
			c.close()
			return nil, nil, err
		}
		return &submit.Conn{Client: c.client, Endpoint: at.Endpoint, Account: at.Account, Explicit: explicit, Preflight: c.preflight}, c.close, nil
	}}}
}

func (l *lazyConn) connect() (*submit.Conn, error) {
	c, err := l.Connect()
	return c, endpointErr(err)
}

func (l *lazyConn) close() { l.Close() }

// runConn is a lazyConn to where run was ordered, unless the flags say
// otherwise (see submit.FollowRun).
func (f *apiFlags) runConn(ctx context.Context, e *env, run runstore.Run, set submit.Settings, now *time.Time) *lazyConn {
	explicit := f.followRun(e, run)
	if now == nil && set.Now != "" {
		now, _ = parseNowPtr(set.Now)
	}
	return f.lazy(ctx, e, now, explicit, &run)
}

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// pipeline is the run pipeline over st as the run flags set it up; with
// st nil it opens the store the flags name when it needs it (Close closes
// it).
func (f *runFlags) pipeline(e *env, st *runstore.Store) *submit.Pipeline {
	if f.mail.configPath == nil {
		f.mail.configPath = configPathFunc(e, f.api.configFile)
	}
	dir := f.reportDir
	store := f.store
	return &submit.Pipeline{
		Store: st, Open: func() (*runstore.Store, error) { return store.open(e) }, StorePath: store.resolve(e), Concurrency: f.concurrency, Logger: e.log,
		ReportDir: func(string) string { return dir },
		Mailer:    cliMailer{e, f.mail}, Notify: f.mail.notify,
		Hooks: submit.Hooks{Progress: progress.Hook(e.stderr, isTerminal(e.stderr), e.log)},
		Tune:  e.tuneRun,
	}
}

// ranRun prints what became of a run that was placed (or shown again) and
// maps it to the command's error: a run that stopped says how to resume
// it, one placed with rows not ordered is errRowsFailed.
func ranRun(ctx context.Context, e *env, o *submit.Outcome, err error, asJSON bool) error {
	if err != nil {
		return err
	}
	if o.Shown {
		return printOutcome(e, o, asJSON) // nothing was done, so nothing failed
	}
	var rerr error
	if o.Summary != nil {
		if rerr = printOutcome(e, o, asJSON); rerr == nil && o.RowsFailed() {
			rerr = errRowsFailed
		}
	}
	if o.Stopped != nil {
		fmt.Fprintf(e.stderr, "resume with: wvbatch resume %s\n", o.Run.ID)
		if ctx.Err() != nil {
			return &cliError{code: exitFailure, err: errors.New("interrupted: orders in flight were recorded")}
		}
		return apiErr(o.Stopped)
	}
	return rerr
}
