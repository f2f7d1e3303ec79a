package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// getOrder reads an order back as a client would.
func (e *env) getOrder(id string) (answer, orderAnswer) {
	e.t.Helper()
	a := e.do("GET", "/colocations/v2/orders/"+id, nil, e.login())
	var o orderAnswer
	if a.status == 200 {
		mustUnmarshal(e.t, a.body, &o)
	}
	return a, o
}

func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	id := e.mustCreate(visitBody())

	a, o := e.getOrder(id)
	if a.status != 200 {
		t.Fatalf("get: %d %s", a.status, a)
	}
	if o.OrderID != id || o.Status != StatusReceived || !o.Cancellable || !o.Modifiable ||
		o.CustomerReferenceID != "WV-2027-0001" || o.AccountNumber != "100001" || o.AccountName != "Acme Amsterdam" {
		t.Fatalf("order %+v", o)
	}
	if len(o.Details) != 1 || o.Details[0].ProductType != "WORK_VISIT" || o.Details[0].IBX != "AM1" ||
		o.Details[0].Cage != "AM1:01:000111" || strings.Join(o.Details[0].Cabinets, ",") != "AM1:01:000111:0101" {
		t.Fatalf("details %+v", o.Details)
	}
	info := map[string]string{}
	for _, kv := range o.Details[0].AdditionalInfo {
		info[kv.Key] = kv.Value
	}
	if info["VISIT_START_DATE_TIME"] != "2027-01-05T08:00:00Z" || info["VISIT_END_DATE_TIME"] != "2027-01-05T17:00:00Z" || info["VISITORS"] != "2" {
		t.Fatalf("visit window %v", info)
	}
	var types []string
	for _, c := range o.Contacts {
		types = append(types, c.Type+":"+c.RegisteredUser)
	}
	if got := strings.Join(types, " "); got != "ORDERING:sandbox.orderer TECHNICAL:facilities.lead NOTIFICATION:sandbox.orderer NOTIFICATION:noc.amsterdam" {
		t.Fatalf("contacts %s", got)
	}

	// Patch the allowed fields.
	patch := map[string]any{
		"contacts": []any{map[string]any{"type": "NOTIFICATION", "registeredUsers": []any{"jdoe1234"}}},
		"details":  map[string]any{"visitStartDateTime": "2027-01-06T08:00:00Z", "visitEndDateTime": "2027-01-06T12:00:00Z", "openCabinet": true},
	}
	if a := e.do("PATCH", "/colocations/v2/orders/workVisits/"+id, patch, e.login()); a.status != http.StatusNoContent {
		t.Fatalf("patch: %d %s", a.status, a)
	}
	got := e.srv.Orders()[0]
	if !got.VisitStart.Equal(time.Date(2027, 1, 6, 8, 0, 0, 0, time.UTC)) || !got.OpenCabinet ||
		strings.Join(got.NotificationUsers, ",") != "jdoe1234" || len(got.Patches) != 1 {
		t.Fatalf("after patch %+v", got)
	}

	// Cancel, then cancel again, patch again and read back.
	if a := e.do("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "Visit no longer needed"}, e.login()); a.status != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", a.status, a)
	}
	_, o = e.getOrder(id)
	if o.Status != StatusCancelled || o.Cancellable || o.Modifiable || o.ClosedDateTime == "" {
		t.Fatalf("after cancel %+v", o)
	}
	wantError(t, e.do("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "Again please"}, e.login()),
		http.StatusForbidden, CodeCannotCancel)
	wantError(t, e.do("PATCH", "/colocations/v2/orders/workVisits/"+id, map[string]any{"details": map[string]any{"openCabinet": false}}, e.login()),
		http.StatusForbidden, CodeCannotUpdate)
	if got := e.srv.Orders()[0]; got.CancelReason != "Visit no longer needed" || got.Status != StatusCancelled {
		t.Fatalf("stored %+v", got)
	}
}

func TestOrderUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"get", "GET", "/colocations/v2/orders/1-999", nil},
		{"get malformed id", "GET", "/colocations/v2/orders/abc", nil},
		{"cancel", "POST", "/colocations/v2/orders/1-999/cancel", map[string]string{"reason": "not needed"}},
		{"patch", "PATCH", "/colocations/v2/orders/workVisits/1-999", map[string]any{"details": map[string]any{"openCabinet": true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, e.do(tc.method, tc.path, tc.body, e.login()), http.StatusNotFound, CodeOrderNotFound)
		})
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		prop   string
	}{
		{"end only", map[string]any{"details": map[string]any{"visitEndDateTime": "2027-01-05T18:00:00Z"}}, 204, "", ""},
		{"open cabinet only", map[string]any{"details": map[string]any{"openCabinet": true}}, 204, "", ""},
		{"description", map[string]any{"description": "A new description here"}, 400, CodeMissingProperties, "description"},
		{"visitors", map[string]any{"details": map[string]any{"visitors": []any{}}}, 400, CodeMissingProperties, "details.visitors"},
		{"cages", map[string]any{"details": map[string]any{"cages": []any{}}}, 400, CodeMissingProperties, "details.cages"},
		{"reference", map[string]any{"customerReferenceId": "X-1"}, 400, CodeMissingProperties, "customerReferenceId"},
		{"technical contact", map[string]any{"contacts": []any{map[string]any{"type": "TECHNICAL", "registeredUsers": []any{"facilities.lead"}}}},
			400, CodeMissingProperties, "contacts[0].type"},
		{"two contacts", map[string]any{"contacts": []any{
			map[string]any{"type": "NOTIFICATION", "registeredUsers": []any{"noc.amsterdam"}},
			map[string]any{"type": "NOTIFICATION", "registeredUsers": []any{"facilities.lead"}},
		}}, 400, CodeMissingProperties, "contacts"},
		{"contact without type", map[string]any{"contacts": []any{map[string]any{"registeredUsers": []any{"noc.amsterdam"}}}},
			400, CodeMissingProperties, "contacts[0].type"},
		{"terminated notification contact", map[string]any{"contacts": []any{map[string]any{"type": "NOTIFICATION", "registeredUsers": []any{"former.employee"}}}},
			403, CodeUserNotActive, "contacts[0].registeredUsers[0]"},
		{"end before start", map[string]any{"details": map[string]any{"visitEndDateTime": "2027-01-05T07:00:00Z"}}, 400, CodeMissingProperties, "details.visitEndDateTime"},
		{"longer than 14 days", map[string]any{"details": map[string]any{"visitEndDateTime": "2027-01-20T07:00:00Z"}}, 400, CodeMissingProperties, "details.visitEndDateTime"},
		{"start in the past", map[string]any{"details": map[string]any{"visitStartDateTime": "2027-01-04T08:00:00Z"}}, 400, CodeMissingProperties, "details.visitStartDateTime"},
		{"start not UTC", map[string]any{"details": map[string]any{"visitStartDateTime": "2027-01-05T09:00:00+01:00"}}, 400, CodeMissingProperties, "details.visitStartDateTime"},
		{"nothing", map[string]any{}, 400, CodeMissingProperties, "details"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			id := e.mustCreate(visitBody())
			a := e.do("PATCH", "/colocations/v2/orders/workVisits/"+id, tc.body, e.login())
			if tc.status == 204 {
				if a.status != 204 {
					t.Fatalf("status %d: %s", a.status, a)
				}
				if n := len(e.srv.Orders()[0].Patches); n != 1 {
					t.Fatalf("%d patches recorded", n)
				}
				return
			}
			wantError(t, a, tc.status, tc.code, tc.prop)
			if n := len(e.srv.Orders()[0].Patches); n != 0 {
				t.Fatalf("refused patch recorded")
			}
		})
	}
}

func TestClosedOrders(t *testing.T) {
	t.Parallel()
	t.Run("visit ended", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		id := e.mustCreate(visitBody())
		e.clock.Advance(48 * time.Hour) // after the visit's end
		e.mu.Lock()
		e.token = "" // the token has expired too
		e.mu.Unlock()
		if _, o := e.getOrder(id); o.Status != StatusClosed || o.Cancellable {
			t.Fatalf("order after its visit: %+v", o)
		}
		wantError(t, e.do("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "too late now"}, e.login()),
			http.StatusForbidden, CodeCannotCancel)
		wantError(t, e.do("PATCH", "/colocations/v2/orders/workVisits/"+id, map[string]any{"details": map[string]any{"openCabinet": true}}, e.login()),
			http.StatusForbidden, CodeCannotUpdate)
	})
	t.Run("set by staff", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		id := e.mustCreate(visitBody())
		if err := e.srv.SetOrderStatus(id, StatusClosed); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.do("PATCH", "/colocations/v2/orders/workVisits/"+id, map[string]any{"details": map[string]any{"openCabinet": true}}, e.login()),
			http.StatusForbidden, CodeCannotUpdate)
		if err := e.srv.SetOrderStatus(id, "DONE"); err == nil {
			t.Fatal("SetOrderStatus accepted DONE")
		}
	})
}

func TestCancelReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body any
	}{
		{"missing", map[string]any{}},
		{"short", map[string]string{"reason": "no"}},
		{"long", map[string]string{"reason": strings.Repeat("r", 4001)}},
		{"not a string", map[string]any{"reason": 12345}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			id := e.mustCreate(visitBody())
			wantError(t, e.do("POST", "/colocations/v2/orders/"+id+"/cancel", tc.body, e.login()), 400, CodeMissingProperties, "reason")
			if st := e.srv.Orders()[0].Status; st != StatusReceived {
				t.Fatalf("status %s after a refused cancel", st)
			}
		})
	}
}

// search posts a retrieve-orders request.
func (e *env) search(req map[string]any) (answer, historyAnswer) {
	e.t.Helper()
	a := e.do("POST", "/v1/retrieve-orders", req, e.login())
	var h historyAnswer
	if a.status == 200 {
		mustUnmarshal(e.t, a.body, &h)
	}
	return a, h
}

func byReference(ref string, number, size int) map[string]any {
	return map[string]any{
		"filters": map[string]any{"productTypes": []string{"WORK_VISIT"}},
		"source":  []string{"CUSTOMER_REFERENCE_NUMBER"},
		"q":       ref,
		"page":    map[string]any{"number": number, "size": size},
	}
}

func TestRetrieveOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	var ids []string
	for i := range 5 {
		ids = append(ids, e.mustCreate(withRef("BATCH-7")))
		e.clock.Advance(time.Second)
		_ = i
	}
	other := e.mustCreate(withRef("BATCH-70"))
	e.mustCreate(withRef("UNRELATED"))

	tests := []struct {
		name      string
		req       map[string]any
		wantIDs   []string
		wantTotal int
		wantPages int
	}{
		{"first page newest first", byReference("BATCH-7", 0, 2), []string{other, ids[4]}, 6, 3},
		{"last page", byReference("BATCH-7", 2, 2), []string{ids[1], ids[0]}, 6, 3},
		{"beyond the last page", byReference("BATCH-7", 9, 2), nil, 6, 3},
		{"exact reference is in a part match", byReference("BATCH-70", 0, 200), []string{other}, 1, 1},
		{"case does not matter", byReference("unrelated", 0, 10), []string{e.srv.Orders()[6].ID}, 1, 1},
		{"no match", byReference("NOPE", 0, 10), nil, 0, 0},
		{"other product type", map[string]any{"filters": map[string]any{"productTypes": []string{"SMART_HANDS"}}}, nil, 0, 0},
		{"by order number", map[string]any{"source": []string{"ORDER_NUMBER"}, "q": ids[2]}, []string{ids[2]}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, h := e.search(tc.req)
			if a.status != 200 {
				t.Fatalf("%d %s", a.status, a)
			}
			var got []string
			for _, c := range h.Content {
				got = append(got, c.OrderNumber)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantIDs) || h.Page.TotalElements != tc.wantTotal || h.Page.TotalPages != tc.wantPages {
				t.Fatalf("got %v total %d pages %d, want %v total %d pages %d", got, h.Page.TotalElements, h.Page.TotalPages,
					tc.wantIDs, tc.wantTotal, tc.wantPages)
			}
		})
	}
	t.Run("header fields", func(t *testing.T) {
		t.Parallel()
		_, h := e.search(byReference("UNRELATED", 0, 10))
		c := h.Content[0]
		if c.OrderStatus != "SUBMITTED" || strings.Join(c.IBX, ",") != "AM1" || strings.Join(c.CustomerReferenceNumbers, ",") != "UNRELATED" ||
			c.Account == nil || c.Account.AccountNumber != "100001" || c.CreatedAt == "" {
			t.Fatalf("header %+v", c)
		}
	})
	t.Run("page size over 200", func(t *testing.T) {
		t.Parallel()
		a, _ := e.search(byReference("BATCH-7", 0, 201))
		var v1 struct {
			Errors []struct {
				Code    string   `json:"code"`
				Message string   `json:"message"`
				Fields  []string `json:"fields"`
			} `json:"errors"`
			TicketID string `json:"ticketId"`
		}
		mustUnmarshal(t, a.body, &v1)
		if a.status != 400 || len(v1.Errors) != 1 || v1.Errors[0].Fields[0] != "page.size" || v1.TicketID == "" {
			t.Fatalf("%d %s", a.status, a)
		}
	})
	t.Run("cancelled status", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, Config{})
		id := e.mustCreate(withRef("CANCEL-ME"))
		e.do("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "not needed"}, e.login())
		req := byReference("CANCEL-ME", 0, 10)
		req["filters"].(map[string]any)["orderStatus"] = []string{"CANCELLED"}
		if _, h := e.search(req); len(h.Content) != 1 || h.Content[0].OrderStatus != "CANCELLED" {
			t.Fatalf("%+v", h)
		}
	})
}

func TestSandboxOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	body := visitBody()
	id := e.mustCreate(body)
	e.do("PATCH", "/colocations/v2/orders/workVisits/"+id, map[string]any{"details": map[string]any{"openCabinet": true}}, e.login())
	e.do("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "Changed plans"}, e.login())

	a := e.do("GET", "/sandbox/orders", nil, "") // no token needed
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a)
	}
	var dump struct {
		Orders []struct {
			ID                  string          `json:"id"`
			CustomerReferenceID string          `json:"customerReferenceId"`
			Status              string          `json:"status"`
			Created             time.Time       `json:"createdDateTime"`
			CreateBody          json.RawMessage `json:"createBody"`
			CancelReason        string          `json:"cancelReason"`
			Patches             []struct {
				Body json.RawMessage `json:"body"`
			} `json:"patches"`
		} `json:"orders"`
	}
	mustUnmarshal(t, a.body, &dump)
	if len(dump.Orders) != 1 {
		t.Fatalf("%s", a)
	}
	o := dump.Orders[0]
	var sent map[string]any
	mustUnmarshal(t, o.CreateBody, &sent)
	if o.ID != id || o.CustomerReferenceID != "WV-2027-0001" || o.Status != StatusCancelled || !o.Created.Equal(t0) ||
		o.CancelReason != "Changed plans" || len(o.Patches) != 1 || !strings.Contains(string(o.Patches[0].Body), "openCabinet") ||
		fmt.Sprint(sent) != fmt.Sprint(body) {
		t.Fatalf("dump %s", a)
	}
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	wantError(t, e.do("GET", "/colocations/v2/nothing", nil, e.login()), 404, "404")
}

// TestWaitOrders: WaitOrders returns once the orders are there, without
// polling, and ends with its context.
func TestWaitOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := e.srv.WaitOrders(ctx, 1); err != context.DeadlineExceeded {
		t.Fatalf("WaitOrders with no orders = %v, want the context's deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.WaitOrders(t.Context(), 2) }()
	e.mustCreate(visitBody())
	one, stop := context.WithCancel(t.Context())
	stop()
	if err := e.srv.WaitOrders(one, 2); err != context.Canceled {
		t.Fatalf("WaitOrders(2) after one order = %v, want it to wait until its context ended", err)
	}
	e.mustCreate(visitBody())
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitOrders(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
}

// TestWaitForSeesCancels: WaitFor is told of every change, a cancel too,
// and returns once its condition holds.
func TestWaitForSeesCancels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	id := e.mustCreate(visitBody())
	looked := false
	cancelled := func(orders []Order) bool {
		if !looked { // the cancel comes once WaitFor has looked
			looked = true
			if a := e.do("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "not needed"}, e.login()); a.status != http.StatusNoContent {
				t.Fatalf("cancel: %d", a.status)
			}
			return false
		}
		return len(orders) == 1 && orders[0].Status == StatusCancelled
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.srv.WaitFor(ctx, cancelled); err != nil {
		t.Fatalf("WaitFor after a cancel: %v", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if err := e.srv.WaitFor(ctx, func([]Order) bool { return false }); err != context.Canceled {
		t.Fatalf("WaitFor with an ended context = %v", err)
	}
}
