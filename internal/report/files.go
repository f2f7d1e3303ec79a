package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Files are the report files of one run or validation, in one folder.
type Files struct {
	Dir string
	// Workbook is the annotated copy of the roster; "" when it could not be
	// made (WorkbookSkipped says why).
	Workbook        string
	WorkbookSkipped string
	// WrittenAhead: the workbook is the one written while the roster was
	// imported (FilesInput.Ahead).
	WrittenAhead bool
	ErrorsCSV    string
	Summary      string
	// Problems are the files that could not be written, one line each.
	// They never fail the command that writes the report: its outcome is
	// the rows', and the report can be written again (wvbatch report RUN).
	Problems []string
}

// Paths lists the files that were written.
func (f Files) Paths() []string {
	var out []string
	for _, p := range []string{f.Workbook, f.ErrorsCSV, f.Summary} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FilesInput is what WriteFiles writes.
type FilesInput struct {
	// Dir is the report folder; it is created when missing.
	Dir string
	// Name is the roster's path or name, which names the files (default
	// Workbook.Source).
	Name string
	// Workbook is the annotated workbook's input; its Source names the
	// roster (its Name defaults to Name). A Source of "" skips the
	// workbook, and SkipReason says why.
	Workbook   WorkbookInput
	SkipReason string
	// Errors are every row problem, for the errors CSV.
	Errors []roster.RowError
	// Summary is the JSON document of summary.json.
	Summary any
	// Ahead, when set, is the workbook as written while the roster was
	// imported: WriteFiles takes it when it is what WriteWorkbook would
	// write, else writes the workbook again. It is disposed of either way.
	Ahead *Ahead
}

// BaseName is the roster's file name without its extension: the stem of
// the report files' names, e.g. "contractors" for contractors.xlsx.
func BaseName(roster string) string {
	b := filepath.Base(roster)
	if b == "." || b == string(filepath.Separator) || b == "" {
		return "roster"
	}
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// WriteFiles writes a report folder: <roster>-report.xlsx (the annotated
// roster), <roster>-errors.csv and summary.json. Each file is written to a
// temporary name and renamed, so a reader never sees half a file. A file
// that cannot be written is listed in Problems and the others are still
// written; a roster that cannot be copied (it moved, or changed since the
// run) skips the workbook, which WorkbookSkipped explains.
func WriteFiles(in FilesInput) Files {
	defer in.Ahead.Discard()
	out := Files{Dir: in.Dir}
	if err := os.MkdirAll(in.Dir, 0o755); err != nil {
		out.Problems = append(out.Problems, fmt.Sprintf("the report folder %s: %v", in.Dir, err))
		out.WorkbookSkipped = "the report folder cannot be made"
		return out
	}
	name := in.Name
	if name == "" {
		name = in.Workbook.Source
	}
	stem := BaseName(name)
	if in.Workbook.Name == "" {
		in.Workbook.Name = in.Name
	}

	if in.Workbook.Source == "" {
		out.WorkbookSkipped = in.SkipReason
	} else if p := filepath.Join(in.Dir, stem+"-report.xlsx"); in.Ahead.Finish(in.Workbook, in.Errors, p) {
		out.Workbook, out.WrittenAhead = p, true
	} else {
		err := writeAtomic(p, func(w io.Writer) error { return WriteWorkbook(w, in.Workbook) })
		switch {
		case err == nil:
			out.Workbook = p
		case errors.Is(err, os.ErrNotExist):
			out.WorkbookSkipped = fmt.Sprintf("the roster %s is no longer there", in.Workbook.Source)
		default:
			out.WorkbookSkipped = err.Error()
			out.Problems = append(out.Problems, err.Error())
		}
	}

	p := filepath.Join(in.Dir, stem+"-errors.csv")
	if err := writeAtomic(p, func(w io.Writer) error {
		ec, err := NewErrorsCSV(w)
		if err != nil {
			return err
		}
		for _, re := range in.Errors {
			if err := ec.Write(re); err != nil {
				return err
			}
		}
		return ec.Close()
	}); err != nil {
		out.Problems = append(out.Problems, err.Error())
	} else {
		out.ErrorsCSV = p
	}

	p = filepath.Join(in.Dir, "summary.json")
	if err := writeAtomic(p, func(w io.Writer) error { return writeIndentedJSON(w, in.Summary) }); err != nil {
		out.Problems = append(out.Problems, err.Error())
	} else {
		out.Summary = p
	}
	return out
}

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("report %s: %w", filepath.Base(path), err)
	}
	return nil
}

// RowStatus is the report's word for a stored row outcome.
func RowStatus(s runstore.RowStatus) string {
	switch s {
	case runstore.RowOrdered:
		return StatusOrdered
	case runstore.RowRejected:
		return StatusRejected
	case runstore.RowInvalid:
		return StatusInvalid
	case runstore.RowAlreadyOrdered:
		return StatusAlreadyOrdered
	case runstore.RowCancelled:
		return StatusCancelled
	}
	return StatusPending
}

// RunWorkbook is the annotated workbook's input for a run: every stored row
// outcome with the problems the summary found for it.
func RunWorkbook(s *RunSummary, rows []runstore.RowOutcome, source, sheet string, headerRow int) WorkbookInput {
	problems := errorsByRow(s.Errors)
	outcomes := make(map[int]RowOutcome, len(rows))
	counts := map[string]int{}
	for _, r := range rows {
		st := RowStatus(r.Status)
		counts[st]++
		outcomes[r.Row] = RowOutcome{Row: r.Row, Status: st, OrderIDs: r.OrderIDs, Problems: problems[r.Row]}
	}
	in := WorkbookInput{
		Source: source, Sheet: sheet, HeaderRow: headerRow, Counts: counts,
		Title: fmt.Sprintf("Run %s at %s: %d of %d rows ordered", s.RunID, s.Where(), s.RowsOK, s.RowsTotal),
		Outcome: func(row int) (RowOutcome, bool) {
			o, ok := outcomes[row]
			return o, ok
		},
	}
	in.NumOrders = len(s.OrderList)
	in.OrderSeq = func(yield func(OrderLine) bool) {
		for _, o := range s.OrderList {
			zone, _ := roster.MetroZone(o.IBX)
			if !yield(OrderLine{
				OrderID: o.OrderID, Reference: o.CustomerReference, IBX: o.IBX, Cages: orderPlace(o),
				Start: o.Start, End: o.End, Zone: zone, Visitors: o.Visitors, Status: o.State,
			}) {
				return
			}
		}
	}
	return in
}

// orderPlace is the cages of an order, or its cabinet when it names one.
func orderPlace(o RunOrder) []string {
	if o.Cabinet != "" {
		return []string{o.Cabinet}
	}
	return o.Cages
}

// ValidationWorkbook is the annotated workbook's input for a validation:
// rows with problems are invalid, the other rows valid. It needs the
// import's full list of row errors (importer.Options.OnError unset).
func ValidationWorkbook(r *importer.Result) WorkbookInput {
	// The errors by row are made when first asked for: a workbook
	// written ahead (see Ahead) has its own.
	problems := sync.OnceValue(func() map[int][]roster.RowError { return errorsByRow(r.Errors) })
	in := WorkbookInput{
		Source: r.File, Sheet: r.Sheet, LastRow: r.LastRow, LastColumn: r.LastColumn, Counts: map[string]int{StatusValid: r.ValidRows, StatusInvalid: r.InvalidRows},
		Title:   fmt.Sprintf("Check of %s: %d of %d rows valid", filepath.Base(r.File), r.ValidRows, r.Rows),
		Outcome: func(row int) (RowOutcome, bool) { return validationOutcome(row, problems()[row]), true },
	}
	if r.Header != nil {
		in.HeaderRow = r.Header.Row
	}
	in.NumOrders = len(r.Orders)
	in.OrderSeq = func(yield func(OrderLine) bool) {
		for _, o := range r.Orders {
			if !yield(OrderLine{
				Reference: o.Reference, IBX: o.IBX, Cages: plannedPlace(o.Cage, o.Cabinet),
				Start: o.Start, End: o.End, Zone: o.Zone, Visitors: o.Count, Status: "planned",
			}) {
				return
			}
		}
	}
	return in
}

// errorsByRow groups row errors by their row, in the order given.
func errorsByRow(errs []roster.RowError) map[int][]roster.RowError {
	m := map[int][]roster.RowError{}
	for _, e := range errs {
		m[e.Row] = append(m[e.Row], e)
	}
	return m
}

// validationOutcome is a checked row's outcome: invalid with its problems,
// or valid.
func validationOutcome(row int, problems []roster.RowError) RowOutcome {
	if len(problems) > 0 {
		return RowOutcome{Row: row, Status: StatusInvalid, Problems: problems}
	}
	return RowOutcome{Row: row, Status: StatusValid}
}

func plannedPlace(cage, cabinet string) []string {
	if cabinet != "" {
		return []string{cabinet}
	}
	return []string{cage}
}
