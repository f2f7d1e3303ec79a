package emg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// Outcomes of a message.
const (
	Ordered          = "ordered"
	Updated          = "updated"
	Cancelled        = "cancelled"
	AlreadyCancelled = "already-cancelled"
	Failed           = "failed"
	Pending          = "pending"
)

// Result is what became of one message.
type Result struct {
	File      string   `json:"file"`
	ID        string   `json:"id"`
	Verb      string   `json:"verb"`
	OrderID   string   `json:"order_id,omitempty"`
	Reference string   `json:"customer_reference,omitempty"`
	Outcome   string   `json:"outcome"` // ordered, updated, cancelled, already-cancelled, failed, pending, or the order's state
	Error     string   `json:"error,omitempty"`
	Hint      string   `json:"hint,omitempty"`
	Signature string   `json:"signature"`
	Notes     []string `json:"notes,omitempty"`
}

// Done reports whether the message did what it asked.
func (r *Result) Done() bool {
	switch r.Outcome {
	case Ordered, Updated, Cancelled, AlreadyCancelled:
		return true
	}
	return false
}

// Applier applies a batch of messages: the Create messages as one run of
// orders, one per message; the Update and Cancel messages as changes of
// orders the store holds (an order placed outside wvbatch is recorded first
// as a run of its own), each recorded before it is sent.
type Applier struct {
	Store *runstore.Store
	API   submit.API
	// Endpoint names where the orders are placed, as a run records it, and
	// Account the user the credentials log in as, when known. Only runs
	// of the same endpoint hold the orders Update and Cancel messages
	// name.
	Endpoint string
	Account  string
	// File is what the runs record as their file (the first message's
	// path, or its folder).
	File string
	// Now is the time the messages are applied at, as given ("" for the
	// clock): recorded in the Create run's settings.
	Now string
	// Clock is the time amendments are recorded at.
	Clock time.Time
	// Amend configures the amendments and cancels of Update and Cancel
	// messages.
	Amend queue.AmendConfig
	// Submit places the orders of a recorded Create run, or resumes it;
	// created says whether the run was recorded by this call. An error it
	// returns stops the batch (an order that is only refused is no error:
	// its message's result says so).
	Submit func(ctx context.Context, run runstore.Run, created bool) error
	// Notice, if set, is told what the Applier records.
	Notice func(string)
}

// createsError is a Create run that did not finish: the Update and Cancel
// messages were not sent.
type createsError struct{ err error }

func (e *createsError) Error() string { return e.err.Error() }
func (e *createsError) Unwrap() error { return e.err }

// CreatesUnfinished reports whether err stopped a batch while its Create
// messages' orders were being placed, before its Update and Cancel messages
// were sent.
func CreatesUnfinished(err error) bool {
	var ce *createsError
	return errors.As(err, &ce)
}

func (a *Applier) notice(format string, args ...any) {
	if a.Notice != nil {
		a.Notice(fmt.Sprintf(format, args...))
	}
}

// Apply applies the batch and returns a result per message, in the batch's
// order, and the id of the Create run. Results of messages that could not
// be sent say why; the error is for what stopped the batch.
func (a *Applier) Apply(ctx context.Context, b Batch) (results []Result, runID string, err error) {
	results = make([]Result, len(b))
	for i, it := range b {
		m := it.Msg
		results[i] = Result{File: m.File, ID: m.ID, Verb: string(m.Kind), Signature: m.Signature, Notes: m.Notes, Outcome: Pending}
	}
	if runID, err = a.createsRunID(b); err != nil {
		return results, "", err
	}
	if creates := b.creates(); len(creates) > 0 {
		if err := a.placeCreates(ctx, runID, creates); err != nil {
			return results, runID, &createsError{err}
		}
		if err := a.createResults(runID, b, results); err != nil {
			return results, runID, err
		}
	}
	orderIDs := make([]string, len(b))
	for i, it := range b {
		if it.Msg.Kind == KindCreate {
			continue
		}
		if err := ctx.Err(); err != nil {
			return results, runID, err
		}
		orderIDs[i] = a.resolveOrder(ctx, it.Msg, &results[i])
	}
	if err := a.recordPlaced(ctx, b, orderIDs, results); err != nil {
		return results, runID, err
	}
	for i, it := range b {
		if it.Msg.Kind == KindCreate || orderIDs[i] == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return results, runID, err
		}
		a.sendChange(ctx, it.Msg, orderIDs[i], &results[i])
	}
	return results, runID, nil
}

// createsRunID is the id of the run of the batch's Create messages at the
// Applier's endpoint: b.RunID, unless a run of that id belongs to another
// account there, when this account's run has an id of its own.
func (a *Applier) createsRunID(b Batch) (string, error) {
	id := b.RunID(a.Endpoint)
	run, err := a.Store.Run(id)
	switch {
	case errors.Is(err, runstore.ErrNotFound):
		return id, nil
	case err != nil:
		return "", err
	case run.Endpoint == a.Endpoint && run.Account != "" && a.Account != "" && run.Account != a.Account:
		return b.RunID(submit.AccountEndpoint(a.where())), nil
	}
	return id, nil
}

// placeCreates records the Create messages as run runID, one order per
// message, and has it submitted; a run recorded already is resumed.
func (a *Applier) placeCreates(ctx context.Context, runID string, creates Batch) error {
	if run, err := a.Store.Run(runID); err == nil {
		if err := submit.SameEndpoint(run, &submit.Conn{Endpoint: a.Endpoint, Account: a.Account}); err != nil {
			return err
		}
		return a.Submit(ctx, run, false)
	} else if !errors.Is(err, runstore.ErrNotFound) {
		return err
	}
	run, specs, err := creates.run(runID, a.where(), a.File, a.Now)
	if err != nil {
		return err
	}
	if _, err := a.Store.CreateRun(run, specs, nil); err != nil {
		return err
	}
	if run, err = a.Store.Run(runID); err != nil {
		return err
	}
	return a.Submit(ctx, run, true)
}

// run is the run of the batch's Create messages (all of b): one order per
// message, whose row is the message's position among the messages.
func (b Batch) run(runID string, at runstore.Where, file, now string) (runstore.Run, []runstore.OrderSpec, error) {
	settings, err := json.Marshal(submit.Settings{Endpoint: at.Endpoint, Account: at.Account, Now: now})
	if err != nil {
		return runstore.Run{}, nil, err
	}
	run := runstore.Run{ID: runID, File: file, Settings: settings, Endpoint: at.Endpoint, Account: at.Account}
	var specs []runstore.OrderSpec
	for _, it := range b {
		c := it.Msg.Create
		ref := it.Msg.Reference()
		body, err := json.Marshal(it.Msg.Request(ref))
		if err != nil {
			return runstore.Run{}, nil, err
		}
		cages := c.Cages()
		specs = append(specs, runstore.OrderSpec{Key: it.Msg.ID, Reference: ref, IBX: c.IBX(), Cage: cages[0].ID, Cabinet: cages[0].CabinetID,
			Start: c.Start, End: c.End, Count: len(c.Visitors), Body: body, Rows: []int{it.N}})
	}
	return run, specs, nil
}

// createResults fills the Create messages' results from their orders in
// run runID.
func (a *Applier) createResults(runID string, b Batch, results []Result) error {
	orders, err := a.Store.Orders(runID)
	if err != nil {
		return err
	}
	byKey := map[string]runstore.Order{}
	for _, od := range orders {
		byKey[od.Key] = od
	}
	for i, it := range b {
		if it.Msg.Kind != KindCreate {
			continue
		}
		od := byKey[it.Msg.ID]
		r := &results[i]
		r.OrderID, r.Reference, r.Outcome = od.OrderID, od.Reference, string(od.State)
		if od.State == runstore.Submitted {
			r.Outcome = Ordered
		}
		if od.LastError != nil && od.State != runstore.Submitted {
			r.Outcome, r.Error, r.Hint = Failed, od.LastError.Error(), od.LastError.Hint
		}
	}
	return nil
}

// fail records err as the message's outcome.
func fail(r *Result, err error) {
	r.Outcome, r.Error = Failed, err.Error()
	if ae, ok := errors.AsType[*equinix.APIError](err); ok {
		r.Hint = ae.Hint()
	}
}

// resolveOrder returns the order an Update or Cancel message names: its
// ServicerId, or the one order whose reference is its RequestorId. It
// returns "" with the failure recorded in r when there is no such order.
func (a *Applier) resolveOrder(ctx context.Context, m *Message, r *Result) string {
	orderID, ref := m.Order()
	r.Reference = ref
	if orderID != "" {
		r.OrderID = orderID
		return orderID
	}
	found, err := a.API.Client.SearchOrdersByReference(ctx, ref)
	switch {
	case err != nil:
		fail(r, fmt.Errorf("find the order with RequestorId %q: %w", ref, err))
		return ""
	case len(found) == 0:
		r.Outcome, r.Error = Failed, fmt.Sprintf("no work visit order has the reference (RequestorId) %q", ref)
		r.Hint = "give the order's ServicerId (e.g. 1-199912345789), or check the RequestorId"
		return ""
	case len(found) > 1:
		ids := make([]string, len(found))
		for i, f := range found {
			ids[i] = f.OrderNumber
		}
		r.Outcome, r.Error = Failed, fmt.Sprintf("%d orders have the reference %q: %s", len(found), ref, strings.Join(ids, ", "))
		r.Hint = "give the order's ServicerId to say which"
		return ""
	}
	r.OrderID = found[0].OrderNumber
	return r.OrderID
}

// where names the endpoint the Applier's orders are placed at.
func (a *Applier) where() runstore.Where {
	return runstore.Where{Endpoint: a.Endpoint, Account: a.Account}
}

// storedOrder finds the order orderID among the store's runs at the
// Applier's endpoint: the same order id at another endpoint is another
// order.
func (a *Applier) storedOrder(orderID string) (string, runstore.Order, bool) {
	runID, o, found, err := a.Store.FindOrder(a.where(), orderID)
	return runID, o, found && err == nil
}

// recordPlaced records the orders that Update and Cancel messages name but
// that no run in the store placed as a run of their own, each submitted
// already under its order id, with the window and options Equinix gives
// it now; their changes then go through the store as the changes of any
// run's orders do. The run's id comes from those messages and the endpoint,
// so sending the same messages again finds it. An order that cannot be
// read is failed in its message's result (and its id cleared).
func (a *Applier) recordPlaced(ctx context.Context, b Batch, orderIDs []string, results []Result) error {
	var placed []runstore.PlacedOrder
	index := map[string]int{}
	h := sha256.New()
	h.Write([]byte("emg-placed\x00" + a.Endpoint + "\x00"))
	for i, it := range b {
		id := orderIDs[i]
		if id == "" {
			continue
		}
		if _, _, ok := a.storedOrder(id); ok {
			continue
		}
		if j, ok := index[id]; ok {
			placed[j].Rows = append(placed[j].Rows, it.N)
			h.Write(it.Raw)
			h.Write([]byte{0})
			continue
		}
		o, err := a.API.Client.GetOrder(ctx, id)
		if err != nil {
			fail(&results[i], fmt.Errorf("read order %s: %w", id, err))
			orderIDs[i] = ""
			continue
		}
		p, err := placedOrder(id, o)
		if err != nil {
			return err
		}
		p.Rows = []int{it.N}
		index[id] = len(placed)
		placed = append(placed, p)
		h.Write(it.Raw)
		h.Write([]byte{0})
	}
	if len(placed) == 0 {
		return nil
	}
	run := runstore.Run{ID: "e" + hex.EncodeToString(h.Sum(nil))[:15], File: a.File, Endpoint: a.Endpoint, Account: a.Account}
	created, err := a.Store.CreatePlacedRun(run, placed)
	if err != nil {
		return err
	}
	if created {
		a.notice("run %s recorded in %s: %d orders placed outside wvbatch, for the Update and Cancel messages that name them",
			run.ID, a.Store.Path(), len(placed))
	}
	return nil
}

// placedOrder is what the store records of an order placed outside
// wvbatch: its window, and its open-cabinet flag and notification contacts
// in the shape of a create request, as Equinix gives them now.
func placedOrder(id string, o *equinix.Order) (runstore.PlacedOrder, error) {
	now := submit.OrderNow(o)
	p := runstore.PlacedOrder{Key: id, OrderID: id, Reference: o.CustomerReferenceID}
	if now.Start != nil {
		p.Start = *now.Start
	}
	if now.End != nil {
		p.End = *now.End
	}
	var body struct {
		Contacts []equinix.Contact `json:"contacts,omitempty"`
		Details  struct {
			OpenCabinet bool `json:"openCabinet"`
		} `json:"details"`
	}
	if now.OpenCabinet != nil {
		body.Details.OpenCabinet = *now.OpenCabinet
	}
	if len(now.Notify) > 0 {
		body.Contacts = []equinix.Contact{{Type: equinix.ContactNotification, RegisteredUsers: now.Notify}}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return p, err
	}
	p.Body = raw
	return p, nil
}

// sendChange applies an Update or Cancel message to its order, which a
// run in the store holds, and records the outcome in r.
func (a *Applier) sendChange(ctx context.Context, m *Message, orderID string, r *Result) {
	runID, od, ok := a.storedOrder(orderID)
	if !ok {
		r.Outcome, r.Error = Failed, fmt.Sprintf("order %s is not recorded in the store", orderID)
		return
	}
	switch m.Kind {
	case KindUpdate:
		a.amendStored(ctx, runID, od, m, r)
	case KindCancel:
		a.cancelStored(ctx, runID, od, m, r)
	}
}

// cancelStored cancels an order a run in the store holds through the run's
// cancel path: recorded as cancelling before the cancel is asked for, and
// not asked again once it is recorded cancelled.
func (a *Applier) cancelStored(ctx context.Context, runID string, od runstore.Order, m *Message, r *Result) {
	if od.State == runstore.Cancelled {
		r.Outcome = AlreadyCancelled
		r.Notes = append(r.Notes, fmt.Sprintf("recorded cancelled in run %s", runID))
		return
	}
	got, err := queue.CancelOrder(ctx, a.Store, runID, od.Key, a.API, m.Cancel.Reason(), a.Amend.RunConfig)
	switch {
	case err != nil:
		fail(r, err)
	case got.State == runstore.Cancelled:
		r.Outcome = Cancelled
		r.Notes = append(r.Notes, fmt.Sprintf("recorded cancelled in run %s", runID))
	default:
		// Refused: an order cancelled already (elsewhere) is recorded so.
		if o, gerr := a.API.Client.GetOrder(ctx, od.OrderID); gerr == nil && o.Status == equinix.StatusCancelled {
			r.Outcome = AlreadyCancelled
			if err := a.Store.MarkCancelling(runID, od.Key); err == nil {
				if err := a.Store.MarkCancelled(runID, od.Key); err != nil {
					fail(r, err)
				}
			}
			return
		}
		if got.LastError != nil {
			r.Outcome, r.Error, r.Hint = Failed, got.LastError.Error(), got.LastError.Hint
			return
		}
		r.Outcome, r.Error = Failed, fmt.Sprintf("order %s is %s", od.OrderID, got.State)
	}
}

// amendStored applies an Update message to an order a run in the store
// placed, as an amendment of that order: recorded before it is sent, read
// back if its answer is lost, and the store's window follows.
func (a *Applier) amendStored(ctx context.Context, runID string, od runstore.Order, m *Message, r *Result) {
	u := m.Update
	req := runstore.AmendRequest{OpenCabinet: u.OpenCabinet, Keys: []string{od.Key}}
	if u.Start != nil || u.End != nil {
		req.Start, req.End = od.Start, od.End
		if u.Start != nil {
			req.Start = *u.Start
		}
		if u.End != nil {
			req.End = *u.End
		}
	}
	am, found, err := a.Store.FindAmendment(runID, req)
	if err == nil && !found {
		if od.State == runstore.Cancelled || od.State == runstore.Cancelling {
			r.Outcome, r.Error = Failed, fmt.Sprintf("order %s is %s (recorded in run %s): a cancelled order cannot be changed", od.OrderID, od.State, runID)
			return
		}
		am, _, err = a.Store.CreateAmendment(runID, req, a.Clock, false)
	}
	if err == nil && am.State != runstore.AmendDone {
		_, err = queue.Amend(ctx, a.Store, runID, am.N, a.API, a.Amend)
	}
	if err != nil {
		r.Outcome, r.Error = Failed, err.Error()
		if errors.Is(err, runstore.ErrAmendUnfinished) {
			r.Hint = "send the message again once the run's other amendment is finished (wvbatch amend " + runID + ")"
		}
		return
	}
	aos, err := a.Store.AmendOrders(runID, am.N)
	if err != nil || len(aos) != 1 {
		r.Outcome, r.Error = Failed, fmt.Sprintf("amendment %d of run %s: %v", am.N, runID, err)
		return
	}
	switch ao := aos[0]; ao.State {
	case runstore.AmendApplied, runstore.AmendUnchanged:
		r.Outcome = Updated
		r.Notes = append(r.Notes, fmt.Sprintf("recorded as amendment %d of run %s (%s)", am.N, runID, ao.State))
	default:
		r.Outcome, r.Error = Failed, strings.TrimSpace(ao.Note)
		if ao.Error != nil {
			r.Error = strings.TrimSpace(r.Error + " " + ao.Error.Error())
			r.Hint = ao.Error.Hint
		}
	}
}
