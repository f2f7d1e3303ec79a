package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// outageCLI runs wvbatch in-process against endpoint with short retry
// budgets, so that an outage outlasts them in a fraction of a second.
type outageCLI struct {
	t   *testing.T
	env map[string]string
}

func (c *outageCLI) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] },
		now: time.Now,
		tuneClient: func(cfg *equinix.Config) {
			cfg.MaxRetries, cfg.RetryBase, cfg.RetryMax, cfg.Timeout = 2, 5*time.Millisecond, 20*time.Millisecond, time.Second
		},
		tuneRun: func(cfg *queue.RunConfig) {
			cfg.MaxAttempts, cfg.BackoffBase, cfg.BackoffMax = 3, 200*time.Millisecond, 400*time.Millisecond
			cfg.WarnEvery = 150 * time.Millisecond
		},
	}
	code = runEnv(context.Background(), args, e)
	c.t.Logf("wvbatch %s → %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// TestOutageLongerThanTheRetryBudget points submit at an Equinix that
// does not answer (nothing listens) for longer than every retry budget:
// the run stops (exit 1) with the way to resume it and nothing rejected,
// warnings say so while it lasts, and once Equinix answers, submitting the
// roster again and resuming place every order exactly once.
func TestOutageLongerThanTheRetryBudget(t *testing.T) {
	t.Parallel()
	addr := unusedAddr(t) // nothing listens there until the sandbox starts

	dir := t.TempDir()
	c := &outageCLI{t: t, env: map[string]string{
		"XDG_STATE_HOME": dir, "HOME": dir,
		"EQUINIX_API_ENDPOINT": "http://" + addr,
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret,
	}}
	start := time.Now()
	at := func() string { return time.Since(start).Round(time.Millisecond).String() }
	var timeline []string
	mark := func(s string) { timeline = append(timeline, at()+" "+s) }

	mark("Equinix down (nothing listens on " + addr + ")")
	submit := []string{"submit", "../../samples/contractors.csv", "--yes", "--no-preflight", "--now", demoNow, "--reference-prefix", "OUT"}
	code, out, errOut := c.run(submit...)
	mark("submit ended: exit " + strconv.Itoa(code))
	m := runIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("submit recorded no run")
	}
	runID := m[1]
	if code != exitFailure {
		t.Errorf("submit during the outage: exit %d; want %d", code, exitFailure)
	}
	for _, want := range []string{"resume with: wvbatch resume " + runID, "connection refused", "hint: ", "resum",
		"Equinix unreachable for"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("submit's stderr lacks %q", want)
		}
	}
	if regexp.MustCompile(`\d+ rejected`).MatchString(out) {
		t.Errorf("orders or rows rejected during an outage:\n%s", out)
	}
	run, rows := storedRows(t, c.env["XDG_STATE_HOME"]+"/wvbatch/wvbatch.db", runID)
	if run.State != runstore.RunInterrupted || run.Orders[runstore.Rejected] != 0 || run.Orders[runstore.Submitted] != 0 {
		t.Errorf("run after the outage: %s %v; want interrupted with nothing rejected or submitted", run.State, run.Orders)
	}
	for _, r := range rows {
		if r.Status != runstore.RowPending && r.Status != runstore.RowInvalid {
			t.Errorf("row %d: %s; want pending", r.Row, r.Status)
		}
	}
	planned := run.Orders[runstore.Planned]

	// Equinix answers again.
	srv, _, stop := startDemoSandbox(t, addr)
	defer func() { _ = stop(context.Background()) }()
	mark("Equinix answers")

	code, out, _ = c.run(submit...)
	mark("submit again ended: exit " + strconv.Itoa(code))
	if code != exitOK || !strings.Contains(out, "resuming it; nothing is ordered twice") || !strings.Contains(out, "rows:   20 of 20 ordered") {
		t.Errorf("submit once Equinix answers: exit %d; want every row ordered", code)
	}
	code, out, _ = c.run("resume", "--yes", runID)
	mark("resume ended: exit " + strconv.Itoa(code))
	if code != exitOK || !strings.Contains(out, "nothing to send") {
		t.Errorf("resume after that: exit %d; want nothing left to send", code)
	}
	refs := map[string]int{}
	for _, o := range srv.Orders() {
		refs[o.CustomerReferenceID]++
	}
	if len(refs) != planned {
		t.Errorf("the sandbox holds %d references; want the %d orders planned", len(refs), planned)
	}
	for ref, n := range refs {
		if n != 1 {
			t.Errorf("reference %s ordered %d times", ref, n)
		}
	}
	t.Logf("timeline:\n  %s", strings.Join(timeline, "\n  "))
}

// TestAmendOutageLongerThanTheRetryBudget places a run, then makes Equinix
// fail (nothing listens; every request a 502 or a reset connection, with a
// token already in hand, so that the updates themselves meet them) and
// reschedules the run: every update's retries run out, yet no change is
// recorded failed or skipped; the reschedule stops (exit 1) saying how to
// finish it. Once Equinix answers again, the same command finishes it and
// every order was moved exactly once.
func TestAmendOutageLongerThanTheRetryBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault sandbox.Fault // 0: nothing listens
		cause string
	}{
		{"nothing listens", 0, "connection refused"},
		{"502 on every update", sandbox.Fault502, "502"},
		{"reset on every update", sandbox.FaultReset, "reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			amendThroughOutage(t, tc.fault, tc.cause)
		})
	}
}

func amendThroughOutage(t *testing.T, fault sandbox.Fault, cause string) {
	srv, url, stop := startDemoSandbox(t, "127.0.0.1:0")
	defer func() { _ = stop(context.Background()) }()
	addr := strings.TrimPrefix(url, "http://")
	dir := t.TempDir()
	c := &outageCLI{t: t, env: map[string]string{
		"XDG_STATE_HOME": dir, "HOME": dir,
		"EQUINIX_API_ENDPOINT": url,
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret,
	}}
	code, out, _ := c.run("submit", "../../samples/contractors.csv", "--yes", "--no-preflight", "--now", demoNow, "--reference-prefix", "AMO")
	m := runIDRe.FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("submit: exit %d; want every order placed", code)
	}
	runID := m[1]
	placed := srv.Orders()
	before := map[string]time.Time{}
	for _, o := range placed {
		before[o.ID] = o.VisitStart
	}

	if fault != 0 {
		// A token got before the outage: the updates meet the faults.
		c.env[equinix.EnvToken] = sandboxToken(t, url)
		delete(c.env, "EQUINIX_API_CLIENTID")
		delete(c.env, "EQUINIX_API_CLIENTSECRET")
	}
	start := time.Now()
	var timeline []string
	mark := func(s string) { timeline = append(timeline, time.Since(start).Round(time.Millisecond).String()+" "+s) }
	if fault == 0 {
		mark("Equinix down (nothing listens on " + addr + ")")
		if err := stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := srv.FailAll(fault); err != nil {
			t.Fatal(err)
		}
		mark("Equinix down (every request meets " + fault.String() + ")")
	}

	reschedule := []string{"reschedule", runID, "--shift", "24h", "--yes", "--settle-delay", "50ms", "--json"}
	code, out, errOut := c.run(reschedule...)
	mark("reschedule ended: exit " + strconv.Itoa(code))
	if code != exitFailure {
		t.Errorf("reschedule during the outage: exit %d; want %d (stopped)", code, exitFailure)
	}
	for _, want := range []string{"wvbatch amend " + runID, cause, "Equinix unreachable for"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("reschedule's stderr lacks %q", want)
		}
	}
	var rep struct {
		State  string         `json:"state"`
		Orders map[string]int `json:"orders"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("reschedule --json: %v\n%s", err, out)
	}
	if rep.State != string(runstore.AmendInterrupted) || rep.Orders[string(runstore.AmendFailed)] != 0 ||
		rep.Orders[string(runstore.AmendSkipped)] != 0 || rep.Orders[string(runstore.AmendApplied)] != 0 {
		t.Errorf("amendment after the outage: %s %v; want interrupted with nothing failed, skipped or applied", rep.State, rep.Orders)
	}
	for _, o := range srv.Orders() {
		if len(o.Patches) != 0 {
			t.Errorf("order %s updated during the outage", o.ID)
		}
	}

	if fault == 0 {
		var err error
		if _, stop, err = srv.Start(addr); err != nil {
			t.Fatal(err)
		}
	} else if err := srv.FailAll(0); err != nil {
		t.Fatal(err)
	}
	mark("Equinix answers")
	code, out, _ = c.run(reschedule...)
	mark("reschedule again ended: exit " + strconv.Itoa(code))
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("reschedule --json: %v\n%s", err, out)
	}
	if code != exitOK || rep.State != string(runstore.AmendDone) || rep.Orders[string(runstore.AmendApplied)] != len(placed) {
		t.Errorf("reschedule once Equinix answers: exit %d, %s %v; want all %d orders applied", code, rep.State, rep.Orders, len(placed))
	}
	after := srv.Orders()
	if len(after) != len(placed) {
		t.Errorf("the sandbox holds %d orders; want the %d placed", len(after), len(placed))
	}
	for _, o := range after {
		if len(o.Patches) != 1 || !o.VisitStart.Equal(before[o.ID].Add(24*time.Hour)) {
			t.Errorf("order %s: %d updates, starts %s; want one update moving it from %s by 24h",
				o.ID, len(o.Patches), o.VisitStart, before[o.ID])
		}
	}
	t.Logf("timeline:\n  %s", strings.Join(timeline, "\n  "))
}

// sandboxToken gets an access token from the sandbox at url.
func sandboxToken(t *testing.T, url string) string {
	t.Helper()
	body := `{"grant_type":"client_credentials","client_id":"` + sandbox.DefaultClientID + `","client_secret":"` + sandbox.DefaultClientSecret + `"}`
	resp, err := http.Post(url+"/oauth2/v1/token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("sandbox token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// startDemoSandbox serves a sandbox whose clock starts at demoNow on addr.
func startDemoSandbox(t *testing.T, addr string) (srv *sandbox.Server, url string, stop func(context.Context) error) {
	t.Helper()
	when, err := time.Parse(time.RFC3339, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if srv, err = sandbox.New(sandbox.Config{StartAt: when}); err != nil {
		t.Fatal(err)
	}
	if url, stop, err = srv.Start(addr); err != nil {
		t.Fatal(err)
	}
	return srv, url, stop
}

// TestScheduleTickOutageLongerThanTheRetryBudget: a scheduled run meets
// an Equinix that fails for longer than every retry budget, either from the
// job's time (nothing listens: the pre-flight cannot ask) or from the first
// order placed (every request a 500 after it). The tick ends with the run
// interrupted (exit 1) and nothing rejected, warning at least every
// WarnEvery while orders wait; once Equinix answers, the next tick makes or
// resumes the run and places every order exactly once.
func TestScheduleTickOutageLongerThanTheRetryBudget(t *testing.T) {
	t.Parallel()
	t.Run("down at the job's time", func(t *testing.T) {
		t.Parallel()
		scheduledOutage(t, false)
	})
	t.Run("down after the first order", func(t *testing.T) {
		t.Parallel()
		scheduledOutage(t, true)
	})
}

func scheduledOutage(t *testing.T, midRun bool) {
	addr := unusedAddr(t) // nothing listens there until the sandbox starts

	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	scheduleRoster(t, in, 1, 160) // 4 orders of at most 50 visitors
	jobs := filepath.Join(dir, "jobs.yaml")
	if err := os.WriteFile(jobs, []byte(tickDaily), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &outageCLI{t: t, env: map[string]string{
		"XDG_STATE_HOME": dir, "HOME": dir,
		"EQUINIX_API_ENDPOINT": "http://" + addr,
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret,
	}}
	tick := func(now string) (int, string, string) {
		return c.run("schedule", "tick", "--config", jobs, "--store", filepath.Join(dir, "s.db"), "--concurrency", "1", "--now", now)
	}
	if code, out, _ := tick("2027-03-26T07:00:00Z"); code != exitOK || !strings.Contains(out, "nothing was due") {
		t.Fatalf("first tick: exit %d; want the job recorded", code)
	}

	start := time.Now()
	var timeline []string
	mark := func(s string) { timeline = append(timeline, time.Since(start).Round(time.Millisecond).String()+" "+s) }
	var srv *sandbox.Server
	var stop func(context.Context) error
	var err error
	if midRun {
		// The sandbox fails every request once the first order is placed.
		down := &outageAfterCreate{}
		srv, err = sandbox.New(sandbox.Config{StartAt: time.Now(), Logger: zerolog.New(down).Level(zerolog.DebugLevel)})
		if err != nil {
			t.Fatal(err)
		}
		down.srv = srv
		if _, stop, err = srv.Start(addr); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = stop(context.Background()) }()
		mark("Equinix answers until the first order is placed, then answers 500")
	} else {
		mark("Equinix down (nothing listens on " + addr + ")")
	}
	code, out, errOut := tick("2027-03-26T08:00:00Z")
	took := time.Since(start)
	mark("tick at the job's time ended: exit " + strconv.Itoa(code))
	if code != exitFailure || !strings.Contains(out, "tick: job daily, run for 2027-03-26T08:00:00Z: interrupted") {
		t.Errorf("tick during the outage: exit %d; want %d with the run interrupted", code, exitFailure)
	}
	if regexp.MustCompile(`[1-9]\d* rejected`).MatchString(out) {
		t.Errorf("orders or rows rejected during an outage:\n%s", out)
	}
	warnings := strings.Count(errOut, "Equinix unreachable for")
	if midRun {
		// A warning at least every WarnEvery (150ms here) while orders
		// wait: the watch looks every WarnEvery/3.
		if want := int(took / (300 * time.Millisecond)); warnings < max(want, 2) {
			t.Errorf("%d warnings that Equinix is unreachable in %s; want at least %d", warnings, took.Round(time.Millisecond), max(want, 2))
		}
		if n := len(srv.Orders()); n == 0 || n == 4 {
			t.Errorf("the sandbox holds %d orders after the first tick; want some of the 4", n)
		}
		if err := srv.FailAll(0); err != nil {
			t.Fatal(err)
		}
	} else {
		srv, _, stop = startDemoSandbox(t, addr)
		defer func() { _ = stop(context.Background()) }()
	}
	mark("Equinix answers")
	code, out, _ = tick("2027-03-26T08:02:00Z")
	mark("next tick ended: exit " + strconv.Itoa(code))
	if code != exitOK || !strings.Contains(out, "run for 2027-03-26T08:00:00Z: ordered") ||
		midRun && !strings.Contains(out, "resuming run") {
		t.Errorf("tick once Equinix answers: exit %d; want the run made or resumed, and ordered", code)
	}
	if byRef := sandboxByRef(t, srv); len(byRef) != 4 {
		t.Errorf("the sandbox holds %d orders; want the 4 of 160 visitors", len(byRef))
	}
	if code, out, _ = tick("2027-03-26T08:03:00Z"); code != exitOK || !strings.Contains(out, "nothing was due") || len(srv.Orders()) != 4 {
		t.Errorf("a tick after that: exit %d, %d orders; want nothing due and nothing more ordered", code, len(srv.Orders()))
	}
	t.Logf("timeline:\n  %s\n%d warnings that Equinix is unreachable in %s", strings.Join(timeline, "\n  "), warnings, took.Round(time.Millisecond))
}

// outageAfterCreate reads a sandbox's log, a debug line per request, and
// makes every request after the first work visit created fail with 500.
type outageAfterCreate struct {
	srv  *sandbox.Server
	once sync.Once
}

func (o *outageAfterCreate) Write(p []byte) (int, error) {
	if o.srv != nil && bytes.Contains(p, []byte(`"path":"/colocations/v2/orders/workVisits","status":201`)) {
		o.once.Do(func() { _ = o.srv.FailAll(sandbox.Fault500) })
	}
	return len(p), nil
}

// unusedAddr returns a loopback address where nothing listens.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPreflightWarnsDuringAnOutage: a submit whose pre-flight meets an
// Equinix answering 503 to everything warns that Equinix is unreachable at
// least every WarnEvery while it retries, then stops (exit 1) with nothing
// recorded; once Equinix answers, the same submit orders every row once.
func TestPreflightWarnsDuringAnOutage(t *testing.T) {
	t.Parallel()
	srv, url, stop := startDemoSandbox(t, "127.0.0.1:0")
	defer func() { _ = stop(context.Background()) }()
	dir := t.TempDir()
	c := &outageCLI{t: t, env: map[string]string{
		"XDG_STATE_HOME": dir, "HOME": dir,
		"EQUINIX_API_ENDPOINT": url,
		"EQUINIX_API_CLIENTID": sandbox.DefaultClientID, "EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret,
	}}
	if err := srv.FailAll(sandbox.Fault503); err != nil {
		t.Fatal(err)
	}
	submit := []string{"submit", "../../samples/contractors.csv", "--yes", "--now", demoNow}
	start := time.Now()
	code, out, errOut := c.run(submit...)
	took := time.Since(start)
	if code != exitFailure || runIDRe.MatchString(out) || !strings.Contains(errOut, "hint: Equinix did not answer or kept failing") {
		t.Errorf("submit during the outage: exit %d; want %d with no run recorded, and a hint", code, exitFailure)
	}
	// Each 503 says Retry-After: 1, so the pre-flight's retries take
	// seconds; a warning comes at least every WarnEvery (150ms here).
	warnings := strings.Count(errOut, "Equinix unreachable for")
	if want := int(took / (300 * time.Millisecond)); warnings < max(want, 2) {
		t.Errorf("%d warnings that Equinix is unreachable in %s; want at least %d", warnings, took.Round(time.Millisecond), max(want, 2))
	}
	if err := srv.FailAll(0); err != nil {
		t.Fatal(err)
	}
	if code, out, _ = c.run(submit...); code != exitOK || !strings.Contains(out, "rows:   20 of 20 ordered") {
		t.Errorf("submit once Equinix answers: exit %d; want every row ordered", code)
	}
	sandboxByRef(t, srv)
	t.Logf("pre-flight through the outage: %s, %d warnings", took.Round(time.Millisecond), warnings)
}
