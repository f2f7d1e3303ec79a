package scheduler

import (
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// nextN returns the first n instants after from.
func nextN(t testing.TB, expr, from string, n int) []string {
	t.Helper()
	s, err := ParseSchedule(expr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	at := mustTime(t, from)
	for range n {
		at = s.Next(at)
		out = append(out, at.UTC().Format(time.RFC3339))
	}
	return out
}

// TestScheduleDST: a job at 02:30 local fires exactly once on the days the
// clocks change, at the documented instants: in a skipped hour at the end of
// the gap (03:00 local), in a repeated hour at its first occurrence.
func TestScheduleDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, from string
		want             []string
	}{
		{"Amsterdam spring forward", "CRON_TZ=Europe/Amsterdam 30 2 * * *", "2026-03-27T12:00:00Z",
			// 28 Mar 02:30 CET; 29 Mar 02:30 does not exist: 03:00 CEST; 30 Mar 02:30 CEST
			[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"Amsterdam fall back", "CRON_TZ=Europe/Amsterdam 30 2 * * *", "2026-10-23T12:00:00Z",
			// 25 Oct 02:30 happens twice: only the first (CEST, 00:30Z)
			[]string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"New York spring forward", "CRON_TZ=America/New_York 30 2 * * *", "2026-03-06T12:00:00Z",
			// 8 Mar 02:30 does not exist: 03:00 EDT (07:00Z)
			[]string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"New York fall back", "CRON_TZ=America/New_York 30 2 * * *", "2026-10-30T12:00:00Z",
			// 1 Nov: 01:00-02:00 repeats, 02:30 happens once (EST)
			[]string{"2026-10-31T06:30:00Z", "2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"}},
		{"New York fall back, in the repeated hour", "CRON_TZ=America/New_York 30 1 * * *", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"Amsterdam 6 fields with seconds", "CRON_TZ=Europe/Amsterdam 15 30 2 29 3 *", "2026-01-01T00:00:00Z",
			// 29 Mar 2026 02:30:15 skipped: 03:00 CEST; 2027's is a normal day
			[]string{"2026-03-29T01:00:00Z", "2027-03-29T00:30:15Z"}},
		{"hourly jobs follow the clock", "CRON_TZ=Europe/Amsterdam 0 * * * *", "2026-10-24T23:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"monthly descriptor", "CRON_TZ=UTC @monthly", "2027-01-15T00:00:00Z",
			[]string{"2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"}},
		{"every", "@every 90s", "2027-01-01T00:00:00Z",
			[]string{"2027-01-01T00:01:30Z", "2027-01-01T00:03:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := nextN(t, tt.expr, tt.from, len(tt.want))
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Fatalf("Next times = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestScheduleDSTOncePerDay walks a whole year of a daily 02:30 job and
// checks it fires once on every local day, DST days included.
func TestScheduleDSTOncePerDay(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Europe/Amsterdam", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseSchedule("CRON_TZ=" + zone + " 30 2 * * *")
			if err != nil {
				t.Fatal(err)
			}
			days := map[string]int{}
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
			end := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
			for {
				at = s.Next(at)
				if !at.Before(end) {
					break
				}
				days[at.In(loc).Format("2006-01-02")]++
			}
			if len(days) != 365 {
				t.Errorf("fired on %d days, want 365", len(days))
			}
			for d, n := range days {
				if n != 1 {
					t.Errorf("%s: fired %d times", d, n)
				}
			}
		})
	}
}

func TestParseScheduleErrors(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"", "61 * * * *", "* * *", "CRON_TZ=Mars/Olympus 0 9 * * *", "@fortnightly", "CRON_TZ=", "TZ=UTC", "CRON_TZ=UTC"} {
		if _, err := ParseSchedule(expr); err == nil {
			t.Errorf("ParseSchedule(%q) = nil error", expr)
		}
	}
}

// FuzzScheduleNext: for any expression that parses, Next moves strictly
// forward and never fires twice on one wall-clock time of a fixed-hour job.
func FuzzScheduleNext(f *testing.F) {
	f.Add("CRON_TZ=Europe/Amsterdam 30 2 * * *", int64(1774656000))
	f.Add("CRON_TZ=America/New_York 0 1-3 * * SUN", int64(1793491200))
	f.Add("CRON_TZ=Australia/Lord_Howe 15 2 * * *", int64(1775300000))
	f.Add("*/7 * * * * *", int64(0))
	f.Add("@every 1m", int64(1e9))
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		s, err := ParseSchedule(expr)
		if err != nil {
			return
		}
		at := time.Unix(unix%(1<<33), 0)
		seen := map[time.Time]bool{}
		for range 8 {
			n := s.Next(at)
			if n.IsZero() {
				return
			}
			if !n.After(at) {
				t.Fatalf("%q: Next(%v) = %v, not after", expr, at, n)
			}
			if s.fixedHour() {
				w := wallOf(n.In(s.Location()))
				if seen[w] {
					t.Fatalf("%q: wall time %v fired twice", expr, w)
				}
				seen[w] = true
			}
			at = n
		}
	})
}
