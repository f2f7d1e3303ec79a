package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// amendRoster is two orders in AM1 (one per cage), 11 January 2027.
const amendRoster = `Cage,Visit Start,Visit End,First Name,Last Name,Company
AM1:01:000111,2027-01-11 08:00,2027-01-11 18:00,Anna,Jansen,Acme
AM1:01:000111,2027-01-11 08:00,2027-01-11 18:00,Bram,de Boer,Acme
AM1:01:000112,2027-01-11 08:00,2027-01-11 18:00,Cees,Visser,Acme
`

// amendWorld is a served sandbox, a store and a run placed in it.
type amendWorld struct {
	t     *testing.T
	srv   *sandbox.Server
	url   string
	dir   string
	runID string
}

// newSandboxWorld is a served sandbox and an empty store.
func newSandboxWorld(t *testing.T) *amendWorld {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{StartAt: crashStart})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	return &amendWorld{t: t, srv: srv, url: url, dir: t.TempDir()}
}

func newAmendWorld(t *testing.T) *amendWorld {
	t.Helper()
	w := newSandboxWorld(t)
	srv := w.srv
	roster := filepath.Join(w.dir, "roster.csv")
	if err := os.WriteFile(roster, []byte(amendRoster), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := w.run("submit", roster, "--yes", "--now", crashNow); code != exitOK {
		t.Fatalf("submit: exit %d\n%s", code, out)
	}
	if n := len(srv.Orders()); n != 2 {
		t.Fatalf("the sandbox holds %d orders after submit; want 2", n)
	}
	st, err := (&storeFlag{path: w.store()}).open(&env{getenv: func(string) string { return "" }, now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs()
	st.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v; want one", runs, err)
	}
	w.runID = runs[0].ID
	return w
}

func (w *amendWorld) store() string { return filepath.Join(w.dir, "state", "wvbatch.db") }

// run runs wvbatch with the world's store and sandbox and returns the exit
// code and what it printed.
func (w *amendWorld) run(args ...string) (int, string) {
	var out bytes.Buffer
	env := map[string]string{
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret,
		"XDG_STATE_HOME": filepath.Join(w.dir, "state"), "XDG_CONFIG_HOME": filepath.Join(w.dir, "config"),
	}
	args = append(args, "--endpoint", w.url, "--store", w.store())
	code := run(context.Background(), args, strings.NewReader(""), &out, &out, func(k string) string { return env[k] })
	return code, out.String()
}

func TestRescheduleAndAmendAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	w := newAmendWorld(t)
	day := 24 * time.Hour
	before := map[string]time.Time{}
	for _, o := range w.srv.Orders() {
		before[o.ID] = o.VisitStart
	}

	// A window longer than 14 days is refused before anything is sent.
	code, out := w.run("reschedule", "--yes", w.runID, "--start", "2027-01-12 08:00", "--end", "2027-01-27 08:00")
	if code != exitUsage || !strings.Contains(out, "at most 14 days") || !strings.Contains(out, "nothing was sent") {
		t.Errorf("15-day window: exit %d, want %d with the reason\n%s", code, exitUsage, out)
	}
	code, out = w.run("reschedule", "--yes", w.runID, "--shift", "-200h")
	if code != exitUsage || !strings.Contains(out, "in the past") {
		t.Errorf("shift into the past: exit %d, want %d with the reason\n%s", code, exitUsage, out)
	}
	for _, o := range w.srv.Orders() {
		if len(o.Patches) != 0 {
			t.Fatalf("order %s was updated %d times by refused changes", o.ID, len(o.Patches))
		}
	}

	code, out = w.run("reschedule", "--yes", w.runID, "--shift", "24h")
	if code != exitOK || !strings.Contains(out, "2 applied") {
		t.Fatalf("reschedule --shift 24h: exit %d\n%s", code, out)
	}
	for _, o := range w.srv.Orders() {
		if len(o.Patches) != 1 || !o.VisitStart.Equal(before[o.ID].Add(day)) {
			t.Errorf("order %s: %d updates, starts %s; want 1 update, a day later than %s", o.ID, len(o.Patches), o.VisitStart, before[o.ID])
		}
	}
	code, out = w.run("reschedule", "--yes", w.runID, "--shift", "24h")
	if code != exitUsage || !strings.Contains(out, "--again") {
		t.Errorf("the same shift again: exit %d, want %d and a hint about --again\n%s", code, exitUsage, out)
	}

	// An order closed at Equinix is reported and skipped; the other is
	// changed.
	closed := w.srv.Orders()[0].ID
	if err := w.srv.SetOrderStatus(closed, sandbox.StatusClosed); err != nil {
		t.Fatal(err)
	}
	code, out = w.run("amend", "--yes", w.runID, "--open-cabinet", "true", "--notify-contact", "jane.visitor")
	if code != exitRows || !strings.Contains(out, "1 applied, 1 skipped") || !strings.Contains(out, "EQ-2016007") {
		t.Errorf("amend with a closed order: exit %d, want %d, one applied and one skipped with EQ-2016007\n%s", code, exitRows, out)
	}
	for _, o := range w.srv.Orders() {
		switch {
		case o.ID == closed && (len(o.Patches) != 1 || o.OpenCabinet):
			t.Errorf("closed order %s: %d updates, open cabinet %v; want it left as it was", o.ID, len(o.Patches), o.OpenCabinet)
		case o.ID != closed && (len(o.Patches) != 2 || !o.OpenCabinet || !strings.Contains(strings.Join(o.NotificationUsers, ","), "jane.visitor")):
			t.Errorf("order %s: %d updates, open cabinet %v, notify %v; want 2 updates, open, jane.visitor", o.ID, len(o.Patches), o.OpenCabinet, o.NotificationUsers)
		}
	}
	if _, err := os.Stat(filepath.Join(w.dir, "state", "reports", w.runID, "amendment-2.json")); err != nil {
		t.Errorf("amendment report: %v", err)
	}

	// Usage mistakes.
	for _, args := range [][]string{
		{"reschedule", "--yes", w.runID},
		{"reschedule", "--yes", w.runID, "--shift", "1h", "--start", "2027-01-12 08:00"},
		{"amend", "--yes", w.runID, "--open-cabinet", "maybe"},
		{"amend", "--yes", w.runID, "--notify-contact", "short"},
		{"amend", "--yes", w.runID},
	} {
		if code, out := w.run(args...); code != exitUsage || !strings.Contains(out, "hint: ") {
			t.Errorf("wvbatch %s: exit %d, want %d with a hint\n%s", strings.Join(args, " "), code, exitUsage, out)
		}
	}
}
