package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/plan"
	"github.com/wvbatch/wvbatch/internal/roster"
)

// Summary is the JSON document `--json` prints and summary.json holds.
type Summary struct {
	File         string            `json:"file"`
	Sheet        string            `json:"sheet,omitempty"`
	RunID        string            `json:"run_id"`
	Rows         int               `json:"rows"`
	ValidRows    int               `json:"valid_rows"`
	InvalidRows  int               `json:"invalid_rows"`
	Orders       int               `json:"orders"`
	Visitors     int               `json:"visitors"`
	SplitWindows int               `json:"split_windows"`
	Warnings     []string          `json:"warnings"`
	Errors       []roster.RowError `json:"errors"`
	ErrorsTotal  int               `json:"errors_total"`
	// Plan is the plan's orders; a summary NewSummary made leaves it nil
	// and makes each order as it is written (see PlanLen, PlanHead).
	Plan []PlannedOrder `json:"plan"`

	// orders, when not nil, are the import's orders that stand for Plan:
	// a million-order plan is then not held a second time.
	orders []plan.Order
}

// PlannedOrder is one order of a plan.
type PlannedOrder struct {
	Key               string    `json:"key"`
	CustomerReference string    `json:"customer_reference"`
	IBX               string    `json:"ibx"`
	Cages             []string  `json:"cages"`
	Cabinet           string    `json:"cabinet,omitempty"`
	Account           string    `json:"account,omitempty"`
	Start             time.Time `json:"start"`
	End               time.Time `json:"end"`
	Zone              string    `json:"zone"`
	LocalStart        string    `json:"local_start"`
	LocalEnd          string    `json:"local_end"`
	OpenCabinet       bool      `json:"open_cabinet"`
	Visitors          int       `json:"visitors"`
}

// NewSummary builds the summary of an import. Its plan is made from the
// import's orders as it is written or asked for.
func NewSummary(r *importer.Result) *Summary {
	s := &Summary{
		File: r.File, Sheet: r.Sheet, RunID: r.RunID,
		Rows: r.Rows, ValidRows: r.ValidRows, InvalidRows: r.InvalidRows,
		Orders: r.Summary.Orders, Visitors: r.Summary.Visitors, SplitWindows: r.Summary.SplitWindows,
		Warnings: append([]string{}, r.Warnings...), Errors: r.Errors,
		ErrorsTotal: r.ErrorsTotal, orders: r.Orders,
	}
	if s.orders == nil {
		s.orders = []plan.Order{}
	}
	if s.Errors == nil {
		s.Errors = []roster.RowError{}
	}
	return s
}

// PlanLen is the number of orders in the plan.
func (s *Summary) PlanLen() int {
	if s.orders != nil {
		return len(s.orders)
	}
	return len(s.Plan)
}

// PlanHead returns the plan's first n orders, or all of them when n < 0
// or the plan holds fewer.
func (s *Summary) PlanHead(n int) []PlannedOrder {
	if n < 0 || n > s.PlanLen() {
		n = s.PlanLen()
	}
	if s.orders == nil {
		return s.Plan[:n:n]
	}
	out := make([]PlannedOrder, n)
	for i := range out {
		out[i] = plannedOrder(&s.orders[i])
	}
	return out
}

// plannedOrder is o as the summary lists it, its local times in its zone
// (UTC for a zone not known).
func plannedOrder(o *plan.Order) PlannedOrder {
	loc, err := roster.Location(o.Zone)
	if err != nil {
		loc = time.UTC
	}
	return PlannedOrder{
		Key: o.Key, CustomerReference: o.Reference, IBX: o.IBX, Cages: []string{o.Cage},
		Cabinet: o.Cabinet, Account: o.Account, Start: o.Start, End: o.End, Zone: o.Zone,
		LocalStart:  o.Start.In(loc).Format(localLayout),
		LocalEnd:    o.End.In(loc).Format(localLayout),
		OpenCabinet: o.OpenCabinet, Visitors: o.Count,
	}
}

// localLayout is how the summary writes an order's local times.
const localLayout = "2006-01-02 15:04 MST"

// appendPlanOrder appends an order of the import as appendPlannedOrder
// appends its PlannedOrder.
func appendPlanOrder(dst []byte, o *plan.Order) ([]byte, error) {
	p := plannedOrder(o)
	return appendPlannedOrder(dst, &p)
}

// summaryJSON is a Summary without its methods, for encoding/json.
type summaryJSON Summary

// MarshalJSON encodes the summary with its plan, as WriteJSON writes it.
func (s *Summary) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteJSON writes the summary as indented JSON: the bytes of a
// json.Encoder with two-space indent, written as they are made, so that the
// plan of a million-row roster need not be held as one document.
func (s *Summary) WriteJSON(w io.Writer) error {
	head := summaryJSON(*s)
	head.Errors, head.Plan, head.orders = nil, nil, nil
	writePlan := func(bw *bufio.Writer) error { return writeJSONArray(bw, s.Plan, appendPlannedOrder) }
	if s.orders != nil {
		writePlan = func(bw *bufio.Writer) error { return writeJSONArray(bw, s.orders, appendPlanOrder) }
	}
	return writeJSONSpliced(w, head,
		splice{"errors", func(bw *bufio.Writer) error { return writeJSONArray(bw, s.Errors, appendRowError) }},
		splice{"plan", writePlan})
}

// WriteJSON writes the run's summary as indented JSON (the bytes of a
// json.Encoder with two-space indent), its orders and errors as they are
// made.
func (s *RunSummary) WriteJSON(w io.Writer) error {
	head := *s
	head.OrderList, head.Errors = nil, nil
	return writeJSONSpliced(w, head,
		splice{"order_list", func(bw *bufio.Writer) error { return writeJSONArray(bw, s.OrderList, nil) }},
		splice{"errors", func(bw *bufio.Writer) error { return writeJSONArray(bw, s.Errors, appendRowError) }})
}

// splice is a top-level array of a JSON document, written item by item.
type splice struct {
	name  string
	write func(*bufio.Writer) error
}

// writeJSONSpliced writes head as indented JSON with each spliced field,
// which is null in head, written by its own function in its place.
func writeJSONSpliced(w io.Writer, head any, fields ...splice) error {
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	at := 0
	for _, f := range fields {
		key := []byte("\n  \"" + f.name + "\": null")
		i := bytes.Index(b[at:], key)
		if i < 0 {
			return errors.New("summary: unexpected JSON layout")
		}
		i += at + len(key) - len("null")
		bw.Write(b[at:i])
		if err := f.write(bw); err != nil {
			return err
		}
		at = i + len("null")
	}
	bw.Write(b[at:])
	bw.WriteString("\n")
	return bw.Flush()
}

// writeJSONArray writes items as a json.Encoder with two-space indent
// writes an array that is a field of the top-level object. appendItem, when
// not nil, appends an item as json.MarshalIndent(item, "    ", "  ") would.
func writeJSONArray[T any](bw *bufio.Writer, items []T, appendItem func([]byte, *T) ([]byte, error)) error {
	if len(items) == 0 {
		_, err := bw.WriteString("[]")
		return err
	}
	bw.WriteString("[")
	var b []byte
	for k := range items {
		var err error
		if appendItem != nil {
			b, err = appendItem(b[:0], &items[k])
		} else {
			b, err = json.MarshalIndent(&items[k], "    ", "  ")
		}
		if err != nil {
			return err
		}
		if k > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	_, err := bw.WriteString("\n  ]")
	return err
}

// ErrorsCSV writes row errors as CSV: row, column, field, value, code,
// message, hint. Every field that holds a separator of any locale (, ; or
// tab), a quote or a line break is quoted, so the file splits the same way
// whichever separator a spreadsheet opens it with, and every field is made
// inert (see Inert).
type ErrorsCSV struct {
	w *bufio.Writer
}

// NewErrorsCSV writes the header line and returns the writer.
func NewErrorsCSV(w io.Writer) (*ErrorsCSV, error) {
	e := &ErrorsCSV{w: bufio.NewWriterSize(w, 64<<10)}
	if err := e.line("row", "column", "field", "value", "code", "message", "hint"); err != nil {
		return nil, err
	}
	return e, nil
}

// Write adds one row error.
func (e *ErrorsCSV) Write(re roster.RowError) error {
	return e.line(strconv.Itoa(re.Row), re.Column, re.Field, re.Value, re.Code, re.Message, re.Hint)
}

func (e *ErrorsCSV) line(fields ...string) error {
	for i, f := range fields {
		if i > 0 {
			e.w.WriteByte(',')
		}
		writeCSVField(e.w, Inert(f))
	}
	_, err := e.w.WriteString("\n")
	return err
}

// writeCSVField writes one field, quoted when it holds a separator of any
// locale, a quote, a line break or leading or trailing space.
func writeCSVField(w *bufio.Writer, f string) {
	if f == "" || !strings.ContainsAny(f, ",;\t\"\r\n") && f[0] != ' ' && f[len(f)-1] != ' ' {
		w.WriteString(f)
		return
	}
	w.WriteByte('"')
	w.WriteString(strings.ReplaceAll(f, `"`, `""`))
	w.WriteByte('"')
}

// Close flushes the CSV.
func (e *ErrorsCSV) Close() error {
	return e.w.Flush()
}

// Inert returns s so that a spreadsheet opening it shows text and never
// runs it as a formula, whichever separator it splits lines with: a
// character that starts a formula (= + - @ tab or CR) at the start of s, or
// right after a separator of any locale (, ; tab) or a line break inside
// it, gets an apostrophe before it. ("x;=cmd" opened with ";" as the
// separator would otherwise give the cell "=cmd".)
func Inert(s string) string {
	if s == "" {
		return s
	}
	risky := func(i int) bool {
		return strings.IndexByte("=+-@\t\r", s[i]) >= 0 && (i == 0 || strings.IndexByte(",;\t\r\n", s[i-1]) >= 0)
	}
	n := 0
	for i := range len(s) {
		if risky(i) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + n)
	for i := range len(s) {
		if risky(i) {
			b.WriteByte('\'')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func writeIndentedJSON(w io.Writer, v any) error {
	if s, ok := v.(interface{ WriteJSON(io.Writer) error }); ok {
		return s.WriteJSON(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
