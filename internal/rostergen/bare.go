package rostergen

import (
	"encoding/csv"
	"errors"
	"io"
	"os"

	"github.com/xuri/excelize/v2"
)

// The loops the roster benchmarks measure wvbatch against: reading every
// row of a roster with nothing done per row.

// BareXLSX is excelize's raw-value row loop over the Visitors sheet (the
// baseline of PERFORMANCE.md). It returns the rows after the header.
func BareXLSX(path string) (int, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows("Visitors")
	if err != nil {
		return 0, err
	}
	n, cells := 0, 0
	for rows.Next() {
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return 0, err
		}
		cells += len(cols)
		n++
	}
	return n - 1, rows.Close()
}

// BareCSV is encoding/csv with ReuseRecord. It returns the records after
// the header.
func BareCSV(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	n, cells := 0, 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n - 1, nil
		}
		if err != nil {
			return 0, err
		}
		cells += len(rec)
		n++
	}
}
