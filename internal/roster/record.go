package roster

import "strconv"

// Field identifies one visitor column of a roster.
type Field int

// The visitor columns, in the order the template lays them out.
const (
	FieldIBX Field = iota
	FieldCage
	FieldCabinet
	FieldAccount
	FieldStart
	FieldEnd
	FieldTimeZone
	FieldFirstName
	FieldLastName
	FieldCompany
	FieldUsername
	FieldEmail
	FieldMobileCountryCode
	FieldMobilePhone
	FieldOpenCabinet

	// NumFields is the number of visitor columns.
	NumFields
)

var fieldNames = [NumFields]string{
	FieldIBX:               "IBX",
	FieldCage:              "Cage",
	FieldCabinet:           "Cabinet",
	FieldAccount:           "Account Number",
	FieldStart:             "Visit Start",
	FieldEnd:               "Visit End",
	FieldTimeZone:          "Time Zone",
	FieldFirstName:         "First Name",
	FieldLastName:          "Last Name",
	FieldCompany:           "Company",
	FieldUsername:          "Username",
	FieldEmail:             "Email",
	FieldMobileCountryCode: "Mobile Country Code",
	FieldMobilePhone:       "Mobile Phone",
	FieldOpenCabinet:       "Open Cabinet",
}

// String returns the column's name as the template writes it.
func (f Field) String() string {
	if f < 0 || f >= NumFields {
		return "Field(" + strconv.Itoa(int(f)) + ")"
	}
	return fieldNames[f]
}

// CellKind tells how a cell's text is to be read.
type CellKind uint8

const (
	// KindText is text as the user typed it (or a number's raw text).
	KindText CellKind = iota
	// KindDateSerial is an Excel date serial (e.g. "46123.375") read from a
	// date- or time-formatted cell; it is a local wall-clock time with no zone.
	KindDateSerial
	// KindNumber is a number cell that is not a date, as Excel shows it in a
	// General cell ("101" for 101.0) or with its zero-padded format ("0101"
	// for 101 shown as 0000). Leading zeros typed into a General cell are
	// lost: the cell holds 101 for 0101.
	KindNumber
	// KindFormula is a formula cell with no saved value: the file was
	// written by a program that does not calculate (openpyxl). Text is the
	// formula, with its =.
	KindFormula
)

// Cell is one cell's raw value.
type Cell struct {
	Text string
	Kind CellKind
}

// Record is one non-blank data row of a roster, its cells arranged by Field.
// Cells of columns the roster does not have are empty.
type Record struct {
	// Row is the row number as the spreadsheet shows it (the header is row 1
	// when it is the first row). For CSV it counts every line of the file,
	// blank ones included, but not the line breaks inside quoted fields: the
	// row a spreadsheet app shows when it opens the file.
	Row   int
	Cells [NumFields]Cell
	// Hidden tells that the workbook hides the row (by hand or by a filter).
	Hidden bool
}

// Value returns the trimmed text of a field's cell.
func (r *Record) Value(f Field) string { return r.Cells[f].Text }

// ColumnName returns a spreadsheet column's letters for a 0-based index
// (0 → "A", 26 → "AA").
func ColumnName(index int) string {
	if index < 0 {
		return "?"
	}
	return string(appendColumnName(nil, index))
}
