package submit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Settings are what a run records of how it was asked for: never a secret.
type Settings struct {
	Roster    string             `json:"roster"`
	Sheet     string             `json:"sheet,omitempty"`
	HeaderRow int                `json:"header_row,omitempty"`
	Order     roster.OrderFields `json:"order"`
	Endpoint  string             `json:"endpoint"`          // "sandbox" or the API's base URL
	Account   string             `json:"account,omitempty"` // the user the credentials log in as, when known
	DateOrder string             `json:"date_order,omitempty"`
	Now       string             `json:"now,omitempty"`
	// StartedBy names who asked for the run, when a front door knows it
	// (the web page's signed-in user).
	StartedBy string `json:"started_by,omitempty"`
}

// RunSettings decodes the settings run was recorded with into v (a
// *Settings, or a type that embeds Settings). A run recorded without
// settings leaves v as it is; settings that cannot be read are an error
// naming the run, never silently empty.
func RunSettings(run runstore.Run, v any) error {
	if len(run.Settings) == 0 {
		return nil
	}
	if err := json.Unmarshal(run.Settings, v); err != nil {
		return fmt.Errorf("run %s: its recorded settings cannot be read (%v); the store may be damaged", run.ID, err)
	}
	return nil
}

// Run is a run ready to be recorded: its orders' requests and every row's
// outcome so far.
type Run struct {
	Run    runstore.Run
	Orders []runstore.OrderSpec
	Rows   []runstore.RowOutcome
	// AlreadyOrdered counts the roster rows (visitors) left out because an
	// earlier run ordered them for the same places and windows.
	AlreadyOrdered int
	Visitors       int
}

// Claims looks up visitors that earlier runs ordered at an endpoint.
type Claims interface {
	AlreadyOrdered(at runstore.Where, keys []string) (map[string]runstore.Claim, error)
}

// NewRun turns an import into a run: invalid rows are recorded as invalid,
// visitors that an earlier run already ordered for the same place and window
// (at the endpoint of st) are left out (and recorded as already ordered),
// and every other visitor is in an order whose request is built now.
func NewRun(res *importer.Result, st Settings, claims Claims) (*Run, error) {
	settings, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	r := &Run{Run: runstore.Run{ID: res.RunID, File: res.File, Hash: res.Hash, Settings: settings, Endpoint: st.Endpoint, Account: st.Account}}

	byRow := map[int][]roster.RowError{}
	var invalidRows []int
	for _, e := range res.Errors {
		if _, ok := byRow[e.Row]; !ok {
			invalidRows = append(invalidRows, e.Row)
		}
		byRow[e.Row] = append(byRow[e.Row], e)
	}
	for _, row := range invalidRows {
		errs := byRow[row]
		msgs, hints := make([]string, len(errs)), make([]string, len(errs))
		var problems []runstore.Problem
		for i, e := range errs {
			msgs[i], hints[i] = e.Message, e.Hint
			problems = append(problems, runstore.Problem{Property: e.Column + " " + e.Field, Reason: e.Message, Row: row})
		}
		r.Rows = append(r.Rows, runstore.RowOutcome{Row: row, Status: runstore.RowInvalid, Code: errs[0].Code,
			Message: strings.Join(msgs, "; "), Hint: strings.Join(hints, "; "), Problems: problems})
	}

	var keys []string
	for i := range res.Orders {
		o := &res.Orders[i]
		for j := range o.Visitors {
			keys = append(keys, VisitorKey(o, &o.Visitors[j]))
		}
	}
	claimed := map[string]runstore.Claim{}
	if claims != nil && len(keys) > 0 {
		if claimed, err = claims.AlreadyOrdered(r.Run.Where(), keys); err != nil {
			return nil, err
		}
	}
	done := map[int]bool{}
	for i := range res.Orders {
		o := res.Orders[i]
		var kept []roster.Visitor
		var rows []int
		var vkeys []string
		for _, v := range o.Visitors {
			k := VisitorKey(&o, &v)
			if c, ok := claimed[k]; ok {
				if !done[v.Row] {
					done[v.Row] = true
					r.Rows = append(r.Rows, runstore.RowOutcome{Row: v.Row, Status: runstore.RowAlreadyOrdered, OrderIDs: []string{c.OrderID},
						Message: fmt.Sprintf("already ordered (%s) by run %s", c.OrderID, c.RunID)})
				}
				continue
			}
			kept = append(kept, v)
			rows = append(rows, v.Row)
			vkeys = append(vkeys, r.Run.Where().Key(k))
		}
		if len(kept) == 0 {
			continue
		}
		o.Visitors, o.Count = kept, len(kept)
		body, err := json.Marshal(Request(&o, res.Order))
		if err != nil {
			return nil, err
		}
		r.Visitors += len(kept)
		r.Orders = append(r.Orders, runstore.OrderSpec{
			Key: o.Key, Reference: o.Reference, IBX: o.IBX, Cage: o.Cage, Cabinet: o.Cabinet,
			Start: o.Start, End: o.End, Count: o.Count, Body: body, Rows: rows, VisitorKeys: vkeys,
		})
	}
	// A row split over two windows may be both claimed and kept: its kept
	// order decides its outcome.
	kept := map[int]bool{}
	for _, o := range r.Orders {
		for _, row := range o.Rows {
			kept[row] = true
		}
	}
	out := r.Rows[:0]
	for _, ro := range r.Rows {
		if ro.Status != runstore.RowAlreadyOrdered || !kept[ro.Row] {
			out = append(out, ro)
			if ro.Status == runstore.RowAlreadyOrdered {
				r.AlreadyOrdered++
			}
		}
	}
	r.Rows = out
	return r, nil
}

// API places and finds orders through the Equinix client; it is the queue's
// Submitter and Canceller.
type API struct {
	Client *equinix.Client
}

// rowsError carries the roster rows of the order an API error is about, so
// that the error's property paths can be traced to rows.
type rowsError struct {
	err  error
	rows []int
}

func (e *rowsError) Error() string { return e.err.Error() }
func (e *rowsError) Unwrap() error { return e.err }

// Create sends the order's recorded request.
func (a API) Create(ctx context.Context, o *runstore.Order) (string, error) {
	var req equinix.WorkVisitRequest
	if err := json.Unmarshal(o.Body, &req); err != nil {
		return "", fmt.Errorf("order %s: recorded request is unreadable: %w", o.Key, err)
	}
	id, err := a.Client.CreateWorkVisit(ctx, &req)
	if err != nil {
		return "", &rowsError{err: err, rows: o.Rows}
	}
	return id, nil
}

// FindByReference searches Equinix for the order with this reference.
func (a API) FindByReference(ctx context.Context, reference string) (string, bool, error) {
	found, err := a.Client.SearchOrdersByReference(ctx, reference)
	if err != nil {
		return "", false, err
	}
	for _, f := range found {
		return f.OrderNumber, true, nil
	}
	return "", false, nil
}

// Cancel cancels one order.
func (a API) Cancel(ctx context.Context, orderID, reason string) error {
	return a.Client.CancelOrder(ctx, orderID, reason)
}

// Policy is the queue's error policy for the Equinix client: Classify,
// RetryAfter and ToStored.
var Policy queue.ErrorPolicy = policy{}

type policy struct{}

func (policy) Classify(err error) queue.ErrorClass     { return Classify(err) }
func (policy) RetryAfter(err error) time.Duration      { return RetryAfter(err) }
func (policy) ToStored(err error) runstore.StoredError { return ToStored(err) }

// Classify tells the queue what an error from the API means.
func Classify(err error) queue.ErrorClass {
	var ae *equinix.APIError
	switch {
	case equinix.IsAuth(err):
		return queue.Fatal
	case errors.Is(err, equinix.ErrOrderClosed):
		return queue.OrderClosed
	case equinix.IsUncertain(err), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return queue.Uncertain
	case equinix.IsRetryable(err):
		return queue.Retryable
	case errors.As(err, &ae):
		switch {
		case ae.Code == "EQ-2014007" || ae.Code == "EQ-2016007":
			// cannot cancel or change: for a cancel, the order is closed or
			// cancelled already
			return queue.Final
		case ae.Status == http.StatusUnauthorized:
			return queue.Fatal
		case ae.Status >= 400 && ae.Status < 500 && ae.Code != "":
			// Equinix's verdict on the request.
			return queue.Final
		case ae.Status >= 400 && ae.Status < 500:
			// A refusal without Equinix's error code (a proxy, a wrong
			// endpoint) says nothing about the order: stop the run and
			// keep it.
			return queue.Fatal
		}
		return queue.Retryable
	}
	return queue.Uncertain
}

// RetryAfter returns how long Equinix asked to wait.
func RetryAfter(err error) time.Duration {
	var ae *equinix.APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}

// hintNoVerdict is the fix for an order that met no answer or a server
// error: it is not rejected, and resuming the run sends it.
const hintNoVerdict = "not a verdict on the order: Equinix could not be reached or failed; resume the run once it answers again"

// ToStored turns an API error into what the store keeps, with the plain
// words of the error catalogue and each problem traced to its roster row.
func ToStored(err error) runstore.StoredError {
	var ae *equinix.APIError
	if !errors.As(err, &ae) {
		s := runstore.StoredError{Message: err.Error()}
		if equinix.IsRetryable(err) || equinix.IsUncertain(err) {
			s.Hint = hintNoVerdict
		}
		return s
	}
	s := runstore.StoredError{Status: ae.Status, Code: ae.Code, Message: ae.Message, CorrelationID: ae.CorrelationID, Hint: ae.Hint()}
	if s.Hint == "" && Classify(err) == queue.Retryable {
		s.Hint = hintNoVerdict
	}
	var rows []int
	if re, ok := errors.AsType[*rowsError](err); ok {
		rows = re.rows
	}
	for _, p := range ae.Problems {
		sp := runstore.Problem{Property: p.Property, Reason: p.Reason}
		if i, ok := equinix.VisitorIndex(p.Property); ok && i < len(rows) {
			sp.Row = rows[i]
		}
		s.Problems = append(s.Problems, sp)
	}
	return s
}
