package runstore

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// saved returns the run's saved summary, failing on an error.
func saved(t *testing.T, s *Store, runID string) []byte {
	t.Helper()
	_, b, err := s.SavedSummary(runID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// contents reads a run's contents, failing on an error.
func contents(t *testing.T, s *Store, runID string) Contents {
	t.Helper()
	c, err := s.Contents(runID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSavedSummaryFollowsTheRun saves a summary of a run and changes the
// run's orders and rows in every way the store does: after each change the
// saved summary is stale and not handed out, whatever wrote the change;
// saved again, it is.
func TestSavedSummaryFollowsTheRun(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(30, 3)
	createRun(t, s, "r", orders, []RowOutcome{{Row: 1000, Status: RowInvalid, Message: "no email"}})
	createRun(t, s, "other", specs(2, 1), nil)
	if b := saved(t, s, "r"); b != nil {
		t.Fatalf("a run never saved has a saved summary: %q", b)
	}
	save := func(what string) {
		t.Helper()
		c := contents(t, s, "r")
		if err := s.SaveSummary("r", c.Digest, []byte(what)); err != nil {
			t.Fatal(err)
		}
		if run, b, err := s.SavedSummary("r"); err != nil || string(b) != what || run.ID != "r" || run.OrderCount() != len(orders) {
			t.Fatalf("SavedSummary = %+v, %q, %v; want the run and %q", run, b, err, what)
		}
	}
	stale := func(change string, fn func() error) {
		t.Helper()
		save("before " + change)
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", change, err)
		}
		if b := saved(t, s, "r"); b != nil {
			t.Errorf("after %s the saved summary is still handed out: %q", change, b)
		}
	}
	stale("an order sent", func() error { _, err := s.MarkSending("r", orders[0].Key); return err })
	stale("an order submitted", func() error { return s.MarkSubmitted("r", orders[0].Key, "1-1") })
	stale("an order closed", func() error { return s.MarkClosed("r", orders[0].Key) })
	stale("a row changed, the run's record not", func() error {
		return s.updateNow(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketRows).Put(u64(1000), []byte(`{"status":"invalid","message":"no phone"}`))
		})
	})
	stale("an order changed, the run's record not", func() error {
		return s.updateNow(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRun).Bucket([]byte("r")).Bucket(bucketOrders)
			v := bytes.Replace(b.Get(u64(5)), []byte(`"count":3`), []byte(`"count":4`), 1)
			return b.Put(u64(5), v)
		})
	})
	stale("the planned orders put in doubt by a restore", func() error {
		_, _, err := s.markRestored(time.Now())
		return err
	})

	// Changes elsewhere, and records of the run's report and mail, leave
	// it as it is.
	save("kept")
	if err := s.MarkSubmitted("other", specs(2, 1)[0].Key, "2-1"); err != nil { // in doubt since the restore
		t.Fatal(err)
	}
	if err := s.RecordReport("r", ReportRecord{Dir: "d"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordMail("r", MailRecord{To: []string{"a@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if b := saved(t, s, "r"); string(b) != "kept" {
		t.Errorf("after changes to another run and to the run's report and mail records: %q, want the summary kept", b)
	}
	if a, b := contents(t, s, "r"), contents(t, s, "r"); a.Digest != b.Digest || len(a.Orders) != len(orders) || len(a.Rows) != 30*3+1 {
		t.Errorf("two reads of the same run: digests %x and %x, %d orders, %d rows", a.Digest, b.Digest, len(a.Orders), len(a.Rows))
	}
	if err := s.SaveSummary("missing", Digest{}, []byte("x")); err == nil {
		t.Error("SaveSummary of a run that is not there: no error")
	}
	old := contents(t, s, "r")
	if err := s.MarkSubmitted("r", orders[1].Key, "1-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSummary("r", old.Digest, []byte("made before")); !errors.Is(err, ErrChanged) {
		t.Errorf("SaveSummary of a summary made before an order changed: %v, want ErrChanged", err)
	}
	if b := saved(t, s, "r"); string(b) != "" {
		t.Errorf("after a refused save: %q", b)
	}
}

// TestSavedSummaryDamaged: a saved summary whose bytes changed on disk
// is not handed out, and the run still reads.
func TestSavedSummaryDamaged(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	createRun(t, s, "r", specs(3, 2), nil)
	c := contents(t, s, "r")
	if err := s.SaveSummary("r", c.Digest, []byte("the summary")); err != nil {
		t.Fatal(err)
	}
	for _, damage := range []func(v []byte) []byte{
		func(v []byte) []byte { v[len(v)-1] ^= 1; return v },          // the summary
		func(v []byte) []byte { v[0] = summaryVersion + 1; return v }, // another version
		func(v []byte) []byte { return v[:40] },                       // cut short
	} {
		if err := s.updateNow(func(tx *bolt.Tx) error {
			rb := tx.Bucket(bucketRun).Bucket([]byte("r"))
			return rb.Put(keySummary, damage(bytes.Clone(rb.Get(keySummary))))
		}); err != nil {
			t.Fatal(err)
		}
		if b := saved(t, s, "r"); b != nil {
			t.Errorf("a damaged saved summary is handed out: %q", b)
		}
		if err := s.SaveSummary("r", c.Digest, []byte("the summary")); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := s.Check(); err != nil || !rep.OK() {
		t.Errorf("check of a store with a saved summary: %v %v", err, rep.Problems)
	}
}

// TestPruneRemovesTheSavedSummary: the saved summary quotes the rows'
// problems, so a prune removes it with them.
func TestPruneRemovesTheSavedSummary(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(2, 1)
	createRun(t, s, "r", orders, []RowOutcome{{Row: 100, Status: RowInvalid, Message: `First Name "visitorX1" has digits`}})
	submitAll(t, s, "r", orders, "1")
	if err := s.SetRunState("r", RunDone); err != nil {
		t.Fatal(err)
	}
	c := contents(t, s, "r")
	if err := s.SaveSummary("r", c.Digest, []byte(`First Name "visitorX1" has digits`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(PruneOptions{Before: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A summary made before the prune, saved after it.
	if err := s.SaveSummary("r", c.Digest, []byte(`First Name "visitorX1" has digits`)); !errors.Is(err, ErrChanged) {
		t.Errorf("SaveSummary after a prune of a summary made before it: %v, want ErrChanged", err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRun).Bucket([]byte("r")).Get(keySummary); v != nil {
			t.Errorf("after the prune the run keeps its saved summary: %q", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSavedSummaryOfEverySize: the digest SavedSummary reads from the
// file's pages is the one Contents reads through bbolt, for a run whose
// orders and rows fit in their parent's page and for one whose trees have
// branch pages and values longer than a page.
func TestSavedSummaryOfEverySize(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	big := specs(3000, 4)
	big[7].VisitorKeys[0] = sandbox.Key(strings.Repeat("x", 3*os.Getpagesize()))
	for id, orders := range map[string][]OrderSpec{"small": specs(1, 1), "big": big} {
		createRun(t, s, id, orders, nil)
		c := contents(t, s, id)
		if err := s.SaveSummary(id, c.Digest, []byte(id)); err != nil {
			t.Fatal(err)
		}
		if b := saved(t, s, id); string(b) != id {
			t.Errorf("run %s: SavedSummary = %q, want %q", id, b, id)
		}
	}
}
