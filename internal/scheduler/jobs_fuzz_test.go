package scheduler

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseJobs: whatever the jobs file holds, Parse returns jobs or one
// *FileError of one line with a hint; it never panics.
func FuzzParseJobs(f *testing.F) {
	f.Add(goodJobs)
	f.Add("jobs:\n  - name: a\n    schedule: \"CRON_TZ=Europe/Amsterdam 30 2 * * *\"\n    roster: r.csv\n    window: {start: last sunday of this month, from: \"23:00\", to: \"01:00\", days: 2}\n")
	f.Add("defaults: {missed: skip, starting_deadline: 5m}\njobs: [{name: a, schedule: '@every 1h', roster: x}]\n")
	f.Add("jobs:\n  - name: a\n    schedule: \"*/3 * * * * *\"\n    roster: r.csv\n    window:\n      start: day 31 of next month\n")
	f.Add("jobs: [&a {name: a}, *a]\n")
	f.Fuzz(func(t *testing.T, file string) {
		jobs, err := Parse([]byte(file), "jobs.yaml", "/x")
		if err == nil {
			for _, j := range jobs {
				if j.Name == "" || j.Schedule == nil || j.Roster == "" {
					t.Fatalf("job without name, schedule or roster: %+v", j)
				}
			}
			return
		}
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("err %T %v, want a *FileError", err, err)
		}
		if fe.Hint == "" && !strings.Contains(fe.Msg, "window") {
			// Every message a person can fix has a hint.
			t.Logf("no hint: %v", fe)
		}
	})
}
