package sandbox

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJournalKeepsEveryChange: a sandbox with a state file appends each
// change as one line (not the whole state each time), and a sandbox
// started from the file and its journal after a kill (no compaction) holds
// the same orders and never hands out an order id again.
func TestJournalKeepsEveryChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "sandbox.json")
	j := &journal{path: journalPath(state)}
	t.Cleanup(j.close)
	e := newEnv(t, Config{Persist: j.save})

	var ids []string
	for i := range 5 {
		ids = append(ids, e.mustCreate(visitBody()))
		lines := journalLines(t, j.path)
		if len(lines) != i+1 {
			t.Fatalf("after %d creates the journal holds %d lines, want one per change", i+1, len(lines))
		}
	}
	if a := e.do("POST", "/colocations/v2/orders/"+ids[1]+"/cancel", map[string]string{"reason": "not needed"}, e.login()); a.status != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", a.status, a)
	}
	if n := len(journalLines(t, j.path)); n != 6 {
		t.Fatalf("after the cancel the journal holds %d lines, want 6", n)
	}
	// A kill while a line was being written leaves it unfinished.
	f, err := os.OpenFile(j.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"orderId":"1-9`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	want := e.srv.Orders()
	again := newEnv(t, Config{Now: e.clock.Now})
	if err := again.srv.LoadStateFile(state); err != nil { // none written yet
		t.Fatal(err)
	}
	if err := again.srv.ReplayJournal(j.path); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if got := again.srv.Orders(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the replay:\n%+v\nwant\n%+v", got, want)
	}
	if got := again.srv.Orders()[1].Status; got != StatusCancelled {
		t.Errorf("the cancelled order replays as %s", got)
	}
	next := again.mustCreate(visitBody())
	for _, id := range ids {
		if id == next {
			t.Fatalf("order id %s handed out again after the replay", id)
		}
	}

	// Compaction writes the state whole and empties the journal; the
	// state file alone then gives the same orders.
	if err := j.compact(e.srv, state); err != nil {
		t.Fatal(err)
	}
	if n := len(journalLines(t, j.path)); n != 0 {
		t.Errorf("after compaction the journal holds %d lines", n)
	}
	third := newEnv(t, Config{Now: e.clock.Now})
	if err := third.srv.LoadStateFile(state); err != nil {
		t.Fatal(err)
	}
	if err := third.srv.ReplayJournal(j.path); err != nil {
		t.Fatal(err)
	}
	if got := third.srv.Orders(); !reflect.DeepEqual(got, want) {
		t.Errorf("from the compacted state:\n%+v\nwant\n%+v", got, want)
	}
}

func TestJournalDamagedLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sandbox.json.log")
	if err := os.WriteFile(path, []byte("{not json}\n{\"orderId\":\"1-5\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Config{})
	err := e.srv.ReplayJournal(path)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a damaged first line: %v, want an error naming line 1", err)
	}
}

func journalLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

// TestStartFileUnchangedStateNotRewritten: a command whose sandbox changed
// nothing leaves the state file as it was, instead of writing it whole at
// start and at stop.
func TestStartFileUnchangedStateNotRewritten(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "sandbox.json")
	_, _, stop, err := StartFile(Config{}, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(state, old, old); err != nil {
		t.Fatal(err)
	}
	_, _, stop, err = StartFile(Config{}, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	fi, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) {
		t.Errorf("the state file was written again (%v) by a sandbox that changed nothing", fi.ModTime())
	}
}
