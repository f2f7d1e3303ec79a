package rostergen

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// csvDateLayout is how a CSV roster writes Visit Start and Visit End.
const csvDateLayout = "2006-01-02 15:04"

// writeCSV writes a header of the layout's columns and n rows from next.
func writeCSV(w io.Writer, layout []roster.Field, n int, next func(*row), dateLayout string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	rec := make([]string, len(layout))
	for i, f := range layout {
		rec[i] = f.String()
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("write csv roster: %w", err)
	}
	var r row
	for range n {
		next(&r)
		for i, f := range layout {
			rec[i] = r.text[f]
			if rec[i] == "" {
				switch f {
				case roster.FieldStart:
					rec[i] = r.start.Format(dateLayout)
				case roster.FieldEnd:
					rec[i] = r.end.Format(dateLayout)
				}
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv roster: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv roster: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv roster: %w", err)
	}
	return nil
}

// writeXLSX writes the roster template with n rows from next on its Visitors
// sheet and order's settings on its Order sheet. The Visitors sheet is
// streamed: memory stays bounded however many rows there are, and the
// workbook is zipped straight to w.
func writeXLSX(w io.Writer, layout []roster.Field, n int, next func(*row), order roster.OrderFields) error {
	f, err := roster.NewTemplate(layout...)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fillXLSX(f, layout, n, next, order); err != nil {
		return fmt.Errorf("write xlsx roster: %w", err)
	}
	zw := zip.NewWriter(w)
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	// The zip goes to w as it is made; excelize's own buffer stays empty.
	if err := f.Write(io.Discard); err != nil {
		return fmt.Errorf("write xlsx roster: %w", err)
	}
	return nil
}

func fillXLSX(f *excelize.File, layout []roster.Field, n int, next func(*row), order roster.OrderFields) error {
	const sheet = roster.TemplateVisitorsSheet
	headerStyle, err := f.GetCellStyle(sheet, "A1")
	if err != nil {
		return err
	}
	dateStyle := 0
	if i := slices.Index(layout, roster.FieldStart); i >= 0 {
		if dateStyle, err = f.GetCellStyle(sheet, roster.ColumnName(i)+"2"); err != nil {
			return err
		}
	}

	// The dimension must be set before the stream writer starts: it writes
	// the sheet's head first.
	last := roster.ColumnName(len(layout) - 1)
	if err := f.SetSheetDimension(sheet, "A1:"+last+strconv.Itoa(n+1)); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	cells := make([]any, len(layout))
	for i, fld := range layout {
		cells[i] = excelize.Cell{StyleID: headerStyle, Value: fld.String()}
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	var r row
	for i := range n {
		next(&r)
		for j, fld := range layout {
			switch v := r.text[fld]; {
			case v != "":
				cells[j] = v
			case fld == roster.FieldStart:
				cells[j] = excelize.Cell{StyleID: dateStyle, Value: r.start}
			case fld == roster.FieldEnd:
				cells[j] = excelize.Cell{StyleID: dateStyle, Value: r.end}
			default:
				cells[j] = nil
			}
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}

	values := []string{
		order.Description,
		order.ReferencePrefix,
		order.TechnicalContact,
		strings.Join(order.NotificationContacts, ", "),
		order.PurchaseOrder,
		strings.Join(order.ReportEmails, ", "),
	}
	for i, label := range roster.OrderSheetLabels {
		cell := "B" + strconv.Itoa(i+2)
		if got, _ := f.GetCellValue(roster.TemplateOrderSheet, "A"+strconv.Itoa(i+2)); got != label {
			return fmt.Errorf("template sheet %s: %s is %q, want %q", roster.TemplateOrderSheet, cell, got, label)
		}
		if i < len(values) && values[i] != "" {
			if err := f.SetCellStr(roster.TemplateOrderSheet, cell, values[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
