package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// RunSummary is the JSON document of a run: what `submit --json`,
// `status --json` and summary.json hold.
type RunSummary struct {
	RunID string `json:"run_id"`
	File  string `json:"file"`
	State string `json:"state"`
	// Endpoint is where the run orders ("sandbox" or the API's URL), and
	// Account the user its credentials log in as, when known.
	Endpoint  string         `json:"endpoint"`
	Account   string         `json:"account,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Orders    map[string]int `json:"orders"`
	Rows      map[string]int `json:"rows"`
	// RowsTotal and RowsOK count roster rows, and those ordered (now or by
	// an earlier run).
	RowsTotal int               `json:"rows_total"`
	RowsOK    int               `json:"rows_ok"`
	OrderList []RunOrder        `json:"order_list"`
	Errors    []roster.RowError `json:"errors"`
	// Mail is the last attempt to email the report, if any.
	Mail *runstore.MailRecord `json:"mail,omitempty"`
	// RowList is every row's outcome, when asked for (see AddRows).
	RowList []RunRow `json:"row_list,omitempty"`
	// Amendments are the changes asked of the run's placed orders since,
	// oldest first, when asked for (see AddAmendments).
	Amendments []RunAmendment `json:"amendments,omitempty"`
}

// Where names the endpoint the run orders at, for people.
func (s *RunSummary) Where() string {
	return runstore.Where{Endpoint: s.Endpoint, Account: s.Account}.String()
}

// RunAmendment is one amendment of a run's orders: what it changes, where
// it stands and how many of its orders ended in each state (applied,
// unchanged, skipped, failed; pending and sending while it is unfinished).
type RunAmendment struct {
	N         int            `json:"n"`
	Change    string         `json:"change"`
	State     string         `json:"state"`
	Orders    map[string]int `json:"orders"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// AddAmendments lists the run's amendments in the summary.
func (s *RunSummary) AddAmendments(as []runstore.Amendment) {
	s.Amendments = make([]RunAmendment, 0, len(as))
	for _, a := range as {
		ra := RunAmendment{N: a.N, Change: a.Request.String(), State: string(a.State), Orders: map[string]int{},
			CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
		for k, v := range a.Orders {
			if v > 0 {
				ra.Orders[string(k)] = v
			}
		}
		s.Amendments = append(s.Amendments, ra)
	}
}

// RunRow is what became of one roster row.
type RunRow struct {
	Row      int      `json:"row"`
	Status   string   `json:"status"`
	OrderIDs []string `json:"order_ids,omitempty"`
	Code     string   `json:"code,omitempty"`
	Message  string   `json:"message,omitempty"`
	Hint     string   `json:"hint,omitempty"`
}

// AddRows lists every row's outcome in the summary.
func (s *RunSummary) AddRows(rows []runstore.RowOutcome) {
	s.RowList = make([]RunRow, 0, len(rows))
	for _, r := range rows {
		s.RowList = append(s.RowList, RunRow{Row: r.Row, Status: string(r.Status), OrderIDs: r.OrderIDs, Code: r.Code, Message: r.Message, Hint: r.Hint})
	}
}

// RunOrder is one order of a run.
type RunOrder struct {
	Key               string      `json:"key"`
	CustomerReference string      `json:"customer_reference"`
	OrderID           string      `json:"order_id,omitempty"`
	State             string      `json:"state"`
	IBX               string      `json:"ibx"`
	Cages             []string    `json:"cages"`
	Cabinet           string      `json:"cabinet,omitempty"`
	Start             time.Time   `json:"start"`
	End               time.Time   `json:"end"`
	LocalStart        string      `json:"local_start"`
	LocalEnd          string      `json:"local_end"`
	Visitors          int         `json:"visitors"`
	Rows              []int       `json:"rows"`
	Attempts          int         `json:"attempts"`
	Error             *APIProblem `json:"error,omitempty"`
}

// APIProblem is an error Equinix gave for an order, in plain words.
type APIProblem struct {
	Status        int    `json:"status,omitempty"`
	Code          string `json:"code,omitempty"`
	Message       string `json:"message"`
	Hint          string `json:"hint,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
}

// NewRunSummary builds a run's summary from the store. imp, when not nil,
// is the run's roster as imported now, whose row errors carry the column and
// value of each problem; without it the stored outcomes are used.
func NewRunSummary(run runstore.Run, orders []runstore.Order, rows []runstore.RowOutcome, imp *importer.Result) *RunSummary {
	s := &RunSummary{
		RunID: run.ID, File: run.File, State: string(run.State), Endpoint: run.Endpoint, Account: run.Account,
		CreatedAt: run.CreatedAt, UpdatedAt: run.UpdatedAt,
		Orders: map[string]int{}, Rows: map[string]int{}, OrderList: []RunOrder{}, Errors: []roster.RowError{},
		Mail: run.Mail,
	}
	for k, v := range run.Orders {
		if v > 0 {
			s.Orders[string(k)] = v
		}
	}
	for _, o := range orders {
		zone, _ := roster.MetroZone(o.IBX)
		loc, err := roster.Location(zone)
		if err != nil {
			loc = time.UTC
		}
		ro := RunOrder{
			Key: o.Key, CustomerReference: o.Reference, OrderID: o.OrderID, State: string(o.State),
			IBX: o.IBX, Cages: []string{o.Cage}, Cabinet: o.Cabinet, Start: o.Start, End: o.End,
			LocalStart: o.Start.In(loc).Format("2006-01-02 15:04 MST"), LocalEnd: o.End.In(loc).Format("2006-01-02 15:04 MST"),
			Visitors: o.Count, Rows: o.Rows, Attempts: o.Attempts,
		}
		if e := o.LastError; e != nil && o.State != runstore.Submitted && o.State != runstore.Cancelled {
			ro.Error = &APIProblem{Status: e.Status, Code: e.Code, Message: e.Message, Hint: e.Hint, CorrelationID: e.CorrelationID}
		}
		s.OrderList = append(s.OrderList, ro)
	}
	var invalid []int
	for _, r := range rows {
		s.RowsTotal++
		s.Rows[string(r.Status)]++
		switch r.Status {
		case runstore.RowOrdered, runstore.RowAlreadyOrdered:
			s.RowsOK++
		case runstore.RowInvalid:
			invalid = append(invalid, r.Row)
			s.Errors = append(s.Errors, storedRowErrors(r)...)
		case runstore.RowRejected:
			s.Errors = append(s.Errors, storedRowErrors(r)...)
		}
	}
	sort.SliceStable(s.Errors, func(i, j int) bool { return s.Errors[i].Row < s.Errors[j].Row })
	if imp != nil {
		s.Errors = ImportErrors(s.Errors, invalid, imp.Errors)
	}
	return s
}

// ImportErrors returns a run's row errors as the store holds them (stored,
// in row order) with those of each invalid row replaced by the roster
// import's errors of the row, which carry the column and value of each
// problem, when the import has some.
func ImportErrors(stored []roster.RowError, invalid []int, imported []roster.RowError) []roster.RowError {
	if len(imported) == 0 {
		return stored
	}
	byRow := errorsByRow(imported)
	isInvalid := make(map[int]bool, len(invalid))
	for _, r := range invalid {
		isInvalid[r] = true
	}
	out := make([]roster.RowError, 0, len(stored))
	for i := 0; i < len(stored); {
		j := i + 1
		for j < len(stored) && stored[j].Row == stored[i].Row {
			j++
		}
		if errs, ok := byRow[stored[i].Row]; ok && isInvalid[stored[i].Row] {
			out = append(out, errs...)
		} else {
			out = append(out, stored[i:j]...)
		}
		i = j
	}
	return out
}

// storedRowErrors turns a stored row outcome into row errors.
func storedRowErrors(r runstore.RowOutcome) []roster.RowError {
	if len(r.Problems) == 0 {
		return []roster.RowError{{Row: r.Row, Code: r.Code, Message: r.Message, Hint: r.Hint}}
	}
	var out []roster.RowError
	for _, p := range r.Problems {
		col, field := "", p.Property
		if c, f, ok := strings.Cut(p.Property, " "); ok && r.Status == runstore.RowInvalid {
			col, field = c, f
		}
		msg := p.Reason
		if r.Status == runstore.RowRejected {
			msg = fmt.Sprintf("Equinix refused the order (%s): %s", r.Code, p.Reason)
		}
		out = append(out, roster.RowError{Row: r.Row, Column: col, Field: field, Code: r.Code, Message: msg, Hint: r.Hint})
	}
	return out
}

// Fingerprint identifies what a run's report shows: two summaries with the
// same fingerprint make the same report. The times the run was updated and
// emailed are not part of it.
func Fingerprint(s *RunSummary) string {
	c := *s
	c.UpdatedAt, c.Mail = time.Time{}, nil
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(&c); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
