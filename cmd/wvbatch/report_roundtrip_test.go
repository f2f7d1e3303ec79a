package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/report/openpyxl"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// TestReportRoundTrip is the loop a user follows: submit a roster (saved by
// openpyxl, with an Order sheet), get the report, fix the two bad cells in
// the report with openpyxl and submit the report itself: only the fixed
// rows are ordered, with the same order-level settings, because the report
// carries the Order sheet (and the Help sheet) unchanged.
func TestReportRoundTrip(t *testing.T) {
	t.Parallel()
	openpyxl.Need(t)
	dir := t.TempDir()
	src, err := filepath.Abs("../../samples/contractors.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	rosterPath := filepath.Join(dir, "roster.xlsx")
	openpyxl.Run(t, `
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["Visitors"]
ws["B3"] = "cage 112"          # not a cage id
ws["L4"] = "karin at example"  # not an email address
o = wb["Order"]
o["B6"] = "PO-4711"
o["A7"] = "Report Email"
o["B7"] = "ann@example.com"
wb.save(sys.argv[2])
`, src, rosterPath)

	outbox := t.TempDir()
	c := newCLI(t, map[string]string{"WVBATCH_SMTP_URL": "file://" + outbox, "WVBATCH_SMTP_FROM": "visits@example.com"})
	store := filepath.Join(dir, "s.db")
	reports := filepath.Join(dir, "reports")
	code, out, _ := c.run("submit", rosterPath, "--sandbox", "--now", demoNow, "--store", store, "--yes", "--report-dir", reports)
	if code != exitRows {
		t.Fatalf("first submit: exit %d, want %d", code, exitRows)
	}
	first := runIDRe.FindStringSubmatch(out)
	if first == nil {
		t.Fatal("no run id")
	}
	report := filepath.Join(reports, "roster-report.xlsx")
	openpyxl.Check(t, report)

	// The report keeps the roster's other sheets as they were.
	sheets := openpyxl.Run(t, `
import sys, openpyxl
a = openpyxl.load_workbook(sys.argv[1]); b = openpyxl.load_workbook(sys.argv[2])
print(",".join(b.sheetnames))
for name in a.sheetnames:
    if name == "Visitors":
        continue
    va = [[c.value for c in r] for r in a[name].iter_rows()]
    vb = [[c.value for c in r] for r in b[name].iter_rows()]
    if va != vb:
        print("DIFFERENT", name)
`, rosterPath, report)
	if strings.TrimSpace(sheets) != "Visitors,Order,Help,Summary" {
		t.Errorf("report sheets and differences: %q, want Visitors,Order,Help,Summary and no difference", sheets)
	}

	fixed := filepath.Join(dir, "fixed.xlsx")
	openpyxl.Run(t, `
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["Visitors"]
ws["B3"] = "AM1:01:000112"
ws["L4"] = "karin.walker@koelteam.example"
wb.save(sys.argv[2])
`, report, fixed)
	code, out, _ = c.run("submit", fixed, "--sandbox", "--now", demoNow, "--store", store, "--yes", "--report-dir", filepath.Join(dir, "reports2"))
	if code != exitOK {
		t.Errorf("submit of the fixed report: exit %d, want 0", code)
	}
	second := runIDRe.FindStringSubmatch(out)
	if second == nil {
		t.Fatal("no run id for the fixed report")
	}

	st, err := runstore.Open(store, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	settings := func(id string) submit.Settings {
		run, err := st.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		var s submit.Settings
		if err := json.Unmarshal(run.Settings, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := settings(first[1]), settings(second[1])
	if a.Order.PurchaseOrder != "PO-4711" || a.Order.Description == "" || len(a.Order.ReportEmails) != 1 {
		t.Errorf("first run's order fields %+v do not come from the Order sheet", a.Order)
	}
	ja, _ := json.Marshal(a.Order)
	jb, _ := json.Marshal(b.Order)
	if string(ja) != string(jb) {
		t.Errorf("order fields differ:\nroster %s\nreport %s", ja, jb)
	}
	orders, err := st.Orders(second[1])
	if err != nil {
		t.Fatal(err)
	}
	visitors := 0
	for _, o := range orders {
		visitors += o.Count
	}
	run, err := st.Run(second[1])
	if err != nil {
		t.Fatal(err)
	}
	if visitors != 2 || run.Rows[runstore.RowOrdered] != 2 {
		t.Errorf("the fixed report ordered %d visitors (%d rows), want the 2 fixed rows; rows %v", visitors, run.Rows[runstore.RowOrdered], run.Rows)
	}
	openpyxl.Check(t, filepath.Join(dir, "reports2", "fixed-report.xlsx"))
}
