package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser reads 5-field (minute first) and 6-field (second first) cron
// expressions, descriptors such as @monthly and @every 1h, and a CRON_TZ= or
// TZ= prefix.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed cron expression whose Next fires a fixed-time job
// exactly once on the days clocks change:
//
//   - a time skipped when clocks go forward (02:30 when 02:00 becomes 03:00)
//     fires once, at the first instant after the gap (03:00 local);
//   - a time repeated when clocks go back fires once, at its first occurrence
//     (02:30 summer time).
//
// Expressions whose hour field is * (hourly and finer) run by the clock as it
// is: nothing is caught up in a gap and a repeated hour repeats.
type Schedule struct {
	expr  string
	sched cron.Schedule
	spec  *cron.SpecSchedule // nil for @every
	wall  *cron.SpecSchedule // spec read in wall-clock time (UTC stands for the zone's wall clock)
	loc   *time.Location
}

// ParseSchedule parses a cron expression.
func ParseSchedule(expr string) (*Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, fmt.Errorf("empty schedule")
	}
	sched, err := parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", expr, err)
	}
	s := &Schedule{expr: expr, sched: sched, loc: time.Local}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		s.spec = spec
		s.loc = spec.Location
		w := *spec
		w.Location = time.UTC
		s.wall = &w
	}
	return s, nil
}

// parse parses with robfig/cron, which panics on some input (a zone prefix
// with nothing after it).
func parse(expr string) (sched cron.Schedule, err error) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(expr, p); ok && !strings.ContainsAny(rest, " \t") {
			return nil, fmt.Errorf("a zone prefix needs an expression after it, e.g. %sEurope/Amsterdam 0 9 1 * *", p)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			sched, err = nil, fmt.Errorf("not a cron expression (%v)", p)
		}
	}()
	return parser.Parse(expr)
}

// String returns the expression as written.
func (s *Schedule) String() string { return s.expr }

// Location is the zone the schedule is read in.
func (s *Schedule) Location() *time.Location { return s.loc }

// fixedHour reports whether the expression names hours rather than every
// hour: only such jobs get the DST rules.
func (s *Schedule) fixedHour() bool {
	const day = 1<<24 - 1
	return s.spec != nil && s.spec.Hour&day != day
}

// Next returns the first scheduled instant after t, or the zero time if
// there is none within five years.
func (s *Schedule) Next(t time.Time) time.Time {
	if !s.fixedHour() {
		return s.sched.Next(t)
	}
	for {
		n := s.sched.Next(t)
		if g := s.gapFire(t, n); !g.IsZero() {
			return g
		}
		if n.IsZero() || !s.repeated(n) {
			return n
		}
		t = n // the second occurrence of a repeated wall time
	}
}

// repeated reports whether n's wall-clock time already happened earlier,
// before the clocks went back.
func (s *Schedule) repeated(n time.Time) bool {
	w := n.In(s.loc)
	for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		p := n.Add(-d).In(s.loc)
		if wallOf(p) == wallOf(w) {
			return true
		}
	}
	return false
}

func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// gapFire returns the instant a forward clock change in (t, n) ends when a
// scheduled wall time fell into the hour it skipped, else the zero time.
func (s *Schedule) gapFire(t, n time.Time) time.Time {
	end := n
	if end.IsZero() {
		end = t.AddDate(5, 0, 0)
	}
	for cur := t; cur.Before(end); {
		_, tend := cur.In(s.loc).ZoneBounds()
		if tend.IsZero() || tend.After(end) {
			return time.Time{}
		}
		_, before := tend.Add(-time.Second).In(s.loc).Zone()
		_, after := tend.In(s.loc).Zone()
		if after > before {
			// Wall times from tend in the old offset up to tend in the new
			// one never happened.
			from := wallOf(tend.In(time.FixedZone("", before)))
			to := wallOf(tend.In(time.FixedZone("", after)))
			if m := s.wall.Next(from.Add(-time.Second)); !m.IsZero() && m.Before(to) {
				return tend
			}
		}
		cur = tend
	}
	return time.Time{}
}
