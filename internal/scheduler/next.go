package scheduler

import "time"

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
