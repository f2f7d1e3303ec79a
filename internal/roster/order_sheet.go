package roster

import (
	"errors"
	"io"
	"strings"
)

// ReadOrderSheet reads the order-level settings from a workbook's Order
// sheet: the labels of OrderSheetLabels in column A (matched like header
// names, in any order), each value in column B. It reports false, with no
// error, for a CSV file or a workbook without an Order sheet. Notification
// Contacts and Report Email may list several values separated by commas,
// semicolons, spaces or line breaks.
func ReadOrderSheet(path string, opt ReadOptions) (OrderFields, bool, error) {
	var of OrderFields
	f, kind, err := openKind(path)
	if err != nil {
		return of, false, err
	}
	if kind != kindXLSX {
		f.Close()
		if kind == kindCSV {
			return of, false, nil
		}
		return of, false, kindError(path, kind)
	}
	wb, err := openWorkbook(f, path, opt)
	if err != nil {
		return of, false, err
	}
	defer wb.close()
	found := false
	for _, s := range wb.sheets {
		if strings.EqualFold(s.Name, TemplateOrderSheet) {
			found = true
		}
	}
	if !found {
		return of, false, nil
	}
	x, err := wb.reader(TemplateOrderSheet)
	if err != nil {
		return of, false, err
	}
	defer x.rc.Close()
	labels := make(map[string]int, len(OrderSheetLabels))
	for i, l := range OrderSheetLabels {
		labels[normalizeHeader(l)] = i
	}
	for {
		row, cells, err := x.next()
		if errors.Is(err, io.EOF) {
			return of, true, nil
		}
		if err != nil {
			return of, false, err
		}
		if len(cells) < 2 {
			continue
		}
		label := normalizeHeader(cells[0].Text)
		i, ok := labels[label]
		if !ok {
			// "Report Emails", "Notification Contact": tolerate the number.
			if i, ok = labels[strings.TrimSuffix(label, "s")]; !ok {
				i, ok = labels[label+"s"]
			}
		}
		if !ok {
			continue
		}
		if cells[1].Kind == KindFormula {
			return of, false, &FileError{Path: path, Sheet: x.sheet, Row: row, Column: "B",
				Msg:  OrderSheetLabels[i] + " has a formula that was never calculated: open and save the file in Excel",
				Hint: "the program that wrote the file stores formulas without their values; open the file in Excel or LibreOffice and save it, or type the value instead of a formula"}
		}
		v := cells[1].Text
		switch OrderSheetLabels[i] {
		case "Description":
			of.Description = v
		case "Customer Reference Prefix":
			of.ReferencePrefix = v
		case "Technical Contact":
			of.TechnicalContact = v
		case "Notification Contacts":
			of.NotificationContacts = splitList(v)
		case "Purchase Order":
			of.PurchaseOrder = v
		case "Report Email":
			of.ReportEmails = splitList(v)
		}
	}
}

// splitList splits a cell listing several values.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0'
	})
}
