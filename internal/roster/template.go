package roster

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the roster template.
const (
	TemplateVisitorsSheet = "Visitors"
	TemplateOrderSheet    = "Order"
	TemplateHelpSheet     = "Help"
)

// TemplateRows is the last row of the Visitors sheet that the template
// prepares: date formats on Visit Start and Visit End, the Text format on
// the code columns, the Y/N list on Open Cabinet. Rows below it can still be used; they are just not pre-formatted.
const TemplateRows = 1000

// TemplateDateFormat is the number format of the template's date cells.
const TemplateDateFormat = "yyyy-mm-dd hh:mm"

// TemplateTextFormat is the built-in number format (Text, "@") of the
// template's code columns: Cabinet, Account Number, Mobile Country Code and
// Mobile Phone keep what is typed, leading zeros and + included.
const TemplateTextFormat = 49

// templateColumns describes each visitor column of the template: its width in
// characters and the comment on its header cell.
var templateColumns = [NumFields]struct {
	width float64
	note  string
}{
	FieldIBX: {8, "IBX code, e.g. AM1. May be left empty when Cage is given: " +
		"the cage id starts with its IBX."},
	FieldCage: {18, "Required. The cage the visitors go to, as IBX:floor:cage, " +
		"e.g. AM1:01:000111. The Equinix portal lists your cages."},
	FieldCabinet: {22, "Optional. The cabinet, e.g. AM1:01:000111:0101, or just its number 0101. " +
		"Leave empty for the whole cage."},
	FieldAccount: {16, "Optional. The Equinix account number of the cage, digits only, e.g. 100001. " +
		"Empty means the cage's own account."},
	FieldStart: {18, "Required. When the visit starts, in the IBX's local time, e.g. 2027-01-11 08:00. " +
		"Fill Time Zone, or add an offset (2027-01-11T08:00+01:00), to give the time in another zone."},
	FieldEnd: {18, "Required. When the visit ends, in the IBX's local time, e.g. 2027-01-12 18:00. " +
		"A date without a time means the end of that day. Visits longer than 14 days are split automatically."},
	FieldTimeZone: {20, "Optional. The time zone Visit Start and Visit End are written in, e.g. Europe/Amsterdam. " +
		"Empty means the IBX's own time zone."},
	FieldFirstName: {16, "The visitor's first name exactly as on their photo ID. " +
		"Leave the name columns empty when Username is filled in."},
	FieldLastName: {18, "The visitor's last name exactly as on their photo ID."},
	FieldCompany: {26, "The company the visitor works for, e.g. Voltwerk Installaties B.V. " +
		"Required with First Name and Last Name."},
	FieldUsername: {18, "Instead of First Name, Last Name and Company: the Equinix portal username " +
		"of a registered visitor, e.g. jane.visitor."},
	FieldEmail: {32, "Optional. The visitor's email address, e.g. jan.jansen@voltwerk.example " +
		"(at most 100 characters)."},
	FieldMobileCountryCode: {20, "Needed when Mobile Phone is filled in: + and the country calling code, " +
		"e.g. +31, +1 or +44."},
	FieldMobilePhone: {16, "Optional. The visitor's mobile number without the country code, e.g. 612 345 678. " +
		"Digits, spaces, dots, dashes and brackets only."},
	FieldOpenCabinet: {14, "Y if Equinix should open the cabinet for the visitors, N (or empty) if not. " +
		"Rows with different answers go into separate orders."},
}

// templateOrderNotes explains each row of the Order sheet, in the order of
// OrderSheetLabels.
var templateOrderNotes = []string{
	"What the visitors come to do, 10 to 4000 characters, e.g. Quarterly UPS maintenance. Every order of this roster gets it.",
	"Optional. Starts the customer reference of each order, e.g. UPS-Q1, so you can find the orders in the Equinix portal.",
	"An ACTIVE Equinix username, e.g. facilities.lead: the person Equinix contacts about the visits. Empty means you.",
	"Optional. Equinix usernames that receive the order emails, e.g. noc.amsterdam. Separate several with commas.",
	"Your purchase order number, if your account needs one. Empty means the orders are exempted.",
	"Who gets the report once the orders are placed, e.g. facilities@acme.example. Separate several with commas.",
}

// templateHelp is the text of the Help sheet, one paragraph a row.
var templateHelp = []string{
	"How to fill in this roster",
	"",
	"Put one visitor on each row of the Visitors sheet, starting in row 2. Do not change or move the header row.",
	"For each visitor, give either First Name + Last Name + Company, or the Username of a registered Equinix user.",
	"Write names exactly as they appear on the visitor's photo ID: Equinix security checks the ID against the order.",
	"Every visitor must be 18 or older and bring a government-issued photo ID.",
	"Cage is required (e.g. AM1:01:000111). IBX may be left empty; Cabinet only when the visitors need a specific cabinet.",
	"Visit Start and Visit End are the IBX's local time (Amsterdam time for AM1, for example), unless the row has a " +
		"Time Zone or the time carries an offset such as +01:00.",
	"Type dates as 2027-01-11 08:00 (year-month-day, 24-hour clock); the date columns are already formatted for that.",
	"Equinix accepts at most 50 visitors and at most 14 days per work visit. Larger groups and longer visits are split " +
		"into several orders automatically; you do not need to do that yourself.",
	"Visitors with the same cage, times and Open Cabinet answer go into the same order.",
	"Fill in the Order sheet once for the whole roster: description, technical contact and who gets the report.",
	"Then check the roster with: wvbatch validate roster.xlsx. It lists every problem by row and column before anything is ordered.",
	"",
	"Example row:",
}

// templateExample is the example visitor on the Help sheet.
var templateExample = [NumFields]any{
	FieldIBX:               "AM1",
	FieldCage:              "AM1:01:000111",
	FieldCabinet:           "AM1:01:000111:0101",
	FieldAccount:           "100001",
	FieldStart:             time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC),
	FieldEnd:               time.Date(2027, 1, 12, 18, 0, 0, 0, time.UTC),
	FieldTimeZone:          "",
	FieldFirstName:         "Jan",
	FieldLastName:          "de Vries",
	FieldCompany:           "Voltwerk Installaties B.V.",
	FieldUsername:          "",
	FieldEmail:             "jan.devries@voltwerk.example",
	FieldMobileCountryCode: "+31",
	FieldMobilePhone:       "612 345 678",
	FieldOpenCabinet:       "N",
}

// WriteTemplate writes the empty roster workbook a user fills in: a Visitors
// sheet with the visitor columns, an Order sheet for the order-level settings
// and a Help sheet.
func WriteTemplate(w io.Writer) error {
	f, err := NewTemplate()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write roster template: %w", err)
	}
	return nil
}

// NewTemplate returns the roster template as an open workbook, for a caller
// that fills it in before writing it. fields chooses the columns of the
// Visitors sheet, in order; none means all of them. The caller closes the
// workbook.
func NewTemplate(fields ...Field) (*excelize.File, error) {
	if len(fields) == 0 {
		fields = make([]Field, NumFields)
		for i := range fields {
			fields[i] = Field(i)
		}
	}
	for _, fld := range fields {
		if fld < 0 || fld >= NumFields {
			return nil, fmt.Errorf("build roster template: no column %s", fld)
		}
	}
	f := excelize.NewFile()
	if err := buildTemplate(f, fields); err != nil {
		f.Close()
		return nil, fmt.Errorf("build roster template: %w", err)
	}
	return f, nil
}

func buildTemplate(f *excelize.File, fields []Field) error {
	if err := f.SetSheetName("Sheet1", TemplateVisitorsSheet); err != nil {
		return err
	}
	for _, name := range []string{TemplateOrderSheet, TemplateHelpSheet} {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)

	header, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	if err != nil {
		return err
	}
	dateFormat := TemplateDateFormat
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFormat})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	// Codes are text: a General cell would make the cabinet 0101 the
	// number 101.
	text, err := f.NewStyle(&excelize.Style{NumFmt: TemplateTextFormat})
	if err != nil {
		return err
	}
	if err := templateVisitors(f, fields, header, date, text); err != nil {
		return fmt.Errorf("sheet %s: %w", TemplateVisitorsSheet, err)
	}
	if err := templateOrder(f, header, wrap); err != nil {
		return fmt.Errorf("sheet %s: %w", TemplateOrderSheet, err)
	}
	if err := templateHelpSheet(f, header, date, bold); err != nil {
		return fmt.Errorf("sheet %s: %w", TemplateHelpSheet, err)
	}
	return nil
}

func templateVisitors(f *excelize.File, fields []Field, header, date, text int) error {
	const sheet = TemplateVisitorsSheet
	names := make([]any, len(fields))
	for i, fld := range fields {
		names[i] = fld.String()
	}
	if err := f.SetSheetRow(sheet, "A1", &names); err != nil {
		return err
	}
	last := ColumnName(len(fields) - 1)
	if err := f.SetCellStyle(sheet, "A1", last+"1", header); err != nil {
		return err
	}
	if err := f.SetRowHeight(sheet, 1, 20); err != nil {
		return err
	}
	// Widths are set from the right: excelize keeps the newest column first,
	// and a sheet later filled by a StreamWriter is written in that order,
	// while Excel wants the columns in ascending order.
	for i := len(fields) - 1; i >= 0; i-- {
		col := ColumnName(i)
		if err := f.SetColWidth(sheet, col, col, templateColumns[fields[i]].width); err != nil {
			return err
		}
	}
	for i, fld := range fields {
		col := ColumnName(i)
		if err := f.AddComment(sheet, excelize.Comment{
			Author: "wvbatch", Cell: col + "1", Text: templateColumns[fld].note,
			Width: 300, Height: 90,
		}); err != nil {
			return err
		}
		switch fld {
		case FieldStart, FieldEnd:
			if err := f.SetCellStyle(sheet, col+"2", fmt.Sprintf("%s%d", col, TemplateRows), date); err != nil {
				return err
			}
		case FieldCabinet, FieldAccount, FieldMobileCountryCode, FieldMobilePhone:
			if err := f.SetCellStyle(sheet, col+"2", fmt.Sprintf("%s%d", col, TemplateRows), text); err != nil {
				return err
			}
		case FieldOpenCabinet:
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(fmt.Sprintf("%s2:%s%d", col, col, TemplateRows))
			if err := dv.SetDropList([]string{"Y", "N"}); err != nil {
				return err
			}
			dv.SetInput("Open Cabinet", "Y: Equinix opens the cabinet for the visitors. N or empty: it stays closed.")
			dv.SetError(excelize.DataValidationErrorStyleStop, "Open Cabinet", "Choose Y or N, or leave the cell empty.")
			if err := f.AddDataValidation(sheet, dv); err != nil {
				return err
			}
		}
	}
	return f.SetPanes(sheet, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	})
}

func templateOrder(f *excelize.File, header, wrap int) error {
	const sheet = TemplateOrderSheet
	if err := f.SetSheetRow(sheet, "A1", &[]any{"Setting", "Value", "What to write"}); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, "A1", "C1", header); err != nil {
		return err
	}
	for i, label := range OrderSheetLabels {
		row := i + 2
		note := ""
		if i < len(templateOrderNotes) {
			note = templateOrderNotes[i]
		}
		if err := f.SetCellStr(sheet, fmt.Sprintf("A%d", row), label); err != nil {
			return err
		}
		if err := f.SetCellStr(sheet, fmt.Sprintf("C%d", row), note); err != nil {
			return err
		}
	}
	last := len(OrderSheetLabels) + 1
	if err := f.SetCellStyle(sheet, "C2", fmt.Sprintf("C%d", last), wrap); err != nil {
		return err
	}
	for _, c := range []struct {
		col   string
		width float64
	}{{"A", 28}, {"B", 45}, {"C", 80}} {
		if err := f.SetColWidth(sheet, c.col, c.col, c.width); err != nil {
			return err
		}
	}
	return f.SetPanes(sheet, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "B2", ActiveCell: "B2", Pane: "bottomLeft"}},
	})
}

func templateHelpSheet(f *excelize.File, header, date, bold int) error {
	const sheet = TemplateHelpSheet
	for i, line := range templateHelp {
		if line == "" {
			continue
		}
		if err := f.SetCellStr(sheet, fmt.Sprintf("A%d", i+1), line); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", "A1", bold); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, fmt.Sprintf("A%d", len(templateHelp)), fmt.Sprintf("A%d", len(templateHelp)), bold); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "A", "A", 30); err != nil {
		return err
	}

	// The example: the header and one visitor, laid out as on the Visitors sheet.
	hdr := len(templateHelp) + 1
	names := make([]any, NumFields)
	for i := range NumFields {
		names[i] = i.String()
	}
	if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", hdr), &names); err != nil {
		return err
	}
	last := ColumnName(int(NumFields) - 1)
	if err := f.SetCellStyle(sheet, fmt.Sprintf("A%d", hdr), fmt.Sprintf("%s%d", last, hdr), header); err != nil {
		return err
	}
	example := templateExample[:]
	if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", hdr+1), &example); err != nil {
		return err
	}
	for _, fld := range []Field{FieldStart, FieldEnd} {
		cell := fmt.Sprintf("%s%d", ColumnName(int(fld)), hdr+1)
		if err := f.SetCellStyle(sheet, cell, cell, date); err != nil {
			return err
		}
	}
	for i := range NumFields {
		if i == 0 {
			continue // column A also holds the help text
		}
		col := ColumnName(int(i))
		if err := f.SetColWidth(sheet, col, col, templateColumns[i].width); err != nil {
			return err
		}
	}
	return nil
}
