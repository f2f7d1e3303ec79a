package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/emg"
	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/submit"
)

// submitArgs accepts one roster file, or EMG messages: .json files and
// folders of them.
func submitArgs(_ *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageErr(errors.New("want 1 argument(s), got 0"),
			"name the roster file: wvbatch submit roster.xlsx --sandbox (or EMG messages: wvbatch submit messages/*.json)")
	case isMessages(args), len(args) == 1:
		return nil
	}
	return usageErr(fmt.Errorf("want 1 roster file, got %d arguments", len(args)),
		"submit one roster at a time; several arguments must all be EMG messages (.json files or folders)")
}

// isMessages reports whether args name EMG messages: every one a .json
// file or a folder.
func isMessages(args []string) bool {
	if len(args) == 0 {
		return false
	}
	for _, a := range args {
		if strings.EqualFold(filepath.Ext(a), ".json") {
			continue
		}
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			continue
		}
		return false
	}
	return true
}

// messageFiles expands folders to the .json files in them, in name order.
func messageFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, usageErr(fmt.Errorf("EMG message %s: %v", a, err), "name .json message files or a folder of them")
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(a, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, usageErr(fmt.Errorf("folder %s holds no .json messages", a), "put the EMG messages there as NAME.json")
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}

// loadedMessage is a message and its raw bytes.
type loadedMessage struct {
	msg *emg.Message
	raw []byte
	n   int // position among the messages, from 1: its "row" in the run
}

// messageResult is what became of one message.
type messageResult struct {
	File      string   `json:"file"`
	ID        string   `json:"id"`
	Verb      string   `json:"verb"`
	OrderID   string   `json:"order_id,omitempty"`
	Reference string   `json:"customer_reference,omitempty"`
	Outcome   string   `json:"outcome"` // ordered, updated, cancelled, already-cancelled, failed, pending
	Error     string   `json:"error,omitempty"`
	Hint      string   `json:"hint,omitempty"`
	Signature string   `json:"signature"`
	Notes     []string `json:"notes,omitempty"`
}

func runSubmitMessages(ctx context.Context, o submitOptions, e *env, args []string) error {
	files, err := messageFiles(args)
	if err != nil {
		return err
	}
	now := e.now()
	if t := o.roster.nowPtr(); t != nil {
		now = *t
	}
	msgs, err := loadMessages(e, files, now)
	if err != nil {
		return err
	}
	var creates []*loadedMessage
	for _, m := range msgs {
		if m.msg.Kind == emg.KindCreate {
			creates = append(creates, m)
		}
	}
	printMessagePlan(e.stdout, msgs)
	if o.dryRun {
		fmt.Fprintln(e.stdout, "dry run: nothing was sent or recorded")
		return nil
	}
	if !o.yes && isTerminal(os.Stdin) && isTerminal(e.stdout) {
		if !confirm(e, fmt.Sprintf("Send %d messages (%d orders to place)? [y/N] ", len(msgs), len(creates))) {
			fmt.Fprintln(e.stdout, "nothing was sent")
			return nil
		}
	}

	st, err := o.run.store.open(e)
	if err != nil {
		return err
	}
	defer st.Close()
	conn, err := o.run.api.connect(e, o.roster.nowPtr())
	if err != nil {
		return err
	}
	defer conn.close()

	results := make([]messageResult, len(msgs))
	for i, m := range msgs {
		results[i] = messageResult{File: m.msg.File, ID: m.msg.ID, Verb: string(m.msg.Kind), Signature: m.msg.Signature,
			Notes: m.msg.Notes, Outcome: "pending"}
	}
	runID := messagesRunID(msgs, conn.endpointName())
	var runErr error
	if len(creates) > 0 {
		runErr = submitCreates(ctx, e, st, o, conn, runID, creates, args)
		if runErr != nil && !errors.Is(runErr, errRowsFailed) {
			fmt.Fprintln(e.stderr, "the orders of the Create messages are not all placed: submit the messages again to carry on; Update and Cancel messages were not sent")
			return runErr
		}
		orders, err := st.Orders(runID)
		if err != nil {
			return err
		}
		byKey := map[string]queue.Order{}
		for _, od := range orders {
			byKey[od.Key] = od
		}
		for i, m := range msgs {
			if m.msg.Kind != emg.KindCreate {
				continue
			}
			od := byKey[m.msg.ID]
			r := &results[i]
			r.OrderID, r.Reference, r.Outcome = od.OrderID, od.Reference, string(od.State)
			if od.State == queue.Submitted {
				r.Outcome = "ordered"
			}
			if od.LastError != nil && od.State != queue.Submitted {
				r.Outcome, r.Error, r.Hint = "failed", od.LastError.Error(), od.LastError.Hint
			}
		}
	}

	api := submit.API{Client: conn.client}
	amendCfg := queue.AmendConfig{
		RunConfig: queue.RunConfig{Concurrency: 1, Classify: submit.Classify, RetryAfter: submit.RetryAfter, ToStored: submit.ToStored,
			Logger: e.log},
		Closed: submit.IsClosed,
	}
	orderIDs := make([]string, len(msgs))
	for i, m := range msgs {
		if m.msg.Kind == emg.KindCreate {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		orderIDs[i] = resolveOrder(ctx, api, m.msg, &results[i])
	}
	if err := recordPlaced(ctx, e, st, api, conn.endpointName(), abs(args[0]), msgs, orderIDs, results); err != nil {
		return err
	}
	for i, m := range msgs {
		if m.msg.Kind == emg.KindCreate || orderIDs[i] == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sendChange(ctx, st, api, amendCfg, now, m.msg, orderIDs[i], &results[i])
	}

	printMessageResults(e.stdout, results)
	dir := reportDir(o.run.reportDir, st, runID)
	if err := writeMessageResults(dir, results); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "message results: %s\n", filepath.Join(dir, "messages.json"))
	for _, r := range results {
		if r.Outcome != "ordered" && r.Outcome != "updated" && r.Outcome != "cancelled" && r.Outcome != "already-cancelled" {
			return errRowsFailed
		}
	}
	// A rows-failed answer of the Create run is in the results above.
	return nil
}

// loadMessages reads and checks every message. Nothing is sent unless all
// of them are good: a message that cannot be read gives a usage error
// (exit 2), one that breaks a field rule the rows-failed exit (3).
func loadMessages(e *env, files []string, now time.Time) ([]*loadedMessage, error) {
	var msgs []*loadedMessage
	var errs emg.Errors
	ids := map[string]string{}
	for _, f := range files {
		raw, err := readLimited(f, emg.MaxMessage+1)
		if err != nil {
			return nil, usageErr(fmt.Errorf("EMG message %s: %v", f, err), "check the file's name and that you may read it")
		}
		m, err := emg.Parse(f, raw)
		if err != nil {
			var es emg.Errors
			if !errors.As(err, &es) {
				return nil, err
			}
			errs = append(errs, es...)
			continue
		}
		if other, dup := ids[m.ID]; dup {
			errs = append(errs, &emg.FieldError{File: f, ID: m.ID, Field: "Task.Id", Message: "the same Id as " + other + ": every message needs its own"})
			continue
		}
		ids[m.ID] = f
		if m.Create != nil && m.Create.Start.Before(now) {
			errs = append(errs, &emg.FieldError{File: f, ID: m.ID, Field: "Task.Body.ServiceDetails.StartDateTime",
				Message: fmt.Sprintf("%s is in the past (now %s)", m.Create.Start.Format(time.RFC3339), now.UTC().Format(time.RFC3339))})
			continue
		}
		msgs = append(msgs, &loadedMessage{msg: m, raw: raw, n: len(msgs) + 1})
	}
	if len(errs) == 0 {
		return msgs, nil
	}
	for _, fe := range errs {
		fmt.Fprintf(e.stderr, "%s\n", fe)
	}
	bad := map[string]bool{}
	for _, fe := range errs {
		bad[fe.File] = true
	}
	summary := fmt.Errorf("%d of %d messages have problems (%d in all); nothing was sent", len(bad), len(files), len(errs))
	if errs.Envelope() {
		return nil, usageErr(summary, "each file must hold one EMG envelope {\"Task\": {…, \"Resource\": \"WorkVisit\", \"Body\": {…}}, \"Signature\": …}")
	}
	fmt.Fprintf(e.stderr, "wvbatch: %v\nhint: fix the fields named above and submit the messages again\n", summary)
	return nil, errRowsFailed
}

// readLimited reads at most n bytes of a file: enough to tell that a
// message is too large without reading all of it.
func readLimited(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// messagesRunID names the run of a batch of messages: the same Create
// messages to the same endpoint give the same run, which resumes.
func messagesRunID(msgs []*loadedMessage, endpoint string) string {
	h := sha256.New()
	h.Write([]byte("emg\x00" + endpoint + "\x00"))
	for _, m := range msgs {
		if m.msg.Kind == emg.KindCreate {
			h.Write(m.raw)
			h.Write([]byte{0})
		}
	}
	return "e" + hex.EncodeToString(h.Sum(nil))[:15]
}

// submitCreates records the Create messages as one run, one order per
// message, and submits it as a roster's run is submitted (or resumes it).
// The run's row for an order is the message's position among the messages.
func submitCreates(ctx context.Context, e *env, st *queue.Store, o submitOptions, conn *apiConn, runID string,
	creates []*loadedMessage, args []string) error {
	if run, err := st.Run(runID); err == nil {
		fmt.Fprintf(e.stdout, "the same Create messages as run %s (%s): resuming it; nothing is ordered twice\n",
			run.ID, run.CreatedAt.Local().Format("2006-01-02 15:04"))
		if run.Orders[queue.Planned]+run.Orders[queue.Sending] == 0 {
			return finishRun(e, st, run.ID, o.run, nil)
		}
		return executeRun(ctx, e, st, run, o.run, conn, nil)
	} else if !errors.Is(err, queue.ErrNotFound) {
		return err
	}
	settings, err := json.Marshal(submit.Settings{Endpoint: conn.endpointName(), Now: o.roster.now})
	if err != nil {
		return err
	}
	run := queue.Run{ID: runID, File: abs(args[0]), Settings: settings}
	var specs []queue.OrderSpec
	for _, m := range creates {
		c := m.msg.Create
		ref := m.msg.Reference()
		body, err := json.Marshal(m.msg.Request(ref))
		if err != nil {
			return err
		}
		cages := c.Cages()
		spec := queue.OrderSpec{Key: m.msg.ID, Reference: ref, IBX: c.IBX(), Cage: cages[0].ID, Cabinet: cages[0].CabinetID,
			Start: c.Start, End: c.End, Count: len(c.Visitors), Body: body, Rows: []int{m.n}}
		specs = append(specs, spec)
	}
	if _, err := st.CreateRun(run, specs, nil); err != nil {
		return err
	}
	run, err = st.Run(runID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "run %s recorded in %s: %d orders, one per Create message\n", run.ID, st.Path(), len(specs))
	return executeRun(ctx, e, st, run, o.run, conn, nil)
}

// fail records err as the message's outcome.
func fail(r *messageResult, err error) {
	r.Outcome, r.Error = "failed", err.Error()
	if ae, ok := errors.AsType[*equinix.APIError](err); ok {
		r.Hint = ae.Hint()
	}
}

// resolveOrder returns the order an Update or Cancel message names: its
// ServicerId, or the one order whose reference is its RequestorId. It
// returns "" with the failure recorded in r when there is no such order.
func resolveOrder(ctx context.Context, api submit.API, m *emg.Message, r *messageResult) string {
	orderID, ref := m.Order()
	r.Reference = ref
	if orderID != "" {
		r.OrderID = orderID
		return orderID
	}
	found, err := api.Client.SearchOrdersByReference(ctx, ref)
	switch {
	case err != nil:
		fail(r, fmt.Errorf("find the order with RequestorId %q: %w", ref, err))
		return ""
	case len(found) == 0:
		r.Outcome, r.Error = "failed", fmt.Sprintf("no work visit order has the reference (RequestorId) %q", ref)
		r.Hint = "give the order's ServicerId (e.g. 1-199912345789), or check the RequestorId"
		return ""
	case len(found) > 1:
		ids := make([]string, len(found))
		for i, f := range found {
			ids[i] = f.OrderNumber
		}
		r.Outcome, r.Error = "failed", fmt.Sprintf("%d orders have the reference %q: %s", len(found), ref, strings.Join(ids, ", "))
		r.Hint = "give the order's ServicerId to say which"
		return ""
	}
	r.OrderID = found[0].OrderNumber
	return r.OrderID
}

// recordPlaced records the orders that Update and Cancel messages name but
// that no run in the store placed as a run of their own, each submitted
// already under its order id, with the window and options Equinix gives
// it now; their changes then go through the store as the changes of any
// run's orders do. The run's id comes from those messages and the endpoint,
// so sending the same messages again finds it. An order that cannot be
// read is failed in its message's result (and its id cleared).
func recordPlaced(ctx context.Context, e *env, st *queue.Store, api submit.API, endpoint, file string,
	msgs []*loadedMessage, orderIDs []string, results []messageResult) error {
	var placed []queue.PlacedOrder
	index := map[string]int{}
	h := sha256.New()
	h.Write([]byte("emg-placed\x00" + endpoint + "\x00"))
	for i, m := range msgs {
		id := orderIDs[i]
		if id == "" {
			continue
		}
		if _, _, ok := storedOrder(st, id); ok {
			continue
		}
		if j, ok := index[id]; ok {
			placed[j].Rows = append(placed[j].Rows, m.n)
			h.Write(m.raw)
			h.Write([]byte{0})
			continue
		}
		o, err := api.Client.GetOrder(ctx, id)
		if err != nil {
			fail(&results[i], fmt.Errorf("read order %s: %w", id, err))
			orderIDs[i] = ""
			continue
		}
		p, err := placedOrder(id, o)
		if err != nil {
			return err
		}
		p.Rows = []int{m.n}
		index[id] = len(placed)
		placed = append(placed, p)
		h.Write(m.raw)
		h.Write([]byte{0})
	}
	if len(placed) == 0 {
		return nil
	}
	run := queue.Run{ID: "e" + hex.EncodeToString(h.Sum(nil))[:15], File: file}
	created, err := st.CreatePlacedRun(run, placed)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(e.stdout, "run %s recorded in %s: %d orders placed outside wvbatch, for the Update and Cancel messages that name them\n",
			run.ID, st.Path(), len(placed))
	}
	return nil
}

// placedOrder is what the store records of an order placed outside
// wvbatch: its window, and its open-cabinet flag and notification contacts
// in the shape of a create request, as Equinix gives them now.
func placedOrder(id string, o *equinix.Order) (queue.PlacedOrder, error) {
	now := submit.OrderNow(o)
	p := queue.PlacedOrder{Key: id, OrderID: id, Reference: o.CustomerReferenceID}
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
func sendChange(ctx context.Context, st *queue.Store, api submit.API, cfg queue.AmendConfig, now time.Time, m *emg.Message, orderID string, r *messageResult) {
	runID, od, ok := storedOrder(st, orderID)
	if !ok {
		r.Outcome, r.Error = "failed", fmt.Sprintf("order %s is not recorded in the store", orderID)
		return
	}
	switch m.Kind {
	case emg.KindUpdate:
		amendStored(ctx, st, api, cfg, now, runID, od, m, r)
	case emg.KindCancel:
		cancelStored(ctx, st, api, cfg.RunConfig, runID, od, m, r)
	}
}

// cancelStored cancels an order a run in the store holds through the run's
// cancel path: recorded as cancelling before the cancel is asked for, and
// not asked again once it is recorded cancelled.
func cancelStored(ctx context.Context, st *queue.Store, api submit.API, cfg queue.RunConfig, runID string, od queue.Order, m *emg.Message, r *messageResult) {
	if od.State == queue.Cancelled {
		r.Outcome = "already-cancelled"
		r.Notes = append(r.Notes, fmt.Sprintf("recorded cancelled in run %s", runID))
		return
	}
	got, err := queue.CancelOrder(ctx, st, runID, od.Key, api, m.Cancel.Reason(), cfg)
	switch {
	case err != nil:
		fail(r, err)
	case got.State == queue.Cancelled:
		r.Outcome = "cancelled"
		r.Notes = append(r.Notes, fmt.Sprintf("recorded cancelled in run %s", runID))
	default:
		// Refused: an order cancelled already (elsewhere) is recorded so.
		if o, gerr := api.Client.GetOrder(ctx, od.OrderID); gerr == nil && o.Status == equinix.StatusCancelled {
			r.Outcome = "already-cancelled"
			if err := st.MarkCancelling(runID, od.Key); err == nil {
				if err := st.MarkCancelled(runID, od.Key); err != nil {
					fail(r, err)
				}
			}
			return
		}
		if got.LastError != nil {
			r.Outcome, r.Error, r.Hint = "failed", got.LastError.Error(), got.LastError.Hint
			return
		}
		r.Outcome, r.Error = "failed", fmt.Sprintf("order %s is %s", od.OrderID, got.State)
	}
}

// storedOrder finds the order orderID among the store's runs.
func storedOrder(st *queue.Store, orderID string) (string, queue.Order, bool) {
	runID, o, found, err := st.FindOrder(orderID)
	return runID, o, found && err == nil
}

// amendStored applies an Update message to an order a run in the store
// placed, as an amendment of that order: recorded before it is sent, read
// back if its answer is lost, and the store's window follows.
func amendStored(ctx context.Context, st *queue.Store, api submit.API, cfg queue.AmendConfig, now time.Time, runID string, od queue.Order, m *emg.Message, r *messageResult) {
	u := m.Update
	req := queue.AmendRequest{OpenCabinet: u.OpenCabinet, Keys: []string{od.Key}}
	if u.Start != nil || u.End != nil {
		req.Start, req.End = od.Start, od.End
		if u.Start != nil {
			req.Start = *u.Start
		}
		if u.End != nil {
			req.End = *u.End
		}
	}
	a, found, err := st.FindAmendment(runID, req)
	if err == nil && !found {
		if od.State == queue.Cancelled || od.State == queue.Cancelling {
			r.Outcome, r.Error = "failed", fmt.Sprintf("order %s is %s (recorded in run %s): a cancelled order cannot be changed", od.OrderID, od.State, runID)
			return
		}
		a, _, err = st.CreateAmendment(runID, req, now, false)
	}
	if err == nil && a.State != queue.AmendDone {
		_, err = queue.Amend(ctx, st, runID, a.N, api, cfg)
	}
	if err != nil {
		r.Outcome, r.Error = "failed", err.Error()
		if errors.Is(err, queue.ErrAmendUnfinished) {
			r.Hint = "send the message again once the run's other amendment is finished (wvbatch amend " + runID + ")"
		}
		return
	}
	aos, err := st.AmendOrders(runID, a.N)
	if err != nil || len(aos) != 1 {
		r.Outcome, r.Error = "failed", fmt.Sprintf("amendment %d of run %s: %v", a.N, runID, err)
		return
	}
	switch ao := aos[0]; ao.State {
	case queue.AmendApplied, queue.AmendUnchanged:
		r.Outcome = "updated"
		r.Notes = append(r.Notes, fmt.Sprintf("recorded as amendment %d of run %s (%s)", a.N, runID, ao.State))
	default:
		r.Outcome, r.Error = "failed", strings.TrimSpace(ao.Note)
		if ao.Error != nil {
			r.Error = strings.TrimSpace(r.Error + " " + ao.Error.Error())
			r.Hint = ao.Error.Hint
		}
	}
}

func printMessagePlan(w io.Writer, msgs []*loadedMessage) {
	n := map[emg.Kind]int{}
	unverified := 0
	for _, m := range msgs {
		n[m.msg.Kind]++
		if m.msg.Signature != "unsigned" {
			unverified++
		}
	}
	fmt.Fprintf(w, "%d EMG messages: %d Create, %d Update, %d Cancel\n", len(msgs), n[emg.KindCreate], n[emg.KindUpdate], n[emg.KindCancel])
	if unverified > 0 || len(msgs) > unverified {
		fmt.Fprintf(w, "signatures: %d not verified, %d unsigned; both ignored (wvbatch holds no EMG key, and the REST API needs no signature)\n",
			unverified, len(msgs)-unverified)
	}
	for _, m := range msgs {
		for _, note := range m.msg.Notes {
			fmt.Fprintf(w, "  note: %s (message %s): %s\n", m.msg.File, m.msg.ID, note)
		}
	}
}

func printMessageResults(w io.Writer, results []messageResult) {
	fmt.Fprintln(w, "messages:")
	for _, r := range results {
		id := r.OrderID
		if id == "" {
			id = "-"
		}
		fmt.Fprintf(w, "  %-36s %-6s %-17s %-16s %s\n", r.ID, r.Verb, r.Outcome, id, filepath.Base(r.File))
		if r.Error != "" {
			fmt.Fprintf(w, "      %s\n", r.Error)
			if r.Hint != "" {
				fmt.Fprintf(w, "      fix: %s\n", r.Hint)
			}
		}
	}
}

func writeMessageResults(dir string, results []messageResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report folder: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "messages.json"))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	err = writeJSON(f, results)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
