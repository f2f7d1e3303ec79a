package scheduler

import (
	"strings"
	"testing"
	"time"
)

func TestWindowRules(t *testing.T) {
	t.Parallel()
	ny, _ := time.LoadLocation("America/New_York")
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	tests := []struct {
		name       string
		spec       WindowSpec
		at         string
		loc        *time.Location
		start, end string // local, "2006-01-02 15:04 MST"
	}{
		{"first saturday of next month, 2 days", WindowSpec{"first saturday of next month", "08:00", "18:00", 2},
			"2027-01-01T14:00:00Z", ny, "2027-02-06 08:00 EST", "2027-02-07 18:00 EST"},
		{"first saturday when the 1st is a saturday", WindowSpec{"first saturday of next month", "08:00", "18:00", 2},
			"2027-04-20T10:00:00Z", ams, "2027-05-01 08:00 CEST", "2027-05-02 18:00 CEST"},
		{"7 days after the run", WindowSpec{"7 days after", "09:00", "17:00", 0},
			"2027-01-04T06:30:00Z", ams, "2027-01-11 09:00 CET", "2027-01-11 17:00 CET"},
		{"7 days after, across the clock change", WindowSpec{"7 days after", "09:00", "17:00", 1},
			"2027-03-22T08:00:00Z", ams, "2027-03-29 09:00 CEST", "2027-03-29 17:00 CEST"},
		{"the scheduled day is the IBX's local day", WindowSpec{"1 day after", "09:00", "17:00", 1},
			// 03:00Z on 5 Jan is still 4 Jan in New York
			"2027-01-05T03:00:00Z", ny, "2027-01-05 09:00 EST", "2027-01-05 17:00 EST"},
		{"last friday of this month", WindowSpec{"last friday of this month", "22:00", "06:00", 2},
			"2027-01-03T09:00:00Z", ams, "2027-01-29 22:00 CET", "2027-01-30 06:00 CET"},
		{"second tuesday of next month", WindowSpec{"second tuesday of next month", "08:00", "12:00", 1},
			"2027-12-15T09:00:00Z", ams, "2028-01-11 08:00 CET", "2028-01-11 12:00 CET"},
		{"next monday from a monday", WindowSpec{"next monday", "08:00", "12:00", 1},
			"2027-01-04T09:00:00Z", ams, "2027-01-11 08:00 CET", "2027-01-11 12:00 CET"},
		{"day 31 of a short month", WindowSpec{"day 31 of next month", "08:00", "12:00", 1},
			"2027-01-10T09:00:00Z", ams, "2027-02-28 08:00 CET", "2027-02-28 12:00 CET"},
		{"same day", WindowSpec{"same day", "10:00", "11:00", 1},
			"2027-06-01T06:00:00Z", ams, "2027-06-01 10:00 CEST", "2027-06-01 11:00 CEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := ParseWindow(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			s, e, err := w.For(mustTime(t, tt.at))(tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			const f = "2006-01-02 15:04 MST"
			if got := s.In(tt.loc).Format(f); got != tt.start {
				t.Errorf("start = %s, want %s", got, tt.start)
			}
			if got := e.In(tt.loc).Format(f); got != tt.end {
				t.Errorf("end = %s, want %s", got, tt.end)
			}
			if s.Location() != time.UTC || e.Location() != time.UTC {
				t.Errorf("window not in UTC: %v %v", s, e)
			}
		})
	}
}

func TestWindowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec  WindowSpec
		field string
		msg   string
	}{
		{WindowSpec{"", "08:00", "18:00", 1}, "start", "empty"},
		{WindowSpec{"first caturday of next month", "08:00", "18:00", 1}, "start", "not a day rule"},
		{WindowSpec{"400 days after", "08:00", "18:00", 1}, "start", "0 to 366"},
		{WindowSpec{"next funday", "08:00", "18:00", 1}, "start", "not a weekday"},
		{WindowSpec{"7 days after", "8am", "18:00", 1}, "from", "not HH:MM"},
		{WindowSpec{"7 days after", "08:00", "24:00", 1}, "to", "23:59"},
		{WindowSpec{"7 days after", "18:00", "08:00", 1}, "to", "not after"},
		{WindowSpec{"7 days after", "08:00", "18:00", -1}, "days", "1 or more"},
	}
	for _, tt := range tests {
		_, err := ParseWindow(tt.spec)
		we, ok := err.(*windowError)
		if !ok {
			t.Errorf("%+v: err = %v, want a windowError", tt.spec, err)
			continue
		}
		if we.field != tt.field || !strings.Contains(we.msg, tt.msg) || we.hint == "" {
			t.Errorf("%+v: field %q msg %q hint %q, want field %q and %q", tt.spec, we.field, we.msg, we.hint, tt.field, tt.msg)
		}
	}
}
