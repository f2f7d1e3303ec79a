package equinix

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func sampleRequest() *WorkVisitRequest {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	return &WorkVisitRequest{
		Description:         "Monthly routine check of AM1 cage",
		CustomerReferenceID: "wv-ref-0001",
		Details: WorkVisitDetails{
			Cages:              []CageRef{{ID: "AM1:01:000111", AccountNumber: "1234567890", CabinetID: "AM1:01:000111:0101"}},
			VisitStartDateTime: time.Date(2026, 3, 10, 9, 0, 0, 0, ams),
			VisitEndDateTime:   time.Date(2026, 3, 10, 17, 30, 0, 0, ams),
			Visitors: []Visitor{
				{RegisteredUsers: []string{"john_doe1"}},
				{FirstName: "Jane", LastName: "Roe", CompanyName: "Acme BV", Details: []ContactDetail{
					{Type: DetailEmail, Value: "jane@acme.test"}, {Type: DetailMobile, Value: "+31 6 1234 5678"},
				}},
			},
		},
	}
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %s", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}
}

func TestCreateWorkVisitBody(t *testing.T) {
	t.Parallel()
	full := sampleRequest()
	full.PurchaseOrder = &PurchaseOrder{Type: PurchaseOrderExisting, Number: "1091238010"}
	full.Contacts = []Contact{{Type: ContactNotification, RegisteredUsers: []string{"john_doe1"}, Availability: AvailabilityWorkHours, Timezone: "Europe/Amsterdam"}}
	full.Details.OpenCabinet = true
	tests := []struct {
		name string
		req  *WorkVisitRequest
		want string
	}{
		{
			name: "minimal", req: sampleRequest(),
			want: `{"description":"Monthly routine check of AM1 cage","customerReferenceId":"wv-ref-0001","details":{
				"cages":[{"id":"AM1:01:000111","accountNumber":"1234567890","cabinetId":"AM1:01:000111:0101"}],
				"visitStartDateTime":"2026-03-10T08:00:00Z","visitEndDateTime":"2026-03-10T16:30:00Z","openCabinet":false,
				"visitors":[{"registeredUsers":["john_doe1"]},{"firstName":"Jane","lastName":"Roe","companyName":"Acme BV",
				"details":[{"type":"EMAIL","value":"jane@acme.test"},{"type":"MOBILE","value":"+31 6 1234 5678"}]}]}}`,
		},
		{
			name: "with purchase order and contacts", req: full,
			want: `{"description":"Monthly routine check of AM1 cage","customerReferenceId":"wv-ref-0001",
				"purchaseOrder":{"type":"EXISTING","number":"1091238010"},
				"contacts":[{"type":"NOTIFICATION","registeredUsers":["john_doe1"],"availability":"WORK_HOURS","timezone":"Europe/Amsterdam"}],
				"details":{"cages":[{"id":"AM1:01:000111","accountNumber":"1234567890","cabinetId":"AM1:01:000111:0101"}],
				"visitStartDateTime":"2026-03-10T08:00:00Z","visitEndDateTime":"2026-03-10T16:30:00Z","openCabinet":true,
				"visitors":[{"registeredUsers":["john_doe1"]},{"firstName":"Jane","lastName":"Roe","companyName":"Acme BV",
				"details":[{"type":"EMAIL","value":"jane@acme.test"},{"type":"MOBILE","value":"+31 6 1234 5678"}]}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("POST /colocations/v2/orders/workVisits", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/orders/1-23232322")
				w.WriteHeader(http.StatusCreated)
			})
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			id, err := c.CreateWorkVisit(t.Context(), tt.req)
			if err != nil || id != "1-23232322" {
				t.Fatalf("CreateWorkVisit = %q, %v", id, err)
			}
			jsonEqual(t, f.body("POST /colocations/v2/orders/workVisits"), tt.want)
		})
	}
}

func TestCreateWorkVisitRejected(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("POST /colocations/v2/orders/workVisits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, `[{"errorCode":"EQ-2016006","errorMessage":"Permission denied to create. Please ensure you have appropriate permissions.",
			"correlationId":"210407001942756","additionalInfo":[{"property":"details.cages[]",
			"reason":"details.cages[].id or details.cages[].cabinetId or details.cages[].accountNumber is not found","value":[{"id":"AM1:01:000111"}]},
			{"property":"details.visitors[1].firstName","reason":"details.visitors[1].firstName is required"}]}]`)
	})
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	_, err := c.CreateWorkVisit(t.Context(), sampleRequest())
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if ae.Status != 403 || ae.Code != "EQ-2016006" || ae.CorrelationID != "210407001942756" || len(ae.Problems) != 2 {
		t.Fatalf("APIError = %+v", ae)
	}
	if ae.Problems[0].Value != `[{"id":"AM1:01:000111"}]` {
		t.Errorf("problem value = %q", ae.Problems[0].Value)
	}
	if i, ok := VisitorIndex(ae.Problems[1].Property); !ok || i != 1 {
		t.Errorf("VisitorIndex(%q) = %d, %v", ae.Problems[1].Property, i, ok)
	}
	if IsRetryable(err) || IsUncertain(err) || f.count("POST /colocations/v2/orders/workVisits") != 1 {
		t.Errorf("a refused create was retried or called retryable: %v", err)
	}
}

func TestCreateWorkVisitChecksRequest(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, Config{Token: "t", Endpoint: "http://127.0.0.1:1"})
	empty := sampleRequest()
	empty.Details.Visitors = nil
	for name, req := range map[string]*WorkVisitRequest{"nil": nil, "no visitors": empty} {
		if _, err := c.CreateWorkVisit(t.Context(), req); err == nil || IsUncertain(err) {
			t.Errorf("%s: err = %v, want a plain error", name, err)
		}
	}
}

func TestOrderIDFromLocation(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/orders/1-23232322":                                "1-23232322",
		"/orders/1-23232322/":                               "1-23232322",
		"https://api.equinix.com/colocations/v2/orders/1-9": "1-9",
		"":         "",
		"/orders/": "",
		"/":        "",
	} {
		if got := orderIDFromLocation(in); got != want {
			t.Errorf("orderIDFromLocation(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUpdateWorkVisit(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 11, 9, 0, 0, 0, time.FixedZone("EST", -5*3600))
	yes := true
	tests := []struct {
		name    string
		update  *WorkVisitUpdate
		want    string // body; empty: refused before sending
		wantErr string
	}{
		{name: "start only", update: &WorkVisitUpdate{VisitStartDateTime: &start}, want: `{"details":{"visitStartDateTime":"2026-03-11T14:00:00Z"}}`},
		{
			name:   "all",
			update: &WorkVisitUpdate{VisitStartDateTime: &start, VisitEndDateTime: &start, OpenCabinet: &yes, NotificationContacts: []Contact{{RegisteredUsers: []string{"john_doe1"}}}},
			want: `{"contacts":[{"type":"NOTIFICATION","registeredUsers":["john_doe1"]}],
				"details":{"visitStartDateTime":"2026-03-11T14:00:00Z","visitEndDateTime":"2026-03-11T14:00:00Z","openCabinet":true}}`,
		},
		{name: "nothing", update: &WorkVisitUpdate{}, wantErr: "nothing to change"},
		{name: "nil", update: nil, wantErr: "nothing to change"},
		{name: "two contacts", update: &WorkVisitUpdate{NotificationContacts: make([]Contact, 2)}, wantErr: "at most one"},
		{name: "technical contact", update: &WorkVisitUpdate{NotificationContacts: []Contact{{Type: ContactTechnical}}}, wantErr: "NOTIFICATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("PATCH /colocations/v2/orders/workVisits/{id}", failing(1, status(503, ""), func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("id") != "1-77" {
					t.Errorf("order id %q", r.PathValue("id"))
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			err := c.UpdateWorkVisit(t.Context(), "1-77", tt.update)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if n := f.count("PATCH /colocations/v2/orders/workVisits/1-77"); n != 0 {
					t.Errorf("%d requests sent for a bad update", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := f.count("PATCH /colocations/v2/orders/workVisits/1-77"); n != 2 {
				t.Errorf("requests = %d, want 2 (503, then repeated)", n)
			}
			jsonEqual(t, f.body("PATCH /colocations/v2/orders/workVisits/1-77"), tt.want)
		})
	}
}

func TestCancelOrder(t *testing.T) {
	t.Parallel()
	refuse := status(403, "")
	refused2016007 := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, `[{"errorCode":"EQ-2016007","errorMessage":"Permission denied to update or cancel."}]`)
	}
	accepted := func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || len(b) != 1 || b["reason"] != "Visit no longer needed" {
			t.Errorf("cancel body = %v (%v), want only the reason", b, err)
		}
		w.WriteHeader(http.StatusAccepted)
	}
	tests := []struct {
		name        string
		reason      string
		cancel      http.HandlerFunc
		orderStatus OrderStatus
		wantCalls   int
		wantErr     string
	}{
		{name: "accepted", reason: "Visit no longer needed", cancel: accepted, wantCalls: 1},
		{name: "no content", reason: "Visit no longer needed", cancel: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, wantCalls: 1},
		{name: "reason too short", reason: " abc ", wantErr: "5 to 4000", wantCalls: 0},
		{name: "reason too long", reason: strings.Repeat("x", 4001), wantErr: "5 to 4000", wantCalls: 0},
		{name: "refused", reason: "Visit no longer needed", cancel: refuse, wantErr: "HTTP 403", wantCalls: 1},
		{
			name: "answer lost, then refused, order cancelled", reason: "Visit no longer needed",
			cancel: failing(1, func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) }, refused2016007), orderStatus: StatusCancelled, wantCalls: 2,
		},
		{
			name: "answer lost, then refused, order open", reason: "Visit no longer needed",
			cancel: failing(1, func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) }, refused2016007), orderStatus: StatusInProgress,
			wantErr: "EQ-2016007", wantCalls: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			if tt.cancel != nil {
				f.handle("POST /colocations/v2/orders/{id}/cancel", tt.cancel)
			}
			f.handle("GET /colocations/v2/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, orderJSON(r.PathValue("id"), tt.orderStatus))
			})
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			err := c.CancelOrder(t.Context(), "1-88", tt.reason)
			if n := f.count("POST /colocations/v2/orders/1-88/cancel"); n != tt.wantCalls {
				t.Errorf("cancel requests = %d, want %d", n, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestGetOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		handler      http.HandlerFunc
		want         *Order
		wantNotFound bool
	}{
		{
			name:    "object",
			handler: func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, orderJSON("1-5", StatusOnHold)) },
			want: &Order{
				OrderID: "1-5", AccountNumber: "1234567890", AccountName: "Acme", Status: StatusOnHold, CustomerReferenceID: "wv-ref-0001",
				Cancellable: true, Modifiable: true, CreatedDateTime: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
				Details: []OrderLine{{LineID: "1-LINE1", ProductType: "WORK_VISIT", IBX: "AM1", Cage: "AM1:01:000111",
					Cabinets: []string{"AM1:01:000111:0101"}, Status: "Open", Description: "Work visit AM1"}},
			},
		},
		{
			name: "array of one, as the published example",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(offSpec, "the published example is an array, its schema an object")
				writeJSON(w, 200, `[{"orderId":"1-5","status":"CLOSED","createdDateTime":"not a time"}]`)
			},
			want: &Order{OrderID: "1-5", Status: StatusClosed},
		},
		{name: "404", handler: status(404, ""), wantNotFound: true},
		{
			name: "EQ-2014005",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 403, `[{"errorCode":"EQ-2014005","errorMessage":"Unable to access or locate given order."}]`)
			},
			wantNotFound: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("GET /colocations/v2/orders/{id}", tt.handler)
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			got, err := c.GetOrder(t.Context(), "1-5")
			if tt.wantNotFound {
				if !IsNotFound(err) || !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v, want IsNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GetOrder =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestSearchOrdersByReference(t *testing.T) {
	t.Parallel()
	const total = 450 // three pages of 200
	f := newFakeAPI(t)
	var pages atomic.Int32
	f.handle("POST /v1/retrieve-orders", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Filters struct {
				ProductTypes []string `json:"productTypes"`
			} `json:"filters"`
			Source []string `json:"source"`
			Q      string   `json:"q"`
			Page   struct{ Number, Size int }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		if !reflect.DeepEqual(req.Filters.ProductTypes, []string{"WORK_VISIT"}) || !reflect.DeepEqual(req.Source, []string{"CUSTOMER_REFERENCE_NUMBER"}) ||
			req.Q != "wv-ref-1" || req.Page.Size != 200 || req.Page.Number != int(pages.Load()) {
			t.Errorf("search request = %+v (page %d expected)", req, pages.Load())
		}
		pages.Add(1)
		var content []map[string]any
		for i := req.Page.Number * 200; i < min(total, (req.Page.Number+1)*200); i++ {
			ref := "wv-ref-1" + strings.Repeat("0", i%3) // partial matches: wv-ref-1, wv-ref-10, wv-ref-100
			content = append(content, map[string]any{
				"orderNumber": "1-" + strings.Repeat("9", 3) + string(rune('0'+i%10)), "orderStatus": "SUBMITTED",
				"type": []string{"Work Visit"}, "ibx": []string{"AM1"}, "customerReferenceNumbers": []string{ref},
				"createdAt": "2026-03-01T10:00:00Z", "submittedDate": "2026-03-01T10:00:00Z",
			})
		}
		b, _ := json.Marshal(map[string]any{"content": content, "page": map[string]any{
			"size": 200, "totalElements": total, "totalPages": 3, "number": req.Page.Number,
		}})
		writeJSON(w, 200, string(b))
	})
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	got, err := c.SearchOrdersByReference(t.Context(), "wv-ref-1")
	if err != nil {
		t.Fatal(err)
	}
	if pages.Load() != 3 {
		t.Errorf("pages read = %d, want 3", pages.Load())
	}
	if len(got) != 150 {
		t.Errorf("found %d orders, want the 150 whose reference is exactly wv-ref-1", len(got))
	}
	for _, o := range got {
		if o.CustomerReferenceNumbers[0] != "wv-ref-1" || o.CreatedAt.IsZero() || o.Status != "SUBMITTED" {
			t.Fatalf("unexpected summary %+v", o)
		}
	}
}

func TestSearchStopsOnShortPage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("POST /v1/retrieve-orders", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"content":[{"orderNumber":"1-1","customerReferenceNumbers":["R-1"],"submittedDate":"x"}]}`)
	})
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	got, err := c.SearchOrdersByReference(t.Context(), "R-1")
	if err != nil || len(got) != 1 || f.count("POST /v1/retrieve-orders") != 1 {
		t.Fatalf("got %v, %v after %d requests", got, err, f.count("POST /v1/retrieve-orders"))
	}
}

func TestSearchReadsStringCounts(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("POST /v1/retrieve-orders", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(offSpec, "totalPages as a string, as the published example writes it")
		writeJSON(w, 200, `{"content":[{"orderNumber":"1-1","customerReferenceNumbers":["R-1"]}],"page":{"totalPages":"2","size":"200"}}`)
	})
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	got, err := c.SearchOrdersByReference(t.Context(), "R-1")
	if err != nil || len(got) != 2 || f.count("POST /v1/retrieve-orders") != 2 {
		t.Fatalf("got %d orders, %v after %d requests; want 2 pages read", len(got), err, f.count("POST /v1/retrieve-orders"))
	}
}

func TestRedirectIsReported(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("POST /colocations/v2/orders/workVisits", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.test/orders", http.StatusMovedPermanently)
	})
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	_, err := c.CreateWorkVisit(t.Context(), sampleRequest())
	if err == nil || !strings.Contains(err.Error(), "redirect") || !strings.Contains(err.Error(), EnvEndpoint) || IsUncertain(err) {
		t.Fatalf("err = %v, want a certain error about the redirect and %s", err, EnvEndpoint)
	}
	if n := f.count("POST /colocations/v2/orders/workVisits"); n != 1 {
		t.Errorf("create requests = %d, want 1", n)
	}
}
