package mail

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleData is a run that ordered most visitors and found problems.
func sampleData() ReportData {
	o := ReportOrder{OrderID: "1-230145678901", Reference: "WV-AM1-20270111-1", IBX: "AM1",
		Cages: []string{"AM1:01:000111", "AM1:01:000112"}, Visitors: 118}
	o.SetWindow(time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC), time.Date(2027, 1, 11, 16, 0, 0, 0, time.UTC), "Europe/Amsterdam")
	return ReportData{
		IBX: "AM1", Ordered: 118, Total: 121, NeedFixing: 3, RunID: "run-20270105-0930", Roster: "roster.xlsx",
		Orders: []ReportOrder{o},
		Problems: []ReportProblem{
			{Row: 17, Column: "B", Field: "Cage", Message: `"AM1:01" is not a cage id`, Hint: "write the cage as IBX:floor:cage, e.g. AM1:01:000111"},
			{Row: 42, Column: "H", Field: "Last Name", Message: `Last Name "<b>O'Neil</b> & co" contains characters a name does not have`,
				Hint: "use letters, spaces, hyphens, apostrophes and dots only"},
			{Row: 99, Message: "Equinix rejected the order: the cage is not in your account"},
		},
		MoreProblems: 2,
		ResumeHint:   "Fix the highlighted rows and run: wvbatch submit roster-report.xlsx",
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    ReportData
		want string
	}{
		{"some need fixing", ReportData{IBX: "AM1", Ordered: 118, Total: 121, NeedFixing: 3},
			"AM1 work visits: 118 of 121 visitors ordered, 3 rows need fixing"},
		{"one needs fixing", ReportData{IBX: "AM1", Ordered: 120, Total: 121, NeedFixing: 1},
			"AM1 work visits: 120 of 121 visitors ordered, 1 row needs fixing"},
		{"all ordered", ReportData{IBX: "AM1", Ordered: 121, Total: 121}, "AM1 work visits: 121 of 121 visitors ordered"},
		{"one visitor", ReportData{IBX: "AM1", Ordered: 1, Total: 1}, "AM1 work visits: 1 of 1 visitor ordered"},
		{"several IBXs", ReportData{IBX: JoinIBX([]string{"DC2", "AM1", "DC2"}), Ordered: 121, Total: 121},
			"AM1, DC2 work visits: 121 of 121 visitors ordered"},
		{"validation only", ReportData{IBX: "AM1", Total: 121, NeedFixing: 3, ValidationOnly: true},
			"AM1 work visits: 121 rows checked, 3 need fixing"},
		{"validation only, one", ReportData{IBX: "AM1", Total: 121, NeedFixing: 1, ValidationOnly: true},
			"AM1 work visits: 121 rows checked, 1 needs fixing"},
		{"validation only, valid", ReportData{IBX: "AM1", Total: 121, ValidationOnly: true},
			"AM1 work visits: 121 rows checked, all valid"},
		{"no IBX", ReportData{Ordered: 0, Total: 4, NeedFixing: 4}, "Work visits: 0 of 4 visitors ordered, 4 rows need fixing"},
		{"line breaks", ReportData{IBX: "AM1\r\nBcc: x@example.com", Ordered: 1, Total: 1},
			"AM1 Bcc: x@example.com work visits: 1 of 1 visitor ordered"},
		{"after a cancel", ReportData{IBX: "AM1", Ordered: 8, Total: 20, Cancelled: make([]ReportOrder, 1), CancelledVisitors: 12, CancelReason: "postponed"},
			"AM1 work visits: 1 order cancelled (12 visitors), 8 of 20 visitors ordered"},
		{"cancelled earlier", ReportData{IBX: "AM1", Ordered: 8, Total: 20, Cancelled: make([]ReportOrder, 1), CancelledVisitors: 12},
			"AM1 work visits: 8 of 20 visitors ordered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Subject(tc.d); got != tc.want {
				t.Errorf("Subject = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderBodies(t *testing.T) {
	t.Parallel()
	all := ReportData{IBX: "AM1, DC2", Ordered: 2, Total: 2, RunID: "run-2", Roster: "visitors.csv"}
	o := ReportOrder{OrderID: "1-1", IBX: "DC2", Cages: []string{"DC2:02:000200"}, Visitors: 2}
	o.SetWindow(time.Date(2027, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2027, 7, 1, 20, 0, 0, 0, time.UTC), "America/New_York")
	all.Orders = []ReportOrder{o}
	for _, tc := range []struct {
		name string
		d    ReportData
	}{
		{"problems", sampleData()},
		{"all-ordered", all},
		{"cancelled", ReportData{IBX: "AM1, DC2", Ordered: 0, Total: 2, RunID: "run-2", Roster: "visitors.csv", Cancelled: []ReportOrder{o},
			CancelledVisitors: 2, CancelReason: "the visit is <postponed> & moved"}},
		{"validation", ReportData{IBX: "AM1", Total: 121, NeedFixing: 1, ValidationOnly: true, Roster: "roster.xlsx",
			Problems: []ReportProblem{{Row: 5, Column: "E", Field: "Visit Start", Message: "the visit starts in the past", Hint: "move the visit to a future date"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text, html, err := RenderBodies(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".txt.golden", text)
			golden(t, tc.name+".html.golden", html)
		})
	}
}

// The HTML body escapes what came from the roster.
func TestRenderBodiesEscapes(t *testing.T) {
	t.Parallel()
	_, html, err := RenderBodies(sampleData())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "<b>O'Neil") || !strings.Contains(html, "&lt;b&gt;O&#39;Neil&lt;/b&gt; &amp; co") {
		t.Errorf("roster text is not escaped in HTML:\n%s", html)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
