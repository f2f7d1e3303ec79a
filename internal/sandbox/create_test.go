package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCreateValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mut  func(b map[string]any)
	}{
		{"full body", func(map[string]any) {}},
		{"no optional fields", func(b map[string]any) {
			delete(b, "customerReferenceId")
			delete(b, "contacts")
			delete(details(b), "openCabinet")
			delete(cage(b, 0), "cabinetId")
			delete(cage(b, 0), "accountNumber")
		}},
		{"fractional seconds", func(b map[string]any) {
			details(b)["visitStartDateTime"] = "2027-01-05T08:00:00.500Z"
		}},
		{"exactly 14 days", func(b map[string]any) {
			details(b)["visitEndDateTime"] = "2027-01-19T08:00:00Z"
		}},
		{"two cages in one IBX", func(b map[string]any) {
			details(b)["cages"] = append(details(b)["cages"].([]any), map[string]any{"id": "AM1:01:000112", "cabinetId": "AM1:01:000112:0205"})
		}},
		{"50 visitors", func(b map[string]any) {
			var vs []any
			for i := range 50 {
				vs = append(vs, map[string]any{"firstName": fmt.Sprint("V", i), "lastName": "L", "companyName": "C"})
			}
			details(b)["visitors"] = vs
		}},
		{"locked technical contact", func(b map[string]any) {
			contact(b, 0)["registeredUsers"] = []any{"jdoe1234"}
		}},
		{"non-registered technical contact", func(b map[string]any) {
			b["contacts"] = []any{map[string]any{"type": "TECHNICAL", "firstName": "Tom", "lastName": "Tech",
				"details":      []any{map[string]any{"type": "PHONE", "value": "+1-408-555-0101"}},
				"availability": "ANYTIME", "timezone": "America/New_York"}}
		}},
		{"phone with extension", func(b map[string]any) {
			visitor(b, 0)["details"] = []any{map[string]any{"type": "MOBILE", "value": "(020) 555-0101 ext 12"}}
		}},
		{"purchase order and attachment", func(b map[string]any) {
			b["purchaseOrder"] = map[string]any{"type": "EXISTING", "number": 1091238010, "amount": "2020"}
			b["attachments"] = []any{map[string]any{"id": "c77c5f58-a7ea-4e88-9fc4-1a2900027425", "name": "error-log"}}
		}},
		{"DC2 without cabinet", func(b map[string]any) {
			details(b)["cages"] = []any{map[string]any{"id": "DC2:01:123456"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			b := visitBody()
			tc.mut(b)
			id := e.mustCreate(b)
			orders := e.srv.Orders()
			if len(orders) != 1 || orders[0].ID != id || orders[0].Status != StatusReceived {
				t.Fatalf("orders %+v, want one RECEIVED %s", orders, id)
			}
		})
	}
}

func TestCreateInvalid(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		mut   func(b map[string]any)
		props []string
	}{
		{"description missing", func(b map[string]any) { delete(b, "description") }, []string{"description"}},
		{"description short", func(b map[string]any) { b["description"] = "too short" }, []string{"description"}},
		{"description long", func(b map[string]any) { b["description"] = long(4001) }, []string{"description"}},
		{"reference empty", func(b map[string]any) { b["customerReferenceId"] = "" }, []string{"customerReferenceId"}},
		{"reference long", func(b map[string]any) { b["customerReferenceId"] = long(41) }, []string{"customerReferenceId"}},
		{"details missing", func(b map[string]any) { delete(b, "details") }, []string{"details"}},
		{"no cages", func(b map[string]any) { details(b)["cages"] = []any{} }, []string{"details.cages"}},
		{"cage id missing", func(b map[string]any) { delete(cage(b, 0), "id") }, []string{"details.cages[0].id"}},
		{"cage id malformed", func(b map[string]any) { cage(b, 0)["id"] = "AM1-01-000111" }, []string{"details.cages[0].id"}},
		{"cabinet outside cage", func(b map[string]any) { cage(b, 0)["cabinetId"] = "AM1:01:000112:0201" }, []string{"details.cages[0].cabinetId"}},
		{"cages in two IBXs", func(b map[string]any) {
			details(b)["cages"] = append(details(b)["cages"].([]any), map[string]any{"id": "DC2:01:123456"})
		}, []string{"details.cages[1].id"}},
		{"start missing", func(b map[string]any) { delete(details(b), "visitStartDateTime") }, []string{"details.visitStartDateTime"}},
		{"end missing", func(b map[string]any) { delete(details(b), "visitEndDateTime") }, []string{"details.visitEndDateTime"}},
		{"start with offset", func(b map[string]any) { details(b)["visitStartDateTime"] = "2027-01-05T08:00:00+01:00" }, []string{"details.visitStartDateTime"}},
		{"start local time", func(b map[string]any) { details(b)["visitStartDateTime"] = "2027-01-05T08:00:00" }, []string{"details.visitStartDateTime"}},
		{"end before start", func(b map[string]any) { details(b)["visitEndDateTime"] = "2027-01-05T07:00:00Z" }, []string{"details.visitEndDateTime"}},
		{"end equals start", func(b map[string]any) { details(b)["visitEndDateTime"] = "2027-01-05T08:00:00Z" }, []string{"details.visitEndDateTime"}},
		{"longer than 14 days", func(b map[string]any) { details(b)["visitEndDateTime"] = "2027-01-19T08:00:01Z" }, []string{"details.visitEndDateTime"}},
		{"start in the past", func(b map[string]any) {
			details(b)["visitStartDateTime"] = "2027-01-04T08:59:59Z"
		}, []string{"details.visitStartDateTime"}},
		{"openCabinet not boolean", func(b map[string]any) { details(b)["openCabinet"] = "yes" }, []string{"details.openCabinet"}},
		{"no visitors", func(b map[string]any) { details(b)["visitors"] = []any{} }, []string{"details.visitors"}},
		{"51 visitors", func(b map[string]any) {
			var vs []any
			for i := range 51 {
				vs = append(vs, map[string]any{"firstName": fmt.Sprint("V", i), "lastName": "L", "companyName": "C"})
			}
			details(b)["visitors"] = vs
		}, []string{"details.visitors"}},
		{"visitor first name missing", func(b map[string]any) { delete(visitor(b, 0), "firstName") }, []string{"details.visitors[0].firstName"}},
		{"visitor last name blank", func(b map[string]any) { visitor(b, 0)["lastName"] = "  " }, []string{"details.visitors[0].lastName"}},
		{"visitor company missing", func(b map[string]any) { delete(visitor(b, 0), "companyName") }, []string{"details.visitors[0].companyName"}},
		{"visitor name too long", func(b map[string]any) { visitor(b, 0)["firstName"] = long(101) }, []string{"details.visitors[0].firstName"}},
		{"visitor both registered and named", func(b map[string]any) { visitor(b, 1)["firstName"] = "Jane" }, []string{"details.visitors[1].registeredUsers"}},
		{"visitor empty", func(b map[string]any) { details(b)["visitors"].([]any)[1] = map[string]any{} },
			[]string{"details.visitors[1].firstName", "details.visitors[1].lastName", "details.visitors[1].companyName"}},
		{"email malformed", func(b map[string]any) {
			visitor(b, 0)["details"].([]any)[0].(map[string]any)["value"] = "anna@"
		}, []string{"details.visitors[0].details[0].value"}},
		{"email too long", func(b map[string]any) {
			visitor(b, 0)["details"].([]any)[0].(map[string]any)["value"] = long(95) + "@a.com"
		}, []string{"details.visitors[0].details[0].value"}},
		{"phone with letters", func(b map[string]any) {
			visitor(b, 0)["details"].([]any)[1].(map[string]any)["value"] = "call me"
		}, []string{"details.visitors[0].details[1].value"}},
		{"phone plus inside", func(b map[string]any) {
			visitor(b, 0)["details"].([]any)[1].(map[string]any)["value"] = "612+345678"
		}, []string{"details.visitors[0].details[1].value"}},
		{"detail type wrong", func(b map[string]any) {
			visitor(b, 0)["details"].([]any)[1].(map[string]any)["type"] = "FAX"
		}, []string{"details.visitors[0].details[1].type"}},
		{"detail value missing", func(b map[string]any) {
			delete(visitor(b, 0)["details"].([]any)[1].(map[string]any), "value")
		}, []string{"details.visitors[0].details[1].value"}},
		{"contact type missing", func(b map[string]any) { delete(contact(b, 0), "type") }, []string{"contacts[0].type"}},
		{"contact type wrong", func(b map[string]any) { contact(b, 0)["type"] = "ORDERING" }, []string{"contacts[0].type"}},
		{"two technical contacts", func(b map[string]any) { contact(b, 1)["type"] = "TECHNICAL" }, []string{"contacts[1].type"}},
		{"notification contact not registered", func(b map[string]any) {
			b["contacts"] = []any{map[string]any{"type": "NOTIFICATION", "firstName": "N", "lastName": "C",
				"details": []any{map[string]any{"type": "EMAIL", "value": "n@c.example"}}}}
		}, []string{"contacts[0].registeredUsers"}},
		{"non-registered technical without phone", func(b map[string]any) {
			b["contacts"] = []any{map[string]any{"type": "TECHNICAL", "firstName": "T", "lastName": "C"}}
		}, []string{"contacts[0].details"}},
		{"unknown property", func(b map[string]any) { details(b)["visitors"].([]any)[0].(map[string]any)["email"] = "x@y.example" },
			[]string{"details.visitors[0].email"}},
		{"misspelled property", func(b map[string]any) {
			details(b)["visitStartDatetime"] = details(b)["visitStartDateTime"]
			delete(details(b), "visitStartDateTime")
		}, []string{"details.visitStartDatetime"}},
		{"several at once", func(b map[string]any) {
			delete(visitor(b, 0), "firstName")
			b["description"] = "short"
			cage(b, 0)["id"] = ""
		}, []string{"details.visitors[0].firstName", "description", "details.cages[0].id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			b := visitBody()
			tc.mut(b)
			errs := wantError(t, e.create(b), http.StatusBadRequest, CodeMissingProperties, tc.props...)
			if len(errs[0].AdditionalInfo) == 0 {
				t.Error("no additionalInfo")
			}
			if n := len(e.srv.Orders()); n != 0 {
				t.Errorf("%d orders stored after a refused create", n)
			}
		})
	}
}

func TestCreateMalformedBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tests := []struct {
		name, body string
		want       int
	}{
		{"not JSON", "{", 400},
		{"array", "[]", 400},
		{"two values", "{} {}", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, e.create(tc.body), tc.want, CodeMissingProperties)
		})
	}
	t.Run("form content type", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("POST", e.ts.URL+"/colocations/v2/orders/workVisits", strings.NewReader("a=b"))
		req.Header.Set("Authorization", "Bearer "+e.login())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("status %d, want 415", resp.StatusCode)
		}
	})
}

func TestCreateNotPermitted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mut    func(b map[string]any)
		wantID string
	}{
		{"unlisted cage", func(b map[string]any) { details(b)["cages"] = []any{map[string]any{"id": "AM1:02:000999"}} }, "AM1:02:000999"},
		{"unlisted cabinet", func(b map[string]any) { cage(b, 0)["cabinetId"] = "AM1:01:000111:0999" }, "AM1:01:000111"},
		{"account that may not order", func(b map[string]any) { cage(b, 0)["accountNumber"] = "100099" }, "AM1:01:000111"},
		{"other account's number", func(b map[string]any) { cage(b, 0)["accountNumber"] = "200001" }, "AM1:01:000111"},
		{"unknown IBX", func(b map[string]any) { details(b)["cages"] = []any{map[string]any{"id": "SV5:01:000001"}} }, "SV5:01:000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			b := visitBody()
			tc.mut(b)
			errs := wantError(t, e.create(b), http.StatusForbidden, CodeCageNotPermitted, "details.cages[]")
			v, _ := json.Marshal(errs[0].AdditionalInfo[0].Value)
			if !strings.Contains(string(v), `"id":"`+tc.wantID+`"`) {
				t.Errorf("additionalInfo value %s does not name cage %s", v, tc.wantID)
			}
			if n := len(e.srv.Orders()); n != 0 {
				t.Errorf("%d orders stored", n)
			}
		})
	}
}

func TestCreateUsersNotActive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mut  func(b map[string]any)
		prop string
	}{
		{"locked visitor", func(b map[string]any) { visitor(b, 1)["registeredUsers"] = []any{"jdoe1234"} }, "details.visitors[1].registeredUsers[0]"},
		{"terminated visitor", func(b map[string]any) { visitor(b, 1)["registeredUsers"] = []any{"jane.visitor", "former.employee"} }, "details.visitors[1].registeredUsers[1]"},
		{"approved visitor", func(b map[string]any) { visitor(b, 1)["registeredUsers"] = []any{"pending.user"} }, "details.visitors[1].registeredUsers[0]"},
		{"unknown visitor", func(b map[string]any) { visitor(b, 1)["registeredUsers"] = []any{"nobody.here"} }, "details.visitors[1].registeredUsers[0]"},
		{"terminated technical contact", func(b map[string]any) { contact(b, 0)["registeredUsers"] = []any{"former.employee"} }, "contacts[0].registeredUsers[0]"},
		{"unknown notification contact", func(b map[string]any) { contact(b, 1)["registeredUsers"] = []any{"nobody.here"} }, "contacts[1].registeredUsers[0]"},
		{"approved notification contact", func(b map[string]any) { contact(b, 1)["registeredUsers"] = []any{"pending.user"} }, "contacts[1].registeredUsers[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			b := visitBody()
			tc.mut(b)
			errs := wantError(t, e.create(b), http.StatusForbidden, CodeUserNotActive, tc.prop)
			if errs[0].ErrorMessage != "Contacts (with userName) should be Active and Approved" {
				t.Errorf("message %q", errs[0].ErrorMessage)
			}
		})
	}
	t.Run("ordering user not active", func(t *testing.T) {
		t.Parallel()
		a := DefaultAccount()
		a.Users[0].Status = UserLocked // sandbox.orderer
		e := newEnv(t, Config{Account: a})
		wantError(t, e.create(visitBody()), http.StatusForbidden, CodeUserNotActive, "orderingContact")
	})
}

func TestCorrelationIDsFresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	seen := map[string]bool{}
	for range 5 {
		b := visitBody()
		delete(b, "description")
		id := apiErrors(t, e.create(b))[0].CorrelationID
		if seen[id] {
			t.Fatalf("correlation id %s repeated", id)
		}
		seen[id] = true
	}
}
