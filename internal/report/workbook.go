package report

import (
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// Row statuses of the report workbook's Status column.
const (
	StatusOrdered        = "ordered"
	StatusRejected       = "rejected"
	StatusInvalid        = "invalid"
	StatusAlreadyOrdered = "already ordered"
	StatusCancelled      = "cancelled"
	StatusPending        = "pending"
	// StatusValid marks a row a validation found nothing wrong with.
	StatusValid = "valid"
)

// The columns the report appends to the roster's sheet. A roster that
// already has them (a report uploaded again) gets them filled in place.
const (
	ColumnStatus   = "Status"
	ColumnOrder    = "Order"
	ColumnProblems = "Problems"
	ColumnHowToFix = "How to fix"
)

// MaxComments bounds how many cells of the roster sheet get a comment: the
// first MaxComments problem cells, in row order (Excel slows down with many
// thousands). Past the limit every problem cell is still highlighted and
// every problem is still in the Problems column; a comment on the Problems
// header says so.
const MaxComments = 2000

// Limits of a worksheet: the report keeps its four columns within Excel's
// 16,384, so a roster's own cells go up to column 16,380.
const (
	maxSheetRows    = 1048576
	maxSheetColumns = 16384
	maxSourceCols   = maxSheetColumns - 4
	maxCellChars    = 32767
)

// RowOutcome is what became of one roster row.
type RowOutcome struct {
	Row      int
	Status   string // one of the Status constants
	OrderIDs []string
	Problems []roster.RowError
}

// OrderLine is one order of a run, for the Summary sheet.
type OrderLine struct {
	OrderID, Reference, IBX string
	Cages                   []string
	Start, End              time.Time
	Zone                    string // IANA zone of the IBX; "" = UTC
	Visitors                int
	Status                  string
}

// WorkbookInput is what WriteWorkbook reports on. Outcome is not asked
// about blank rows.
type WorkbookInput struct {
	// Source is the roster's path (.xlsx, .xlsm or .csv).
	Source string
	// Name is the roster as the person who gave it named it, for the
	// Summary sheet, when Source is a copy kept elsewhere (default Source).
	Name string
	// Sheet is the roster's sheet; "" means "Visitors" when the workbook has
	// it, else the first sheet (as the roster reader picks it).
	Sheet string
	// HeaderRow is the header's row number as the spreadsheet shows it
	// (0 = 1).
	HeaderRow int
	// LastRow and LastColumn are the last row and 1-based column of the
	// roster sheet that hold a cell, when the caller knows them (an import
	// does); 0 makes the report read the sheet once more to find them.
	LastRow, LastColumn int
	// Outcome returns the outcome of a data row, false when there is none
	// (a blank row, or a row the run did not reach). It may be called more
	// than once for a row, and from another goroutine than WriteWorkbook's.
	Outcome func(row int) (RowOutcome, bool)
	// Orders are the run's orders; or, to spare a large run a copy of them,
	// OrderSeq yields NumOrders orders.
	Orders    []OrderLine
	OrderSeq  iter.Seq[OrderLine]
	NumOrders int
	// Counts are row counts by status (or any other label) for the Summary
	// sheet.
	Counts map[string]int
	// Title heads the Summary sheet.
	Title string
}

// orders yields the input's orders and says how many there are.
func (in *WorkbookInput) orders() (iter.Seq[OrderLine], int) {
	if in.OrderSeq != nil {
		return in.OrderSeq, in.NumOrders
	}
	return slices.Values(in.Orders), len(in.Orders)
}

// Report colours (aRGB): the light fills spreadsheets use for bad and good
// cells.
const (
	fillProblem = "FFFFC7CE"
	fillOK      = "FFC6EFCE"
	fillWait    = "FFFFEB9C"
	fillHeader  = "FFD9D9D9"
)

func statusFill(status string) string {
	switch status {
	case StatusOrdered, StatusAlreadyOrdered, StatusValid:
		return fillOK
	case StatusRejected, StatusInvalid:
		return fillProblem
	case StatusPending:
		return fillWait
	}
	return ""
}

// problemLine is one line of the Problems column: where, then what.
func problemLine(p roster.RowError) string {
	switch {
	case p.Column != "" && p.Field != "":
		return fmt.Sprintf("%s (%s): %s", p.Field, p.Column, p.Message)
	case p.Field != "":
		return p.Field + ": " + p.Message
	}
	return p.Message
}

// statusOrder lists the statuses in the order the Summary sheet shows them.
var statusOrder = []string{StatusValid, StatusOrdered, StatusAlreadyOrdered, StatusPending, StatusRejected, StatusInvalid, StatusCancelled}
