package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// Scheduler is the scheduler daemon the server runs beside the page
// (serve --jobs); *scheduler.Scheduler is one.
type Scheduler interface {
	// Jobs are the jobs loaded now.
	Jobs() []scheduler.Job
	// RunOnce runs a job for the scheduled time at, as `wvbatch schedule
	// run-now` does: a run made for that time already is resumed or
	// reported, never made again.
	RunOnce(ctx context.Context, job string, at time.Time) (scheduler.Result, error)
}

// AttachScheduler shows the daemon's jobs on the Schedules page; call it
// before Start.
func (s *Server) AttachScheduler(sch Scheduler) { s.cfg.Scheduler = sch }

// OpenStore gives the scheduler daemon the server's store, opened while
// someone uses it; CloseStore lets go of it. A store another process holds
// for longer than the server waits is an error matching
// runstore.ErrStoreBusy, which the daemon retries.
func (s *Server) OpenStore() (*runstore.Store, error) {
	st, err := s.store.acquire(context.Background())
	if errors.Is(err, errStoreBusy) {
		return nil, fmt.Errorf("%w: %w", runstore.ErrStoreBusy, err)
	}
	return st, err
}

// CloseStore lets go of a store OpenStore returned.
func (s *Server) CloseStore(*runstore.Store) error {
	s.store.release()
	return nil
}

type jobView struct {
	Job      *scheduler.Job
	Zone     string
	Next     []time.Time
	State    runstore.JobState
	HasState bool
}

type schedulesData struct {
	Jobs []jobView
	Now  time.Time
}

func (s *Server) schedulesPage(w http.ResponseWriter, r *http.Request, u *user) {
	s.showSchedules(w, r, u, http.StatusOK, "", "", "")
}

func (s *Server) showSchedules(w http.ResponseWriter, r *http.Request, u *user, status int, notice, msg, hint string) {
	if s.cfg.Scheduler == nil {
		s.fail(w, r, u, http.StatusNotFound, "this server runs no scheduler", "start it with wvbatch serve --jobs jobs.yaml")
		return
	}
	jobs := s.cfg.Scheduler.Jobs()
	states := map[string]runstore.JobState{}
	err := s.store.with(r.Context(), func(st *runstore.Store) error {
		all, err := st.JobStates()
		for _, js := range all {
			states[js.Job] = js
		}
		return err
	})
	if err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	now := s.cfg.Now()
	data := schedulesData{Now: now}
	for i := range jobs {
		j := &jobs[i]
		v := jobView{Job: j, Zone: j.Schedule.Location().String()}
		v.State, v.HasState = states[j.Name]
		from := now
		if v.State.LastScheduled.After(from) {
			from = v.State.LastScheduled
		}
		for t := from; len(v.Next) < 3; {
			t = j.Schedule.Next(t)
			if t.IsZero() {
				break
			}
			v.Next = append(v.Next, t)
		}
		data.Jobs = append(data.Jobs, v)
	}
	s.render(w, r, status, "schedules", page{Title: "Schedules", User: u, Notice: notice, Error: msg, Hint: hint, Data: data})
}

// runNow starts a job at once, for the current minute; only an
// administrator may. The run goes on in the background, under the
// server's lifetime; the schedules page shows its outcome.
func (s *Server) runNow(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Scheduler == nil {
		s.fail(w, r, u, http.StatusNotFound, "this server runs no scheduler", "start it with wvbatch serve --jobs jobs.yaml")
		return
	}
	job := r.PathValue("job")
	if !slices.ContainsFunc(s.cfg.Scheduler.Jobs(), func(j scheduler.Job) bool { return j.Name == job }) {
		s.showSchedules(w, r, u, http.StatusNotFound, "", "there is no job "+job, "")
		return
	}
	at := s.cfg.Now().UTC().Truncate(time.Minute)
	rs := &s.runs
	rs.mu.Lock()
	ctx := rs.ctx
	if ctx != nil {
		rs.wg.Add(1)
	}
	rs.mu.Unlock()
	if ctx == nil {
		s.fail(w, r, u, http.StatusServiceUnavailable, "the server is not started", "")
		return
	}
	s.cfg.Audit.Info().Str("audit", "run-now").Str("user", u.Name).Str("job", job).Time("scheduled", at).Msg("job started from the web page")
	go func() {
		defer rs.wg.Done()
		res, err := s.cfg.Scheduler.RunOnce(ctx, job, at)
		if err == nil {
			err = res.Err
		}
		s.cfg.Log.Info().Str("job", job).Str("run", res.RunID).Str("outcome", res.Outcome).AnErr("error", err).Msg("run-now from the web page ended")
	}()
	s.showSchedules(w, r, u, http.StatusOK, "job "+job+" started for "+at.Format("2006-01-02 15:04 UTC")+": its outcome shows here when it ends", "", "")
}
