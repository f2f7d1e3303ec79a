package submit

import (
	"context"
	"errors"
	"io/fs"
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
	ahead, made := startAhead(&opt, dir)
	res, err := importer.Import(ctx, opt)
	if err != nil {
		ahead.Discard()
		removeEmpty(made)
		return nil, err
	}
	ahead.End()
	v := &Validation{Import: res, Summary: report.NewSummary(res)}
	v.Files = report.WriteFiles(report.FilesInput{
		Dir: dir(res.RunID), Workbook: report.ValidationWorkbook(res), Errors: res.Errors, Ahead: ahead, Summary: v.Summary,
	})
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
// renamed into it. made are the folders it made for it, deepest first, for
// removeEmpty when the roster cannot be imported.
func startAhead(opt *importer.Options, dir func(runID string) string) (a *report.Ahead, made []string) {
	switch strings.ToLower(filepath.Ext(opt.Path)) {
	case ".xlsx", ".xlsm":
	default:
		return nil, nil
	}
	// The report folder is named after the run, known once the roster is
	// read: the workbook goes to the folders' parent; or, when the folder is
	// the same for every run (one the user named), to the folder. Either is
	// made if need be.
	d := dir("-")
	tmpDir := filepath.Dir(d)
	if dir("+") == d {
		tmpDir = d
	}
	made, err := makeDirs(tmpDir)
	if err != nil {
		removeEmpty(made)
		return nil, nil
	}
	tee := roster.NewSheetTee(aheadLag)
	a, err = report.StartAhead(tmpDir, tee)
	if err != nil {
		removeEmpty(made)
		return nil, nil
	}
	opt.Read.Tee, opt.Follow = tee, a
	return a, made
}

// makeDirs makes dir and the folders above it that are not there, and
// returns those it made, deepest first.
func makeDirs(dir string) (made []string, err error) {
	var missing []string
	for d := filepath.Clean(dir); ; {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		up := filepath.Dir(d)
		if up == d {
			break
		}
		d = up
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return missing[i+1:], err
		}
	}
	return missing, nil
}

// removeEmpty removes the folders startAhead made, deepest first, those
// that are still empty.
func removeEmpty(made []string) {
	for _, d := range made {
		if os.Remove(d) != nil {
			return
		}
	}
}
