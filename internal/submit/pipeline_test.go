package submit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// outboxMailer writes report emails as .eml files into a folder, the way
// a file:// SMTP URL does.
type outboxMailer struct{ cfg mail.Config }

func (m outboxMailer) Send(ctx context.Context, to []string, d mail.ReportData, files report.Files) (string, error) {
	msg, err := report.Email(to, d, files)
	if err != nil {
		return "", err
	}
	return m.cfg.Outbox, mail.Send(ctx, m.cfg, msg)
}

// pipelineWorld is a served sandbox, a client of it, a store and a
// Pipeline over the store that emails to an outbox.
type pipelineWorld struct {
	srv    *sandbox.Server
	client *equinix.Client
	p      *Pipeline
	outbox string
	in     Input
}

func newPipelineWorld(t *testing.T) *pipelineWorld {
	t.Helper()
	srv, err := sandbox.New(sandbox.Config{StartAt: benchStart, Seed: 1, Permissive: true})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	client, err := equinix.New(equinix.Config{Endpoint: url, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := runstore.Open(filepath.Join(dir, "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	outbox := filepath.Join(dir, "outbox")
	cfg, err := mail.ParseURL("file://" + outbox)
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "wvbatch@example.com"
	return &pipelineWorld{
		srv: srv, client: client, outbox: outbox,
		p: &Pipeline{Store: st, Mailer: outboxMailer{cfg}},
		in: Input{
			Import: importer.Options{Path: "../../samples/contractors.csv",
				Check: roster.CheckConfig{Now: func() time.Time { return benchStart }},
				Order: roster.OrderFields{ReportEmails: []string{"ann@example.com"}}},
			Conn: &Conn{Client: client, Endpoint: "sandbox"},
		},
	}
}

// place prepares and executes the world's run, which must place all of it.
func (w *pipelineWorld) place(t *testing.T) *Outcome {
	t.Helper()
	prep, err := w.p.Prepare(t.Context(), w.in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.p.Execute(t.Context(), prep)
	if err != nil || out.Stopped != nil {
		t.Fatalf("Execute: %v, %+v", err, out)
	}
	return out
}

func (w *pipelineWorld) emails(t *testing.T) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(w.outbox, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestPipelineSubmitsOnce prepares and executes a roster, then the same
// roster again: the first time every planned order is placed, the report
// written and emailed; the second time the recorded run is found and only
// shown, with nothing ordered or emailed again.
func TestPipelineSubmitsOnce(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	ctx := t.Context()
	var recorded []string
	w.p.Hooks.Recorded = func(run runstore.Run) { recorded = append(recorded, run.ID) }

	prep, err := w.p.Prepare(ctx, w.in)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Existing != nil || prep.New == nil || len(prep.New.Orders) == 0 {
		t.Fatalf("first Prepare: existing %v, new %v; want a new run with orders", prep.Existing, prep.New)
	}
	planned := len(prep.New.Orders)
	out, err := w.p.Execute(ctx, prep)
	if err != nil {
		t.Fatal(err)
	}
	if out.Stopped != nil || out.Run.ID != prep.New.Run.ID || len(recorded) != 1 {
		t.Fatalf("Execute: stopped %v, run %s (recorded %v)", out.Stopped, out.Run.ID, recorded)
	}
	if n := len(w.srv.Orders()); n != planned || out.Summary.Orders[string(runstore.Submitted)] != planned {
		t.Errorf("the sandbox holds %d orders, the summary says %v; want the %d planned submitted", n, out.Summary.Orders, planned)
	}
	if out.Tally.Sent != planned {
		t.Errorf("%d requests sent, want %d", out.Tally.Sent, planned)
	}
	if _, err := os.Stat(out.Files.Summary); err != nil {
		t.Errorf("no summary.json: %v", err)
	}
	if out.Mail == nil || out.Mail.Err != nil || out.Mail.Outbox != w.outbox || w.emails(t) != 1 {
		t.Errorf("mail %+v, %d emails; want one written to the outbox", out.Mail, w.emails(t))
	}

	offline := w.in
	offline.Conn = nil // a finished run needs no connection
	prep, err = w.p.Prepare(ctx, offline)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Existing == nil || prep.Existing.ID != out.Run.ID {
		t.Fatalf("second Prepare: %+v; want the run recorded already", prep)
	}
	again, err := w.p.Execute(ctx, prep)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.srv.Orders()); n != planned || again.Tally.Sent != 0 || len(recorded) != 1 {
		t.Errorf("after the same roster again: %d orders, %d sent, recorded %v; want nothing new", n, again.Tally.Sent, recorded)
	}
	if again.Mail != nil || w.emails(t) != 1 {
		t.Errorf("the report was emailed again: %+v", again.Mail)
	}
	w.p.Notify = []string{"bob@example.com"}
	if shown, err := w.p.Show(out.Run.ID, nil); err != nil || shown.Mail == nil || w.emails(t) != 2 {
		t.Errorf("Show with other recipients: %v, %+v; want the report emailed to them", err, shown)
	}
}

// TestPipelineResumesAnInterruptedRun places a run whose context has ended:
// it stops with every order left, is recorded interrupted, and Resume
// places the rest once.
func TestPipelineResumesAnInterruptedRun(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	w.in.Import.Order.ReportEmails = nil
	prep, err := w.p.Prepare(t.Context(), w.in)
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.p.Record(prep.New)
	if err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	out, err := w.p.Place(ended, run, w.client, prep.Import)
	if err != nil {
		t.Fatal(err)
	}
	if out.Stopped == nil || len(w.srv.Orders()) != 0 {
		t.Fatalf("placing with an ended context: stopped %v, %d orders placed", out.Stopped, len(w.srv.Orders()))
	}
	if got, _ := w.p.Store.Run(run.ID); got.State != runstore.RunInterrupted || !out.RowsFailed() {
		t.Errorf("run state %s, rows failed %v; want interrupted with rows pending", got.State, out.RowsFailed())
	}
	stopped, _ := w.p.Store.Run(run.ID)
	connects := 0
	connect := func() (*Conn, error) { connects++; return &Conn{Client: w.client, Endpoint: "sandbox"}, nil }
	out, err = w.p.Resume(t.Context(), stopped, connect, nil)
	if err != nil || out.Stopped != nil {
		t.Fatalf("Resume: %v, stopped %v", err, out.Stopped)
	}
	if n := len(w.srv.Orders()); n != len(prep.New.Orders) || connects != 1 || out.Mail != nil {
		t.Errorf("after Resume: %d orders of %d, %d connects, mail %+v", n, len(prep.New.Orders), connects, out.Mail)
	}
	done, _ := w.p.Store.Run(run.ID)
	if shown, err := w.p.Resume(t.Context(), done, connect, nil); err != nil || connects != 1 || !shown.Shown {
		t.Errorf("Resume of a finished run: %v, %d connects; want it shown without connecting", err, connects)
	}
}
