package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzRequestBodies sends arbitrary bodies to every endpoint that reads
// one: the sandbox must answer each with a status Equinix would, and an
// error in its documented shape, never crash or accept what breaks the rules.
func FuzzRequestBodies(f *testing.F) {
	valid, _ := json.Marshal(visitBody())
	for _, s := range []string{
		string(valid), `{}`, `[]`, `null`, `"x"`, `{"details":null}`, `{"details":{"cages":[{}],"visitors":[{}]}}`,
		`{"details":{"cages":[{"id":"AM1:01:000111","cabinetId":"AM1:01:000111"}],"visitors":[{"registeredUsers":[""]}]}}`,
		`{"details":{"visitStartDateTime":"2027-01-05T08:00:00.123456789Z","visitEndDateTime":"9999-12-31T23:59:59Z"}}`,
		`{"contacts":[{"type":"NOTIFICATION","registeredUsers":["jdoe1234"]}]}`, `{"reason":"no longer needed"}`,
		`{"description":"` + strings.Repeat("é", 4001) + `"}`, `{"a":1}{"b":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
		srv, err := New(Config{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		const tok = "fuzz-token"
		srv.tokens[tok] = tokenInfo{clientID: DefaultClientID, user: DefaultOrderingUser, expires: now.Add(time.Hour)}
		send := func(method, path string, b []byte) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, path, bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			return w
		}
		placed := send("POST", "/colocations/v2/orders/workVisits", valid)
		if placed.Code != http.StatusCreated {
			t.Fatalf("the valid body: %d %s", placed.Code, placed.Body)
		}
		id := strings.TrimPrefix(placed.Header().Get("Location"), "/orders/")

		for _, c := range []struct {
			method, path string
			ok           int
		}{
			{"POST", "/colocations/v2/orders/workVisits", http.StatusCreated},
			{"PATCH", "/colocations/v2/orders/workVisits/" + id, http.StatusNoContent},
			{"POST", "/colocations/v2/orders/" + id + "/cancel", http.StatusNoContent},
			{"POST", "/v1/retrieve-orders", http.StatusOK},
			{"POST", "/oauth2/v1/token", http.StatusOK},
		} {
			w := send(c.method, c.path, body)
			switch w.Code {
			case c.ok, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
			default:
				t.Fatalf("%s %s answered %d: %s", c.method, c.path, w.Code, w.Body)
			}
			if w.Code == c.ok || c.path == "/oauth2/v1/token" || c.path == "/v1/retrieve-orders" {
				continue
			}
			var errs []apiError
			if err := json.Unmarshal(w.Body.Bytes(), &errs); err != nil || len(errs) != 1 || errs[0].ErrorCode == "" || errs[0].CorrelationID == "" {
				t.Fatalf("%s %s answered %d with %s, not Equinix's error array", c.method, c.path, w.Code, w.Body)
			}
		}
		// Whatever was accepted obeys the rules.
		for _, o := range srv.Orders() {
			if o.Visitors < 1 || o.Visitors > MaxVisitors || !o.VisitEnd.After(o.VisitStart) || o.VisitEnd.Sub(o.VisitStart) > MaxVisitLength ||
				len(o.Cages) == 0 {
				t.Fatalf("the sandbox holds an order that breaks the rules: %+v", o)
			}
		}
	})
}
