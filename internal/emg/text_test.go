package emg

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBatchWritePlan(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../samples/emg/*.json")
	if err != nil || len(files) != 4 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	// The Create samples ask for a visit in 2027.
	b, err := Load(files, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	b.WritePlan(&w)
	n := b.Count()
	if !strings.HasPrefix(w.String(), "4 EMG messages: 2 Create, 1 Update, 1 Cancel\nsignatures: ") || n[KindCreate] != 2 {
		t.Errorf("plan:\n%s", w.String())
	}
}

func TestWriteAndSaveResults(t *testing.T) {
	t.Parallel()
	results := []Result{
		{File: "/in/01-create.json", ID: "m1", Verb: "Create", OrderID: "1-1", Outcome: Ordered},
		{File: "/in/04-cancel.json", ID: "m2", Verb: "Cancel", Outcome: Failed, Error: "no such order", Hint: "check the order id"},
	}
	var w strings.Builder
	WriteResults(&w, results)
	want := "messages:\n" +
		"  m1                                   Create ordered           1-1              01-create.json\n" +
		"  m2                                   Cancel failed            -                04-cancel.json\n" +
		"      no such order\n      fix: check the order id\n"
	if w.String() != want {
		t.Errorf("results:\n%s\nwant:\n%s", w.String(), want)
	}
	dir := filepath.Join(t.TempDir(), "reports", "r1")
	path, err := SaveResults(dir, results)
	if err != nil || path != filepath.Join(dir, "messages.json") {
		t.Fatalf("SaveResults = %q, %v", path, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back []Result
	if err := json.Unmarshal(raw, &back); err != nil || len(back) != 2 || back[1].Hint != "check the order id" {
		t.Errorf("messages.json holds %s (%v)", raw, err)
	}
	if _, err := SaveResults(filepath.Join(path, "sub"), results); err == nil || !strings.HasPrefix(err.Error(), "report folder: ") {
		t.Errorf("a report folder under a file: %v", err)
	}

	w.Reset()
	dir2 := filepath.Join(t.TempDir(), "r2")
	if done, err := Deliver(&w, dir2, results); err != nil || done {
		t.Errorf("Deliver of a failed message: done %v, %v; want not done", done, err)
	}
	if !strings.HasPrefix(w.String(), want) || !strings.HasSuffix(w.String(), "message results: "+filepath.Join(dir2, "messages.json")+"\n") {
		t.Errorf("Deliver wrote:\n%s", w.String())
	}
	if done, err := Deliver(&w, dir2, results[:1]); err != nil || !done {
		t.Errorf("Deliver of an ordered message: done %v, %v; want done", done, err)
	}
	if _, err := Deliver(&w, filepath.Join(path, "sub"), results[:1]); err == nil {
		t.Error("Deliver into a folder under a file: no error")
	}
}
