package web

import (
	"context"
	"net/http"
	"time"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// Scheduler is the scheduler daemon the server runs beside the page
// (serve --jobs).
type Scheduler interface {
	// Jobs are the jobs loaded now.
	Jobs() []scheduler.Job
	// RunNow runs a job at once for the current minute, as `wvbatch
	// schedule run-now` does, and returns the run's id.
	RunNow(ctx context.Context, job string) (string, error)
}

type jobView struct {
	Job      *scheduler.Job
	Zone     string
	Next     []time.Time
	State    queue.JobState
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
	states := map[string]queue.JobState{}
	err := s.store.with(r.Context(), func(st *queue.Store) error {
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

// runNow starts a job at once; only an administrator may.
func (s *Server) runNow(w http.ResponseWriter, r *http.Request, u *user) {
	if s.cfg.Scheduler == nil {
		s.fail(w, r, u, http.StatusNotFound, "this server runs no scheduler", "start it with wvbatch serve --jobs jobs.yaml")
		return
	}
	job := r.PathValue("job")
	id, err := s.cfg.Scheduler.RunNow(r.Context(), job)
	s.cfg.Audit.Info().Str("audit", "run-now").Str("user", u.Name).Str("job", job).Str("run", id).AnErr("error", err).Msg("job run from the web page")
	if err != nil {
		s.showSchedules(w, r, u, http.StatusBadGateway, "", "job "+job+" did not run: "+err.Error(), "the server's log says more")
		return
	}
	http.Redirect(w, r, "/runs/"+id, http.StatusSeeOther)
}
