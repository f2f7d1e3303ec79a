package queue

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// The tests' runs are written to a real store in a temporary folder.

func openStore(t testing.TB) *runstore.Store {
	t.Helper()
	s, err := runstore.Open(filepath.Join(t.TempDir(), "state", "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sandbox is where the tests' runs order.
var sandbox = runstore.Where{Endpoint: "sandbox"}

// specs returns n orders of size visitors each, rows numbered from 2.
func specs(n, size int) []runstore.OrderSpec {
	out := make([]runstore.OrderSpec, n)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = runstore.OrderSpec{
			Key:       fmt.Sprintf("AM1:01:000111//acct/w0/p%05d", i),
			Reference: fmt.Sprintf("REF-%05d", i),
			IBX:       "AM1", Cage: "AM1:01:000111", Count: size,
			Start: start, End: start.Add(10 * time.Hour),
			Body: fmt.Appendf(nil, `{"order":%d}`, i),
		}
		for j := range size {
			row := 2 + i*size + j
			out[i].Rows = append(out[i].Rows, row)
			out[i].VisitorKeys = append(out[i].VisitorKeys, sandbox.Key(fmt.Sprintf("u:visitor%d|AM1:01:000111|w", row)))
		}
	}
	return out
}

func createRun(t testing.TB, s *runstore.Store, id string, orders []runstore.OrderSpec, rows []runstore.RowOutcome) {
	t.Helper()
	run := runstore.Run{ID: id, File: "roster.xlsx", Hash: "h", Endpoint: sandbox.Endpoint}
	if created, err := s.CreateRun(run, orders, rows); err != nil || !created {
		t.Fatalf("CreateRun = %v, %v; want created", created, err)
	}
}

func rowsOf(t testing.TB, s *runstore.Store, runID string) []runstore.RowOutcome {
	t.Helper()
	var out []runstore.RowOutcome
	if err := s.Rows(runID, func(r runstore.RowOutcome) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func orderOf(t testing.TB, s *runstore.Store, runID, key string) runstore.Order {
	t.Helper()
	o, err := s.Order(runID, key)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// checkCounts asserts that the store's counts agree with its records (the
// store's own check compares every run's counts with its orders and rows)
// and returns the run.
func checkCounts(t testing.TB, s *runstore.Store, runID string) runstore.Run {
	t.Helper()
	rep, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("the store does not check: %q", rep.Problems)
	}
	run, err := s.Run(runID)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
