package scheduler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodJobs = `defaults:
  endpoint: sandbox
  recipients: [ops@example.com]
jobs:
  - name: monthly
    schedule: "CRON_TZ=America/New_York 0 9 1 * *"
    roster: rosters/monthly.csv
    window: {start: first saturday of next month, from: "08:00", to: "18:00", days: 2}
    description: Monthly
    notification_contacts: a.user, b.user
    concurrency: 2
  - name: weekly
    schedule: "@weekly"
    roster: /abs/*.xlsx
    missed: skip
    recipients: [x@example.com, y@example.com]
    starting_deadline: 30m
`

func TestParseJobs(t *testing.T) {
	t.Parallel()
	jobs, err := Parse([]byte(goodJobs), "jobs.yaml", "/etc/wvbatch")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2", len(jobs))
	}
	m, w := jobs[0], jobs[1]
	if m.Roster != "/etc/wvbatch/rosters/monthly.csv" || w.Roster != "/abs/*.xlsx" {
		t.Errorf("rosters %q %q", m.Roster, w.Roster)
	}
	if m.Line != 5 || w.Line != 12 {
		t.Errorf("lines %d %d, want 5 12", m.Line, w.Line)
	}
	if m.Endpoint != "sandbox" || w.Endpoint != "sandbox" || m.Concurrency != 2 {
		t.Errorf("endpoint %q %q concurrency %d", m.Endpoint, w.Endpoint, m.Concurrency)
	}
	if strings.Join(m.Order.ReportEmails, ",") != "ops@example.com" || strings.Join(w.Order.ReportEmails, ",") != "x@example.com,y@example.com" {
		t.Errorf("recipients %v %v", m.Order.ReportEmails, w.Order.ReportEmails)
	}
	if strings.Join(m.Order.NotificationContacts, ",") != "a.user,b.user" {
		t.Errorf("notification contacts %v", m.Order.NotificationContacts)
	}
	if m.Missed != MissedRunOnce || m.StartingDeadline != time.Hour || w.Missed != MissedSkip || w.StartingDeadline != 30*time.Minute {
		t.Errorf("policies %s %s %s %s", m.Missed, m.StartingDeadline, w.Missed, w.StartingDeadline)
	}
	if m.Window == nil || w.Window != nil {
		t.Errorf("windows %v %v", m.Window, w.Window)
	}
	if m.Schedule.Location().String() != "America/New_York" {
		t.Errorf("zone %s", m.Schedule.Location())
	}
}

// TestParseJobsErrors: every bad jobs file names its line and field.
func TestParseJobsErrors(t *testing.T) {
	t.Parallel()
	job := func(extra string) string {
		return "jobs:\n  - name: a\n    schedule: \"@daily\"\n    roster: r.csv\n" + extra
	}
	tests := []struct {
		name, file string
		line       int
		field, msg string
	}{
		{"empty file", "", 0, "", "empty"},
		{"not yaml", "jobs: [\n", 1, "", "did not find"},
		{"no jobs", "defaults: {}\n", 1, "jobs", "no jobs"},
		{"unknown top field", "job:\n  - name: a\n", 1, "job", "unknown field"},
		{"bad schedule", "jobs:\n  - name: a\n    schedule: \"0 25 * * *\"\n    roster: r.csv\n", 3, "schedule", "25"},
		{"bad zone", "jobs:\n  - name: a\n    schedule: \"CRON_TZ=Mars/Base 0 9 * * *\"\n    roster: r.csv\n", 3, "schedule", "Mars"},
		{"missing roster", "jobs:\n  - name: a\n    schedule: \"@daily\"\n", 2, "roster", "missing"},
		{"missing name", "jobs:\n  - schedule: \"@daily\"\n    roster: r.csv\n", 2, "name", "missing"},
		{"bad name", "jobs:\n  - name: a b\n", 2, "name", "letters"},
		{"unknown job field", job("    shedule: x\n"), 5, "shedule", "unknown field"},
		{"bad window start", job("    window:\n      start: fifth monday of next month\n      from: \"08:00\"\n      to: \"18:00\"\n"), 6, "window.start", "not a day rule"},
		{"bad window time", job("    window: {start: 7 days after, from: \"8\", to: \"18:00\"}\n"), 5, "window.from", "HH:MM"},
		{"unknown window field", job("    window: {begin: 7 days after}\n"), 5, "window.begin", "unknown field"},
		{"bad missed", job("    missed: catch-up\n"), 5, "missed", "run-once or skip"},
		{"bad deadline", job("    starting_deadline: soon\n"), 5, "starting_deadline", "duration"},
		{"bad concurrency", job("    concurrency: 0\n"), 5, "concurrency", "1 to 64"},
		{"bad endpoint", job("    endpoint: ftp://x\n"), 5, "endpoint", "URL"},
		{"bad recipient", job("    recipients: [not-an-address]\n"), 5, "recipients", "email"},
		{"bad overlap", job("    overlap: queue\n"), 5, "overlap", "skip"},
		{"field written twice", job("    missed: skip\n    missed: run-once\n"), 6, "missed", "written twice"},
		{"bad date order", job("    date_order: ymd\n"), 5, "date_order", ""},
		{"duplicate job", job("  - name: a\n    schedule: \"@daily\"\n    roster: r.csv\n"), 5, "name", "line 2"},
		{"default name", "defaults:\n  name: x\njobs:\n  - name: a\n", 2, "defaults.name", "cannot be a default"},
		{"bad default", "defaults:\n  missed: never\njobs:\n  - name: a\n    schedule: \"@daily\"\n    roster: r.csv\n", 2, "defaults.missed", "run-once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.file), "jobs.yaml", "/x")
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FileError", err)
			}
			if fe.Line != tt.line || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("got line %d field %q msg %q, want line %d field %q msg containing %q", fe.Line, fe.Field, fe.Msg, tt.line, tt.field, tt.msg)
			}
			if fe.Hint == "" {
				t.Errorf("no hint: %v", fe)
			}
			if strings.Contains(fe.Error(), "\n") || !strings.HasPrefix(fe.Error(), "jobs.yaml") {
				t.Errorf("error %q is not one line naming the file", fe.Error())
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	t.Parallel()
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yaml"))
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), "nope.yaml") || fe.Hint == "" {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveRoster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("2027-01.csv", 48*time.Hour)
	newest := write("2027-02.xlsx", time.Hour)
	write("notes.txt", 0)
	write("~$2027-02.xlsx", 0) // Excel's lock file
	tests := []struct {
		roster, want string
	}{
		{dir, newest},
		{filepath.Join(dir, "*.csv"), old},
		{filepath.Join(dir, "2027-*"), newest},
		{old, old},
	}
	for _, tt := range tests {
		j := Job{Roster: tt.roster}
		got, err := j.ResolveRoster()
		if err != nil || got != tt.want {
			t.Errorf("ResolveRoster(%s) = %s, %v; want %s", tt.roster, got, err, tt.want)
		}
	}
	for _, bad := range []string{filepath.Join(dir, "*.json"), filepath.Join(dir, "missing.csv"), t.TempDir()} {
		j := Job{Roster: bad}
		if _, err := j.ResolveRoster(); err == nil {
			t.Errorf("ResolveRoster(%s): no error", bad)
		}
	}
}
