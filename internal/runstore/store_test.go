package runstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "wvbatch.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// specs returns n orders of size visitors each, rows numbered from 2.
func specs(n, size int) []OrderSpec {
	out := make([]OrderSpec, n)
	row := 2
	for i := range out {
		o := OrderSpec{
			Key:       fmt.Sprintf("AM1:01:000111//acct/w0/p%05d", i),
			Reference: fmt.Sprintf("REF-%05d", i),
			IBX:       "AM1", Cage: "AM1:01:000111", Count: size,
			Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
			End:   time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC),
			Body:  []byte(fmt.Sprintf(`{"order":%d}`, i)),
		}
		for range size {
			o.Rows = append(o.Rows, row)
			o.VisitorKeys = append(o.VisitorKeys, sandbox.Key(fmt.Sprintf("u:visitor%d|AM1:01:000111|w", row)))
			row++
		}
		out[i] = o
	}
	return out
}

// sandbox is where the tests' runs order.
var sandbox = Where{Endpoint: "sandbox"}

func createRun(t testing.TB, s *Store, id string, orders []OrderSpec, rows []RowOutcome) {
	t.Helper()
	created, err := s.CreateRun(Run{ID: id, File: "roster.xlsx", Hash: "h", Endpoint: "sandbox"}, orders, rows)
	if err != nil || !created {
		t.Fatalf("CreateRun = %v, %v; want created", created, err)
	}
}

func rowsOf(t testing.TB, s *Store, runID string) []RowOutcome {
	t.Helper()
	var out []RowOutcome
	if err := s.Rows(runID, func(r RowOutcome) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func orderOf(t testing.TB, s *Store, runID, key string) Order {
	t.Helper()
	o, err := s.Order(runID, key)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// checkCounts asserts that the run's counts agree with its orders and rows.
func checkCounts(t testing.TB, s *Store, runID string) Run {
	t.Helper()
	run, err := s.Run(runID)
	if err != nil {
		t.Fatal(err)
	}
	orders, err := s.Orders(runID)
	if err != nil {
		t.Fatal(err)
	}
	wantOrders := map[OrderState]int{}
	for _, o := range orders {
		wantOrders[o.State]++
	}
	wantRows := map[RowStatus]int{}
	for _, r := range rowsOf(t, s, runID) {
		wantRows[r.Status]++
	}
	if !mapsEqual(run.Orders, wantOrders) || !mapsEqual(run.Rows, wantRows) {
		t.Errorf("run counts orders=%v rows=%v; the records say orders=%v rows=%v",
			run.Orders, run.Rows, wantOrders, wantRows)
	}
	return run
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func TestCreateRunIsIdempotent(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(3, 2)
	createRun(t, s, "run-1", orders, []RowOutcome{{Row: 1, Status: RowInvalid, Message: "no email"}})
	if err := s.MarkSubmitted("run-1", orders[0].Key, "1-100"); err == nil {
		t.Fatal("MarkSubmitted of a planned order never sent: want a state error")
	}
	if _, err := s.MarkSending("run-1", orders[0].Key); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted("run-1", orders[0].Key, "1-100"); err != nil {
		t.Fatal(err)
	}

	created, err := s.CreateRun(Run{ID: "run-1", File: "other.xlsx", Endpoint: "sandbox"}, specs(7, 1), nil)
	if err != nil || created {
		t.Fatalf("second CreateRun = %v, %v; want false, nil", created, err)
	}
	run := checkCounts(t, s, "run-1")
	if run.File != "roster.xlsx" || run.Orders[Submitted] != 1 || run.Orders[Planned] != 2 {
		t.Errorf("run after second CreateRun = %+v; want it unchanged", run)
	}
	got, _ := s.Orders("run-1")
	if len(got) != 3 || got[0].OrderID != "1-100" {
		t.Errorf("orders after second CreateRun = %d, first %+v", len(got), got[0])
	}
}

func TestCreateRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	good := specs(2, 2)
	dupKey := specs(2, 1)
	dupKey[1].Key = dupKey[0].Key
	noRef := specs(1, 1)
	noRef[0].Reference = ""
	keysMismatch := specs(1, 2)
	keysMismatch[0].VisitorKeys = keysMismatch[0].VisitorKeys[:1]
	tests := []struct {
		name   string
		run    Run
		orders []OrderSpec
		rows   []RowOutcome
	}{
		{"empty id", Run{}, good, nil},
		{"no endpoint", Run{ID: "r"}, good, nil},
		{"unknown endpoint", Run{ID: "r", Endpoint: EndpointUnknown}, good, nil},
		{"visitor keys of another endpoint", Run{ID: "r", Endpoint: "https://api.equinix.com"}, good, nil},
		{"duplicate key", Run{ID: "r", Endpoint: "sandbox"}, dupKey, nil},
		{"no reference", Run{ID: "r", Endpoint: "sandbox"}, noRef, nil},
		{"visitor keys not aligned", Run{ID: "r", Endpoint: "sandbox"}, keysMismatch, nil},
		{"two outcomes for a row", Run{ID: "r", Endpoint: "sandbox"}, good, []RowOutcome{{Row: 9}, {Row: 9}}},
		{"row zero", Run{ID: "r", Endpoint: "sandbox"}, good, []RowOutcome{{Row: 0}}},
		{"settings not JSON", Run{ID: "r", Endpoint: "sandbox", Settings: json.RawMessage("{")}, good, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			if created, err := s.CreateRun(tt.run, tt.orders, tt.rows); err == nil || created {
				t.Fatalf("CreateRun = %v, %v; want an error", created, err)
			}
			if runs, _ := s.Runs(); len(runs) != 0 {
				t.Errorf("store holds %d runs after a refused CreateRun", len(runs))
			}
		})
	}
}

func TestCreateRunKeepsEveryRow(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(2, 3) // rows 2..7
	rows := []RowOutcome{
		{Row: 9, Status: RowInvalid, Code: "email", Message: "not an email address"},
		{Row: 1, Status: RowAlreadyOrdered, OrderIDs: []string{"1-7"}},
		{Row: 4}, // pending, given explicitly
	}
	createRun(t, s, "r", orders, rows)
	got := rowsOf(t, s, "r")
	var nums []int
	for _, r := range got {
		nums = append(nums, r.Row)
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 9}; !slices.Equal(nums, want) {
		t.Fatalf("rows = %v; want %v", nums, want)
	}
	if got[0].Status != RowAlreadyOrdered || got[7].Status != RowInvalid || got[7].Message == "" || got[3].Status != RowPending {
		t.Errorf("rows = %+v", got)
	}
	run := checkCounts(t, s, "r")
	if run.Rows[RowPending] != 6 || run.Orders[Planned] != 2 || run.State != RunOpen {
		t.Errorf("run = %+v", run)
	}
}

func TestRowsStreamsManyPages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(rowPage*2/50+1, 50)
	createRun(t, s, "r", orders, nil)
	want := 0
	for _, o := range orders {
		want += len(o.Rows)
	}
	prev, n := 0, 0
	err := s.Rows("r", func(r RowOutcome) error {
		if r.Row <= prev {
			return fmt.Errorf("row %d after %d", r.Row, prev)
		}
		prev = r.Row
		n++
		// fn may write to the store while streaming.
		if r.Row == 100 {
			_, err := s.MarkSending("r", orders[0].Key)
			return err
		}
		return nil
	})
	if err != nil || n != want {
		t.Fatalf("Rows streamed %d rows, %v; want %d", n, err, want)
	}
	stop := errors.New("stop")
	if err := s.Rows("r", func(RowOutcome) error { return stop }); err != stop {
		t.Errorf("Rows returned %v; want fn's error", err)
	}
}

func TestCreateRunRewritesAnUnfinishedRun(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	// A CreateRun cut short leaves the run's buckets without its record.
	if err := s.updateNow(func(tx *bolt.Tx) error {
		rb, err := tx.Bucket(bucketRun).CreateBucket([]byte("r"))
		if err != nil {
			return err
		}
		_, err = rb.CreateBucket(bucketOrders)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if runs, _ := s.Runs(); len(runs) != 0 {
		t.Fatalf("an unfinished run is listed: %+v", runs)
	}
	if _, err := s.Orders("r"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Orders of an unfinished run = %v; want ErrNotFound", err)
	}
	createRun(t, s, "r", specs(2, 1), nil)
	if got, err := s.Orders("r"); err != nil || len(got) != 2 {
		t.Fatalf("Orders = %d, %v", len(got), err)
	}
}

func TestRunsNewestFirst(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"b", "c", "a"} {
		now = now.Add(time.Hour)
		createRun(t, s, id, specs(1, 1), nil)
	}
	runs, err := s.Runs()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"a", "c", "b"}) {
		t.Errorf("Runs = %v; want newest first [a c b]", ids)
	}
	if _, err := s.Run("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Run(nope) = %v; want ErrNotFound", err)
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "wvbatch.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("store mode = %v; want 0600", fi.Mode().Perm())
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of a reopened 0644 store = %v; want 0600", fi.Mode().Perm())
	}
}

// TestHelperHoldStore is not a test: run as a subprocess, it holds the
// store named by WVBATCH_QUEUE_HOLD open until its stdin closes.
func TestHelperHoldStore(t *testing.T) {
	path := os.Getenv("WVBATCH_QUEUE_HOLD")
	if path == "" {
		t.Skip("helper process")
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("holding")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	s.Close()
	os.Exit(0)
}

func TestOpenBusyFromAnotherProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldStore$")
	cmd.Env = append(os.Environ(), "WVBATCH_QUEUE_HOLD="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line := make([]byte, 64)
	n, _ := stdout.Read(line)
	if string(line[:n]) != "holding\n" {
		t.Fatalf("helper said %q", line[:n])
	}

	start := time.Now()
	s, err := Open(path, Options{})
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("Open of a store held by another process succeeded")
	}
	if !errors.Is(err, ErrStoreBusy) {
		t.Fatalf("Open = %v; want ErrStoreBusy", err)
	}
	if want := "store " + path + " is in use by another wvbatch"; err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
	if took > 3*time.Second {
		t.Errorf("ErrStoreBusy took %s; want under 3s", took)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after the other process let go = %v", err)
	}
	s.Close()
}

func schemaOf(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta); b != nil {
			v = string(b.Get(keySchema))
		}
		return nil
	})
	return v
}

func writeBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaUpgrade(t *testing.T) {
	t.Parallel()
	current := fmt.Sprint(len(migrations()))

	t.Run("v0 file gets the layout", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db")
		// Schema 0: a bbolt file without the meta bucket.
		writeBolt(t, path, func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte("unrelated"))
			return err
		})
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		createRun(t, s, "r", specs(1, 1), nil)
		s.Close()
		if got := schemaOf(t, path); got != current {
			t.Errorf("schema after Open = %q; want %s", got, current)
		}
	})

	t.Run("chain of migrations runs in order", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db")
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		createRun(t, s, "r", specs(1, 1), nil)
		s.Close()

		var ran []int
		migs := append(migrations(),
			func(tx *bolt.Tx) error { // n → n+1: rename every run's file
				ran = append(ran, 1)
				return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
					var r Run
					json.Unmarshal(v, &r)
					r.File = "upgraded-" + r.File
					nv, _ := json.Marshal(r)
					return tx.Bucket(bucketRuns).Put(k, nv)
				})
			},
			func(tx *bolt.Tx) error { ran = append(ran, 2); return nil },
		)
		s, err = open(path, Options{}, migs)
		if err != nil {
			t.Fatal(err)
		}
		run, err := s.Run("r")
		s.Close()
		if err != nil || run.File != "upgraded-roster.xlsx" {
			t.Errorf("run after upgrade = %+v, %v", run, err)
		}
		if !slices.Equal(ran, []int{1, 2}) {
			t.Errorf("migrations ran %v; want [1 2]", ran)
		}
		if got, want := schemaOf(t, path), fmt.Sprint(len(migs)); got != want {
			t.Errorf("schema = %s; want %s", got, want)
		}
		// Opening again runs nothing.
		ran = nil
		s, err = open(path, Options{}, migs)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if len(ran) != 0 {
			t.Errorf("migrations ran again: %v", ran)
		}
	})

	t.Run("failed migration leaves the file as it was", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db")
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		migs := append(migrations(), func(tx *bolt.Tx) error {
			tx.DeleteBucket(bucketRuns)
			return errors.New("boom")
		})
		if _, err := open(path, Options{}, migs); err == nil {
			t.Fatal("open with a failing migration succeeded")
		}
		if got := schemaOf(t, path); got != current {
			t.Errorf("schema = %s; want %s", got, current)
		}
		s, err = Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Runs(); err != nil {
			t.Errorf("Runs after a failed upgrade: %v", err)
		}
	})

	t.Run("newer schema is refused", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db")
		writeBolt(t, path, func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			return b.Put(keySchema, []byte("99"))
		})
		_, err := Open(path, Options{})
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("Open = %v; want ErrNewerSchema", err)
		}
		if got := schemaOf(t, path); got != "99" {
			t.Errorf("schema = %s; want it left at 99", got)
		}
	})
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	e := StoredError{Status: 503, Message: "unavailable"}
	type step struct {
		name    string
		do      func(s *Store, key string) error
		wantErr bool
	}
	sending := step{"sending", func(s *Store, k string) error { _, err := s.MarkSending("r", k); return err }, false}
	submitted := step{"submitted", func(s *Store, k string) error { return s.MarkSubmitted("r", k, "1-1") }, false}
	rejected := step{"rejected", func(s *Store, k string) error { return s.MarkRejected("r", k, e) }, false}
	retry := step{"retry", func(s *Store, k string) error { return s.MarkRetry("r", k, e, time.Now()) }, false}
	uncertain := step{"uncertain", func(s *Store, k string) error { return s.MarkUncertain("r", k, e) }, false}
	notFound := step{"not found", func(s *Store, k string) error { _, err := s.MarkNotFound("r", k, true); return err }, false}
	cancelling := step{"cancelling", func(s *Store, k string) error { return s.MarkCancelling("r", k) }, false}
	cancelled := step{"cancelled", func(s *Store, k string) error { return s.MarkCancelled("r", k) }, false}
	cancelFailed := step{"cancel failed", func(s *Store, k string) error { return s.MarkCancelFailed("r", k, e) }, false}
	bad := func(st step) step { st.wantErr = true; st.name = "refused " + st.name; return st }

	tests := []struct {
		name     string
		steps    []step
		want     OrderState
		attempts int
	}{
		{"sent and submitted", []step{sending, submitted}, Submitted, 1},
		{"submitted twice with the same id", []step{sending, submitted, submitted}, Submitted, 1},
		{"retried then submitted", []step{sending, retry, sending, submitted}, Submitted, 2},
		{"uncertain, not found, resent", []step{sending, uncertain, notFound, sending, submitted}, Submitted, 2},
		{"rejected", []step{sending, rejected}, Rejected, 1},
		{"sending twice", []step{sending, bad(sending)}, Sending, 1},
		{"retry of a planned order", []step{bad(retry)}, Planned, 0},
		{"rejected is final", []step{sending, rejected, bad(sending), bad(submitted)}, Rejected, 1},
		{"submitted is not resent", []step{sending, submitted, bad(sending), bad(retry)}, Submitted, 1},
		{"cancel", []step{sending, submitted, cancelling, cancelled}, Cancelled, 1},
		{"cancel refused", []step{sending, submitted, cancelling, cancelFailed}, Submitted, 1},
		{"planned cancelled", []step{cancelled, bad(sending)}, Cancelled, 0},
		{"sending cannot be cancelled", []step{sending, bad(cancelled), bad(cancelling)}, Sending, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			orders := specs(1, 2)
			createRun(t, s, "r", orders, nil)
			for _, st := range tt.steps {
				err := st.do(s, orders[0].Key)
				var se *StateError
				if st.wantErr != (err != nil) || err != nil && !errors.As(err, &se) {
					t.Fatalf("%s: err = %v; want error %v", st.name, err, st.wantErr)
				}
			}
			o := orderOf(t, s, "r", orders[0].Key)
			if o.State != tt.want || o.Attempts != tt.attempts {
				t.Errorf("order is %s after %d attempts; want %s after %d", o.State, o.Attempts, tt.want, tt.attempts)
			}
			checkCounts(t, s, "r")
		})
	}
}

func TestMarkErrorsForUnknownRunOrOrder(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	createRun(t, s, "r", specs(1, 1), nil)
	if _, err := s.MarkSending("nope", "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSending of an unknown run = %v; want ErrNotFound", err)
	}
	if _, err := s.MarkSending("r", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSending of an unknown order = %v; want ErrNotFound", err)
	}
	if err := s.MarkSubmitted("r", specs(1, 1)[0].Key, ""); err == nil {
		t.Error("MarkSubmitted without an order id succeeded")
	}
}

func TestMarkSendingReturnsBody(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(2, 1)
	createRun(t, s, "r", orders, nil)
	o, err := s.MarkSending("r", orders[1].Key)
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Body) != `{"order":1}` || o.Attempts != 1 || o.Reference != "REF-00001" || o.Seq != 1 || o.RunID != "r" {
		t.Errorf("MarkSending = %+v body %q", o, o.Body)
	}
	all, _ := s.Orders("r")
	if all[1].Body != nil {
		t.Errorf("Orders returned a body")
	}
}

func TestRejectedRowsCarryTheirProblems(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(1, 3) // rows 2, 3, 4
	createRun(t, s, "r", orders, nil)
	key := orders[0].Key
	if _, err := s.MarkSending("r", key); err != nil {
		t.Fatal(err)
	}
	err := s.MarkRejected("r", key, StoredError{
		Status: 400, Code: "EQ-3000025", Message: "invalid visitor", CorrelationID: "c-1",
		Problems: []Problem{
			{Property: "details.visitors[1].email", Reason: "invalid email", Row: 3},
			{Property: "details.schedule", Reason: "window in the past"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, s, "r")
	for _, r := range rows {
		if r.Status != RowRejected || r.Code != "EQ-3000025" {
			t.Errorf("row %d = %+v; want rejected with the code", r.Row, r)
		}
	}
	if p := rows[1].Problems; len(p) != 2 || p[0].Reason != "invalid email" {
		t.Errorf("row 3 problems = %+v; want its own then the order's", p)
	}
	if p := rows[0].Problems; len(p) != 1 || p[0].Reason != "window in the past" {
		t.Errorf("row 2 problems = %+v; want only the order's", p)
	}
	if rows[0].Hint == "" {
		t.Errorf("row 2 has no hint that another row caused the refusal")
	}
	o := orderOf(t, s, "r", key)
	if o.LastError == nil || o.LastError.CorrelationID != "c-1" {
		t.Errorf("order's last error = %+v", o.LastError)
	}
	checkCounts(t, s, "r")
}

func TestAlreadyOrdered(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(2, 2)
	orders[1].VisitorKeys[1] = "" // no key: nothing recorded
	createRun(t, s, "r", orders, nil)
	keys := slices.Concat(orders[0].VisitorKeys, orders[1].VisitorKeys, []string{"u:nobody"})
	if got, err := s.AlreadyOrdered(sandbox, keys); err != nil || len(got) != 0 {
		t.Fatalf("AlreadyOrdered before submission = %v, %v", got, err)
	}
	for i, id := range []string{"1-1", "1-2"} {
		if _, err := s.MarkSending("r", orders[i].Key); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSubmitted("r", orders[i].Key, id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AlreadyOrdered(sandbox, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Claim{
		orders[0].VisitorKeys[0]: {RunID: "r", OrderKey: orders[0].Key, OrderID: "1-1", Row: 2},
		orders[0].VisitorKeys[1]: {RunID: "r", OrderKey: orders[0].Key, OrderID: "1-1", Row: 3},
		orders[1].VisitorKeys[0]: {RunID: "r", OrderKey: orders[1].Key, OrderID: "1-2", Row: 4},
	}
	if len(got) != len(want) {
		t.Fatalf("AlreadyOrdered = %v; want %v", got, want)
	}
	for k, c := range want {
		if got[k] != c {
			t.Errorf("claim %s = %+v; want %+v", k, got[k], c)
		}
	}

	if err := s.MarkCancelled("r", orders[0].Key); err != nil {
		t.Fatal(err)
	}
	got, _ = s.AlreadyOrdered(sandbox, keys)
	if len(got) != 1 || got[orders[1].VisitorKeys[0]].OrderID != "1-2" {
		t.Errorf("AlreadyOrdered after cancelling 1-1 = %v; want only 1-2's visitor", got)
	}
}

func TestSubmittedRowsKeepEveryOrderID(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	// One visitor in two orders: a window cut in two.
	orders := specs(2, 1)
	orders[1].Rows = []int{2}
	orders[1].VisitorKeys = []string{sandbox.Key("u:visitor2|AM1:01:000111|w2")}
	createRun(t, s, "r", orders, nil)
	for i, id := range []string{"1-1", "1-2"} {
		if _, err := s.MarkSending("r", orders[i].Key); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSubmitted("r", orders[i].Key, id); err != nil {
			t.Fatal(err)
		}
	}
	rows := rowsOf(t, s, "r")
	if len(rows) != 1 || rows[0].Status != RowOrdered || !slices.Equal(rows[0].OrderIDs, []string{"1-1", "1-2"}) {
		t.Errorf("rows = %+v; want row 2 ordered on 1-1 and 1-2", rows)
	}
	checkCounts(t, s, "r")
}

func TestGroupCommitUnderConcurrency(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	orders := specs(n, 2)
	createRun(t, s, "r", orders, nil)
	before := s.commits.Load()

	// Every order gets two racing MarkSending calls: exactly one must win,
	// and the loser's failure must not undo anyone else's change.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, stateErrs := 0, 0
	for i := range n {
		for range 2 {
			wg.Go(func() {
				_, err := s.MarkSending("r", orders[i].Key)
				if err == nil {
					err = s.MarkSubmitted("r", orders[i].Key, fmt.Sprintf("1-%d", i))
				}
				mu.Lock()
				defer mu.Unlock()
				var se *StateError
				switch {
				case err == nil:
					wins++
				case errors.As(err, &se):
					stateErrs++
				default:
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	commits := s.commits.Load() - before
	if wins != n || stateErrs != n {
		t.Errorf("%d wins and %d state errors; want %d of each", wins, stateErrs, n)
	}
	// 2n successful changes and n refused ones.
	if commits >= 2*n {
		t.Errorf("%d commits for %d changes: changes were not grouped", commits, 3*n)
	}
	t.Logf("%d changes in %d commits", 3*n, commits)
	s.Close()

	// Everything is on disk.
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := checkCounts(t, s, "r")
	if run.Orders[Submitted] != n || run.Rows[RowOrdered] != 2*n {
		t.Errorf("after reopening: %v %v", run.Orders, run.Rows)
	}
	got, _ := s.Orders("r")
	for i, o := range got {
		if o.Attempts != 1 || o.OrderID != fmt.Sprintf("1-%d", i) {
			t.Errorf("order %d = %+v", i, o)
		}
	}
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	createRun(t, s, "r", specs(1, 1), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSending("r", specs(1, 1)[0].Key); !errors.Is(err, ErrClosed) {
		t.Errorf("MarkSending on a closed store = %v; want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestBatchSurvivesAFailedChange(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	put := func(key string, fail error) *call {
		return &call{err: make(chan error, 1), fn: func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketVisitors).Put([]byte(sandbox.Key(key)), []byte("{}")); err != nil {
				return err
			}
			return fail
		}}
	}
	boom := errors.New("boom")
	refused := &call{err: make(chan error, 1), fn: func(*bolt.Tx) error { return refuse(ErrNotFound) }}
	batch := []*call{put("a", nil), put("b", boom), refused, put("c", nil), put("d", boom), put("e", nil)}
	s.commit(batch)
	want := []error{nil, boom, ErrNotFound, nil, boom, nil}
	for i, c := range batch {
		if err := <-c.err; !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("change %d: err = %v; want %v", i, err, want[i])
		}
	}
	got, err := s.AlreadyOrdered(sandbox, []string{"a", "b", "c", "d", "e"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "c", "e"} {
		if _, ok := got[k]; !ok {
			t.Errorf("change %s was lost with a failed one", k)
		}
	}
	for _, k := range []string{"b", "d"} {
		if _, ok := got[k]; ok {
			t.Errorf("failed change %s was committed", k)
		}
	}
}
