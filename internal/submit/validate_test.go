package submit

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/mail"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	check := roster.CheckConfig{Now: func() time.Time { return benchStart }}
	v, err := Validate(t.Context(), importer.Options{Path: "../../samples/contractors-with-errors.csv", Check: check},
		func(runID string) string { return filepath.Join(dir, runID) })
	if err != nil {
		t.Fatal(err)
	}
	if !v.Failed() || v.Import.InvalidRows == 0 || v.Summary.Orders == 0 || v.Files.Dir != filepath.Join(dir, v.Import.RunID) {
		t.Errorf("validation: %d invalid rows, %d orders, report in %s", v.Import.InvalidRows, v.Summary.Orders, v.Files.Dir)
	}
	for _, p := range []string{v.Files.ErrorsCSV, v.Files.Summary} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("report file: %v", err)
		}
	}
	// summary.json is the summary the command prints with --json, made
	// once the workbook is written.
	var want bytes.Buffer
	if err := v.Summary.WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(v.Files.Summary); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("summary.json is not the validation's summary (%v)", err)
	}
	if to, _, err := v.Email(nil); to != nil || err != nil {
		t.Errorf("a roster without report emails was emailed: %v, %v", to, err)
	}
	outbox := filepath.Join(dir, "outbox")
	cfg, err := mail.ParseURL("file://" + outbox)
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = "wvbatch@example.com"
	v.Import.Order.ReportEmails = []string{"ann@example.com"}
	to, got, err := v.Email(outboxMailer{cfg})
	if err != nil || len(to) != 1 || got != outbox {
		t.Fatalf("Email: %v, %q, %v", to, got, err)
	}
	if m, _ := filepath.Glob(filepath.Join(outbox, "*.eml")); len(m) != 1 {
		t.Errorf("%d emails in the outbox, want 1", len(m))
	}
	if m := v.Mail(outboxMailer{cfg}); m == nil || m.Err != nil || m.Outbox != outbox || !strings.Contains(m.Subject, "24 need fixing") {
		t.Errorf("Mail: %+v; want the email written to the outbox, with its subject", m)
	}
	var b strings.Builder
	(&MailOutcome{To: to, Err: mail.ErrNoServer}).WriteText(&b, "")
	if want := "wvbatch: the report was not emailed to ann@example.com: no SMTP server is configured\nhint: " + mail.Hint(mail.ErrNoServer) + "\n"; b.String() != want {
		t.Errorf("a validation's mail that failed: %q; want %q (no run to send it again from)", b.String(), want)
	}
	v.Import.Order.ReportEmails = nil
	if m := v.Mail(outboxMailer{cfg}); m != nil {
		t.Errorf("Mail of a roster without report emails: %+v", m)
	}

	// A report folder that cannot be made leaves the summary still made.
	blocked := filepath.Join(dir, "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	nodir, err := Validate(t.Context(), importer.Options{Path: "../../samples/contractors-with-errors.csv", Check: check},
		func(string) string { return filepath.Join(blocked, "report") })
	if err != nil || nodir.Summary == nil || nodir.Summary.Orders != v.Summary.Orders || len(nodir.Files.Problems) == 0 {
		t.Errorf("a report folder that cannot be made: %v, summary %v, problems %q", err, nodir != nil && nodir.Summary != nil, nodir.Files.Problems)
	}

	ok, err := Validate(t.Context(), importer.Options{Path: "../../samples/contractors.csv", Check: check},
		func(string) string { return filepath.Join(dir, "ok") })
	if err != nil || ok.Failed() {
		t.Errorf("a clean roster: %v, failed %v", err, ok != nil && ok.Failed())
	}
}

// TestValidateWorkbookAhead: a workbook roster's report is written while
// it is imported, beside the report folder, and leaves nothing else there:
// the same workbook as written after the import, in a folder per run or in
// one given folder, and nothing at all when the import fails.
func TestValidateWorkbookAhead(t *testing.T) {
	t.Parallel()
	check := roster.CheckConfig{Now: func() time.Time { return benchStart }}
	opt := importer.Options{Path: "../../samples/contractors.xlsx", Check: check}
	names := func(dir string) []string {
		var out []string
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	perRun := filepath.Join(t.TempDir(), "state", "reports") // not there yet
	v, err := Validate(t.Context(), opt, func(runID string) string { return filepath.Join(perRun, runID) })
	if err != nil {
		t.Fatal(err)
	}
	if got := names(perRun); len(got) != 1 || got[0] != v.Import.RunID || !v.Files.WrittenAhead {
		t.Errorf("beside the report folder: %q; written ahead: %v", got, v.Files.WrittenAhead)
	}
	var want bytes.Buffer
	if err := report.WriteWorkbook(&want, report.ValidationWorkbook(v.Import)); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(v.Files.Workbook); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the workbook is not the one written after the import (%v)", err)
	}
	one := t.TempDir()
	v, err = Validate(t.Context(), opt, func(string) string { return one })
	if err != nil {
		t.Fatal(err)
	}
	if got := names(one); strings.Join(got, " ") != "contractors-errors.csv contractors-report.xlsx summary.json" || !v.Files.WrittenAhead {
		t.Errorf("in the report folder: %q; written ahead: %v", got, v.Files.WrittenAhead)
	}
	if got, err := os.ReadFile(v.Files.Workbook); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the workbook is not the one written after the import (%v)", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.xlsx")
	if err := os.WriteFile(bad, []byte("PK\x03\x04 not a workbook"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if _, err := Validate(t.Context(), importer.Options{Path: bad, Check: check}, func(string) string { return empty }); err == nil {
		t.Fatal("a broken workbook was validated")
	}
	if got := names(empty); len(got) != 0 {
		t.Errorf("a failed import left %q", got)
	}

	// A folder the user named that is not there yet is made for the
	// workbook, and removed again, with the folders made above it, when
	// the roster cannot be imported.
	above := t.TempDir()
	named := filepath.Join(above, "reports", "june")
	v, err = Validate(t.Context(), opt, func(string) string { return named })
	if err != nil {
		t.Fatal(err)
	}
	if got := names(named); strings.Join(got, " ") != "contractors-errors.csv contractors-report.xlsx summary.json" || !v.Files.WrittenAhead {
		t.Errorf("in a report folder made for it: %q; written ahead: %v", got, v.Files.WrittenAhead)
	}
	if got, err := os.ReadFile(v.Files.Workbook); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the workbook is not the one written after the import (%v)", err)
	}
	above = t.TempDir()
	if _, err := Validate(t.Context(), importer.Options{Path: bad, Check: check}, func(string) string { return filepath.Join(above, "reports", "june") }); err == nil {
		t.Fatal("a broken workbook was validated")
	}
	if got := names(above); len(got) != 0 {
		t.Errorf("a failed import left %q", got)
	}
	perRun = filepath.Join(t.TempDir(), "state", "reports")
	if _, err := Validate(t.Context(), importer.Options{Path: bad, Check: check}, func(runID string) string { return filepath.Join(perRun, runID) }); err == nil {
		t.Fatal("a broken workbook was validated")
	}
	if _, err := os.Stat(filepath.Dir(perRun)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed import left the folders made for its report (%v)", err)
	}
}
