package scheduler

import (
	"context"
	"os"
	"time"
)

// NextRuns returns each job's next scheduled time as the scheduler sees it
// now: after the last time it handled, or after now for a job it has not
// decided yet.
func (s *Scheduler) NextRuns() map[string]time.Time {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time, len(s.jobs))
	for i := range s.jobs {
		j := &s.jobs[i]
		from := now
		if st, ok := s.known[j.Name]; ok {
			from = baseline(st, now)
		}
		out[j.Name] = j.Schedule.Next(from)
	}
	return out
}

// ReloadOn reads the jobs file at path again each time sig delivers
// (SIGHUP), until ctx ends. A file that is not valid is logged, and the
// jobs already loaded carry on.
func (s *Scheduler) ReloadOn(ctx context.Context, sig <-chan os.Signal, path string) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			jobs, err := LoadFile(path)
			if err != nil {
				s.cfg.Logger.Error().Err(err).Msg("reload: the jobs file is not valid; the jobs already loaded carry on")
				continue
			}
			s.Reload(jobs)
			s.cfg.Logger.Info().Int("jobs", len(jobs)).Str("file", path).Msg("reloaded the jobs file")
		}
	}
}
