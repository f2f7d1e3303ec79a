package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// runInfo is what the runs list shows of a run.
type runInfo struct {
	runstore.Run
	Name      string
	Endpoint  string
	StartedBy string
	Reference string
	Ordered   int
	Total     int
}

// runSettings reads what the runs list needs from a run's settings; a
// record it cannot read shows blanks.
func runSettings(run runstore.Run) (endpoint, who, prefix string) {
	var st struct {
		Endpoint  string             `json:"endpoint"`
		StartedBy string             `json:"started_by"`
		User      string             `json:"user"`
		Order     roster.OrderFields `json:"order"`
	}
	if len(run.Settings) > 0 && json.Unmarshal(run.Settings, &st) == nil {
		who = st.StartedBy
		if who == "" {
			who = st.User
		}
		return st.Endpoint, who, st.Order.ReferencePrefix
	}
	return "", "", ""
}

func newRunInfo(run runstore.Run) runInfo {
	ri := runInfo{Run: run, Name: filepath.Base(run.File)}
	ri.Endpoint, ri.StartedBy, ri.Reference = runSettings(run)
	if run.Job != "" && ri.StartedBy == "" {
		ri.StartedBy = "job " + run.Job
	}
	for k, n := range run.Rows {
		ri.Total += n
		if k == runstore.RowOrdered || k == runstore.RowAlreadyOrdered {
			ri.Ordered += n
		}
	}
	return ri
}

type runsFilter struct {
	Endpoint, State, Who, Q string
}

type runsData struct {
	Filter    runsFilter
	Runs      []runInfo
	Endpoints []string
	States    []string
	Whos      []string
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, u *user) {
	q := r.URL.Query()
	f := runsFilter{Endpoint: q.Get("endpoint"), State: q.Get("state"), Who: q.Get("who"), Q: strings.TrimSpace(q.Get("q"))}
	data := runsData{Filter: f}
	err := s.store.with(r.Context(), func(st *runstore.Store) error {
		runs, err := st.Runs()
		if err != nil {
			return err
		}
		slices.SortStableFunc(runs, func(a, b runstore.Run) int { return b.CreatedAt.Compare(a.CreatedAt) })
		seen := map[string]map[string]bool{"e": {}, "s": {}, "w": {}}
		for _, run := range runs {
			ri := newRunInfo(run)
			for k, v := range map[string]string{"e": ri.Endpoint, "s": string(ri.State), "w": ri.StartedBy} {
				if v != "" && !seen[k][v] {
					seen[k][v] = true
					switch k {
					case "e":
						data.Endpoints = append(data.Endpoints, v)
					case "s":
						data.States = append(data.States, v)
					case "w":
						data.Whos = append(data.Whos, v)
					}
				}
			}
			if f.Endpoint != "" && ri.Endpoint != f.Endpoint || f.State != "" && string(ri.State) != f.State || f.Who != "" && ri.StartedBy != f.Who {
				continue
			}
			if f.Q != "" && !matchRun(st, ri, f.Q) {
				continue
			}
			data.Runs = append(data.Runs, ri)
		}
		return nil
	})
	if err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	for _, l := range [][]string{data.Endpoints, data.States, data.Whos} {
		slices.Sort(l)
	}
	s.render(w, r, http.StatusOK, "runs", page{Title: "Runs", User: u, Data: data})
}

// matchRun tells whether a run matches a search: its id, roster name or
// reference prefix holds the text, or one of its orders has it as id.
func matchRun(st *runstore.Store, ri runInfo, q string) bool {
	lq := strings.ToLower(q)
	for _, s := range []string{ri.ID, ri.Name, ri.Reference} {
		if s != "" && strings.Contains(strings.ToLower(s), lq) {
			return true
		}
	}
	orders, err := st.Orders(ri.ID)
	if err != nil {
		return false
	}
	for _, o := range orders {
		if o.OrderID != "" && strings.EqualFold(o.OrderID, q) || strings.Contains(strings.ToLower(o.Reference), lq) {
			return true
		}
	}
	return false
}

// runFiles are a run's report files that exist.
type runFiles struct {
	Workbook, Errors, Summary string
}

// findRunFiles finds a run's report files: those the store recorded, else
// those in reports/<run> beside the store. Names only: a download is named
// by its kind, never by a path from the request.
func (s *Server) findRunFiles(run runstore.Run) runFiles {
	var paths []string
	if rec := run.Report; rec != nil && len(rec.Files) > 0 {
		paths = rec.Files
	} else {
		dir := submit.ReportDirIn(s.cfg.DataDir, run.ID)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	var f runFiles
	for _, p := range paths {
		n := filepath.Base(p)
		switch {
		case strings.HasSuffix(n, "-report.xlsx"):
			f.Workbook = p
		case strings.HasSuffix(n, "-errors.csv"):
			f.Errors = p
		case n == "summary.json":
			f.Summary = p
		}
	}
	return f
}

type runData struct {
	Info     runInfo
	Sum      *report.RunSummary
	Files    runFiles
	Progress *Progress
	// CanOrder tells that the server can cancel, reschedule and resend;
	// Cancellable lists the placed orders' ids.
	CanOrder    bool
	Cancellable []string
}

func (s *Server) loadRun(r *http.Request, id string) (runData, error) {
	var d runData
	if !runIDPattern.MatchString(id) {
		return d, runstore.ErrNotFound
	}
	var run runstore.Run
	err := s.store.with(r.Context(), func(st *runstore.Store) (err error) {
		if run, err = st.Run(id); err != nil {
			return err
		}
		orders, err := st.Orders(id)
		if err != nil {
			return err
		}
		var rows []runstore.RowOutcome
		if err := st.Rows(id, func(ro runstore.RowOutcome) error { rows = append(rows, ro); return nil }); err != nil {
			return err
		}
		d.Info = newRunInfo(run)
		d.Sum = report.NewRunSummary(run, orders, rows, nil)
		d.Sum.AddRows(rows)
		as, err := st.Amendments(id)
		if err != nil {
			return err
		}
		d.Sum.AddAmendments(as)
		return nil
	})
	d.Files = s.findRunFiles(run)
	return d, err
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, u *user) {
	d, err := s.loadRun(r, r.PathValue("id"))
	if errors.Is(err, runstore.ErrNotFound) {
		s.fail(w, r, u, http.StatusNotFound, "there is no run "+r.PathValue("id"), "the runs page lists them")
		return
	}
	if err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	s.render(w, r, http.StatusOK, "run", page{Title: "Run " + d.Info.ID, User: u, Data: s.withProgress(r, d)})
}

// runFilesOr404 returns the run the request names and its report files,
// or answers 404.
func (s *Server) runFilesOr404(w http.ResponseWriter, r *http.Request, u *user) (string, runFiles, bool) {
	id := r.PathValue("id")
	d, err := s.loadRun(r, id)
	if err != nil {
		s.fail(w, r, u, http.StatusNotFound, "there is no run "+id, "the runs page lists them")
		return "", runFiles{}, false
	}
	return id, d.Files, true
}

// runFile sends one of a run's report files: kind is report, errors or
// summary, never a path.
func (s *Server) runFile(w http.ResponseWriter, r *http.Request, u *user) {
	id, f, ok := s.runFilesOr404(w, r, u)
	if !ok {
		return
	}
	var path string
	switch r.PathValue("kind") {
	case "report":
		path = f.Workbook
	case "errors":
		path = f.Errors
	case "summary":
		path = f.Summary
	}
	if path == "" {
		s.fail(w, r, u, http.StatusNotFound, "the run has no such report file", "an administrator can write it again with wvbatch report "+id)
		return
	}
	sendFile(w, r, path, filepath.Base(path))
}

// draftFromRun starts a draft from a run's report workbook, to fix its
// flagged rows and order again what is left.
func (s *Server) draftFromRun(w http.ResponseWriter, r *http.Request, u *user) {
	id, f, ok := s.runFilesOr404(w, r, u)
	if !ok {
		return
	}
	if f.Workbook == "" {
		s.fail(w, r, u, http.StatusNotFound, "the run has no report workbook", "write it with wvbatch report "+id)
		return
	}
	name, err := uploadName(filepath.Base(f.Workbook))
	if err != nil {
		name = "report.xlsx"
	}
	d := &draft{ID: newDraftID(), Owner: u.Name, Name: name, Created: time.Now().UTC(), FromRun: id}
	if err := os.MkdirAll(s.draftDir(d.ID), 0o700); err != nil {
		s.fail(w, r, u, http.StatusInternalServerError, err.Error(), "")
		return
	}
	src := f.Workbook
	err = copyPath(s.originalPath(d), src)
	if err == nil {
		err = copyPath(s.correctedPath(d), src)
	}
	if err == nil {
		err = s.saveDraft(d)
	}
	if err != nil {
		os.RemoveAll(s.draftDir(d.ID))
		s.fail(w, r, u, http.StatusInternalServerError, err.Error(), "")
		return
	}
	http.Redirect(w, r, "/drafts/"+d.ID, http.StatusSeeOther)
}
