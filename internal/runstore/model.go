package runstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// RunState says whether a run still has work to do.
type RunState string

// Run states.
const (
	// RunOpen is a run that has been created and not yet finished.
	RunOpen RunState = "open"
	// RunDone is a run whose every order is submitted, rejected or cancelled.
	RunDone RunState = "done"
	// RunInterrupted is a run stopped early (a signal, a fatal error, or
	// orders whose fate could not be checked); submitting it again resumes it.
	RunInterrupted RunState = "interrupted"
	// RunCancelled is a run whose orders were cancelled.
	RunCancelled RunState = "cancelled"
)

// OrderState is where an order is on its way to Equinix.
type OrderState string

// Order states. An order moves planned → sending → submitted or rejected;
// a retryable failure moves it from sending back to planned. A submitted
// order moves to cancelling → cancelled when its run is cancelled, or to
// closed when Equinix closed it (the visit is over) before it could be.
const (
	Planned    OrderState = "planned"
	Sending    OrderState = "sending"
	Submitted  OrderState = "submitted"
	Rejected   OrderState = "rejected"
	Cancelling OrderState = "cancelling"
	Cancelled  OrderState = "cancelled"
	Closed     OrderState = "closed"
)

// RowStatus is what became of one roster row.
type RowStatus string

// Row outcomes.
const (
	RowPending        RowStatus = "pending"
	RowOrdered        RowStatus = "ordered"
	RowRejected       RowStatus = "rejected"
	RowInvalid        RowStatus = "invalid"
	RowAlreadyOrdered RowStatus = "already-ordered"
	RowCancelled      RowStatus = "cancelled"
)

// Run is one submission of one roster with one set of settings.
type Run struct {
	// ID is chosen by the caller and is deterministic: the same roster and
	// settings give the same ID, so submitting them again resumes the run.
	ID   string `json:"id"`
	File string `json:"file,omitempty"`
	// Hash is the roster content's hash.
	Hash      string    `json:"hash,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Settings is whatever the caller needs to rebuild or report the run
	// (order-level fields, endpoint kind…); it must never hold secrets.
	Settings json.RawMessage `json:"settings,omitempty"`
	State    RunState        `json:"state"`

	// Endpoint is where the run orders: "sandbox" for the in-process
	// sandbox, else the API's base URL (EndpointUnknown for a run recorded
	// before runs named their endpoint). Account is the user the
	// credentials log in as, when the API named it. Only runs of the same
	// endpoint (and account) resume each other or share claims.
	Endpoint string `json:"endpoint"`
	Account  string `json:"account,omitempty"`

	// Job and ScheduledAt name the scheduled job that started the run, if any.
	Job         string    `json:"job,omitempty"`
	ScheduledAt time.Time `json:"scheduledAt,omitzero"`

	// Orders counts the run's orders by state and Rows its rows by outcome;
	// both are kept up to date with every transition.
	Orders map[OrderState]int `json:"orders"`
	Rows   map[RowStatus]int  `json:"rows"`

	// Mail is the last attempt to email the run's report, if any.
	Mail *MailRecord `json:"mail,omitempty"`
	// Report is the latest writing of the run's report folder, if any.
	Report *ReportRecord `json:"report,omitempty"`
}

// EndpointUnknown is the endpoint of a run recorded before runs named
// their endpoint, and whose settings do not say either: its claims never
// hold a visitor for any other run.
const EndpointUnknown = "unknown"

// Where names an endpoint and the account ordering there.
type Where struct {
	Endpoint string `json:"endpoint"`
	Account  string `json:"account,omitempty"`
}

// Where returns the endpoint and account the run orders at.
func (r *Run) Where() Where { return Where{Endpoint: r.Endpoint, Account: r.Account} }

// OrderCount is how many orders the run holds, in every state.
func (r *Run) OrderCount() int {
	n := 0
	for _, c := range r.Orders {
		n += c
	}
	return n
}

// String names the endpoint for people: "sandbox", the URL, or the URL
// and the account ("https://api.equinix.com as jdoe").
func (w Where) String() string {
	if w.Account == "" {
		return w.Endpoint
	}
	return w.Endpoint + " as " + w.Account
}

// Same says whether a run recorded at w orders where at does: the same
// endpoint, and the same account when both name one.
func (w Where) Same(at Where) bool {
	return w.Endpoint == at.Endpoint && (w.Account == "" || at.Account == "" || w.Account == at.Account)
}

// Key is the key under which a visitor is recorded as ordered at w (see
// OrderSpec.VisitorKeys): the endpoint and account, each ended by a NUL,
// then the caller's visitor key, which holds no NUL.
func (w Where) Key(visitorKey string) string {
	return w.Endpoint + "\x00" + w.Account + "\x00" + visitorKey
}

// PlainKey returns the caller's visitor key of a key made by Where.Key.
func PlainKey(key string) string {
	_, plain := splitKey(key)
	return plain
}

// splitKey cuts a visitor key into its endpoint prefix (empty for a key of
// a store from before runs named their endpoint) and the caller's key.
func splitKey(key string) (prefix, plain string) {
	if i := strings.LastIndexByte(key, 0); i >= 0 {
		return key[:i+1], key[i+1:]
	}
	return "", key
}

// MailRecord is what became of the latest attempt to email a run's report.
// It holds addresses and the error's text, never a password.
type MailRecord struct {
	To       []string  `json:"to"`
	Subject  string    `json:"subject,omitempty"`
	At       time.Time `json:"at"`
	Sent     bool      `json:"sent"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts"`
}

// Problem is one thing the API said is wrong with a request.
type Problem struct {
	Property string `json:"property,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Row is the roster row the problem is about, when the caller could
	// trace it back (e.g. from details.visitors[3].email); 0 otherwise.
	Row int `json:"row,omitempty"`
}

// StoredError is an API error as the store keeps it.
type StoredError struct {
	Status        int       `json:"status,omitempty"`
	Code          string    `json:"code,omitempty"`
	Message       string    `json:"message,omitempty"`
	Hint          string    `json:"hint,omitempty"`
	CorrelationID string    `json:"correlationId,omitempty"`
	Problems      []Problem `json:"problems,omitempty"`
}

// Error formats the stored error for people.
func (e *StoredError) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d ", e.Status)
	}
	if e.Code != "" {
		b.WriteString(e.Code + ": ")
	}
	b.WriteString(e.Message)
	for _, p := range e.Problems {
		b.WriteString("; ")
		if p.Property != "" {
			b.WriteString(p.Property + ": ")
		}
		b.WriteString(p.Reason)
	}
	return strings.TrimSpace(b.String())
}

// OrderSpec is one planned order as the caller hands it to CreateRun.
type OrderSpec struct {
	// Key identifies the order within its run.
	Key string
	// Reference is the order's customerReferenceId: the handle to find the
	// order again when the answer to its request was lost.
	Reference string

	IBX, Cage, Cabinet string
	Start, End         time.Time
	Count              int

	// Body is the request to send, built by the caller.
	Body []byte
	// Rows are the order's roster rows, in visitor order.
	Rows []int
	// VisitorKeys, when set, is aligned with Rows: the key under which each
	// visitor is recorded as ordered once the order is submitted, made by
	// the run's Where.Key (see Store.AlreadyOrdered). An empty key records
	// nothing.
	VisitorKeys []string
}

// Order is one order of a run as the store keeps it.
type Order struct {
	RunID     string `json:"-"`
	Key       string `json:"key"`
	Reference string `json:"reference"`
	// Seq is the order's position in the plan.
	Seq int `json:"seq"`

	State OrderState `json:"state"`
	// OrderID is Equinix's id once the order is submitted (e.g. "1-123456").
	OrderID string `json:"orderId,omitempty"`
	// Attempts counts the requests that were (or may have been) sent.
	Attempts      int          `json:"attempts,omitempty"`
	NextAttemptAt time.Time    `json:"nextAttemptAt,omitzero"`
	LastError     *StoredError `json:"lastError,omitempty"`

	IBX     string    `json:"ibx,omitempty"`
	Cage    string    `json:"cage,omitempty"`
	Cabinet string    `json:"cabinet,omitempty"`
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	Count   int       `json:"count,omitempty"`

	Rows        []int    `json:"rows,omitempty"`
	VisitorKeys []string `json:"visitorKeys,omitempty"`

	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	SubmittedAt time.Time `json:"submittedAt,omitzero"`

	// Body is the request body; it is kept apart from the order's record and
	// is only filled in by Store.Order and Store.MarkSending.
	Body []byte `json:"-"`
}

// RowOutcome is what became of one roster row.
type RowOutcome struct {
	Row    int       `json:"-"`
	Status RowStatus `json:"status"`
	// OrderIDs are the orders the row's visitor is on (more than one when
	// the visit's window was cut into several orders).
	OrderIDs []string `json:"orderIds,omitempty"`
	Code     string   `json:"code,omitempty"`
	Message  string   `json:"message,omitempty"`
	Hint     string   `json:"hint,omitempty"`
	// Problems are the API's complaints about this very row.
	Problems []Problem `json:"problems,omitempty"`
}

// Claim says which order already holds a visitor.
type Claim struct {
	RunID    string `json:"runId"`
	OrderKey string `json:"orderKey"`
	OrderID  string `json:"orderId"`
	Row      int    `json:"row,omitempty"`
}
