package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockWorkbook makes dir/<stem>-report.xlsx a folder that is not empty,
// so that the annotated workbook cannot be written there.
func blockWorkbook(t *testing.T, dir, stem string) string {
	t.Helper()
	p := filepath.Join(dir, stem+"-report.xlsx")
	if err := os.MkdirAll(filepath.Join(p, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateReportFailureIsAWarning: a workbook that cannot be written
// leaves validate's summary, its other report files and its exit status as
// the rows make them.
func TestValidateReportFailureIsAWarning(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	dir := t.TempDir()
	blockWorkbook(t, dir, "contractors-with-errors")
	code, out, errOut := c.run("validate", "../../samples/contractors-with-errors.csv", "--now", demoNow, "--report-dir", dir)
	if code != exitRows {
		t.Errorf("exit %d, want %d (the rows' outcome)", code, exitRows)
	}
	if !strings.Contains(out, "27 rows") || !strings.Contains(out, "contractors-with-errors-errors.csv") {
		t.Errorf("no summary or files listed:\n%s", out)
	}
	if !strings.Contains(errOut, "warning: part of the report was not written") || !strings.Contains(errOut, "hint:") {
		t.Errorf("no warning with a hint:\n%s", errOut)
	}
	for _, f := range []string{"contractors-with-errors-errors.csv", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	code, out, _ = c.run("validate", "../../samples/contractors-with-errors.csv", "--now", demoNow, "--report-dir", dir, "--json")
	if code != exitRows || !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("--json: exit %d, output %.80q", code, out)
	}
}

// TestSubmitReportFailureIsAWarning: a run whose workbook cannot be written
// still prints its orders, emails what could be written, records the
// failure, and `report RUN` writes it once the way is clear; resuming the
// finished run then exits 0 without writing the report again.
func TestSubmitReportFailureIsAWarning(t *testing.T) {
	t.Parallel()
	outbox := t.TempDir()
	c := newCLI(t, map[string]string{"WVBATCH_SMTP_URL": "file://" + outbox, "WVBATCH_SMTP_FROM": "visits@example.com"})
	store := filepath.Join(t.TempDir(), "s.db")
	dir := t.TempDir()
	blocked := blockWorkbook(t, dir, "contractors-with-errors")
	code, out, errOut := c.run("submit", "../../samples/contractors-with-errors.csv", "--sandbox", "--now", demoNow,
		"--store", store, "--yes", "--notify", "ann@example.com", "--report-dir", dir)
	if code != exitRows {
		t.Fatalf("exit %d, want %d", code, exitRows)
	}
	m := runIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no run id in the output")
	}
	runID := m[1]
	if !strings.Contains(out, "3 of 27 ordered") || !strings.Contains(errOut, "wvbatch report "+runID) {
		t.Errorf("orders or the retry hint missing:\n%s\n%s", out, errOut)
	}
	emls, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("%d emails in the outbox, want 1", len(emls))
	}
	eml, _ := os.ReadFile(emls[0])
	if !strings.Contains(string(eml), "contractors-with-errors-errors.csv") || !strings.Contains(string(eml), "could not be made") {
		t.Errorf("the email does not carry the files that were written and the note")
	}
	run, _ := storedRows(t, store, runID)
	if run.Report == nil || len(run.Report.Problems) != 1 {
		t.Fatalf("recorded report %+v, want one problem", run.Report)
	}

	// report RUN fails while the way is blocked, and writes it once clear.
	if code, _, _ := c.run("report", runID, "--store", store, "--report-dir", dir); code != exitFailure {
		t.Errorf("report with the way blocked: exit %d, want %d", code, exitFailure)
	}
	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := c.run("report", runID, "--store", store, "--report-dir", dir); code != exitOK {
		t.Errorf("report: exit %d, want 0", code)
	}
	fi, err := os.Stat(blocked)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("no workbook after report RUN: %v", err)
	}
	run, _ = storedRows(t, store, runID)
	if run.Report == nil || len(run.Report.Problems) != 0 {
		t.Errorf("recorded report %+v, want no problems", run.Report)
	}

	// Resuming the finished run: exit 0, the report is not written again
	// and the email (already sent) is not sent again.
	code, out, _ = c.run("resume", "--yes", runID, "--store", store, "--report-dir", dir, "--sandbox")
	if code != exitOK || !strings.Contains(out, "nothing to send") {
		t.Errorf("resume of a finished run: exit %d, want 0", code)
	}
	fi2, err := os.Stat(blocked)
	if err != nil || !fi2.ModTime().Equal(fi.ModTime()) || !os.SameFile(fi, fi2) {
		t.Errorf("resume wrote the report again")
	}
}
