package submit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// Validation is a roster checked and planned without ordering, with its
// report.
type Validation struct {
	Import  *importer.Result
	Summary *report.Summary
	Files   report.Files
}

// Validate imports a roster (opt, counting each order's visitors only) and
// writes its report (annotated workbook, errors CSV, summary.json) to the
// folder dir names for its run id. Report files that could not be written
// are in Files.Problems, never an error.
func Validate(ctx context.Context, opt importer.Options, dir func(runID string) string) (*Validation, error) {
	opt.CountOnly = true
	ahead := startAhead(&opt, dir)
	res, err := importer.Import(ctx, opt)
	if err != nil {
		ahead.Discard()
		return nil, err
	}
	ahead.End()
	v := &Validation{Import: res}
	// The summary (a line per order) is made once the workbook is written.
	v.Files = report.WriteFiles(report.FilesInput{
		Dir: dir(res.RunID), Workbook: report.ValidationWorkbook(res), Errors: res.Errors, Ahead: ahead,
		Summary: func() any { v.Summary = report.NewSummary(res); return v.Summary },
	})
	if v.Summary == nil { // the report folder could not be made
		v.Summary = report.NewSummary(res)
	}
	return v, nil
}

// Email sends the report to the roster's report emails, if it names any,
// with two minutes to do it: to are the recipients (none: nothing was
// sent), outbox the folder it was written to instead of sent.
func (v *Validation) Email(m Mailer) (to []string, outbox string, err error) {
	to = v.Import.Order.ReportEmails
	if len(to) == 0 {
		return nil, "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	outbox, err = m.Send(ctx, to, report.ValidationMailData(v.Import), v.Files)
	return to, outbox, err
}

// Mail emails the report as Email does and says what became of it, for
// MailOutcome.WriteText (with no run id): nil when the roster names no
// recipients.
func (v *Validation) Mail(m Mailer) *MailOutcome {
	to, outbox, err := v.Email(m)
	if len(to) == 0 {
		return nil
	}
	return &MailOutcome{To: to, Outbox: outbox, Err: err, Subject: mail.Subject(report.ValidationMailData(v.Import))}
}

// Failed reports whether some rows, or the order-level fields, need
// fixing.
func (v *Validation) Failed() bool { return v.Import.InvalidRows > 0 || len(v.Import.OrderErrors) > 0 }

// aheadLag bounds how far the report's copy of a roster sheet may fall
// behind the import's reading of it (see roster.SheetTee).
const aheadLag = 8 << 20

// startAhead starts writing the report workbook of an .xlsx roster while
// it is imported with opt, which it sets to feed it (see report.Ahead); nil
// when it cannot. The workbook is written beside the report folder, to be
// renamed into it.
func startAhead(opt *importer.Options, dir func(runID string) string) *report.Ahead {
	switch strings.ToLower(filepath.Ext(opt.Path)) {
	case ".xlsx", ".xlsm":
	default:
		return nil
	}
	// The report folder is named after the run, known once the roster is
	// read: the workbook goes to the folders' parent, made if need be; or,
	// when the folder is the same for every run (one the user named), to
	// the folder when it is there already.
	d := dir("-")
	tmpDir := filepath.Dir(d)
	if dir("+") == d {
		tmpDir = d
		if _, err := os.Stat(tmpDir); err != nil {
			return nil
		}
	} else if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return nil
	}
	tee := roster.NewSheetTee(aheadLag)
	a, err := report.StartAhead(tmpDir, tee)
	if err != nil {
		return nil
	}
	opt.Read.Tee, opt.Follow = tee, a
	return a
}
