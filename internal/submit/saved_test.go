package submit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// summaryJSON is the summary as `submit --json` and summary.json give it.
func summaryJSON(t *testing.T, s *report.RunSummary) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// fromStore is the run's summary as made from every order and row.
func fromStore(t *testing.T, p *Pipeline, runID string) *report.RunSummary {
	t.Helper()
	o, _, err := p.load(runID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.Summary
}

func modTimes(t *testing.T, files report.Files) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, p := range files.Paths() {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = fi.ModTime()
	}
	return out
}

// TestShowFromTheSavedSummary places a run with a row that is not valid,
// shows it again from its saved summary (the same document as made from
// every order and row, the report left as it is), then changes one of its
// orders after the report was recorded: the saved summary is not used
// again, the change shows and the report is written again.
func TestShowFromTheSavedSummary(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	src, err := os.ReadFile(w.in.Import.Path)
	if err != nil {
		t.Fatal(err)
	}
	roster := filepath.Join(t.TempDir(), "roster.csv")
	bad := "AM1,AM1:01:000112,AM1:01:000112:0201,100001,2027-01-12T09:00,2027-01-13T17:00,,Zed,Bad,Acme,,not-an-email,,,Y\n"
	if err := os.WriteFile(roster, append(src, bad...), 0o600); err != nil {
		t.Fatal(err)
	}
	w.in.Import.Path = roster
	out := w.place(t)
	id := out.Run.ID
	if len(out.Summary.Errors) == 0 {
		t.Fatal("the roster's bad row gives no error")
	}

	full := fromStore(t, w.p, id)
	o, of, err := w.p.saved(id, nil)
	if err != nil || o == nil {
		t.Fatalf("saved after the run was placed: %v, %v; want its saved summary", o, err)
	}
	if got, want := summaryJSON(t, o.Summary), summaryJSON(t, full); got != want {
		t.Errorf("the saved summary shows\n%s\nwant\n%s", got, want)
	}
	if of != report.Fingerprint(full) {
		t.Error("the saved summary's fingerprint is not that of the run's summary")
	}
	before := modTimes(t, out.Files)
	shown, err := w.p.Show(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summaryJSON(t, shown.Summary), summaryJSON(t, full); got != want {
		t.Errorf("Show gives\n%s\nwant\n%s", got, want)
	}
	if after := modTimes(t, shown.Files); len(after) != len(before) || after[out.Files.Summary] != before[out.Files.Summary] || after[out.Files.Workbook] != before[out.Files.Workbook] {
		t.Errorf("showing the run again wrote its report: %v, then %v", before, after)
	}

	// The same roster again: its import's errors are shown, as before.
	prep, err := w.p.Prepare(t.Context(), Input{Import: w.in.Import})
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.p.Execute(t.Context(), prep)
	if err != nil || !again.Shown {
		t.Fatalf("the same roster again: %v, %+v", err, again)
	}
	withImport, _, err := w.p.load(id, prep.Import)
	if err != nil {
		t.Fatal(err)
	}
	if summaryJSON(t, withImport.Summary) == summaryJSON(t, full) {
		t.Fatal("the import's row errors are those the store holds: the test shows nothing")
	}
	if got, want := summaryJSON(t, again.Summary), summaryJSON(t, withImport.Summary); got != want || again.Mail != nil {
		t.Errorf("the same roster again shows\n%s\nwant\n%s\n(mail %+v)", got, want, again.Mail)
	}
	if o, of, err := w.p.saved(id, prep.Import); err != nil || o == nil || summaryJSON(t, o.Summary) != summaryJSON(t, withImport.Summary) || of != report.Fingerprint(withImport.Summary) {
		t.Errorf("saved with the roster's import: %v, %v; want the summary with the import's errors", o, err)
	}

	// An order changes after the report was recorded.
	var key string
	orders, err := w.p.Store.Orders(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, od := range orders {
		if od.State == runstore.Submitted {
			key = od.Key
			break
		}
	}
	if err := w.p.Store.MarkClosed(id, key); err != nil {
		t.Fatal(err)
	}
	if o, _, err := w.p.saved(id, nil); err != nil || o != nil {
		t.Fatalf("saved after an order changed: %v, %v; want none", o, err)
	}
	shown, err = w.p.Show(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := fromStore(t, w.p, id)
	if changed.Orders[string(runstore.Closed)] != 1 {
		t.Fatalf("the run's summary counts %v; want the order closed", changed.Orders)
	}
	// (The report goes again, so the run's mail record is newer than the
	// summary shown.)
	if got, want := report.Fingerprint(shown.Summary), report.Fingerprint(changed); got != want {
		t.Errorf("Show after an order changed gives\n%s\nwant\n%s", summaryJSON(t, shown.Summary), summaryJSON(t, changed))
	}
	run, err := w.p.Store.Run(id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Report == nil || run.Report.Of != report.Fingerprint(changed) {
		t.Error("the report was not written again after an order changed")
	}
	if o, _, err := w.p.saved(id, nil); err != nil || o == nil || summaryJSON(t, o.Summary) != summaryJSON(t, changed) {
		t.Errorf("saved after the run was shown again: %v, %v; want the summary saved again", o, err)
	}
	if sum, err := w.p.Summary(id); err != nil || summaryJSON(t, sum) != summaryJSON(t, changed) {
		t.Errorf("Summary = %v, %v; want the run's summary", sum, err)
	}
}

// TestSavedSummaryRefusesWhatGobLoses: a summary that would not decode to
// what it shows is not saved (gob keeps no empty list: "rows": [] would
// come back null).
func TestSavedSummaryRefusesWhatGobLoses(t *testing.T) {
	t.Parallel()
	s := &report.RunSummary{RunID: "r", Orders: map[string]int{}, Rows: map[string]int{}, Errors: []roster.RowError{},
		OrderList: []report.RunOrder{{Key: "k", Cages: []string{"c"}, Rows: []int{}}}}
	if _, err := encodeSaved(savedSummary{Summary: s, Of: report.Fingerprint(s)}); err == nil {
		t.Error("a summary gob cannot keep was saved")
	}
	s.OrderList[0].Rows = []int{2, 3}
	s.OrderList[0].Error = &report.APIProblem{Message: "refused"}
	b, err := encodeSaved(savedSummary{Summary: s, Of: report.Fingerprint(s)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeSaved(b)
	if err != nil || report.Fingerprint(back.Summary) != report.Fingerprint(s) || back.Summary.Errors == nil {
		t.Errorf("decodeSaved = %+v, %v; want the summary", back.Summary, err)
	}
}
