package submit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/preflight"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// readCount counts how a Pipeline reads rosters: identities (a hash of the
// file and its Order sheet) and imports (every row read and checked), and
// how the imports were made.
type readCount struct {
	identities, imports  int
	checked, hashedAgain int // imports with the pre-flight; imports that hash the file themselves
	countOnly            int // imports that keep no visitors
	runIDs               []string
}

func (c *readCount) install(p *Pipeline) {
	p.reads = readers{
		identifyFn: func(opt importer.Options) (importer.Identity, error) {
			c.identities++
			return importer.Identify(opt)
		},
		importFn: func(ctx context.Context, opt importer.Options) (*importer.Result, error) {
			c.imports++
			if opt.Preflight != nil {
				c.checked++
			}
			if opt.Identity == nil {
				c.hashedAgain++
			}
			if opt.CountOnly {
				c.countOnly++
			}
			res, err := importer.Import(ctx, opt)
			if err == nil {
				c.runIDs = append(c.runIDs, res.RunID)
			}
			return res, err
		},
	}
}

func (c *readCount) take() readCount {
	got := *c
	*c = readCount{}
	return got
}

// TestPipelineReadsTheRosterOnce counts the reads of a roster: a new run
// with the pre-flight is one identity and one import with the pre-flight
// (which does not hash the file again); the same roster submitted again is
// one identity and one import without it; PreviewReplace's import is taken
// up by Prepare; another account's run of the same roster is found without
// importing twice.
func TestPipelineReadsTheRosterOnce(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	ctx := t.Context()
	var reads readCount
	reads.install(w.p)
	preflights := 0
	conn := func(account string) *Conn {
		return &Conn{Client: w.client, Endpoint: "sandbox", Account: account,
			Preflight: func(context.Context, importer.Options) (importer.Preflight, error) {
				preflights++
				return preflight.New(w.client), nil
			}}
	}
	w.in.Conn = conn("ann")
	plain, err := importer.Import(ctx, w.in.Import) // what one import without the pipeline gives

	if err != nil {
		t.Fatal(err)
	}

	prep, err := w.p.Prepare(ctx, w.in)
	if err != nil {
		t.Fatal(err)
	}
	got := reads.take()
	if got.identities != 1 || got.imports != 1 || got.checked != 1 || got.hashedAgain != 0 || preflights != 1 {
		t.Errorf("a new run: %+v, %d pre-flights; want one identity and one import, with the pre-flight, not hashing again", got, preflights)
	}
	if prep.New == nil || prep.New.Run.ID != plain.RunID || prep.Import.Hash != plain.Hash || len(prep.New.Orders) != len(plain.Orders) {
		t.Fatalf("the new run %+v; want run %s of %d orders, as one import gives", prep.New, plain.RunID, len(plain.Orders))
	}
	if _, err := w.p.Execute(ctx, prep); err != nil {
		t.Fatal(err)
	}

	reads.take()
	preflights = 0
	prep, err = w.p.Prepare(ctx, w.in)
	if err != nil {
		t.Fatal(err)
	}
	// The run is finished: it is only shown again, from an import that
	// keeps counts and row errors but no visitors.
	if got := reads.take(); got.identities != 1 || got.imports != 1 || got.checked != 0 || got.hashedAgain != 0 || got.countOnly != 1 || preflights != 0 {
		t.Errorf("the same roster again: %+v, %d pre-flights; want one identity and one import of counts, without the pre-flight", got, preflights)
	}
	if prep.Existing == nil || prep.Existing.ID != plain.RunID || prep.Import.RunID != plain.RunID {
		t.Fatalf("the same roster again: existing %v; want run %s", prep.Existing, plain.RunID)
	}
	if !NothingToSend(*prep.Existing) {
		t.Fatalf("the run is %s after Execute; want it finished", prep.Existing.State)
	}
	if i := prep.Import; i.Rows != plain.Rows || i.InvalidRows != plain.InvalidRows || i.LastRow != plain.LastRow ||
		i.LastColumn != plain.LastColumn || !reflect.DeepEqual(i.Errors, plain.Errors) || len(i.Orders) != len(plain.Orders) {
		t.Errorf("the finished run's import differs from a whole one: %d rows (%d invalid), extent %d×%d, %d errors, %d orders; want %d (%d), %d×%d, %d, %d",
			i.Rows, i.InvalidRows, i.LastRow, i.LastColumn, len(i.Errors), len(i.Orders),
			plain.Rows, plain.InvalidRows, plain.LastRow, plain.LastColumn, len(plain.Errors), len(plain.Orders))
	}

	// The command line previews replacements first: Prepare takes the
	// preview's import up.
	in := w.in
	if reps, err := w.p.PreviewReplace(ctx, &in); err != nil || reps != nil {
		t.Fatalf("PreviewReplace of the recorded roster: %v, %v", reps, err)
	}
	if prep, err = w.p.Prepare(ctx, in); err != nil || prep.Existing == nil {
		t.Fatalf("Prepare after PreviewReplace: %v, %+v", err, prep)
	}
	if got := reads.take(); got.identities != 1 || got.imports != 1 || got.checked != 0 || got.countOnly != 1 {
		t.Errorf("PreviewReplace and Prepare of the recorded roster: %+v; want one identity and one import of counts", got)
	}

	edited := filepath.Join(t.TempDir(), "edited.csv")
	b, err := os.ReadFile(w.in.Import.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(edited, []byte(strings.Replace(string(b), "Grace,de Wit", "Grace,de Wit-Jansen", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	in = w.in
	in.Import.Path = edited
	preflights = 0
	reps, err := w.p.PreviewReplace(ctx, &in)
	if err != nil || len(reps) == 0 {
		t.Fatalf("PreviewReplace of the edited roster: %v, %v; want the order that lists Grace replaced", reps, err)
	}
	if prep, err = w.p.PrepareReplace(ctx, in, reps); err != nil || prep.New == nil {
		t.Fatalf("PrepareReplace: %v, %+v", err, prep)
	}
	if got := reads.take(); got.identities != 1 || got.imports != 1 || got.checked != 1 || preflights != 1 {
		t.Errorf("PreviewReplace and PrepareReplace of an edited roster: %+v, %d pre-flights; want one identity and one import with the pre-flight", got, preflights)
	}

	// Another account at the same endpoint: its run of the roster has an
	// id of its own, found from the identity alone.
	bob := w.in
	bob.Conn = conn("bob")
	preflights = 0
	if prep, err = w.p.Prepare(ctx, bob); err != nil || prep.New == nil {
		t.Fatalf("Prepare for another account: %v, %+v", err, prep)
	}
	want := importer.Identity{Hash: plain.Hash, Order: plain.Order}.RunID(importer.Options{Endpoint: AccountEndpoint(bob.Conn.Where())})
	got = reads.take()
	if got.identities != 1 || got.imports != 1 || got.checked != 1 || preflights != 1 || prep.New.Run.ID != want || got.runIDs[0] != want {
		t.Errorf("another account: %+v, %d pre-flights, run %s; want one identity and one import with the pre-flight, run %s", got, preflights, prep.New.Run.ID, want)
	}
}

// TestPipelineRefusesARosterBeforeConnecting prepares a roster whose
// header lacks a column: the import refuses it without the pre-flight
// connecting, and no store is made for it.
func TestPipelineRefusesARosterBeforeConnecting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "no-ibx.csv")
	if err := os.WriteFile(path, []byte("Cage,First Name,Last Name\nAM1:01:000112,Anna,de Vries\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "wvbatch.db")
	opened := 0
	p := &Pipeline{StorePath: storePath, Open: func() (*runstore.Store, error) { opened++; return nil, errors.New("not to be opened") }}
	connects := 0
	in := Input{Import: importer.Options{Path: path, Check: roster.CheckConfig{Now: func() time.Time { return benchStart }}},
		Connect: func() (*Conn, error) { connects++; return nil, errors.New("not to be connected") }}
	_, err := p.Prepare(t.Context(), in)
	var fe *roster.FileError
	if !errors.As(err, &fe) || connects != 0 || opened != 0 {
		t.Fatalf("Prepare: %v, %d connects, %d opens; want the roster's error with neither", err, connects, opened)
	}
	if _, err := os.Stat(storePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a store was made: %v", err)
	}
}

// TestFinishedRunShownAgainWithItsRowErrors submits a roster with invalid
// rows, then the same roster again: the finished run is shown from an
// import that keeps no visitors, and still with each invalid row's errors
// as the import gives them (column, value, hint), as first shown.
func TestFinishedRunShownAgainWithItsRowErrors(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	w.in.Import.Path = "../../samples/contractors-with-errors.csv"
	first := w.place(t)
	if len(first.Summary.Errors) == 0 || first.Summary.Rows["invalid"] == 0 {
		t.Fatalf("the first run shows %d errors, rows %v; want invalid ones", len(first.Summary.Errors), first.Summary.Rows)
	}
	var reads readCount
	reads.install(w.p)
	prep, err := w.p.Prepare(t.Context(), w.in)
	if err != nil || prep.Existing == nil {
		t.Fatalf("Prepare: %v, %+v", err, prep)
	}
	if got := reads.take(); got.imports != 1 || got.countOnly != 1 {
		t.Errorf("reads: %+v; want one import of counts", got)
	}
	again, err := w.p.Execute(t.Context(), prep)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Summary.Errors, first.Summary.Errors) {
		t.Errorf("shown again with errors\n%+v\nwant\n%+v", again.Summary.Errors, first.Summary.Errors)
	}
}
