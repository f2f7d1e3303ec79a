package roster

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits that keep memory bounded whatever a file holds: each is checked
// as the reader reaches it, so a hostile file fails fast and small.
const (
	// maxRecordBytes bounds one CSV record (one line, or the lines of one
	// quoted record): a roster row is a few hundred bytes.
	maxRecordBytes = 1 << 20
	// maxCellChars is Excel's limit on the characters of one cell.
	maxCellChars = 32767
	// sstPerSheetByte bounds the shared strings against the worksheets
	// that may use them: a cell that uses one takes more than 16 bytes of
	// sheet XML (<c r="A1" t="s"><v>0</v></c>).
	sstPerSheetByte = 16
	// minSharedStrings and minSharedText are what any workbook may hold,
	// however small its sheets.
	minSharedStrings = 1 << 16
	minSharedText    = 16 << 20
	// sstTextPerSheetByte bounds the shared strings' decoded text against
	// the worksheets' XML.
	sstTextPerSheetByte = 64
)

// errRecordTooLong is the cause of a *csv.ParseError for a CSV record
// longer than maxRecordBytes.
var errRecordTooLong = errors.New("record too long")

// recordTooLong tells whether a CSV record of n bytes so far is past the
// limit.
func recordTooLong(n int) bool { return n > maxRecordBytes }

// cellTooLong tells whether a cell's text is longer than Excel's limit.
func cellTooLong(s []byte) bool {
	return len(s) > maxCellChars && utf8.RuneCount(s) > maxCellChars
}

// sharedStringsLimits returns how many shared strings, and how many bytes
// of their text, a workbook whose worksheets unpack to sheetBytes may
// hold.
func sharedStringsLimits(sheetBytes uint64) (count, text int) {
	count = int(min(sheetBytes/sstPerSheetByte, 1<<30))
	text = int(min(sheetBytes*sstTextPerSheetByte, 1<<30))
	return max(count, minSharedStrings), max(text, minSharedText)
}

// worksheetBytes is what the workbook's worksheets unpack to.
func (w *workbook) worksheetBytes() uint64 {
	var n uint64
	for name, zf := range w.parts {
		if strings.Contains(name, "/worksheets/") && strings.HasSuffix(name, ".xml") {
			n += zf.UncompressedSize64
		}
	}
	return n
}

// sharedStringsError is the error for a shared-strings table past its
// limits.
func (w *workbook) sharedStringsError(what string) *FileError {
	return w.errorf("open the workbook in Excel or LibreOffice and save it again, or export the sheet as .csv (File > Save As > CSV UTF-8)",
		"the workbook's text table (shared strings) holds %s, far more than its sheets can use: it was not written by a spreadsheet app", what)
}

// checkCells refuses a CSV record with a field longer than Excel's limit
// on a cell.
func (c *csvReader) checkCells(fields []string, row int) error {
	for i, f := range fields {
		if len(f) > maxCellChars && utf8.RuneCountInString(f) > maxCellChars {
			return &FileError{Path: c.path, Row: row,
				Msg:  fmt.Sprintf("column %d holds %d characters, more than Excel's %d per cell", i+1, utf8.RuneCountInString(f), maxCellChars),
				Hint: "keep each cell under 32,767 characters, and check that every quoted field is closed with \""}
		}
	}
	return nil
}
