package roster

import (
	"fmt"
	"strings"
)

// Source yields a roster's data rows one at a time, streaming.
type Source interface {
	// Header describes the header row and where each visitor column is.
	Header() *Header
	// Next fills rec with the next non-blank data row. It returns io.EOF
	// after the last row, or a *FileError.
	Next(rec *Record) error
	// Read is Next without the copy: the record it returns is valid until
	// the next call of Read or Next.
	Read() (*Record, error)
	// Close releases the file and any temporary files.
	Close() error
}

// Header is a roster's header row, mapped to visitor columns.
type Header struct {
	// Path is the roster file, Sheet its sheet name ("" for CSV).
	Path, Sheet string
	// Row is the header's row number as the spreadsheet shows it.
	Row int
	// Index holds each field's 0-based column index, or -1 when the roster
	// has no such column.
	Index [NumFields]int
	// Columns are the header cells as written, in file order.
	Columns []string
	// Ignored lists header cells that name no visitor column, in file order.
	Ignored []string
	// Date1904 tells that the workbook counts date serials from 1904-01-01
	// (Excel for Mac's old date system) rather than from 1900.
	Date1904 bool
}

// Has reports whether the roster has a column for f.
func (h *Header) Has(f Field) bool { return h.Index[f] >= 0 }

// Column returns the letters of f's column ("C"), or "" when absent.
func (h *Header) Column(f Field) string {
	if !h.Has(f) {
		return ""
	}
	return ColumnName(h.Index[f])
}

// FileError is a problem with a roster file as a whole, or with one place in
// it, that stops it from being read.
type FileError struct {
	Path   string
	Sheet  string // "" when not about one sheet
	Row    int    // 0 when not about one row
	Column string // column letters, "" when not about one column
	Msg    string
	Hint   string
	Err    error // the underlying error, if any
}

// Error returns one line naming the file, and the sheet, row and column where
// they apply.
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Sheet != "" {
		fmt.Fprintf(&b, ": sheet %q", e.Sheet)
	}
	if e.Row > 0 {
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// ReadOptions tunes how a roster is read. The zero value reads the default
// sheet with default limits.
type ReadOptions struct {
	// Sheet names the worksheet to read; "" means "Visitors" when the
	// workbook has it, else the first sheet.
	Sheet string
	// TmpDir is where temporary files may go ("" = os.TempDir()). Reading
	// needs none: worksheets are streamed straight from the .xlsx.
	TmpDir string
	// MaxUnzipSize bounds the total uncompressed size of an .xlsx
	// (0 = DefaultMaxUnzipSize).
	MaxUnzipSize int64
	// Tee, when set, is given the XML of the roster sheet Open reads, as
	// it reads it (Open only, and only the first time).
	Tee *SheetTee
}

// DefaultMaxUnzipSize bounds an .xlsx's uncompressed size: a full-size sheet
// (1,048,575 rows of 15 columns) is about 1 GB inflated.
const DefaultMaxUnzipSize = 4 << 30

// OrderFields are the order-level settings of a roster: the Order sheet of a
// workbook, or flags for a CSV.
type OrderFields struct {
	Description          string
	ReferencePrefix      string
	TechnicalContact     string   // a registered username
	NotificationContacts []string // registered usernames
	PurchaseOrder        string   // a purchase order number; "" = exempted
	ReportEmails         []string // who gets the report
}

// OrderSheetLabels are the labels in column A of the Order sheet, in order;
// each value is in column B of the same row.
var OrderSheetLabels = []string{
	"Description",
	"Customer Reference Prefix",
	"Technical Contact",
	"Notification Contacts",
	"Purchase Order",
	"Report Email",
}

// RowSet is a set of row numbers added in ascending order, kept as ranges.
type RowSet struct {
	ranges [][2]int
	n      int
}

// Add adds a row, not lower than the rows added before.
func (s *RowSet) Add(row int) {
	if k := len(s.ranges); k > 0 && s.ranges[k-1][1] >= row-1 {
		if row > s.ranges[k-1][1] {
			s.ranges[k-1][1] = row
			s.n++
		}
		return
	}
	s.ranges = append(s.ranges, [2]int{row, row})
	s.n++
}

// Len returns the number of rows.
func (s *RowSet) Len() int { return s.n }

// String writes the rows as ranges, "12–19, 23", the first ten ranges of
// them followed by "and N more rows".
func (s *RowSet) String() string {
	var b strings.Builder
	shown := 0
	for i, r := range s.ranges {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more rows", s.n-shown)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if r[1] > r[0] {
			fmt.Fprintf(&b, "%d–%d", r[0], r[1])
		} else {
			fmt.Fprintf(&b, "%d", r[0])
		}
		shown += r[1] - r[0] + 1
	}
	return b.String()
}

// HiddenRowsNote is the note for the data rows a workbook hides: they are
// read, checked and ordered like the others, which whoever hid them may not
// expect.
func HiddenRowsNote(rows *RowSet) string {
	if rows.Len() == 1 {
		return fmt.Sprintf("row %s is hidden in the workbook; it was checked and will be ordered like the others", rows)
	}
	return fmt.Sprintf("rows %s are hidden in the workbook; they were checked and will be ordered like the others", rows)
}
