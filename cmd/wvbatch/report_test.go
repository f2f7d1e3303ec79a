package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/mail/mailtest"
	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/report/openpyxl"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

const (
	smtpUser     = "reports@example.com"
	smtpPassword = "Sm7p-p4ss/word%"
	demoNow      = "2027-01-04T09:00:00Z"
)

// cli runs wvbatch in this process with the given environment.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T, env map[string]string) *cli {
	t.Helper()
	dir := t.TempDir()
	base := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state"), "HOME": dir}
	for k, v := range env {
		base[k] = v
	}
	// Every report workbook the commands write in the test's temporary
	// folders (the state folder, stores' and --report-dir folders) opens in
	// openpyxl.
	t.Cleanup(func() {
		if !openpyxl.Available() {
			return
		}
		var reports []string
		_ = filepath.WalkDir(filepath.Dir(dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, "-report.xlsx") {
				reports = append(reports, p)
			}
			return nil
		})
		if len(reports) > 0 {
			openpyxl.Check(t, reports...)
			t.Logf("openpyxl opened the %d report workbook(s) the test wrote", len(reports))
		}
	})
	return &cli{t: t, env: base}
}

func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
	c.t.Logf("wvbatch %s → %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

func smtpURL(addr string) string {
	return fmt.Sprintf("smtp://%s:%s@%s", strings.ReplaceAll(smtpUser, "@", "%40"), strings.NewReplacer("/", "%2F", "%", "%25").Replace(smtpPassword), addr)
}

// newMailCLI is a command line that sends its email, from from, to a real
// SMTP server it starts (STARTTLS, AUTH): the server is returned.
func newMailCLI(t *testing.T, from string) (*cli, *mailtest.Server) {
	t.Helper()
	cert := mailtest.NewCert(t)
	srv := mailtest.Start(t, cert, mailtest.Options{StartTLS: true, User: smtpUser, Password: smtpPassword})
	return newCLI(t, map[string]string{
		"WVBATCH_SMTP_URL": smtpURL(srv.Addr), "WVBATCH_SMTP_FROM": from, "WVBATCH_SMTP_CA_FILE": cert.CAFile,
	}), srv
}

var runIDRe = regexp.MustCompile(`run (r[0-9a-f]{15}) recorded`)

// storedRows reads a run's row outcomes from a (closed) store file.
func storedRows(t *testing.T, path, runID string) (runstore.Run, []runstore.RowOutcome) {
	t.Helper()
	st, err := runstore.Open(path, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.Run(runID)
	if err != nil {
		t.Fatal(err)
	}
	var rows []runstore.RowOutcome
	if err := st.Rows(runID, func(r runstore.RowOutcome) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return run, rows
}

// TestReportEmail submits a roster with errors to the sandbox and checks the
// report email that reaches an SMTP server over STARTTLS with AUTH: its
// subject, and the attached workbook row by row against the store.
func TestReportEmail(t *testing.T) {
	t.Parallel()
	c, srv := newMailCLI(t, "wvbatch <visits@example.com>")
	store := filepath.Join(t.TempDir(), "s.db")
	code, out, errOut := c.run("submit", "../../samples/contractors-with-errors.csv", "--sandbox", "--now", demoNow,
		"--store", store, "--yes", "--notify", "ann@example.com,ops@example.com")
	if code != exitRows {
		t.Fatalf("exit %d, want %d", code, exitRows)
	}
	m := runIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no run id in the output")
	}
	runID := m[1]
	for _, s := range []string{out, errOut} {
		if strings.Contains(s, smtpPassword) || strings.Contains(s, "p4ss") {
			t.Error("the output shows the SMTP password")
		}
	}

	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the SMTP server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.User != smtpUser {
		t.Errorf("mail sent with TLS=%v as %q, want STARTTLS as %s", got.TLS, got.User, smtpUser)
	}
	if strings.Join(got.To, ",") != "ann@example.com,ops@example.com" {
		t.Errorf("mail to %v", got.To)
	}
	msg, err := mailtest.Parse(got.Data)
	if err != nil {
		t.Fatal(err)
	}
	run, rows := storedRows(t, store, runID)
	ordered := run.Rows[runstore.RowOrdered]
	wantSubject := fmt.Sprintf("AM1, DC2 work visits: %d of %d visitors ordered, %d rows need fixing", ordered, len(rows), run.Rows[runstore.RowInvalid])
	if msg.Subject != wantSubject {
		t.Errorf("subject %q, want %q", msg.Subject, wantSubject)
	}
	if ordered != 3 || len(rows) != 27 {
		t.Errorf("%d of %d rows ordered, want 3 of 27", ordered, len(rows))
	}
	if run.Mail == nil || !run.Mail.Sent || run.Mail.Subject != wantSubject {
		t.Errorf("recorded mail %+v, want sent with the subject", run.Mail)
	}
	for _, part := range []string{"text/plain", "text/html"} {
		if !strings.Contains(msg.Parts[part], "row 4, column B (Cage)") {
			t.Errorf("%s body does not list the first problem:\n%s", part, msg.Parts[part])
		}
	}

	atts := map[string][]byte{}
	for _, a := range msg.Attachments {
		atts[a.Name] = a.Data
	}
	csvData, ok := atts["contractors-with-errors-errors.csv"]
	if !ok {
		t.Fatalf("attachments %v: no errors CSV", keys(atts))
	}
	if !bytes.Contains(csvData, []byte("\n4,B,Cage,,required,")) {
		t.Errorf("errors CSV lacks row 4's problem:\n%s", csvData)
	}
	xlsx, ok := atts["contractors-with-errors-report.xlsx"]
	if !ok {
		t.Fatalf("attachments %v: no report workbook", keys(atts))
	}
	onDisk, err := os.ReadFile(filepath.Join(filepath.Dir(store), "reports", runID, "contractors-with-errors-report.xlsx"))
	if err != nil || !bytes.Equal(onDisk, xlsx) {
		t.Errorf("the attached workbook is not the one in the report folder (%v)", err)
	}
	checkAnnotations(t, xlsx, rows)
}

// checkAnnotations checks a report workbook's Status, Order and Problems
// columns, highlights and comments against the stored row outcomes.
func checkAnnotations(t *testing.T, xlsx []byte, rows []runstore.RowOutcome) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	header, err := f.GetRows("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header[0] {
		col[h] = i
	}
	for _, name := range []string{"Status", "Order", "Problems", "How to fix", "First Name", "Notes"} {
		if _, ok := col[name]; !ok {
			t.Fatalf("report sheet has no %q column: %v", name, header[0])
		}
	}
	comments, err := f.GetComments("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	commented := map[string]string{}
	for _, cm := range comments {
		commented[cm.Cell] = cm.Text
	}
	for _, r := range rows {
		line := header[r.Row-1]
		cell := func(name string) string {
			if i := col[name]; i < len(line) {
				return line[i]
			}
			return ""
		}
		if got, want := cell("Status"), report.RowStatus(r.Status); got != want {
			t.Errorf("row %d: Status %q, want %q", r.Row, got, want)
		}
		if got, want := cell("Order"), strings.Join(r.OrderIDs, "\n"); got != want {
			t.Errorf("row %d: Order %q, want %q", r.Row, got, want)
		}
		if r.Status != runstore.RowInvalid {
			if cell("Problems") != "" {
				t.Errorf("row %d (%s) has problems %q", r.Row, r.Status, cell("Problems"))
			}
			continue
		}
		if cell("Problems") == "" || cell("How to fix") == "" {
			t.Errorf("row %d is invalid but says no problem or fix", r.Row)
		}
		for _, p := range r.Problems {
			letters, _, _ := strings.Cut(p.Property, " ")
			ref := letters + strconv.Itoa(r.Row)
			if _, err := excelize.ColumnNameToNumber(letters); err != nil {
				continue
			}
			if !strings.Contains(commented[ref], p.Reason) {
				t.Errorf("row %d: cell %s's comment %q does not say %q", r.Row, ref, commented[ref], p.Reason)
			}
			sid, err := f.GetCellStyle("Visitors", ref)
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.GetStyle(sid)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Fill.Color) == 0 {
				t.Errorf("row %d: problem cell %s is not highlighted", r.Row, ref)
			}
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestReportEmailRetry: a mail server that is down does not fail the run;
// the failure is recorded, and `wvbatch report RUN --send` sends it later.
func TestReportEmailRetry(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	cert := mailtest.NewCert(t)
	c := newCLI(t, map[string]string{
		"WVBATCH_SMTP_URL": smtpURL(down), "WVBATCH_SMTP_FROM": "visits@example.com", "WVBATCH_SMTP_CA_FILE": cert.CAFile,
	})
	store := filepath.Join(t.TempDir(), "s.db")
	code, out, errOut := c.run("submit", "../../samples/contractors.csv", "--sandbox", "--now", demoNow,
		"--store", store, "--yes", "--notify", "ann@example.com", "--reference-prefix", "UPS")
	if code != exitOK {
		t.Fatalf("exit %d, want 0: a mail that cannot be sent must not fail the run", code)
	}
	if !strings.Contains(errOut, "the report was not emailed to ann@example.com") || !strings.Contains(errOut, "wvbatch report ") {
		t.Errorf("stderr does not say the mail failed and how to retry:\n%s", errOut)
	}
	if strings.Contains(errOut, smtpPassword) {
		t.Error("stderr shows the SMTP password")
	}
	runID := runIDRe.FindStringSubmatch(out)[1]
	run, rows := storedRows(t, store, runID)
	if run.Mail == nil || run.Mail.Sent || run.Mail.Error == "" || run.Mail.Attempts != 1 {
		t.Fatalf("recorded mail %+v, want one failed attempt", run.Mail)
	}
	if run.Rows[runstore.RowOrdered] != len(rows) {
		t.Errorf("%d of %d rows ordered", run.Rows[runstore.RowOrdered], len(rows))
	}
	raw, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(smtpPassword)) || bytes.Contains(raw, []byte("p4ss")) {
		t.Error("the store holds the SMTP password")
	}

	srv := mailtest.Start(t, cert, mailtest.Options{StartTLS: true, User: smtpUser, Password: smtpPassword})
	c.env["WVBATCH_SMTP_URL"] = smtpURL(srv.Addr)
	dir := t.TempDir()
	if code, _, _ := c.run("report", runID, "--store", store, "--send", "--report-dir", dir); code != exitOK {
		t.Fatalf("report --send: exit %d", code)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("the SMTP server got %d messages, want 1", n)
	}
	run, _ = storedRows(t, store, runID)
	if run.Mail == nil || !run.Mail.Sent || run.Mail.Attempts != 2 {
		t.Errorf("recorded mail %+v, want sent at the second attempt", run.Mail)
	}
	for _, name := range []string{"contractors-report.xlsx", "contractors-errors.csv", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("report --report-dir: %v", err)
		}
	}
	code, out, _ = c.run("status", runID[:8], "--store", store, "--json")
	var st report.RunSummary
	if err := json.Unmarshal([]byte(out), &st); code != exitOK || err != nil {
		t.Fatalf("status --json: exit %d, %v", code, err)
	}
	if len(st.RowList) != len(rows) || st.RowList[0].Status != "ordered" || len(st.RowList[0].OrderIDs) != 1 || st.Mail == nil || !st.Mail.Sent {
		t.Errorf("status --json: %d rows (want %d), first %+v, mail %+v", len(st.RowList), len(rows), st.RowList[0], st.Mail)
	}
	var sum report.RunSummary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil || sum.RunID != runID || sum.RowsOK != len(rows) {
		t.Errorf("summary.json: run %q, %d rows ok (%v)", sum.RunID, sum.RowsOK, err)
	}
}

// TestReportReupload fixes two flagged cells of a report workbook and
// submits the workbook as it is: only the fixed rows are ordered, the rows
// ordered before are reported as already ordered, and the report's own
// columns are ignored.
func TestReportReupload(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	store := filepath.Join(t.TempDir(), "s.db")
	code, out, _ := c.run("submit", "../../samples/contractors-with-errors.csv", "--sandbox", "--now", demoNow, "--store", store, "--yes")
	if code != exitRows {
		t.Fatalf("exit %d, want %d", code, exitRows)
	}
	first := runIDRe.FindStringSubmatch(out)[1]
	f, err := excelize.OpenFile(filepath.Join(filepath.Dir(store), "reports", first, "contractors-with-errors-report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	// Row 4 lacks its cage; row 6 has a digit in the first name.
	if err := f.SetCellValue("Visitors", "B4", "AM1:01:000111"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Visitors", "H6", "David"); err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(t.TempDir(), "contractors-fixed.xlsx")
	if err := f.SaveAs(fixed); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out, _ = c.run("submit", fixed, "--sandbox", "--now", demoNow, "--store", store, "--yes")
	if code != exitRows {
		t.Fatalf("exit %d, want %d (the other rows are still invalid)", code, exitRows)
	}
	for _, want := range []string{"3 visitors were already ordered by an earlier run", "plan: 1 order for 2 visitors", `column "Status" is not a visitor column`} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q", want)
		}
	}
	second := runIDRe.FindStringSubmatch(out)[1]
	_, rows := storedRows(t, store, second)
	status := map[int]runstore.RowStatus{}
	for _, r := range rows {
		status[r.Row] = r.Status
	}
	for row, want := range map[int]runstore.RowStatus{2: runstore.RowAlreadyOrdered, 3: runstore.RowAlreadyOrdered, 4: runstore.RowOrdered, 6: runstore.RowOrdered, 5: runstore.RowInvalid} {
		if status[row] != want {
			t.Errorf("row %d: %s, want %s", row, status[row], want)
		}
	}
}

// TestReportAfterRosterChanged: the report is made again from the store
// after the roster was edited or deleted, from the copy the run kept.
func TestReportAfterRosterChanged(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	dir := t.TempDir()
	roster := filepath.Join(dir, "crew.csv")
	b, err := os.ReadFile("../../samples/contractors.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(roster, b, 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s.db")
	code, out, _ := c.run("submit", roster, "--sandbox", "--yes", "--now", demoNow, "--store", store, "--reference-prefix", "UPS")
	if code != exitOK {
		t.Fatalf("submit: exit %d", code)
	}
	runID := runIDRe.FindStringSubmatch(out)[1]
	if err := os.Remove(roster); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	code, out, _ = c.run("report", runID, "--store", store, "--report-dir", out2)
	if code != exitOK || strings.Contains(out, "no annotated workbook") {
		t.Fatalf("report after the roster was deleted: exit %d", code)
	}
	f, err := excelize.OpenFile(filepath.Join(out2, "crew-report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("Visitors", "H2"); v == "" {
		t.Error("the report's roster copy is empty")
	}
}

// TestValidateEmail: validate emails its report too, and its --json output
// stays a JSON document.
func TestValidateEmail(t *testing.T) {
	t.Parallel()
	c, srv := newMailCLI(t, "visits@example.com")
	dir := t.TempDir()
	code, out, _ := c.run("validate", "../../samples/contractors-with-errors.csv", "--now", demoNow, "--json",
		"--report-dir", dir, "--notify", "ann@example.com")
	if code != exitRows {
		t.Fatalf("exit %d, want %d", code, exitRows)
	}
	var sum report.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output is not JSON: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the SMTP server got %d messages, want 1", len(msgs))
	}
	msg, err := mailtest.Parse(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("AM1, DC2 work visits: %d rows checked, %d need fixing", sum.Rows, sum.InvalidRows)
	if msg.Subject != want {
		t.Errorf("subject %q, want %q", msg.Subject, want)
	}
	var xlsx []byte
	for _, a := range msg.Attachments {
		if a.Name == "contractors-with-errors-report.xlsx" {
			xlsx = a.Data
		}
	}
	if xlsx == nil {
		t.Fatal("no report workbook attached")
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	invalid := map[int]bool{}
	for _, e := range sum.Errors {
		invalid[e.Row] = true
	}
	rows, err := f.GetRows("Visitors")
	if err != nil {
		t.Fatal(err)
	}
	status := len(rows[0]) - 4 // Status, Order, Problems, How to fix
	if rows[0][status] != "Status" {
		t.Fatalf("header %q", rows[0])
	}
	valid := 0
	for i, r := range rows[1:] {
		row, want := i+2, "valid"
		if invalid[row] {
			want = "invalid"
		} else {
			valid++
		}
		if len(r) <= status || r[status] != want {
			t.Errorf("row %d: Status %q, want %q", row, r[min(status, len(r)-1)], want)
		}
	}
	if valid != sum.ValidRows {
		t.Errorf("%d rows marked valid, want %d", valid, sum.ValidRows)
	}
}

// TestReportNamesTheUsersRoster: the report's Summary sheet names the
// roster file the person gave, also when the report is written again from
// the copy the store keeps (under rosters/, named by the run id).
func TestReportNamesTheUsersRoster(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	dir := t.TempDir()
	b, err := os.ReadFile("../../samples/contractors.csv")
	if err != nil {
		t.Fatal(err)
	}
	roster := filepath.Join(dir, "Team Visits.csv")
	if err := os.WriteFile(roster, b, 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s.db")
	code, out, _ := c.run("submit", roster, "--sandbox", "--yes", "--now", demoNow, "--store", store)
	m := runIDRe.FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("submit: exit %d", code)
	}
	runID := m[1]
	summaryRoster := func(when string) {
		t.Helper()
		f, err := excelize.OpenFile(filepath.Join(dir, "reports", runID, "Team Visits-report.xlsx"))
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer f.Close()
		rows, err := f.GetRows("Summary")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 2 || len(rows[1]) < 2 || rows[1][0] != "Roster" || rows[1][1] != "Team Visits.csv" {
			t.Errorf("%s: the Summary sheet's second row is %q; want Roster: Team Visits.csv", when, rows[1])
		}
	}
	summaryRoster("after submit")
	if _, err := os.Stat(filepath.Join(dir, "rosters", runID+".csv")); err != nil {
		t.Fatalf("the store kept no copy of the roster: %v", err)
	}
	if err := os.Remove(roster); err != nil { // the report now reads the store's copy
		t.Fatal(err)
	}
	if code, _, _ := c.run("report", runID, "--store", store); code != exitOK {
		t.Fatalf("report: exit %d", code)
	}
	summaryRoster("written again from the store's copy")
}

// TestReportEmailOnceAndAfterCancel talks to a real SMTP server: a run's
// report is emailed once; the same roster submitted again sends nothing,
// `report RUN --send` sends it again, and the email after a cancel says
// which orders were cancelled, for how many visitors, and why.
func TestReportEmailOnceAndAfterCancel(t *testing.T) {
	t.Parallel()
	c, srv := newMailCLI(t, "wvbatch <visits@example.com>")
	store := filepath.Join(t.TempDir(), "s.db")
	submit := []string{"submit", "../../samples/contractors.csv", "--sandbox", "--now", demoNow, "--store", store, "--yes", "--notify", "ann@example.com"}
	code, out, _ := c.run(submit...)
	m := runIDRe.FindStringSubmatch(out)
	if code != exitOK || m == nil {
		t.Fatalf("submit: exit %d", code)
	}
	runID := m[1]
	sent := func(when string, want int) []mailtest.Received {
		t.Helper()
		msgs := srv.Messages()
		if len(msgs) != want {
			t.Errorf("%s: the SMTP server got %d messages, want %d", when, len(msgs), want)
		}
		return msgs
	}
	sent("after submit", 1)

	if code, _, _ := c.run(submit...); code != exitOK {
		t.Errorf("the same roster again: exit %d", code)
	}
	sent("after the same roster again", 1)

	if code, _, _ := c.run("report", runID, "--store", store, "--send"); code != exitOK {
		t.Errorf("report --send: exit %d", code)
	}
	sent("after report --send", 2)

	code, out, _ = c.run("status", runID, "--store", store)
	ids := regexp.MustCompile(`(?m)^  (1-\d+) +submitted`).FindAllStringSubmatch(out, -1)
	if code != exitOK || len(ids) != 3 {
		t.Fatalf("status: exit %d, %d orders submitted; want 3", code, len(ids))
	}
	if code, _, _ := c.run("cancel", runID, "--store", store, "--yes", "--reason", "the visit is postponed"); code != exitOK {
		t.Fatalf("cancel: exit %d", code)
	}
	msgs := sent("after cancel", 3)
	if len(msgs) < 3 {
		t.FailNow()
	}
	msg, err := mailtest.Parse(msgs[2].Data)
	if err != nil {
		t.Fatal(err)
	}
	if want := "AM1 work visits: 3 orders cancelled (20 visitors), 0 of 20 visitors ordered"; msg.Subject != want {
		t.Errorf("subject after cancel %q, want %q", msg.Subject, want)
	}
	for _, part := range []string{"text/plain", "text/html"} {
		body := msg.Parts[part]
		for _, want := range []string{"3 orders cancelled, for 20 visitors.", "Reason: the visit is postponed", ids[0][1], ids[1][1], ids[2][1]} {
			if !strings.Contains(body, want) {
				t.Errorf("%s body after cancel lacks %q:\n%s", part, want, body)
			}
		}
	}

	if code, _, _ := c.run(submit...); code != exitOK {
		t.Errorf("the cancelled run's roster again: exit %d", code)
	}
	sent("after the cancelled run's roster again", 3)
}
