package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Orderer is the run pipeline, as the web page calls it: the same steps
// `wvbatch submit`, `resume`, `cancel`, `reschedule` and `report --send`
// take. The web page asks its own question (a confirmation page) between
// Prepare and Execute, and shows progress as Execute reports it.
type Orderer interface {
	// Prepare reads and checks the roster and builds its run against the
	// server's endpoint, recording and sending nothing.
	Prepare(ctx context.Context, st *runstore.Store, req OrderRequest) (*Prepared, error)
	// Execute records the prepared run (or resumes the recorded one) and
	// places its orders, then writes the report and sends the email.
	Execute(ctx context.Context, st *runstore.Store, p *Prepared, progress func(queue.Tally)) error
	// Resume finishes a recorded run as `wvbatch resume` does.
	Resume(ctx context.Context, st *runstore.Store, runID string, progress func(queue.Tally)) error
	// Cancel cancels the run's orders with these Equinix order ids (every
	// placed order when ids is empty).
	Cancel(ctx context.Context, st *runstore.Store, runID string, orderIDs []string, reason, who string) error
	// Reschedule shifts the windows of the run's placed orders.
	Reschedule(ctx context.Context, st *runstore.Store, runID string, shift time.Duration, who string) error
	// Resend emails the run's report again.
	Resend(ctx context.Context, st *runstore.Store, runID, who string) error
}

// OrderRequest is what the page asks the pipeline to prepare.
type OrderRequest struct {
	// Roster is the corrected roster's path; Name its name as the user
	// knows it.
	Roster, Name string
	// Order holds the form's order-level fields; each non-empty one wins
	// over the roster's Order sheet.
	Order     roster.OrderFields
	Check     roster.CheckConfig
	StartedBy string
}

// Prepared is a run ready to be placed, and what the confirmation says
// of it.
type Prepared struct {
	RunID    string
	Endpoint string
	// Existing is set when the run is recorded already: Execute resumes it.
	Existing bool
	State    string
	// Orders and Visitors (roster rows, each counted once) are what
	// Execute will place; IBXs where.
	Orders, Visitors int
	IBXs             []string
	// InvalidRows will not be ordered; AlreadyOrdered visitors were ordered
	// by earlier runs and are left out.
	InvalidRows, AlreadyOrdered int
	// Recipients get the run's report by email.
	Recipients []string
	// Problems stop the order: contacts the account does not know, or
	// settings the pipeline refuses.
	Problems []roster.RowError
	// Pipeline is the pipeline's own state between Prepare and Execute.
	Pipeline any
}

// Progress is what the live view shows of a run under way.
type Progress struct {
	Run      string  `json:"run"`
	Total    int     `json:"total"`
	Placed   int     `json:"placed"`
	Rejected int     `json:"rejected"`
	Done     int     `json:"done"`
	Retries  int     `json:"retries"`
	Rate     float64 `json:"rate"`   // orders done per second
	Left     float64 `json:"left_s"` // seconds left, 0 when unknown
	State    string  `json:"state"`  // running, finished, stopped, elsewhere
	Error    string  `json:"error,omitempty"`
}

// liveRun is a run this server is placing.
type liveRun struct {
	mu      sync.Mutex
	p       Progress
	start   time.Time
	startN  int
	changed chan struct{} // closed and replaced at every change
	// ready is closed once the run is recorded (its first tally) or ended.
	ready     chan struct{}
	readyOnce sync.Once
}

func newLiveRun(id string) *liveRun {
	return &liveRun{p: Progress{Run: id, State: "running"}, start: time.Now(), startN: -1,
		changed: make(chan struct{}), ready: make(chan struct{})}
}

func (l *liveRun) update(t queue.Tally, state, errText string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.Orders > 0 || state != "" {
		l.readyOnce.Do(func() { close(l.ready) })
	}
	if t.Orders > 0 {
		done := t.Submitted + t.Rejected + t.Cancelled
		if l.startN < 0 {
			l.startN, l.start = done, time.Now()
		}
		l.p.Total, l.p.Placed, l.p.Rejected, l.p.Done, l.p.Retries = t.Orders, t.Submitted, t.Rejected, done, t.Retries
		if el := time.Since(l.start).Seconds(); el > 0.5 && done > l.startN {
			l.p.Rate = float64(done-l.startN) / el
			l.p.Left = float64(t.Orders-done) / l.p.Rate
		}
	}
	if state != "" {
		l.p.State, l.p.Error = state, errText
		if state != "running" {
			l.p.Left = 0
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *liveRun) snapshot() (Progress, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p, l.changed
}

// runs holds the runs this server is placing, and its lifetime.
type runs struct {
	mu   sync.Mutex
	ctx  context.Context
	live map[string]*liveRun
	wg   sync.WaitGroup
}

func (rs *runs) get(id string) *liveRun {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.live[id]
}

// start runs fn for run id in the background, under the server's lifetime,
// with the store held all along, unless the run is under way already.
func (s *Server) startRun(id string, fn func(ctx context.Context, st *runstore.Store, progress func(queue.Tally)) error) (bool, error) {
	rs := &s.runs
	rs.mu.Lock()
	if rs.ctx == nil {
		rs.mu.Unlock()
		return false, errors.New("the server is not started")
	}
	if l := rs.live[id]; l != nil {
		if p, _ := l.snapshot(); p.State == "running" {
			rs.mu.Unlock()
			return false, nil
		}
	}
	if rs.live == nil {
		rs.live = map[string]*liveRun{}
	}
	l := newLiveRun(id)
	rs.live[id] = l
	ctx := rs.ctx
	rs.wg.Add(1)
	rs.mu.Unlock()
	go func() {
		defer rs.wg.Done()
		st, err := s.store.acquire(ctx)
		if err != nil {
			l.update(queue.Tally{}, "stopped", err.Error())
			return
		}
		defer s.store.release()
		if run, err := st.Run(id); err == nil {
			l.update(queue.TallyOf(run), "", "")
		}
		err = fn(ctx, st, func(t queue.Tally) { l.update(t, "", "") })
		final := queue.Tally{}
		if run, rerr := st.Run(id); rerr == nil {
			final = queue.TallyOf(run)
		}
		switch {
		case err == nil:
			l.update(final, "finished", "")
		default:
			s.cfg.Log.Warn().Err(err).Str("run", id).Msg("run stopped")
			l.update(final, "stopped", err.Error())
		}
	}()
	// The run's page needs the run recorded: wait for that (or the end).
	select {
	case <-l.ready:
	case <-time.After(30 * time.Second):
	}
	return true, nil
}

// Start lets the server place orders until ctx ends, and resumes the runs
// it started that a stop left unfinished, as `wvbatch resume` does.
func (s *Server) Start(ctx context.Context) {
	s.runs.mu.Lock()
	s.runs.ctx = ctx
	s.runs.mu.Unlock()
	s.runs.wg.Add(1)
	go func() {
		defer s.runs.wg.Done()
		for {
			s.pruneUploads(s.cfg.Now())
			select {
			case <-ctx.Done():
				return
			case <-time.After(6 * time.Hour):
			}
		}
	}()
	if s.cfg.Orderer == nil {
		return
	}
	for _, d := range s.orderedDrafts() {
		var run runstore.Run
		err := s.store.with(ctx, func(st *runstore.Store) (err error) { run, err = st.Run(d.RunID); return err })
		if err != nil || run.State == runstore.RunDone || run.State == runstore.RunCancelled {
			continue
		}
		s.cfg.Log.Info().Str("run", d.RunID).Msg("resuming a run the server started")
		s.cfg.Audit.Info().Str("audit", "resume").Str("run", d.RunID).Str("user", d.OrderedBy).Msg("run resumed after a restart")
		id := d.RunID
		s.startRun(id, func(ctx context.Context, st *runstore.Store, progress func(queue.Tally)) error {
			return s.cfg.Orderer.Resume(ctx, st, id, progress)
		})
	}
}

// Wait waits for the runs under way to record their state after the
// server's context ended.
func (s *Server) Wait() { s.runs.wg.Wait() }

// orderedDrafts are the drafts this server has ordered.
func (s *Server) orderedDrafts() []*draft {
	paths, _ := filepath.Glob(filepath.Join(s.cfg.DataDir, "uploads", "*", "draft.json"))
	var out []*draft
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var d draft
		if json.Unmarshal(b, &d) == nil && d.RunID != "" && draftIDPattern.MatchString(d.ID) {
			out = append(out, &d)
		}
	}
	return out
}

func (s *Server) orderRequest(d *draft, u *user) OrderRequest {
	req := OrderRequest{Roster: s.correctedPath(d), Name: d.Name, Check: s.cfg.Check(), StartedBy: u.Name}
	if d.Fields != nil {
		req.Order = *d.Fields
	}
	return req
}

type confirmData struct {
	Draft *draft
	P     *Prepared
}

// confirm prepares the run and asks the question: what will and will not
// happen.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Orderer == nil {
		s.notYet(w, r, u)
		return
	}
	d, ok := s.draftOr404(w, r, u)
	if !ok {
		return
	}
	p, ok := s.prepare(w, r, u, d)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "confirm", page{Title: "Order " + d.Name, User: u, Data: confirmData{Draft: d, P: p}})
}

// prepare prepares the draft's run in the store; on failure it has answered
// the request and reports false.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request, u *user, d *draft) (*Prepared, bool) {
	var p *Prepared
	err := s.store.with(r.Context(), func(st *runstore.Store) (err error) {
		p, err = s.cfg.Orderer.Prepare(r.Context(), st, s.orderRequest(d, u))
		return err
	})
	if err != nil {
		s.prepareFail(w, r, u, d, err)
		return nil, false
	}
	return p, true
}

func (s *Server) prepareFail(w http.ResponseWriter, r *http.Request, u *user, d *draft, err error) {
	var fe *roster.FileError
	switch {
	case errors.As(err, &fe):
		s.checkFail(w, r, u, d, err)
	case errors.Is(err, errStoreBusy):
		s.storeFail(w, r, u, err)
	default:
		s.showDraft(w, r, u, d, http.StatusBadGateway, "the run could not be prepared: "+err.Error(),
			"check the server's Equinix credentials and try again")
	}
}

// order places the run the user confirmed: prepared again, it must be the
// very run of the confirmation (same roster, settings and endpoint).
func (s *Server) order(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Orderer == nil {
		s.notYet(w, r, u)
		return
	}
	unlock := s.drafts.lock(r.PathValue("id"))
	defer unlock()
	d, ok := s.draftOr404(w, r, u)
	if !ok {
		return
	}
	confirmed := r.PostFormValue("run")
	p, ok := s.prepare(w, r, u, d)
	if !ok {
		return
	}
	if p.RunID != confirmed {
		s.showDraft(w, r, u, d, http.StatusConflict, "the roster or its settings changed since you confirmed: nothing was ordered",
			"look at the check again and press Order once more")
		return
	}
	if len(p.Problems) > 0 {
		s.showDraft(w, r, u, d, http.StatusUnprocessableEntity, "the order cannot be placed: "+p.Problems[0].Message, p.Problems[0].Hint)
		return
	}
	d.RunID, d.OrderedBy, d.OrderedAt = p.RunID, u.Name, s.cfg.Now().UTC()
	if err := s.saveDraft(d); err != nil {
		s.fail(w, r, u, http.StatusInternalServerError, "cannot record the order: "+err.Error(), "")
		return
	}
	started, err := s.startRun(p.RunID, func(ctx context.Context, st *runstore.Store, progress func(queue.Tally)) error {
		return s.cfg.Orderer.Execute(ctx, st, p, progress)
	})
	if err != nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, err.Error(), "try again in a moment")
		return
	}
	if started {
		s.cfg.Audit.Info().Str("audit", "order").Str("user", u.Name).Str("run", p.RunID).Str("endpoint", p.Endpoint).
			Int("orders", p.Orders).Int("visitors", p.Visitors).Bool("resumed", p.Existing).Str("roster", d.Name).Msg("orders placed from the web page")
	}
	http.Redirect(w, r, "/runs/"+p.RunID, http.StatusSeeOther)
}

// progress returns the progress of a run: live when this server places
// it, else as the store has it.
func (s *Server) progress(ctx context.Context, id string) (Progress, <-chan struct{}, error) {
	if l := s.runs.get(id); l != nil {
		p, ch := l.snapshot()
		return p, ch, nil
	}
	var run runstore.Run
	err := s.store.with(ctx, func(st *runstore.Store) (err error) { run, err = st.Run(id); return err })
	if err != nil {
		return Progress{}, nil, err
	}
	t := queue.TallyOf(run)
	p := Progress{Run: id, Total: t.Orders, Placed: t.Submitted, Rejected: t.Rejected, Done: t.Submitted + t.Rejected + t.Cancelled}
	switch run.State {
	case runstore.RunDone, runstore.RunCancelled:
		p.State = "finished"
	case runstore.RunInterrupted:
		p.State = "stopped"
	default:
		p.State = "elsewhere"
	}
	return p, nil, nil
}

// events streams a run's progress as server-sent events until it ends or
// the page goes away; a page that reloads just asks again.
func (s *Server) events(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.PathValue("id")
	if !runIDPattern.MatchString(id) {
		http.NotFound(w, r)
		return
	}
	if _, _, err := s.progress(r.Context(), id); err != nil {
		if errors.Is(err, runstore.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// A page whose stream ends (the server stops) asks again a second later:
	// a restarted server resumes the run and goes on telling.
	fmt.Fprint(w, "retry: 1000\n\n")
	flusher.Flush()
	s.runs.mu.Lock()
	var stopping <-chan struct{}
	if s.runs.ctx != nil {
		stopping = s.runs.ctx.Done()
	}
	s.runs.mu.Unlock()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	var last []byte
	for {
		p, changed, err := s.progress(r.Context(), id)
		if err != nil {
			return
		}
		b, _ := json.Marshal(p)
		if string(b) != string(last) {
			fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b)
			flusher.Flush()
			last = b
		}
		// Only a finished run ends the stream: a stopped one may be resumed
		// (by this server when it starts again, or by the CLI).
		if p.State == "finished" {
			fmt.Fprintf(w, "event: end\ndata: %s\n\n", b)
			flusher.Flush()
			return
		}
		// At most four updates a second, however fast orders go.
		select {
		case <-r.Context().Done():
			return
		case <-stopping:
			return
		case <-time.After(250 * time.Millisecond):
		}
		select {
		case <-r.Context().Done():
			return
		case <-stopping:
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// cancelOrders cancels the orders picked on the run page, with a reason.
func (s *Server) cancelOrders(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Orderer == nil {
		s.notYet(w, r, u)
		return
	}
	id := r.PathValue("id")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	ids := r.PostForm["order"]
	if reason == "" || len(reason) > 500 {
		s.runAction(w, r, u, id, http.StatusBadRequest, "", "say why the orders are cancelled (at most 500 characters)", "Equinix keeps the reason with each order")
		return
	}
	if len(ids) == 0 {
		s.runAction(w, r, u, id, http.StatusBadRequest, "", "pick the orders to cancel", "tick them in the orders table")
		return
	}
	err := s.store.with(r.Context(), func(st *runstore.Store) error {
		return s.cfg.Orderer.Cancel(r.Context(), st, id, ids, reason, u.Name)
	})
	s.cfg.Audit.Info().Str("audit", "cancel").Str("user", u.Name).Str("run", id).Strs("orders", ids).Str("reason", reason).AnErr("error", err).Msg("orders cancelled from the web page")
	if err != nil {
		s.runAction(w, r, u, id, http.StatusBadGateway, "", "the cancel did not finish: "+err.Error(), "press Cancel again: orders cancelled already are not sent again")
		return
	}
	s.runAction(w, r, u, id, http.StatusOK, fmt.Sprintf("cancelled %d %s", len(ids), map[bool]string{true: "order", false: "orders"}[len(ids) == 1]), "", "")
}

// reschedule shifts the run's placed orders by the duration given.
func (s *Server) reschedule(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Orderer == nil {
		s.notYet(w, r, u)
		return
	}
	id := r.PathValue("id")
	shift, err := time.ParseDuration(strings.TrimSpace(r.PostFormValue("shift")))
	if err != nil || shift == 0 || shift%time.Minute != 0 {
		s.runAction(w, r, u, id, http.StatusBadRequest, "", "the shift is not a whole number of minutes, hours or days", "write it like 2h, -30m or 48h")
		return
	}
	err = s.store.with(r.Context(), func(st *runstore.Store) error {
		return s.cfg.Orderer.Reschedule(r.Context(), st, id, shift, u.Name)
	})
	s.cfg.Audit.Info().Str("audit", "reschedule").Str("user", u.Name).Str("run", id).Dur("shift", shift).AnErr("error", err).Msg("orders rescheduled from the web page")
	var refused *runstore.RefusedError
	if errors.As(err, &refused) || errors.Is(err, runstore.ErrAmendRepeated) || errors.Is(err, runstore.ErrAmendUnfinished) {
		s.runAction(w, r, u, id, http.StatusBadRequest, "", "nothing was sent: "+err.Error(), "change the shift, or finish the earlier change with wvbatch amend "+id)
		return
	}
	if err != nil {
		s.runAction(w, r, u, id, http.StatusBadGateway, "", "the reschedule did not finish: "+err.Error(), "press Reschedule again: it goes on where it stopped")
		return
	}
	s.runAction(w, r, u, id, http.StatusOK, "rescheduled by "+shift.String(), "", "")
}

// resend emails the run's report again.
func (s *Server) resend(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Orderer == nil {
		s.notYet(w, r, u)
		return
	}
	id := r.PathValue("id")
	err := s.store.with(r.Context(), func(st *runstore.Store) error { return s.cfg.Orderer.Resend(r.Context(), st, id, u.Name) })
	s.cfg.Audit.Info().Str("audit", "resend").Str("user", u.Name).Str("run", id).AnErr("error", err).Msg("report sent again from the web page")
	if err != nil {
		s.runAction(w, r, u, id, http.StatusBadGateway, "", "the report was not sent: "+err.Error(), "check the server's SMTP settings")
		return
	}
	s.runAction(w, r, u, id, http.StatusOK, "the report was sent again", "", "")
}

// runAction shows the run page after an action.
func (s *Server) runAction(w http.ResponseWriter, r *http.Request, u *user, id string, status int, notice, msg, hint string) {
	d, err := s.loadRun(r, id)
	if errors.Is(err, runstore.ErrNotFound) {
		s.fail(w, r, u, http.StatusNotFound, "there is no run "+id, "the runs page lists them")
		return
	}
	if err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	s.render(w, r, status, "run", page{Title: "Run " + id, User: u, Notice: notice, Error: msg, Hint: hint, Data: s.withProgress(r, d)})
}

func (s *Server) withProgress(r *http.Request, d runData) runData {
	if p, _, err := s.progress(r.Context(), d.Info.ID); err == nil {
		d.Progress = &p
	}
	d.CanOrder = s.cfg.Orderer != nil
	for _, o := range d.Sum.OrderList {
		if o.OrderID != "" && o.State == string(runstore.Submitted) {
			d.Cancellable = append(d.Cancellable, o.OrderID)
		}
	}
	slices.Sort(d.Cancellable)
	return d
}
