package submit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/preflight"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// ErrNoMailer means the Pipeline has no Mailer to email reports with.
var ErrNoMailer = errors.New("no way to send email is configured")

// Pipeline runs rosters, and runs recorded already, from input to report
// against one store: Prepare imports a roster once (with the pre-flight
// when asked), finds the run of the same input recorded already or builds
// a new one; the caller shows the plan and asks its own question; Execute
// records the run, places its orders, settles the run's state, writes its
// report and emails it. Every front door (the command line, the
// scheduler, EMG messages, a web page) calls these; none copies their
// steps.
//
// The zero value of every field but Store is a default. A Pipeline is
// used by one goroutine at a time.
type Pipeline struct {
	// Store is the store runs are recorded in. When it is nil, Prepare
	// calls Open for it to look up the run of a roster, or, when there is
	// no file at StorePath (the file Open opens), once the roster is read:
	// a roster that cannot be read leaves no store behind.
	Store     *runstore.Store
	Open      func() (*runstore.Store, error)
	StorePath string
	// Concurrency is how many orders are in flight at once (0: the
	// queue's default).
	Concurrency int
	// ReportDir is the folder of a run's report ("" or nil: reports/<run>
	// beside the store).
	ReportDir func(runID string) string
	// Mailer emails reports; Notify, when set, replaces the recipients a
	// run recorded.
	Mailer Mailer
	Notify []string
	Logger zerolog.Logger
	Hooks  Hooks
	// Tune, when set, adjusts the queue's settings of a run (tests shorten
	// the retry budgets with it).
	Tune func(*queue.RunConfig)

	opened bool    // Store was opened by Open
	reads  readers // how rosters are read
}

// Hooks tell the caller what the Pipeline does, as it does it. Each may be
// nil.
type Hooks struct {
	// Recorded is called once a new run is recorded, before anything is
	// sent.
	Recorded func(run runstore.Run)
	// Progress is called as orders change state while a run is placed, and
	// once more with done set when placing ends.
	Progress func(run runstore.Run, t queue.Tally, done bool)
}

// OrderFieldError is an order-level field (a contact) that the account
// refuses, as the pre-flight found: nothing can be ordered with it.
type OrderFieldError struct{ roster.RowError }

func (e *OrderFieldError) Error() string { return e.Field + ": " + e.Message }

// Input is a roster to run.
type Input struct {
	// Import says how to read, check and plan the roster.
	Import importer.Options
	// Imported is the roster as PreviewReplace imported it (with the
	// pre-flight for a new run), which Prepare takes up rather than read
	// the roster again.
	Imported  *importer.Result
	previewed *imported
	// At is where the run orders, as known before connecting: the
	// endpoint (Conn names the account too). Import.Endpoint should name
	// it for the run id (see importer.Options.Endpoint). A new run
	// prepared without a connection records At.
	At runstore.Where
	// Conn is where the run orders: the pre-flight checks the roster
	// against its account unless NoPreflight. When it is nil, Connect, if
	// set, is called for it once it is needed: for a new run, or for a
	// recorded one with orders left to send. With neither there is no
	// pre-flight, and nothing can be sent.
	Conn        *Conn
	Connect     func() (*Conn, error)
	NoPreflight bool
	// Now is the clock the run was asked with ("" for the real one).
	Now string
	// Job and ScheduledAt name a scheduled run.
	Job         string
	ScheduledAt time.Time
	// New, when set, prepares a new run even if the same input was
	// recorded already (a dry run shows what it would order).
	New bool
	// Claims finds the visitors earlier runs ordered (nil: the store).
	Claims Claims
	// StartedBy names who asked for the run, as it records it.
	StartedBy string
	// AllOrNothing has Execute order nothing, and record nothing, when any
	// row of a new run is invalid or fails the pre-flight (ErrNotAll).
	AllOrNothing bool
}

// ErrNotAll is matched by the error Execute returns for a new run of an
// input with AllOrNothing whose roster has invalid rows: nothing was
// recorded or sent.
var ErrNotAll = errors.New("all or nothing: some rows are invalid or failed the pre-flight, so nothing was ordered")

// Prepared is a roster ready to run: either the run recorded already for
// the same input, or a new run to record.
type Prepared struct {
	// Import is the roster as imported (with the pre-flight when there
	// was one).
	Import *importer.Result
	// Existing is the run of the same input recorded already; New the run
	// to record when there is none.
	Existing *runstore.Run
	New      *Run
	// Conn is where the run orders: Input.Conn, or what Input.Connect
	// gave once it was called.
	Conn         *Conn
	connect      func() (*Conn, error)
	allOrNothing bool
}

// Conn is a connection to where runs order.
type Conn struct {
	Client *equinix.Client
	// Endpoint names it as runs record it: "sandbox", or the API's base
	// URL; Account is the user its credentials log in as, when the API
	// named it (see equinix.Client.Login).
	Endpoint string
	Account  string
	// Explicit says the caller named the endpoint itself: a run recorded
	// before runs named their endpoint may be worked on through it.
	Explicit bool
	// Preflight, if set, returns the pre-flight of an import over the
	// connection (nil: the lookups of Client).
	Preflight func(ctx context.Context, imp importer.Options) (importer.Preflight, error)
}

// Where names the endpoint and account the connection orders at.
func (c *Conn) Where() runstore.Where {
	return runstore.Where{Endpoint: c.Endpoint, Account: c.Account}
}

// EndpointError is a recorded run that orders at another endpoint than the
// connection given to work on it: nothing is sent.
type EndpointError struct {
	Run runstore.Run
	At  runstore.Where
}

func (e *EndpointError) Error() string {
	if e.Run.Endpoint == runstore.EndpointUnknown {
		return fmt.Sprintf("run %s does not record where it ordered", e.Run.ID)
	}
	return fmt.Sprintf("run %s ordered at %s, not at %s", e.Run.ID, e.Run.Where(), e.At)
}

// SameEndpoint returns an *EndpointError unless conn reaches the endpoint
// (and account, when both name one) run ordered at. A run recorded before
// runs named their endpoint is worked on only through a connection the
// caller named explicitly.
func SameEndpoint(run runstore.Run, conn *Conn) error {
	if run.Endpoint == runstore.EndpointUnknown && conn.Explicit {
		return nil
	}
	if run.Endpoint == runstore.EndpointUnknown || !run.Where().Same(conn.Where()) {
		return &EndpointError{Run: run, At: conn.Where()}
	}
	return nil
}

// preflight returns the pre-flight of imp over the connection.
func (c *Conn) preflight(ctx context.Context, imp importer.Options) (importer.Preflight, error) {
	if c.Preflight != nil {
		return c.Preflight(ctx, imp)
	}
	return preflight.New(c.Client), nil
}

// conn returns the prepared run's connection, connecting if need be.
func (prep *Prepared) conn() (*Conn, error) {
	if prep.Conn == nil && prep.connect != nil {
		c, err := prep.connect()
		if err != nil {
			return nil, err
		}
		prep.Conn, prep.connect = c, nil
	}
	if prep.Conn == nil {
		return nil, errors.New("no connection to place the orders through")
	}
	return prep.Conn, nil
}

// Prepare finds or builds the run of a roster, reading it once: the
// roster's identity (its hash and order fields, see importer.Identify)
// names the run recorded already, whose roster is imported without the
// pre-flight; a new run's roster is imported with the pre-flight (unless
// NoPreflight, or there is no connection), which connects when it first
// asks the account something.
func (p *Pipeline) Prepare(ctx context.Context, in Input) (*Prepared, error) {
	prep, err := p.importInput(ctx, &in, false)
	if err != nil {
		return nil, err
	}
	if prep.Existing != nil {
		return prep, nil
	}
	res := prep.Import
	if prep.Conn != nil || prep.connect != nil {
		if _, err := prep.conn(); err != nil {
			return nil, err
		}
	}
	for _, oe := range res.OrderErrors {
		return nil, &OrderFieldError{oe}
	}
	if err := p.open(); err != nil {
		return nil, err
	}
	claims := in.Claims
	if claims == nil {
		claims = p.Store
	}
	r, err := NewRun(res, in.settings(res, prep.Conn), claims)
	if err != nil {
		return nil, err
	}
	r.Run.Job = in.Job
	if !in.ScheduledAt.IsZero() {
		r.Run.ScheduledAt = in.ScheduledAt.UTC()
	}
	prep.New = r
	return prep, nil
}

// imported is an input's roster as PreviewReplace imported it, for
// Prepare to take up rather than read the roster again.
type imported struct {
	res      *importer.Result
	existing *runstore.Run // the run recorded already, if any
	checked  bool          // imported with the pre-flight
	conn     *Conn
}

// importInput identifies the input's roster, finds the run recorded
// already under its id (unless in.New, or with lookup) and imports the
// roster once: without the pre-flight for a recorded run, with it for a
// new one (see checks). An import PreviewReplace made of the same input is
// taken up instead.
func (p *Pipeline) importInput(ctx context.Context, in *Input, lookup bool) (*Prepared, error) {
	in.nameEndpoint()
	prep := &Prepared{Conn: in.Conn, connect: in.Connect, allOrNothing: in.AllOrNothing}
	if pv := in.previewed; pv != nil {
		if pv.conn != nil {
			prep.Conn, prep.connect = pv.conn, nil
		}
		switch {
		case pv.existing != nil && !in.New:
			prep.Import, prep.Existing = pv.res, pv.existing
			return prep, nil
		case pv.existing == nil && pv.checked == in.checks(prep):
			prep.Import = pv.res
			return prep, nil
		}
	}
	run, err := p.identify(ctx, in, prep, lookup || !in.New)
	if err != nil {
		return nil, err
	}
	if run != nil && !in.New {
		prep.Existing = run
		prep.Import, err = p.importRoster(ctx, existingImport(in.Import, run), prep, false)
		return prep, err
	}
	if prep.Import, err = p.importRoster(ctx, in.Import, prep, in.checks(prep)); err != nil {
		return nil, err
	}
	return prep, nil
}

// existingImport is how the roster of run, when it is recorded (not nil),
// is imported: a run with nothing left to send is only shown again, which
// needs the import's counts and row errors but not every visitor
// (importer.Options.CountOnly).
func existingImport(imp importer.Options, run *runstore.Run) importer.Options {
	if run != nil && NothingToSend(*run) {
		imp.CountOnly = true
	}
	return imp
}

// checks reports whether a new run of the input is imported with the
// pre-flight.
func (in *Input) checks(prep *Prepared) bool {
	return !in.NoPreflight && (prep.Conn != nil || prep.connect != nil)
}

// identify reads the roster's identity into in.Import, unless it is there
// already, and, with lookup,
// returns the run recorded under its id, if any. When that run is another
// account's at the same endpoint, this account's run of the roster has an
// id (and references) of its own, which in.Import then names.
func (p *Pipeline) identify(ctx context.Context, in *Input, prep *Prepared, lookup bool) (*runstore.Run, error) {
	if in.Import.Identity == nil {
		id, err := p.reads.identify(in.Import)
		if err != nil {
			// The import says what keeps the roster from being read, as
			// precisely as it always has.
			if _, ierr := p.reads.imp(ctx, in.Import); ierr != nil {
				return nil, ierr
			}
			return nil, err
		}
		in.Import.Identity = &id
	}
	id := in.Import.Identity
	if !lookup {
		return nil, nil
	}
	run, err := p.lookup(id.RunID(in.Import))
	if run == nil || err != nil {
		return nil, err
	}
	if other, err := prep.otherAccount(*run); err != nil || !other {
		return run, err
	}
	in.Import.Endpoint = AccountEndpoint(prep.Conn.Where())
	return p.lookup(id.RunID(in.Import))
}

// lookup returns the run recorded as id, or nil. With no store file at
// StorePath, none is: the store is not made before the roster is read.
func (p *Pipeline) lookup(id string) (*runstore.Run, error) {
	if p.Store == nil && p.StorePath != "" {
		if _, err := os.Stat(p.StorePath); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	if err := p.open(); err != nil {
		return nil, err
	}
	run, err := p.Store.Run(id)
	if errors.Is(err, runstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &run, nil
}

// importRoster imports the roster, with the pre-flight over the prepared
// run's connection when check is set.
func (p *Pipeline) importRoster(ctx context.Context, imp importer.Options, prep *Prepared, check bool) (*importer.Result, error) {
	if !check {
		return p.reads.imp(ctx, imp)
	}
	pf := &lazyPreflight{p: p, prep: prep, imp: imp}
	imp.Preflight = pf
	defer pf.stop()
	return p.reads.imp(ctx, imp)
}

// lazyPreflight is the pre-flight of an import that connects (and starts
// saying when an outage makes its lookups wait) when the import first asks
// it something: a roster the import refuses on its own needs no
// connection.
type lazyPreflight struct {
	p         *Pipeline
	prep      *Prepared
	imp       importer.Options
	pf        importer.Preflight
	stopWatch func()
}

func (l *lazyPreflight) get(ctx context.Context) (importer.Preflight, error) {
	if l.pf != nil {
		return l.pf, nil
	}
	conn, err := l.prep.conn()
	if err != nil {
		return nil, err
	}
	if l.pf, err = conn.preflight(ctx, l.imp); err != nil {
		return nil, err
	}
	// The pre-flight's lookups retry through an outage: say so.
	l.stopWatch = queue.WatchOutage(l.p.RunConfig("", conn.Client), l.p.Logger, nil)
	return l.pf, nil
}

func (l *lazyPreflight) Visitor(ctx context.Context, h *roster.Header, v *roster.Visitor, errs []roster.RowError) ([]roster.RowError, error) {
	pf, err := l.get(ctx)
	if err != nil {
		return errs, err
	}
	return pf.Visitor(ctx, h, v, errs)
}

func (l *lazyPreflight) Contacts(ctx context.Context, of roster.OrderFields) ([]roster.RowError, error) {
	pf, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return pf.Contacts(ctx, of)
}

func (l *lazyPreflight) stop() {
	if l.stopWatch != nil {
		l.stopWatch()
	}
}

// readers is how a Pipeline reads rosters: importer.Identify and
// importer.Import, unless a test counts the reads.
type readers struct {
	identifyFn func(importer.Options) (importer.Identity, error)
	importFn   func(context.Context, importer.Options) (*importer.Result, error)
}

func (r readers) identify(opt importer.Options) (importer.Identity, error) {
	if r.identifyFn != nil {
		return r.identifyFn(opt)
	}
	return importer.Identify(opt)
}

func (r readers) imp(ctx context.Context, opt importer.Options) (*importer.Result, error) {
	if r.importFn != nil {
		return r.importFn(ctx, opt)
	}
	return importer.Import(ctx, opt)
}

// RunEndpoint is what a run id mixes in of where the run orders (see
// importer.Options.Endpoint): nothing for the built-in sandbox, whose run
// ids are the roster's own, else the URL. The account is not mixed in, so
// that a roster checked without logging in (validate) names the run submit
// makes, and run ids recorded before runs named their account stay as
// they were. Only when that id is taken by another account's run at the
// endpoint does the run get an id of its own (AccountEndpoint).
func RunEndpoint(at runstore.Where) string {
	if at.Endpoint == "sandbox" {
		return ""
	}
	return at.Endpoint
}

// AccountEndpoint is what the run id of a roster mixes in when the id
// RunEndpoint gives is taken by another account's run at the endpoint: the
// URL and the account.
func AccountEndpoint(at runstore.Where) string {
	return at.Endpoint + "\x00account\x00" + at.Account
}

// otherAccount reports whether run, recorded for the roster at the same
// endpoint, belongs to another account than the one the connection logs in
// as (connecting to learn it). A run that names no account, or a prepare
// without a connection, cannot tell: the run is worked on (SameEndpoint
// refuses it later if it is another's).
func (prep *Prepared) otherAccount(run runstore.Run) (bool, error) {
	if run.Account == "" || (prep.Conn == nil && prep.connect == nil) {
		return false, nil
	}
	c, err := prep.conn()
	if err != nil {
		return false, err
	}
	return c.Endpoint == run.Endpoint && c.Account != "" && c.Account != run.Account, nil
}

// nameEndpoint gives the import the endpoint of the run, from At or Conn,
// unless the caller named it.
func (in *Input) nameEndpoint() {
	at := in.At
	if in.Conn != nil {
		at = in.Conn.Where()
	}
	if in.Import.Endpoint == "" {
		in.Import.Endpoint = RunEndpoint(at)
	}
}

// settings are what a run of the input records of how it was asked for.
func (in *Input) settings(res *importer.Result, conn *Conn) Settings {
	header := 0
	if res.Header != nil {
		header = res.Header.Row
	}
	at := in.At
	if conn != nil {
		at = conn.Where()
	}
	roster := in.Import.Path
	if abs, err := filepath.Abs(roster); err == nil {
		roster = abs
	}
	return Settings{
		Roster: roster, Sheet: res.Sheet, HeaderRow: header, Order: res.Order, Endpoint: at.Endpoint, Account: at.Account,
		DateOrder: in.Import.Check.DateOrder.String(), Now: in.Now, StartedBy: in.StartedBy,
	}
}

// open opens the store with Open, unless it is open.
func (p *Pipeline) open() error {
	if p.Store != nil {
		return nil
	}
	if p.Open == nil {
		return errors.New("the pipeline has no store")
	}
	st, err := p.Open()
	if err != nil {
		return err
	}
	p.Store, p.opened = st, true
	return nil
}

// Close closes the store if the Pipeline opened it.
func (p *Pipeline) Close() error {
	if p.opened && p.Store != nil {
		p.opened = false
		return p.Store.Close()
	}
	return nil
}

// Record records a new run; nothing is sent. Recording a run recorded
// already changes nothing.
func (p *Pipeline) Record(r *Run) (runstore.Run, error) {
	if _, err := p.Store.CreateRun(r.Run, r.Orders, r.Rows); err != nil {
		return runstore.Run{}, err
	}
	run, err := p.Store.Run(r.Run.ID)
	if err != nil {
		return runstore.Run{}, err
	}
	if p.Hooks.Recorded != nil {
		p.Hooks.Recorded(run)
	}
	return run, nil
}

// Execute runs a prepared roster: it records a new run, then places what
// is left of the run through its connection and finishes it (see Place). A
// run recorded already with nothing left to send is only shown again (see
// Show), and needs no connection.
func (p *Pipeline) Execute(ctx context.Context, prep *Prepared) (*Outcome, error) {
	if prep.Existing != nil && NothingToSend(*prep.Existing) {
		return p.Show(prep.Existing.ID, prep.Import)
	}
	if prep.Existing == nil && prep.allOrNothing && prep.Import.InvalidRows > 0 {
		return nil, fmt.Errorf("%w (%d of %d rows)", ErrNotAll, prep.Import.InvalidRows, prep.Import.Rows)
	}
	conn, err := prep.conn()
	if err != nil {
		return nil, err
	}
	var run runstore.Run
	if prep.Existing != nil {
		run = *prep.Existing
		if err := SameEndpoint(run, conn); err != nil {
			return nil, err
		}
	} else if run, err = p.Record(prep.New); err != nil {
		return nil, err
	}
	return p.Place(ctx, run, conn.Client, prep.Import)
}

// Finished reports whether a run has nothing left to send: done (or
// cancelled), with no order planned or sending.
func Finished(run runstore.Run) bool {
	return (run.State == runstore.RunDone || run.State == runstore.RunCancelled) && Settled(run)
}

// NothingToSend reports whether a run is done with nothing left to send:
// Execute and Resume show it again rather than place it. (A cancelled run
// is placed: nothing is sent, and it is finished again.)
func NothingToSend(run runstore.Run) bool { return run.State == runstore.RunDone && Settled(run) }

// Settled reports whether no order of the run is planned or sending.
func Settled(run runstore.Run) bool {
	return run.Orders[runstore.Planned]+run.Orders[runstore.Sending] == 0
}

// Place submits what is left of a recorded run through client, exactly
// once per order, and finishes it: a run that stops with work left (an
// outage, the context ended) is recorded interrupted, and Outcome.Stopped
// says why; then its report is written and emailed (Finish). A run that
// was finished already (a cancelled one) and sent nothing is shown again
// instead (Show): its report is not emailed twice. The error is for what
// kept the run from being placed or finished at all.
func (p *Pipeline) Place(ctx context.Context, run runstore.Run, client *equinix.Client, imp *importer.Result) (*Outcome, error) {
	wasFinished := Finished(run)
	progress := func(t queue.Tally) {
		if p.Hooks.Progress != nil {
			p.Hooks.Progress(run, t, false)
		}
	}
	cfg := p.RunConfig(run.ID, client)
	cfg.Progress = progress
	progress(queue.TallyOf(run)) // the run is taken up
	tally, err := queue.Submit(ctx, p.Store, run.ID, API{Client: client}, cfg)
	if p.Hooks.Progress != nil {
		p.Hooks.Progress(run, tally, true)
	}
	if err != nil {
		if serr := p.Store.SetRunState(run.ID, runstore.RunInterrupted); serr != nil {
			p.Logger.Error().Err(serr).Str("run", run.ID).Msg("record the run as interrupted")
		}
	}
	if err == nil && wasFinished && tally.Sent == 0 && tally.Lookups == 0 {
		return p.Show(run.ID, imp)
	}
	o, ferr := p.Finish(run.ID, imp)
	if ferr != nil {
		if err != nil {
			return &Outcome{Run: run, Tally: tally, Stopped: err}, nil
		}
		return nil, ferr
	}
	o.Tally, o.Stopped = tally, err
	return o, nil
}

// RunConfig is the queue's configuration of the work on one run through
// client: the Pipeline's concurrency and logger, this package's error
// policy for the Equinix client (Policy) and the client's outage watch,
// adjusted by Tune.
func (p *Pipeline) RunConfig(runID string, client *equinix.Client) queue.RunConfig {
	cfg := queue.RunConfig{
		Concurrency: p.Concurrency,
		Policy:      Policy,
		Outage:      client.Outage,
		Logger:      p.Logger,
	}
	if runID != "" {
		cfg.Logger = p.Logger.With().Str("run", runID).Logger()
	}
	if p.Tune != nil {
		p.Tune(&cfg)
	}
	return cfg
}

// Cancel cancels every order of a recorded run through client, with
// reason (each order recorded cancelling before it is asked for, never
// twice), and finishes the run: its report is written and emailed.
// Outcome.Stopped says why cancelling stopped with orders left; the run is
// then not finished again (cancelling it again carries on).
func (p *Pipeline) Cancel(ctx context.Context, runID string, client *equinix.Client, reason string) (*Outcome, error) {
	tally, err := queue.Cancel(ctx, p.Store, runID, API{Client: client}, reason, p.RunConfig(runID, client))
	if err != nil {
		return &Outcome{Run: runstore.Run{ID: runID}, Tally: tally, Stopped: err}, nil
	}
	o, err := p.FinishCancel(runID, reason)
	if err != nil {
		return nil, err
	}
	o.Tally = tally
	return o, nil
}

// Resume carries on with a recorded run: one with nothing left to send is
// shown again (Show); otherwise connect is called for the connection to
// place the rest through, and the run is placed and finished (Place).
func (p *Pipeline) Resume(ctx context.Context, run runstore.Run, connect func() (*Conn, error), imp *importer.Result) (*Outcome, error) {
	if NothingToSend(run) {
		return p.Show(run.ID, imp)
	}
	conn, err := connect()
	if err != nil {
		return nil, err
	}
	if err := SameEndpoint(run, conn); err != nil {
		return nil, err
	}
	return p.Place(ctx, run, conn.Client, imp)
}
