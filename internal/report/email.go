package report

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// MaxAttachment is the largest report file an email carries; a larger one
// stays in the report folder and the email says where.
const MaxAttachment = 10 << 20

// RunMailData is what a run's report email says: its placed orders, and
// its cancelled ones apart. resumeHint, when not "", tells how to finish an
// interrupted run.
func RunMailData(s *RunSummary, resumeHint string) mail.ReportData {
	d := mail.ReportData{
		RunID: s.RunID, Endpoint: s.Where(), Roster: filepath.Base(s.File), Ordered: s.RowsOK, Total: s.RowsTotal,
		NeedFixing: s.Rows["invalid"] + s.Rows["rejected"], ResumeHint: resumeHint,
	}
	var ibxs []string
	for _, o := range s.OrderList {
		ibxs = append(ibxs, o.IBX)
		if o.OrderID == "" {
			continue
		}
		ro := mail.ReportOrder{OrderID: o.OrderID, Reference: o.CustomerReference, IBX: o.IBX, Cages: orderPlace(o), Visitors: o.Visitors}
		zone, _ := roster.MetroZone(o.IBX)
		ro.SetWindow(o.Start, o.End, zone)
		if o.State == string(runstore.Cancelled) {
			d.Cancelled = append(d.Cancelled, ro)
			continue
		}
		d.Orders = append(d.Orders, ro)
	}
	d.CancelledVisitors = s.Rows[string(runstore.RowCancelled)]
	d.IBX = mail.JoinIBX(ibxs)
	d.Problems, d.MoreProblems = mailProblems(s.Errors)
	return d
}

// ValidationMailData is what a validation's report email says.
func ValidationMailData(r *importer.Result) mail.ReportData {
	d := mail.ReportData{
		ValidationOnly: true, RunID: r.RunID, Roster: filepath.Base(r.File), Total: r.Rows, NeedFixing: r.InvalidRows,
	}
	var ibxs []string
	for _, o := range r.Orders {
		ibxs = append(ibxs, o.IBX)
	}
	d.IBX = mail.JoinIBX(ibxs)
	d.Problems, d.MoreProblems = mailProblems(r.Errors)
	if more := r.ErrorsTotal - len(r.Errors); more > 0 {
		d.MoreProblems += more
	}
	return d
}

func mailProblems(errs []roster.RowError) ([]mail.ReportProblem, int) {
	var out []mail.ReportProblem
	for i, e := range errs {
		if i == mail.MaxProblems {
			return out, len(errs) - i
		}
		out = append(out, mail.ReportProblem{Row: e.Row, Column: e.Column, Field: e.Field, Message: e.Message, Hint: e.Hint})
	}
	return out, 0
}

// Email is the report email to the given recipients, with the report
// workbook and errors CSV of files attached (those up to MaxAttachment;
// the body names the folder of any left out).
func Email(to []string, d mail.ReportData, files Files) (mail.Message, error) {
	var atts []mail.Attachment
	var left []string
	for _, f := range []struct{ path, ct string }{{files.Workbook, mail.ContentTypeXLSX}, {files.ErrorsCSV, "text/csv"}} {
		if f.path == "" {
			continue
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			return mail.Message{}, fmt.Errorf("attach %s: %w", filepath.Base(f.path), err)
		}
		if fi.Size() > MaxAttachment {
			left = append(left, fmt.Sprintf("%s (%.1f MB)", filepath.Base(f.path), float64(fi.Size())/(1<<20)))
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return mail.Message{}, fmt.Errorf("attach %s: %w", filepath.Base(f.path), err)
		}
		atts = append(atts, mail.Attachment{Name: filepath.Base(f.path), ContentType: f.ct, Data: b})
	}
	switch {
	case len(left) > 0:
		d.Note = fmt.Sprintf("Too large to attach, and kept in %s: %s.", files.Dir, joinAnd(left))
	case files.Workbook == "" && files.WorkbookSkipped != "":
		d.Note = "The annotated workbook could not be made: " + files.WorkbookSkipped + "."
	}
	text, html, err := mail.RenderBodies(d)
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{To: to, Subject: mail.Subject(d), Text: text, HTML: html, Attachments: atts}, nil
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, v := range s[1 : len(s)-1] {
		out += ", " + v
	}
	return out + " and " + s[len(s)-1]
}
