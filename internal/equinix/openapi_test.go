package equinix

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/wvbatch/wvbatch/internal/equinix/spectest"
)

// TestSpecsLoad loads every published OpenAPI file. Their schemas are
// valid; some of their examples contradict their own schemas, which the
// validator is told to ignore. This test fails if that stops being true in
// either direction, so the exemption is never wider than needed.
func TestSpecsLoad(t *testing.T) {
	t.Parallel()
	dir := spectest.Dir(t)
	tests := []struct {
		file           string
		examplesBroken bool
	}{
		{file: "accesstoken-v1.yaml"},
		{file: "orders-v2.json", examplesBroken: true},       // "closingDate": "2020-08-25T00:00:00.000Z" for format date
		{file: "lookup-v2.json", examplesBroken: true},       // "example": "Standard" for enum [STANDARD]
		{file: "orderhistory-v1.json", examplesBroken: true}, // Swagger 2; "example": 136008 for a string
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			doc, err := spectest.Load(filepath.Join(dir, "openapi", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
				t.Fatalf("schema invalid: %v", err)
			}
			err = doc.Validate(context.Background())
			if (err != nil) != tt.examplesBroken {
				t.Errorf("validation with examples: %v; want broken examples = %v", err, tt.examplesBroken)
			}
		})
	}
}

// TestSpecValidatorCatches shows the fake's OpenAPI check rejects requests
// that break the published schemas, so a wrong request from the Client
// would fail the tests.
func TestSpecValidatorCatches(t *testing.T) {
	t.Parallel()
	sp := specs(t)
	tests := []struct {
		name, method, target, body string
		auth                       bool
		wantErr                    bool
	}{
		{name: "good token request", method: "POST", target: "/oauth2/v1/token", body: `{"grant_type":"client_credentials","client_id":"a","client_secret":"b"}`},
		{name: "token without secret", method: "POST", target: "/oauth2/v1/token", body: `{"grant_type":"client_credentials","client_id":"a"}`, wantErr: true},
		{name: "good cancel", method: "POST", target: "/colocations/v2/orders/1-1/cancel", body: `{"reason":"not needed"}`, auth: true},
		{name: "short cancel reason", method: "POST", target: "/colocations/v2/orders/1-1/cancel", body: `{"reason":"no"}`, auth: true, wantErr: true},
		{name: "cancel without token", method: "POST", target: "/colocations/v2/orders/1-1/cancel", body: `{"reason":"not needed"}`, wantErr: true},
		{name: "locations without permission code", method: "GET", target: "/colocations/v2/locations?details=true", auth: true, wantErr: true},
		{name: "locations with bad permission code", method: "GET", target: "/colocations/v2/locations?permissionCode=VISIT", auth: true, wantErr: true},
		{name: "search with bad product type", method: "POST", target: "/v1/retrieve-orders", body: `{"filters":{"productTypes":["VISIT"]}}`, auth: true, wantErr: true},
		{name: "search with page too big", method: "POST", target: "/v1/retrieve-orders", body: `{"page":{"number":0,"size":500}}`, auth: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			if tt.auth {
				r.Header.Set("Authorization", "Bearer x")
			}
			_, in := sp.find(r, []byte(tt.body))
			if in == nil {
				t.Fatal("no spec covers the route")
			}
			err := openapi3filter.ValidateRequest(r.Context(), in)
			if (err != nil) != tt.wantErr {
				t.Errorf("ValidateRequest = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

// TestRequestsValidatedAgainstSpecs runs each call the published files
// describe through the fake and checks the OpenAPI check ran on it.
func TestRequestsValidatedAgainstSpecs(t *testing.T) {
	t.Parallel()
	specs(t) // the test is about the check
	f := newFakeAPI(t)
	f.handle("GET /colocations/v2/orders/{id}", okOrder)
	f.handle("POST /colocations/v2/orders/{id}/cancel", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	f.handle("GET /colocations/v2/locations", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"workVisits":[]}`) })
	f.handle("POST /v1/retrieve-orders", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"content":[],"page":{"size":200,"totalElements":0,"totalPages":0,"number":0}}`)
	})
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	ctx := t.Context()
	if _, err := c.GetOrder(ctx, "1-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.CancelOrder(ctx, "1-1", "duplicate visit"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Locations(ctx, "AM1", "DC2"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SearchOrdersByReference(ctx, "wv-ref"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"POST /oauth2/v1/token", "GET /colocations/v2/orders/1-1", "POST /colocations/v2/orders/1-1/cancel",
		"GET /colocations/v2/locations", "POST /v1/retrieve-orders",
	} {
		f.mu.Lock()
		n := f.validated[k]
		f.mu.Unlock()
		if n == 0 {
			t.Errorf("%s was not checked against its OpenAPI file", k)
		}
	}
}
