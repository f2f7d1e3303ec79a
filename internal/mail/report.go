package mail

import (
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/templates"
)

// ReportData is what a run's report email says.
type ReportData struct {
	// IBX is the run's IBX, or several joined by ", " (see JoinIBX).
	IBX string
	// Ordered visitors of Total; NeedFixing rows have problems.
	Ordered, Total, NeedFixing int
	// ValidationOnly marks a run that only checked the roster: Total
	// counts rows checked and nothing was ordered.
	ValidationOnly bool
	RunID          string
	// Endpoint names where the run ordered ("sandbox", or the API's URL).
	Endpoint string
	// Roster is the roster's file name.
	Roster string
	Orders []ReportOrder
	// Cancelled are the run's cancelled orders and CancelledVisitors the
	// visitors no longer ordered; CancelReason, when this email follows a
	// cancel, is the reason it gave.
	Cancelled         []ReportOrder
	CancelledVisitors int
	CancelReason      string
	// Problems are the first problems (see MaxProblems); MoreProblems
	// counts those left out.
	Problems     []ReportProblem
	MoreProblems int
	// ResumeHint tells how to go on, e.g. the command that resumes the run.
	ResumeHint string
	// Note is said last, e.g. that a file was too large to attach.
	Note string
}

// MaxProblems is how many problems a report email lists; the attached
// workbook has them all.
const MaxProblems = 20

// ReportOrder is one order of a report email, its window already written
// out (see SetWindow).
type ReportOrder struct {
	OrderID, Reference, IBX string
	Cages                   []string
	LocalStart, LocalEnd    string
	UTCStart, UTCEnd        string
	Visitors                int
}

// SetWindow writes out a visit window in the IBX's zone (an IANA name;
// "" or an unknown zone writes UTC) and in UTC.
func (o *ReportOrder) SetWindow(start, end time.Time, zone string) {
	loc := time.UTC
	if zone != "" {
		if l, err := roster.Location(zone); err == nil {
			loc = l
		}
	}
	const layout = "Mon 2 Jan 2006 15:04 MST"
	o.LocalStart, o.LocalEnd = start.In(loc).Format(layout), end.In(loc).Format(layout)
	o.UTCStart, o.UTCEnd = start.UTC().Format(layout), end.UTC().Format(layout)
}

// ReportProblem is one problem of a roster row.
type ReportProblem struct {
	Row                          int
	Column, Field, Message, Hint string
}

// JoinIBX joins IBX codes for ReportData.IBX: sorted, each once.
func JoinIBX(ibxs []string) string {
	s := slices.Clone(ibxs)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ", ")
}

// Subject returns the report email's subject line, e.g.
//
//	AM1 work visits: 118 of 121 visitors ordered, 3 rows need fixing
//	AM1, DC2 work visits: 121 of 121 visitors ordered
//	AM1 work visits: 121 rows checked, 3 need fixing
func Subject(d ReportData) string {
	what := "Work visits"
	if ibx := oneLine(d.IBX); ibx != "" {
		what = ibx + " work visits"
	}
	if d.ValidationOnly {
		if d.NeedFixing == 0 {
			return fmt.Sprintf("%s: %d %s checked, all valid", what, d.Total, plural(d.Total, "row", "rows"))
		}
		return fmt.Sprintf("%s: %d %s checked, %d %s fixing", what, d.Total, plural(d.Total, "row", "rows"),
			d.NeedFixing, plural(d.NeedFixing, "needs", "need"))
	}
	s := fmt.Sprintf("%s: %d of %d %s ordered", what, d.Ordered, d.Total, plural(d.Total, "visitor", "visitors"))
	if n := len(d.Cancelled); n > 0 && d.CancelReason != "" {
		s = fmt.Sprintf("%s: %d %s cancelled (%d %s), %d of %d %s ordered", what, n, plural(n, "order", "orders"),
			d.CancelledVisitors, plural(d.CancelledVisitors, "visitor", "visitors"), d.Ordered, d.Total, plural(d.Total, "visitor", "visitors"))
	}
	if d.NeedFixing > 0 {
		s += fmt.Sprintf(", %d %s fixing", d.NeedFixing, plural(d.NeedFixing, "row needs", "rows need"))
	}
	return s
}

// oneLine collapses s to one line of single spaces.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

var funcs = map[string]any{
	"plural": plural,
	"join":   strings.Join,
}

// RenderBodies renders the report email's text and HTML bodies from the
// embedded templates report.txt.tmpl and report.html.tmpl.
func RenderBodies(d ReportData) (text, html string, err error) {
	data := struct {
		ReportData
		Subject string
	}{d, Subject(d)}

	tt, err := texttemplate.New("report.txt.tmpl").Funcs(funcs).ParseFS(templates.FS, "report.txt.tmpl")
	if err != nil {
		return "", "", fmt.Errorf("mail: text template: %w", err)
	}
	var tb strings.Builder
	if err := tt.Execute(&tb, data); err != nil {
		return "", "", fmt.Errorf("mail: text body: %w", err)
	}
	ht, err := htmltemplate.New("report.html.tmpl").Funcs(funcs).ParseFS(templates.FS, "report.html.tmpl")
	if err != nil {
		return "", "", fmt.Errorf("mail: HTML template: %w", err)
	}
	var hb strings.Builder
	if err := ht.Execute(&hb, data); err != nil {
		return "", "", fmt.Errorf("mail: HTML body: %w", err)
	}
	return tb.String(), hb.String(), nil
}
