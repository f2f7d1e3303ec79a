package submit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Mailer emails a run's report.
type Mailer interface {
	// Send emails the report to; outbox is the folder the message was
	// written to instead of being sent, if it was.
	Send(ctx context.Context, to []string, d mail.ReportData, files report.Files) (outbox string, err error)
}

// Outcome is what became of a run: its summary and report as the store
// holds them now, the email of the report, and, when orders were placed,
// what the queue did and why it stopped.
type Outcome struct {
	Run     runstore.Run
	Summary *report.RunSummary
	Files   report.Files
	// Mail is the email of the report; nil when none was due.
	Mail *MailOutcome
	// Tally is what placing the orders did; zero when none were placed.
	Tally queue.Tally
	// Stopped is why placing stopped with work left (an outage, the
	// context ended): the run is recorded interrupted, to be resumed.
	Stopped error
	// Shown says the run had nothing left to send and was only shown
	// again (see Show): nothing was done, so nothing failed.
	Shown bool
	// CancelReason is the reason of the cancel this outcome follows, which
	// its report email gives (see FinishCancel).
	CancelReason string
}

// RowsFailed reports whether some rows were not ordered.
func (o *Outcome) RowsFailed() bool { return o.Summary.RowsOK < o.Summary.RowsTotal }

// MailOutcome is what became of a report's email.
type MailOutcome struct {
	To      []string
	Subject string
	// Outbox is the folder the message was written to instead of sent.
	Outbox string
	// Err is why the email was not sent; Setup why it was not even tried
	// (the run or its recipients could not be read).
	Err, Setup error
	// RecordErr is why the attempt could not be recorded in the store.
	RecordErr error
}

// reportDir is the folder of a run's report.
func (p *Pipeline) reportDir(runID string) string {
	var dir string
	if p.ReportDir != nil {
		dir = p.ReportDir(runID)
	}
	return RunReportDir(dir, p.Store, runID)
}

// RunReportDir is the folder of a run's report: dir when one is chosen,
// else reports/<run> beside the store.
func RunReportDir(dir string, st *runstore.Store, runID string) string {
	if dir != "" {
		return dir
	}
	return ReportDirIn(filepath.Dir(st.Path()), runID)
}

// ReportDirIn is the folder of run runID's report kept in the folder
// dataDir (the store's, or the state folder): reports/<run>.
func ReportDirIn(dataDir, runID string) string { return filepath.Join(dataDir, "reports", runID) }

// load reads a run, its summary and its rows from the store. imp, when not
// nil, is the run's roster as imported in this process. The contents it
// returns hold the rows and the digest they were read with, not the orders.
func (p *Pipeline) load(runID string, imp *importer.Result) (*Outcome, *runstore.Contents, error) {
	c, err := p.Store.Contents(runID)
	if err != nil {
		return nil, nil, err
	}
	o := &Outcome{Run: c.Run, Summary: report.NewRunSummary(c.Run, c.Orders, c.Rows, imp)}
	c.Orders = nil
	return o, &c, nil
}

// Summary returns a run's summary as the store holds it: its saved summary
// while that is current (see saved).
func (p *Pipeline) Summary(runID string) (*report.RunSummary, error) {
	o, _, err := p.saved(runID, nil)
	if err == nil && o == nil {
		o, _, err = p.load(runID, nil)
	}
	if err != nil {
		return nil, err
	}
	return o.Summary, nil
}

// Report writes run runID's report folder from the store and records it.
// A file that cannot be written is in Files.Problems, never an error: only
// reading the store can fail it. imp, when not nil, is the run's roster as
// imported in this process.
func (p *Pipeline) Report(runID string, imp *importer.Result) (*Outcome, error) {
	o, c, err := p.load(runID, imp)
	if err != nil {
		return nil, err
	}
	o.Files = p.writeReport(o, c, imp)
	return o, nil
}

// writeReport writes a run's report folder and records what became of it
// in the store. imp, when not nil, is the run's roster as imported in this
// process: it knows the sheet's extent, which spares the report a pass over
// the sheet.
func (p *Pipeline) writeReport(o *Outcome, c *runstore.Contents, imp *importer.Result) report.Files {
	rows := c.Rows
	dir := p.reportDir(o.Run.ID)
	var set Settings
	source, skip := "", ""
	if err := RunSettings(o.Run, &set); err != nil {
		skip = err.Error() // the report is made without the roster
	} else {
		source, skip = rosterSource(p.Store, o.Run, set)
	}
	wb := report.RunWorkbook(o.Summary, rows, source, set.Sheet, set.HeaderRow)
	if imp != nil && imp.Hash == o.Run.Hash {
		wb.LastRow, wb.LastColumn = imp.LastRow, imp.LastColumn
	}
	files := report.WriteFiles(report.FilesInput{
		Dir: dir, Name: cmp.Or(set.Roster, o.Run.File), SkipReason: skip, Errors: o.Summary.Errors, Summary: o.Summary, Workbook: wb,
	})
	of := report.Fingerprint(o.Summary)
	stored, storedOf := storedSummary(o.Summary, of, c, imp)
	rec := runstore.ReportRecord{Dir: dir, Files: files.Paths(), Problems: files.Problems, Skipped: files.WorkbookSkipped, Of: of}
	if storedOf != of {
		rec.Stored = storedOf
	}
	if err := p.Store.RecordReport(o.Run.ID, rec); err != nil {
		files.Problems = append(files.Problems, fmt.Sprintf("record the report in the store: %v", err))
	}
	p.saveSummary(c, stored, storedOf)
	return files
}

// recordedReport returns the run's recorded report when it is complete, up
// to date with its summary (whose fingerprint is of) and still on disk in
// dir, so it need not be written again.
func recordedReport(o *Outcome, dir, of string) (report.Files, bool) {
	rec := o.Run.Report
	if rec == nil || rec.Of == "" || len(rec.Problems) > 0 || rec.Dir != dir || (rec.Of != of && rec.Stored != of) {
		return report.Files{}, false
	}
	files := report.Files{Dir: rec.Dir, WorkbookSkipped: rec.Skipped}
	for _, p := range rec.Files {
		if _, err := os.Stat(p); err != nil {
			return report.Files{}, false
		}
		switch {
		case strings.HasSuffix(p, "-report.xlsx"):
			files.Workbook = p
		case strings.HasSuffix(p, "-errors.csv"):
			files.ErrorsCSV = p
		default:
			files.Summary = p
		}
	}
	return files, true
}

// rosterSource is the roster file to annotate for a run, or "" and why not.
// The first report of a run keeps a copy of its roster beside the store
// (rosters/<run><ext>), so that the report can be made again from the store
// after the roster was moved or edited.
func rosterSource(st *runstore.Store, run runstore.Run, set Settings) (string, string) {
	p := set.Roster
	if p == "" {
		return "", "the run has no roster file to annotate"
	}
	kept := filepath.Join(filepath.Dir(st.Path()), "rosters", run.ID+strings.ToLower(filepath.Ext(p)))
	if run.Hash == "" {
		return p, ""
	}
	if h, err := importer.HashFile(kept); err == nil && h == run.Hash {
		return kept, ""
	}
	// The roster is copied and hashed in one read; the report reads the
	// copy, which is the run's roster whatever happens to the file later.
	src := kept
	h, err := keepCopy(p, kept, run.Hash)
	if errors.Is(err, errNotKept) {
		// Only a later report needs the copy: this one reads the roster.
		src = p
		h, err = importer.HashFile(p)
	}
	switch {
	case err != nil:
		return "", fmt.Sprintf("the roster %s cannot be read", p)
	case h != run.Hash:
		return "", fmt.Sprintf("the roster %s changed since the run", p)
	}
	return src, ""
}

// errNotKept means the copy of a roster could not be written.
var errNotKept = errors.New("the copy cannot be written")

// keepCopy copies src to dst (mode 0600, creating dst's folder, through a
// temporary file renamed into place only when what it copied has the
// SHA-256 want) and returns that SHA-256. An error opening src is returned
// as is; any other is errNotKept, and no copy is left behind.
func keepCopy(src, dst, want string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", errNotKept
	}
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return "", errNotKept
	}
	defer os.Remove(out.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err != nil || cerr != nil {
		// Reading the roster again says whether it or the copy failed.
		return "", errNotKept
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sum != want {
		return sum, nil // another roster: not kept
	}
	if err := os.Rename(out.Name(), dst); err != nil {
		return "", errNotKept
	}
	return sum, nil
}

// Finish writes a run's report and emails it to the run's recipients (or
// Notify). It is the end of every run that placed orders.
func (p *Pipeline) Finish(runID string, imp *importer.Result) (*Outcome, error) {
	o, err := p.Report(runID, imp)
	if err != nil {
		return nil, err
	}
	var resumeHint string
	if o.Summary.Rows[string(runstore.RowPending)] > 0 {
		resumeHint = "Some visitors are not ordered yet: the run was interrupted. Finish it with: wvbatch resume " + runID
	}
	o.Mail = p.Mail(o, resumeHint)
	return o, nil
}

// FinishCancel is Finish after orders of the run were cancelled with
// reason: the report email lists the cancelled orders and gives the reason.
func (p *Pipeline) FinishCancel(runID, reason string) (*Outcome, error) {
	o, err := p.Report(runID, nil)
	if err != nil {
		return nil, err
	}
	o.CancelReason = reason
	o.Mail = p.Mail(o, "")
	return o, nil
}

// Show is Finish for a run that is finished already, shown again (resumed,
// or the same input submitted again): its report is written again only
// when it is missing, incomplete or out of date, and emailed only when it
// was not sent yet (or Notify names recipients).
//
// A run whose summary was saved (see saved) is shown from it, without
// reading its orders and rows; otherwise its summary is saved for the next
// time.
func (p *Pipeline) Show(runID string, imp *importer.Result) (*Outcome, error) {
	dir := p.reportDir(runID)
	o, of, err := p.saved(runID, imp)
	if err != nil {
		return nil, err
	}
	var (
		files   report.Files
		current bool
	)
	if o != nil {
		files, current = recordedReport(o, dir, of)
	}
	if !current {
		var c *runstore.Contents
		if o, c, err = p.load(runID, imp); err != nil {
			return nil, err
		}
		of = report.Fingerprint(o.Summary)
		if files, current = recordedReport(o, dir, of); current {
			stored, storedOf := storedSummary(o.Summary, of, c, imp)
			p.saveSummary(c, stored, storedOf)
		} else {
			files = p.writeReport(o, c, imp)
		}
	}
	o.Files, o.Shown = files, true
	if current && o.Run.Mail != nil && o.Run.Mail.Sent && len(p.Notify) == 0 {
		return o, nil
	}
	o.Mail = p.Mail(o, "")
	return o, nil
}

// ErrNoRecipients means a run's report has no one to go to.
var ErrNoRecipients = errors.New("the run has no report recipients")

// Resend emails a run's report again (out as Report returned it), writes
// how it went to w and says whether it was sent, as the store records it.
func (p *Pipeline) Resend(out *Outcome, w io.Writer) (bool, error) {
	to, err := p.Recipients(out.Run)
	if err != nil {
		return false, err
	}
	if len(to) == 0 {
		return false, ErrNoRecipients
	}
	p.Mail(out, "").WriteText(w, out.Run.ID)
	after, err := p.Store.Run(out.Run.ID)
	if err != nil {
		return false, err
	}
	return after.Mail != nil && after.Mail.Sent, nil
}

// Recipients are who get a run's report: Notify, else those the run was
// given. An error means the run's settings cannot be read.
func (p *Pipeline) Recipients(run runstore.Run) ([]string, error) {
	if len(p.Notify) > 0 {
		return p.Notify, nil
	}
	var set Settings
	if err := RunSettings(run, &set); err != nil {
		return nil, err
	}
	return set.Order.ReportEmails, nil
}

// Mail emails a run's report (o as Report returned it) when the run has
// recipients, and records the attempt in the store. It returns nil when
// there is no one to send it to. An email that cannot be sent never fails
// the run: the outcome says why, and the attempt is recorded.
func (p *Pipeline) Mail(o *Outcome, resumeHint string) *MailOutcome {
	run, err := p.Store.Run(o.Run.ID)
	if err != nil {
		return &MailOutcome{Setup: err}
	}
	to, err := p.Recipients(run)
	if err != nil {
		return &MailOutcome{Setup: err}
	}
	if len(to) == 0 {
		return nil
	}
	d := report.RunMailData(o.Summary, resumeHint)
	d.CancelReason = o.CancelReason
	m := &MailOutcome{To: to, Subject: mail.Subject(d)}
	if p.Mailer == nil {
		m.Err = ErrNoMailer
	} else {
		// The run is over: the email gets its own time, even after the
		// run's context ended.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		m.Outbox, m.Err = p.Mailer.Send(ctx, to, d, o.Files)
		cancel()
	}
	rec := runstore.MailRecord{To: to, Subject: m.Subject, Sent: m.Err == nil}
	if m.Err != nil {
		rec.Error = m.Err.Error()
	}
	m.RecordErr = p.Store.RecordMail(o.Run.ID, rec)
	return m
}

// Audit adds to ev what the audit line of an action on the run ("order",
// "cancel", …) holds: the run, its endpoint, its counts and why it stopped.
func (o *Outcome) Audit(ev *zerolog.Event, action string) *zerolog.Event {
	ev = ev.Str("run", o.Run.ID)
	if o.Run.Endpoint != "" {
		ev = ev.Str("endpoint", o.Run.Where().String())
	}
	t := o.Tally
	switch action {
	case "cancel":
		ev = ev.Int("orders_cancelled", t.Cancelled)
	default:
		ev = ev.Int("orders_submitted", t.Submitted).Int("orders_rejected", t.Rejected).Int("requests", t.Sent)
	}
	if s := o.Summary; s != nil {
		ev = ev.Int("visitors_ordered", s.RowsOK).Int("visitors_cancelled", s.Rows["cancelled"]).Int("rows", s.RowsTotal)
	}
	return ev.AnErr("stopped", o.Stopped)
}
