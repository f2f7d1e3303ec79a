package scheduler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// Window is a job's visit window rule: on which day the visit starts,
// counted from the scheduled time in the IBX's local zone, from what time,
// to what time, for how many days.
//
//	start: first saturday of next month   # or: 7 days after, next monday, day 1 of next month
//	from: "08:00"
//	to: "18:00"
//	days: 2                               # the visit ends on the second day at 18:00
type Window struct {
	day      dayRule
	from, to clock
	days     int
	text     string
}

// dayRule picks the visit's first day from the scheduled day.
type dayRule struct {
	kind    dayKind
	n       int          // days after; ordinal (1-4, -1 = last); day of month
	weekday time.Weekday // for ordinal and next
	month   int          // 0 = this month, 1 = next month
}

type dayKind int

const (
	daysAfter dayKind = iota
	ordinalWeekday
	nextWeekday
	dayOfMonth
)

type clock struct{ h, m int }

func (c clock) minutes() int { return c.h*60 + c.m }

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c.h, c.m) }

// WindowSpec is a window rule as the jobs file writes it.
type WindowSpec struct {
	Start string `yaml:"start"`
	From  string `yaml:"from"`
	To    string `yaml:"to"`
	Days  int    `yaml:"days"`
}

// windowError names the field of a window rule that is wrong.
type windowError struct {
	field, msg, hint string
}

func (e *windowError) Error() string { return e.msg }

// ParseWindow checks a window rule.
func ParseWindow(w WindowSpec) (*Window, error) {
	day, err := parseDay(w.Start)
	if err != nil {
		return nil, &windowError{"start", err.Error(),
			`write it like "7 days after", "first saturday of next month", "next monday" or "day 1 of next month"`}
	}
	from, err := parseClock(w.From)
	if err != nil {
		return nil, &windowError{"from", err.Error(), `write the local start time like "08:00"`}
	}
	to, err := parseClock(w.To)
	if err != nil {
		return nil, &windowError{"to", err.Error(), `write the local end time like "18:00"`}
	}
	days := w.Days
	if days == 0 {
		days = 1
	}
	if days < 1 || days > 366 {
		return nil, &windowError{"days", fmt.Sprintf("days %d: want 1 or more", w.Days), "the number of days the visit spans, 1 for a single day"}
	}
	if days == 1 && to.minutes() <= from.minutes() {
		return nil, &windowError{"to", fmt.Sprintf("to %s is not after from %s on a one-day visit", to, from),
			"make to later than from, or set days: 2 or more"}
	}
	text := fmt.Sprintf("%s, %s-%s", strings.ToLower(strings.Join(strings.Fields(w.Start), " ")), from, to)
	if days > 1 {
		text += fmt.Sprintf(", %d days", days)
	}
	return &Window{day: day, from: from, to: to, days: days, text: text}, nil
}

// String describes the rule.
func (w *Window) String() string { return w.text }

// At returns the visit window of a run scheduled at t, for an IBX in loc.
// Local times that fall in a skipped DST hour move forward by the gap.
func (w *Window) At(t time.Time, loc *time.Location) (start, end time.Time) {
	lt := t.In(loc)
	y, m, d := w.day.apply(lt)
	start = time.Date(y, m, d, w.from.h, w.from.m, 0, 0, loc)
	end = time.Date(y, m, d+w.days-1, w.to.h, w.to.m, 0, 0, loc)
	return start.UTC(), end.UTC()
}

// For returns the roster.Window of a run scheduled at t.
func (w *Window) For(t time.Time) roster.Window {
	return func(loc *time.Location) (time.Time, time.Time, error) {
		if loc == nil {
			loc = time.UTC
		}
		s, e := w.At(t, loc)
		return s, e, nil
	}
}

func (r dayRule) apply(lt time.Time) (int, time.Month, int) {
	y, m, d := lt.Date()
	switch r.kind {
	case daysAfter:
		t := time.Date(y, m, d+r.n, 12, 0, 0, 0, time.UTC)
		return t.Date()
	case nextWeekday:
		wd := time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()
		diff := (int(r.weekday) - int(wd) + 7) % 7
		if diff == 0 {
			diff = 7
		}
		return time.Date(y, m, d+diff, 12, 0, 0, 0, time.UTC).Date()
	case dayOfMonth:
		first := time.Date(y, m+time.Month(r.month), 1, 12, 0, 0, 0, time.UTC)
		last := time.Date(first.Year(), first.Month()+1, 0, 12, 0, 0, 0, time.UTC).Day()
		return first.Year(), first.Month(), min(r.n, last)
	default: // ordinalWeekday
		first := time.Date(y, m+time.Month(r.month), 1, 12, 0, 0, 0, time.UTC)
		if r.n > 0 {
			diff := (int(r.weekday) - int(first.Weekday()) + 7) % 7
			return time.Date(first.Year(), first.Month(), 1+diff+7*(r.n-1), 12, 0, 0, 0, time.UTC).Date()
		}
		last := time.Date(first.Year(), first.Month()+1, 0, 12, 0, 0, 0, time.UTC)
		diff := (int(last.Weekday()) - int(r.weekday) + 7) % 7
		return last.AddDate(0, 0, -diff).Date()
	}
}

var (
	weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
		"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}
	ordinals = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
	months   = map[string]int{"this": 0, "next": 1}
)

// parseDay reads: "N days after" (also "same day"), "ORDINAL WEEKDAY of
// this|next month", "next WEEKDAY", "day N of this|next month".
func parseDay(s string) (dayRule, error) {
	f := strings.Fields(strings.ToLower(s))
	bad := fmt.Errorf("start %q: not a day rule", s)
	switch {
	case len(f) == 0:
		return dayRule{}, fmt.Errorf("start is empty")
	case len(f) == 2 && f[0] == "same" && f[1] == "day":
		return dayRule{kind: daysAfter}, nil
	case len(f) == 3 && (f[1] == "days" || f[1] == "day") && f[2] == "after":
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 0 || n > 366 {
			return dayRule{}, fmt.Errorf("start %q: want 0 to 366 days after", s)
		}
		return dayRule{kind: daysAfter, n: n}, nil
	case len(f) == 2 && f[0] == "next":
		wd, ok := weekdays[f[1]]
		if !ok {
			return dayRule{}, fmt.Errorf("start %q: %q is not a weekday", s, f[1])
		}
		return dayRule{kind: nextWeekday, weekday: wd}, nil
	case len(f) == 5 && f[0] == "day" && f[2] == "of" && f[4] == "month":
		n, err := strconv.Atoi(f[1])
		mo, ok := months[f[3]]
		if err != nil || n < 1 || n > 31 || !ok {
			return dayRule{}, bad
		}
		return dayRule{kind: dayOfMonth, n: n, month: mo}, nil
	case len(f) == 5 && f[2] == "of" && f[4] == "month":
		n, ok1 := ordinals[f[0]]
		wd, ok2 := weekdays[f[1]]
		mo, ok3 := months[f[3]]
		if !ok1 || !ok2 || !ok3 {
			return dayRule{}, bad
		}
		return dayRule{kind: ordinalWeekday, n: n, weekday: wd, month: mo}, nil
	}
	return dayRule{}, bad
}

func parseClock(s string) (clock, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return clock{}, fmt.Errorf("time is empty")
	}
	hs, ms, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if !ok || err1 != nil || err2 != nil || len(ms) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		if s == "24:00" {
			return clock{}, fmt.Errorf("time %q: use 23:59 for the end of the day", s)
		}
		return clock{}, fmt.Errorf("time %q is not HH:MM", s)
	}
	return clock{h, m}, nil
}
