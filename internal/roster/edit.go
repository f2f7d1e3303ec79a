package roster

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// CellEdit is one corrected cell: its row as the spreadsheet shows it, its
// 0-based column index and the new text.
type CellEdit struct {
	Row  int    `json:"row"`
	Col  int    `json:"col"`
	Text string `json:"text"`
}

// RowCells returns the cells of the rows asked for, every column of the
// roster's sheet, as text a person reads: a date cell as
// "2027-01-11 08:00". Rows that hold no cells are missing from the map.
func RowCells(path string, opt ReadOptions, rows map[int]bool) (map[int][]string, error) {
	rr, err := openRows(path, opt)
	if err != nil {
		return nil, err
	}
	defer rr.close()
	out := make(map[int][]string, len(rows))
	for len(out) < len(rows) {
		row, cells, err := rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !rows[row] {
			continue
		}
		texts := make([]string, len(cells))
		for i, c := range cells {
			texts[i] = CellText(c)
		}
		out[row] = texts
	}
	return out, nil
}

// CellText is a cell's value as a person reads it: a date serial as
// "2027-01-11 08:00" (or just the date at midnight), anything else as is.
func CellText(c Cell) string {
	if c.Kind != KindDateSerial {
		return c.Text
	}
	w, err := ParseWall(c, DateOrderAuto)
	if err != nil {
		return c.Text
	}
	s := fmt.Sprintf("%04d-%02d-%02d", w.Year, w.Month, w.Day)
	if w.Hour != 0 || w.Minute != 0 || w.Second != 0 {
		s += fmt.Sprintf(" %02d:%02d", w.Hour, w.Minute)
	}
	return s
}

// openRows opens a roster's sheet (or CSV) for reading every row, all
// columns.
func openRows(path string, opt ReadOptions) (rowReader, error) {
	f, kind, err := openKind(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindXLSX:
		return openXLSX(f, path, opt)
	case kindCSV:
		return openCSV(f, path)
	}
	f.Close()
	return nil, kindError(path, kind)
}

// WriteEdited writes to dst a copy of the roster at src with the edits
// applied. A workbook keeps every sheet (the Order sheet too), its columns,
// styles and order; the edited cells hold the new text. A CSV is written
// as UTF-8 with the separator it had, every row on the row number it had
// (blank lines kept), its text trimmed as the roster reader reads it.
func WriteEdited(dst, src string, opt ReadOptions, edits []CellEdit) error {
	f, kind, err := openKind(src)
	if err != nil {
		return err
	}
	switch kind {
	case kindXLSX:
		f.Close()
		return writeEditedXLSX(dst, src, opt, edits)
	case kindCSV:
		return writeEditedCSV(dst, f, src, edits)
	}
	f.Close()
	return kindError(src, kind)
}

func writeEditedXLSX(dst, src string, opt ReadOptions, edits []CellEdit) error {
	// The roster reader checks the workbook first: its zip directory, the
	// sheet and its size, before excelize holds it in memory.
	x, err := openRows(src, opt)
	if err != nil {
		return err
	}
	sheet := x.(*xlsxReader).sheet
	x.close()
	limit := opt.MaxUnzipSize
	if limit <= 0 {
		limit = DefaultMaxUnzipSize
	}
	wb, err := excelize.OpenFile(src, excelize.Options{UnzipSizeLimit: limit, UnzipXMLSizeLimit: min(limit, 1<<30)})
	if err != nil {
		return &FileError{Path: src, Msg: "cannot open the workbook to correct it: " + err.Error(), Hint: hintDamagedXLSX, Err: err}
	}
	defer wb.Close()
	for _, e := range edits {
		cell := ColumnName(e.Col) + strconv.Itoa(e.Row)
		if err := wb.SetCellStr(sheet, cell, e.Text); err != nil {
			return fmt.Errorf("%s: cell %s: %w", src, cell, err)
		}
	}
	return writeFileAtomic(dst, func(w io.Writer) error { return wb.Write(w) })
}

func writeEditedCSV(dst string, f *os.File, src string, edits []CellEdit) error {
	c, err := openCSV(f, src)
	if err != nil {
		return err
	}
	defer c.close()
	byRow := map[int][]CellEdit{}
	for _, e := range edits {
		byRow[e.Row] = append(byRow[e.Row], e)
	}
	return writeFileAtomic(dst, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		cw := csv.NewWriter(bw)
		cw.Comma = rune(c.cr.comma)
		shown := 1 // the row the next line written is shown on
		for {
			row, cells, err := c.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			rec := make([]string, len(cells))
			for i, cell := range cells {
				rec[i] = cell.Text
			}
			for _, e := range byRow[row] {
				for len(rec) <= e.Col {
					rec = append(rec, "")
				}
				rec[e.Col] = e.Text
			}
			cw.Flush()
			for ; shown < row; shown++ {
				bw.WriteString("\n")
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
			shown++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// writeFileAtomic writes path through a temporary file in its folder, so a
// reader never sees half a file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".edit-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
