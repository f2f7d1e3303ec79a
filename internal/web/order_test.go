package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// outboxMailer writes report emails as .eml files, as a file:// SMTP URL
// does.
type outboxMailer struct{ dir string }

func (m outboxMailer) Send(ctx context.Context, to []string, d mail.ReportData, files report.Files) (string, error) {
	cfg, err := mail.ParseURL("file://" + m.dir)
	if err != nil {
		return "", err
	}
	cfg.From = "wvbatch@localhost"
	msg, err := report.Email(to, d, files)
	if err != nil {
		return "", err
	}
	return cfg.Outbox, mail.Send(ctx, cfg, msg)
}

// orderEnv is a server that orders from a sandbox of its own, over HTTP.
type orderEnv struct {
	*testEnv
	sb     *sandbox.Server
	outbox string
	cancel context.CancelFunc
	cfg    Config
}

func newOrderEnv(t *testing.T, sbCfg sandbox.Config, concurrency int) *orderEnv {
	t.Helper()
	sbCfg.StartAt = testNow
	sb, err := sandbox.New(sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	sbURL, stop, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(context.Background()) })
	client, err := equinix.New(equinix.Config{Endpoint: sbURL, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	oe := &orderEnv{sb: sb, outbox: t.TempDir()}
	oe.testEnv = newTestEnv(t, func(c *Config) {
		c.Orderer = NewOrderer(PipelineConfig{Client: client, Endpoint: sbURL, Now: testNow.Format(time.RFC3339),
			Concurrency: concurrency, Mailer: outboxMailer{oe.outbox}, Logger: zerolog.Nop()})
		c.Endpoint = sbURL
		oe.cfg = *c
	})
	oe.start(oe.srv)
	return oe
}

// start lets srv place orders until the test ends or restart is called.
func (oe *orderEnv) start(srv *Server) {
	ctx, cancel := context.WithCancel(context.Background())
	srv.Start(ctx)
	oe.cancel = cancel
	oe.t.Cleanup(func() { cancel(); srv.Wait() })
}

var (
	placeForm  = regexp.MustCompile(`name="run" value="([^"]+)"`)
	placeCount = regexp.MustCompile(`id="place">Place (\d+) order`)
	nOrders    = regexp.MustCompile(`id="n-orders">(\d+)<`)
	nVisitors  = regexp.MustCompile(`id="n-visitors">(\d+)<`)
)

// confirmAndOrder asks for the confirmation and places the orders.
func (c *client) confirmAndOrder(draft string) (runID string, orders int) {
	c.te.t.Helper()
	resp, body := c.post(draft+"/confirm", url.Values{"csrf": {c.csrf}})
	if resp.StatusCode != http.StatusOK {
		c.te.t.Fatalf("confirm: %s\n%s", resp.Status, errorLine(body))
	}
	m := placeForm.FindStringSubmatch(body)
	n := placeCount.FindStringSubmatch(body)
	if m == nil || n == nil {
		c.te.t.Fatalf("no Place button:\n%s", body)
	}
	json.Unmarshal([]byte(n[1]), &orders)
	resp, body = c.post(draft+"/order", url.Values{"csrf": {c.csrf}, "run": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/runs/"+m[1] {
		c.te.t.Fatalf("order: %s to %q\n%s", resp.Status, resp.Header.Get("Location"), errorLine(body))
	}
	return m[1], orders
}

// waitEnd reads the run's event stream until it ends and returns the last
// progress.
func (c *client) waitEnd(runID string) Progress {
	c.te.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.te.ts.URL+"/runs/"+runID+"/events", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		c.te.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		c.te.t.Fatalf("events: %s %s", resp.Status, ct)
	}
	var p Progress
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &p); err != nil {
				c.te.t.Fatal(err)
			}
			if event == "end" {
				return p
			}
		}
	}
	c.te.t.Fatalf("the event stream ended without an end event: %v; last %+v", sc.Err(), p)
	return p
}

// references counts the sandbox's orders by reference.
func (oe *orderEnv) references() map[string]int {
	m := map[string]int{}
	for _, o := range oe.sb.Orders() {
		m[o.CustomerReferenceID]++
	}
	return m
}

// The whole ordering path: confirmation saying what will and will not
// happen, the run placed through the pipeline, progress to the end, the
// result with every row's outcome and order ids, the report files, the
// email, who started it, and the audit line.
func TestOrderFromPage(t *testing.T) {
	oe := newOrderEnv(t, sandbox.Config{}, 4)
	c := oe.signedIn("otto")
	draft := c.uploadDraft("contractors-with-errors.csv", sample(t, "contractors-with-errors.csv"))
	c.post(draft+"/cells", url.Values{"csrf": {c.csrf}, "row": {"6"}, "c7": {"David"}})
	c.post(draft+"/fields", url.Values{"csrf": {c.csrf}, "description": {"Battery swap, hall 2"}, "report_emails": {"facilities@example.com"}})
	_, body := c.get(draft)
	invalid := count(t, body)
	orders, visitors := nOrders.FindStringSubmatch(body)[1], nVisitors.FindStringSubmatch(body)[1]

	resp, confirm := c.post(draft+"/confirm", url.Values{"csrf": {c.csrf}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %s", resp.Status)
	}
	for _, want := range []string{"Place " + orders + " orders", orders + " orders for " + visitors + " visitors", oe.cfg.Endpoint, "rows are invalid</b> and will not be ordered"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the confirmation lacks %q", want)
		}
	}
	if !strings.Contains(confirm, "<b>"+itoa(invalid)+" rows are invalid") {
		t.Errorf("the confirmation does not count the %d invalid rows", invalid)
	}
	if n := len(oe.sb.Orders()); n != 0 {
		t.Fatalf("the confirmation placed %d orders", n)
	}
	// An order for another run than the one confirmed places nothing.
	if resp, _ := c.post(draft+"/order", url.Values{"csrf": {c.csrf}, "run": {"r000000000000000"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("order of another run: %s; want 409", resp.Status)
	}
	runID, _ := c.confirmAndOrder(draft)
	p := c.waitEnd(runID)
	if p.State != "finished" || itoa(p.Total) != orders || p.Placed != p.Total || p.Done != p.Total {
		t.Fatalf("progress at the end: %+v", p)
	}
	refs := oe.references()
	if itoa(len(refs)) != orders {
		t.Fatalf("the sandbox holds %d references; want %s", len(refs), orders)
	}
	for ref, n := range refs {
		if n != 1 {
			t.Errorf("reference %s ordered %d times", ref, n)
		}
	}
	// The result: every row, the order ids, the files, the email.
	_, page := c.get("/runs/" + runID)
	for _, o := range oe.sb.Orders() {
		if !strings.Contains(page, o.ID) {
			t.Errorf("the run page lacks order %s", o.ID)
		}
	}
	for _, want := range []string{`id="dl-report"`, `id="dl-errors"`, `id="dl-summary"`, `id="resend"`, "sent to facilities@example.com", "by otto", "ordered", "invalid"} {
		if !strings.Contains(page, want) {
			t.Errorf("the run page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="progress"`) {
		t.Error("a finished run still shows progress")
	}
	resp, err := c.http.Get(oe.ts.URL + "/runs/" + runID + "/files/summary")
	if err != nil {
		t.Fatal(err)
	}
	var sum report.RunSummary
	json.NewDecoder(resp.Body).Decode(&sum)
	resp.Body.Close()
	if sum.RunID != runID || itoa(sum.RowsOK) != visitors {
		t.Errorf("summary.json: run %s, %d rows ordered; want %s, %s", sum.RunID, sum.RowsOK, runID, visitors)
	}
	emls, _ := filepath.Glob(filepath.Join(oe.outbox, "*.eml"))
	if len(emls) != 1 {
		t.Errorf("%d emails; want 1", len(emls))
	}
	st, err := runstore.Open(oe.store, runstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.Run(runID)
	st.Close()
	var set submit.Settings
	if err != nil || submit.RunSettings(run, &set) != nil || set.StartedBy != "otto" {
		t.Errorf("the run records started_by %q; want otto (%v)", set.StartedBy, err)
	}
	if !strings.Contains(oe.audit.String(), `"audit":"order","user":"otto","run":"`+runID+`"`) {
		t.Errorf("no audit line for the order:\n%s", oe.audit.String())
	}
	_, list := c.get("/runs?who=otto")
	if !strings.Contains(list, runID) {
		t.Error("the runs list filtered by who started it lacks the run")
	}
	// Ordering the same draft again resumes the run: nothing twice.
	_, confirm = c.post(draft+"/confirm", url.Values{"csrf": {c.csrf}})
	if !strings.Contains(confirm, "ordering again resumes that run") || !strings.Contains(confirm, "There is nothing to order") {
		t.Error("the second confirmation does not say the run exists and has nothing to order")
	}
	if itoa(len(oe.sb.Orders())) != orders {
		t.Error("a second confirmation ordered")
	}

	// Cancel one order with a reason; send the report again; reschedule.
	first := oe.sb.Orders()[0].ID
	resp, body = c.post("/runs/"+runID+"/cancel", url.Values{"csrf": {c.csrf}, "order": {first}, "reason": {"maintenance postponed"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "cancelled 1 order") {
		t.Fatalf("cancel: %s %s", resp.Status, errorLine(body))
	}
	for _, o := range oe.sb.Orders() {
		switch {
		case o.ID == first && (o.Status != "CANCELLED" || o.CancelReason != "maintenance postponed"):
			t.Errorf("order %s: %s %q; want CANCELLED with the reason", o.ID, o.Status, o.CancelReason)
		case o.ID != first && o.Status == "CANCELLED":
			t.Errorf("order %s was cancelled too", o.ID)
		}
	}
	resp, body = c.post("/runs/"+runID+"/reschedule", url.Values{"csrf": {c.csrf}, "shift": {"2h"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "rescheduled by 2h0m0s") {
		t.Fatalf("reschedule: %s %s", resp.Status, errorLine(body))
	}
	for _, o := range oe.sb.Orders() {
		if o.ID != first && len(o.Patches) != 1 {
			t.Errorf("order %s has %d updates; want 1", o.ID, len(o.Patches))
		}
	}
	if resp, body := c.post("/runs/"+runID+"/reschedule", url.Values{"csrf": {c.csrf}, "shift": {"2h"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "nothing was sent") {
		t.Errorf("the same shift again: %s %s; want 400 saying nothing was sent", resp.Status, errorLine(body))
	}
	if resp, body := c.post("/runs/"+runID+"/reschedule", url.Values{"csrf": {c.csrf}, "shift": {"soon"}}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "whole number of minutes") {
		t.Errorf("a shift that is not one: %s %s", resp.Status, errorLine(body))
	}
	if resp, body := c.post("/runs/"+runID+"/resend", url.Values{"csrf": {c.csrf}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "sent again") {
		t.Errorf("resend: %s %s", resp.Status, errorLine(body))
	}
	if emls, _ := filepath.Glob(filepath.Join(oe.outbox, "*.eml")); len(emls) < 3 {
		t.Errorf("%d emails after a cancel and a resend; want at least 3", len(emls))
	}
	for _, want := range []string{`"audit":"cancel"`, `"audit":"reschedule"`, `"audit":"resend"`} {
		if !strings.Contains(oe.audit.String(), want) {
			t.Errorf("no audit line %s", want)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A server stopped in the middle of a run resumes it when it starts again,
// as `wvbatch resume` does: every order is placed once.
func TestOrderSurvivesRestart(t *testing.T) {
	oe := newOrderEnv(t, sandbox.Config{Latency: 150 * time.Millisecond, Permissive: true}, 1)
	c := oe.signedIn("otto")
	draft := c.uploadDraft("contractors.xlsx", sample(t, "contractors.xlsx"))
	runID, orders := c.confirmAndOrder(draft)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := oe.sb.WaitOrders(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Stop the server while orders are left, then start a new one on the
	// same store.
	oe.cancel()
	oe.srv.Wait()
	placed := len(oe.sb.Orders())
	srv2, err := New(oe.cfg)
	if err != nil {
		t.Fatal(err)
	}
	oe.ts.Config.Handler = srv2
	oe.start(srv2)
	p := c.waitEnd(runID)
	if p.State != "finished" || p.Placed != p.Total || p.Total != orders {
		t.Fatalf("after the restart: %+v; want all %d orders placed", p, orders)
	}
	t.Logf("%d of %d orders placed before the stop", placed, orders)
	if placed >= orders {
		t.Errorf("the stop came after every order was placed (%d): the test proves nothing", placed)
	}
	refs := oe.references()
	if len(refs) != orders {
		t.Errorf("the sandbox holds %d references; want %d", len(refs), orders)
	}
	for ref, n := range refs {
		if n != 1 {
			t.Errorf("reference %s ordered %d times", ref, n)
		}
	}
	if !strings.Contains(oe.audit.String(), `"audit":"resume"`) {
		t.Error("no audit line for the resume")
	}
}

// The report workbook of a run, fixed and ordered again, orders only what
// is left: the visitors ordered already are left out, and the confirmation
// says so.
func TestOrderReportWorkbookAgain(t *testing.T) {
	oe := newOrderEnv(t, sandbox.Config{}, 4)
	c := oe.signedIn("otto")
	draft := c.uploadDraft("contractors-with-errors.csv", sample(t, "contractors-with-errors.csv"))
	runID, first := c.confirmAndOrder(draft)
	if p := c.waitEnd(runID); p.State != "finished" {
		t.Fatalf("first run: %+v", p)
	}
	// From the run's page: fix the report workbook and order again.
	resp, _ := c.post("/runs/"+runID+"/again", url.Values{"csrf": {c.csrf}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/drafts/") {
		t.Fatalf("again: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	again := resp.Header.Get("Location")
	_, body := c.get(again)
	if !strings.Contains(body, "contractors-with-errors-report.xlsx") || !strings.Contains(body, `column &#34;Status&#34; is not a visitor column and is ignored`) {
		t.Fatalf("the report workbook's check lacks its name or the note on its own columns:\n%s", errorLine(body))
	}
	// Row 6's first name, fixed in the report workbook.
	if resp, _ := c.post(again+"/cells", url.Values{"csrf": {c.csrf}, "row": {"6"}, "c7": {"David"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %s", resp.Status)
	}
	_, confirm := c.post(again+"/confirm", url.Values{"csrf": {c.csrf}})
	if !regexp.MustCompile(`\d+ visitors were already ordered</b> by an earlier run`).MatchString(confirm) {
		t.Errorf("the confirmation does not say visitors were ordered already:\n%s", confirm)
	}
	runID2, n := c.confirmAndOrder(again)
	if runID2 == runID {
		t.Fatal("the corrected report made the same run")
	}
	if p := c.waitEnd(runID2); p.State != "finished" || p.Placed != n {
		t.Fatalf("second run: %+v", p)
	}
	// One new order, for the fixed row only; no visitor ordered twice.
	if got := len(oe.sb.Orders()); got != first+n || n != 1 {
		t.Errorf("the sandbox holds %d orders after %d and %d; want one more order", got, first, n)
	}
	_, page := c.get("/runs/" + runID2)
	if !strings.Contains(page, "already-ordered") {
		t.Error("the second run's rows do not say already ordered")
	}
}
