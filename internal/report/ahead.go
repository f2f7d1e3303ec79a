package report

import (
	"cmp"
	"errors"
	"os"
	"sync"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// Ahead writes a validation's report workbook while the import reads the
// roster, so that the roster sheet is inflated and scanned once instead of
// twice. The sheet's copy reads the XML the import's reader reads (a
// roster.SheetTee) and writes each row once the import has checked it; the
// rest of the workbook is written when the import is done (Finish).
//
// What the import only knows at its end is taken ahead of it and checked
// by Finish: the sheet's extent is its <dimension>, the header is the one
// the import found first, and no row's errors may change once its copy is
// written (they do when the rows are read again, see
// roster.DateOrderAuto). When any of that does not hold, or the copy fell
// behind (see roster.SheetTee), Finish says so and the workbook is written
// the usual way: the report is the same bytes either way.
//
// An Ahead is for a validation: the outcome of a row is its errors, as in
// ValidationWorkbook. A nil *Ahead does nothing.
type Ahead struct {
	tee  *roster.SheetTee
	tmp  *os.File
	done chan struct{} // closed when the sheet is written or given up

	mu       sync.Mutex
	cond     sync.Cond
	header   int  // the header's row, once the import found it
	ended    bool // the import ended: every row's errors are in
	last     int  // the last row checked
	spoiled  bool // rows were checked again, or out of order
	problems map[int][]roster.RowError
	invalid  []uint64 // a bit per row in problems: most rows have none
	count    int      // errors in problems

	// Set by the sheet's goroutine before done is closed.
	rep     *reportWriter
	z       *zipOut
	base    *basePkg
	err     error
	settled bool // Finish or Discard ran
}

// errNoDimension stops a sheet's copy ahead when the sheet does not say
// its extent.
var errNoDimension = errors.New("the sheet gives no <dimension>")

// errAheadStopped stops a sheet's copy ahead when the import ended
// before finding the header.
var errAheadStopped = errors.New("the import stopped")

// StartAhead starts writing the report workbook of the roster the import
// reads with tee (roster.ReadOptions.Tee), to a temporary file in dir,
// which should be on the report folder's file system. The import must be
// followed by the Ahead (importer.Options.Follow), and End called when it
// returns.
func StartAhead(dir string, tee *roster.SheetTee) (*Ahead, error) {
	tmp, err := os.CreateTemp(dir, ".wvbatch-report-*.xlsx")
	if err != nil {
		return nil, err
	}
	a := &Ahead{tee: tee, tmp: tmp, done: make(chan struct{}), problems: map[int][]roster.RowError{}}
	a.cond.L = &a.mu
	go a.run()
	return a, nil
}

// Header is told the header's row (importer.Follower).
func (a *Ahead) Header(row int) {
	a.mu.Lock()
	if a.header == 0 {
		a.header = cmp.Or(row, 1)
	}
	a.cond.Broadcast()
	a.mu.Unlock()
}

// Checked is told a row's errors (importer.Follower).
func (a *Ahead) Checked(row int, errs []roster.RowError) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.spoiled {
		return
	}
	if row <= a.last || a.ended {
		// The rows are read again: what was copied may be stale.
		a.spoiled, a.ended = true, true
		a.cond.Broadcast()
		a.tee.Drop()
		return
	}
	if len(errs) > 0 {
		for len(a.invalid) <= row/64 {
			a.invalid = append(a.invalid, 0)
		}
		a.invalid[row/64] |= 1 << (row % 64)
		a.problems[row] = append([]roster.RowError(nil), errs...)
		a.count += len(errs)
	}
	a.last = row
	a.cond.Broadcast()
}

// End says the import returned: rows it did not check have no errors.
func (a *Ahead) End() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.ended = true
	a.cond.Broadcast()
	a.mu.Unlock()
}

// outcome is a row's outcome once the import checked it, or went past it.
func (a *Ahead) outcome(row int) (RowOutcome, bool) {
	a.mu.Lock()
	if !a.ended && a.last < row {
		// The tee must not wait for this reader while it waits.
		a.tee.Stalled(true)
		for !a.ended && a.last < row {
			a.cond.Wait()
		}
		a.tee.Stalled(false)
	}
	var p []roster.RowError
	if row/64 < len(a.invalid) && a.invalid[row/64]&(1<<(row%64)) != 0 {
		p = a.problems[row]
	}
	a.mu.Unlock()
	return validationOutcome(row, p), true
}

func (a *Ahead) awaitHeader() (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.header == 0 && !a.ended {
		a.cond.Wait()
	}
	return a.header, a.header != 0 && !a.spoiled
}

// run writes the workbook up to and with the roster sheet.
func (a *Ahead) run() {
	defer close(a.done)
	hr, ok := a.awaitHeader()
	if !ok {
		a.err = errAheadStopped
		a.tee.Drop()
		return
	}
	s, err := roster.OpenRawSheetTee(a.tee)
	if err != nil {
		a.err = err
		a.tee.Drop()
		return
	}
	path, _, _ := a.tee.Sheet()
	rep := &reportWriter{in: WorkbookInput{Source: path, Sheet: s.Name(), HeaderRow: hr, Outcome: a.outcome},
		copyRows: true, fromDimension: true}
	rep.src, rep.raw, rep.sheetName = xlsxRows{s}, s, s.Name()
	rep.pkg, rep.wbPart, rep.sheetPart = s.Package()
	defer func() { rep.src.close() }()
	z := newZipOut(a.tmp)
	base, err := rep.writeHead(z)
	if err == nil {
		err = z.streamPart(rep.sheetPart, rep.writeSheet)
	}
	if err != nil {
		a.err = err
		a.tee.Drop()
		return
	}
	a.rep, a.z, a.base = rep, z, base
}

// Finish completes the workbook for in (a validation's, errs its row
// errors) as path, when what was taken ahead holds; false when it does not,
// or the workbook could not be written so: then nothing was written to
// path and WriteWorkbook is to write it.
func (a *Ahead) Finish(in WorkbookInput, errs []roster.RowError, path string) bool {
	if a == nil {
		return false
	}
	a.End()
	<-a.done
	if a.settled || a.err != nil || !a.holds(in, errs) {
		return false
	}
	a.settled = true
	defer os.Remove(a.tmp.Name())
	rep := a.rep
	in.HeaderRow = rep.in.HeaderRow
	in.Outcome = rep.in.Outcome
	rep.in = in
	err := rep.writeTail(a.z, a.base)
	if cerr := a.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(a.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(a.tmp.Name(), path)
	}
	return err == nil
}

// holds reports whether the sheet was copied as WriteWorkbook would copy it
// for in: same roster, sheet, header and extent, and the same errors.
func (a *Ahead) holds(in WorkbookInput, errs []roster.RowError) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	rep := a.rep
	if a.spoiled || in.Source != rep.in.Source || in.Sheet != rep.sheetName || cmp.Or(in.HeaderRow, 1) != rep.in.HeaderRow ||
		in.LastRow != rep.lastRow || in.LastColumn != rep.lastCol || len(errs) != a.count {
		return false
	}
	seen := map[int]int{}
	for _, e := range errs {
		p := a.problems[e.Row]
		i := seen[e.Row]
		if i >= len(p) || p[i] != e {
			return false
		}
		seen[e.Row] = i + 1
	}
	return true
}

// Discard gives up the workbook written ahead, if Finish did not take it.
func (a *Ahead) Discard() {
	if a == nil {
		return
	}
	a.tee.Drop()
	a.End()
	<-a.done
	if a.settled {
		return
	}
	a.settled = true
	a.tmp.Close()
	os.Remove(a.tmp.Name())
}
