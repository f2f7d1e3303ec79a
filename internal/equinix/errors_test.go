package equinix

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseAPIError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   *APIError
	}{
		{
			name: "v2 array with a property path (seed 003)", status: 400,
			body: `[{"errorCode":"EQ-2016011","errorMessage":"One or more mandatory properties are missing.","correlationId":"210407001942756",
				"additionalInfo":[{"property":"details.cages[0].id","reason":"details.cages[0].id is required"}]}]`,
			want: &APIError{Status: 400, Code: "EQ-2016011", Message: "One or more mandatory properties are missing.", CorrelationID: "210407001942756",
				Problems: []Problem{{Property: "details.cages[0].id", Reason: "details.cages[0].id is required"}}},
		},
		{
			name: "v2 array, two errors", status: 400,
			body: `[{"errorCode":"EQ-2016011","errorMessage":"Missing.","additionalInfo":[{"property":"details.visitors[3].firstName","reason":"required"}]},
				{"errorCode":"EQ-2016011","errorMessage":"Missing.","correlationId":"c2","additionalInfo":[{"property":"contacts[0].type","reason":"required","value":7}]}]`,
			want: &APIError{Status: 400, Code: "EQ-2016011", Message: "Missing.", CorrelationID: "c2", Problems: []Problem{
				{Property: "details.visitors[3].firstName", Reason: "required"}, {Property: "contacts[0].type", Reason: "required", Value: "7"}}},
		},
		{
			name: "additionalInfo as one object (orders-v2.json)", status: 400,
			body: `[{"errorCode":"EQ-2014011","errorMessage":"Bad","additionalInfo":{"property":"reason","reason":"too short"}}]`,
			want: &APIError{Status: 400, Code: "EQ-2014011", Message: "Bad", Problems: []Problem{{Property: "reason", Reason: "too short"}}},
		},
		{
			name: "older shape (seed 000)", status: 403,
			body: `{"errors":[{"code":"EQX-161-403","message":"Contacts (with userName) should be Active and Approved"}],"ticketId":"201030030XXXXXX"}`,
			want: &APIError{Status: 403, Code: "EQX-161-403", Message: "Contacts (with userName) should be Active and Approved", CorrelationID: "201030030XXXXXX"},
		},
		{
			name: "older shape with fields", status: 400,
			body: `{"errors":[{"code":"EQX-123-1234","fields":["xpath"],"message":"Error message.","messageParams":["p"]}],"ticketId":"1906"}`,
			want: &APIError{Status: 400, Code: "EQX-123-1234", Message: "Error message.", CorrelationID: "1906", Problems: []Problem{{Property: "xpath"}}},
		},
		{
			name: "older shape with strings", status: 500,
			body: `{"errors":["something broke"],"ticketId":"1907"}`,
			want: &APIError{Status: 500, Message: "something broke", CorrelationID: "1907"},
		},
		{
			name: "token error", status: 401,
			body: `{"error_domain":"apiplatform","error_title":"Invalid client","error_code":"S0001","developer_message":"x","error_message":"Please enter a valid client id"}`,
			want: &APIError{Status: 401, Code: "S0001", Message: "Please enter a valid client id"},
		},
		{
			name: "HTML from a proxy", status: 502,
			body: "<html>\n<body><h1>502 Bad Gateway</h1></body>\n</html>",
			want: &APIError{Status: 502, Message: "<html> <body><h1>502 Bad Gateway</h1></body> </html>"},
		},
		{name: "empty", status: 503, body: "", want: &APIError{Status: 503}},
		{name: "broken JSON", status: 500, body: `[{"errorCode":`, want: &APIError{Status: 500, Message: `[{"errorCode":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseAPIError(tt.status, []byte(tt.body))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseAPIError =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *APIError
		want []string
	}{
		{
			name: "known code",
			err:  &APIError{Status: 403, Code: "EQX-161-403", Message: "Contacts (with userName) should be Active and Approved", CorrelationID: "2010"},
			want: []string{"HTTP 403", "EQX-161-403", "should be Active and Approved", "Copy the username exactly", "correlation id 2010"},
		},
		{
			name: "unknown code falls back to the status",
			err:  &APIError{Status: 429, Code: "EQ-9999999"},
			want: []string{"HTTP 429", "EQ-9999999", "Too Many Requests", "wvbatch waits and tries again"},
		},
		{
			name: "problems listed",
			err: &APIError{Status: 400, Code: "EQ-2016011", Message: "Missing.", Problems: []Problem{
				{Property: "details.visitors[3].firstName", Reason: "is required"}, {Property: "a"}, {Property: "b"}, {Property: "c"}, {Property: "d"}}},
			want: []string{"details.visitors[3].firstName: is required", "and 2 more", "Fill in the roster cells"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := tt.err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestPropertyIndexes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fn       func(string) (int, bool)
		fnName   string
		property string
		want     int
		wantOK   bool
	}{
		{VisitorIndex, "VisitorIndex", "details.visitors[3].firstName", 3, true},
		{VisitorIndex, "VisitorIndex", "details.visitors[12]", 12, true},
		{VisitorIndex, "VisitorIndex", "$.details.visitors[0].details[1].value", 0, true},
		{VisitorIndex, "VisitorIndex", "details.visitors[]", 0, false},
		{VisitorIndex, "VisitorIndex", "details.visitors[x].firstName", 0, false},
		{VisitorIndex, "VisitorIndex", "details.visitors[-1]", 0, false},
		{VisitorIndex, "VisitorIndex", "details.visitors[2]x", 0, false},
		{VisitorIndex, "VisitorIndex", "details.cages[0].id", 0, false},
		{VisitorIndex, "VisitorIndex", "", 0, false},
		{CageIndex, "CageIndex", "details.cages[0].id", 0, true},
		{CageIndex, "CageIndex", "details.cages[7].cabinetId", 7, true},
		{CageIndex, "CageIndex", "details.cages[]", 0, false},
		{ContactIndex, "ContactIndex", "contacts[0].type", 0, true},
		{ContactIndex, "ContactIndex", "details.visitors[0]", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.fnName+"/"+tt.property, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.fn(tt.property)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("%s(%q) = %d, %v; want %d, %v", tt.fnName, tt.property, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPredicates(t *testing.T) {
	t.Parallel()
	transport := &transportError{op: "get order", err: &url.Error{Op: "Get", URL: "https://x/y", Err: errors.New("connection refused")}}
	timedOut := &transportError{op: "get order", err: &url.Error{Op: "Get", URL: "https://x/y", Err: context.DeadlineExceeded}}
	tests := []struct {
		name                                 string
		err                                  error
		retryable, notFound, auth, uncertain bool
	}{
		{name: "nil", err: nil},
		{name: "429", err: &APIError{Status: 429}, retryable: true},
		{name: "503 wrapped", err: fmt.Errorf("submit: %w", &APIError{Status: 503}), retryable: true},
		{name: "400", err: &APIError{Status: 400, Code: "EQ-2016011"}},
		{name: "404", err: &APIError{Status: 404}, notFound: true},
		{name: "EQ-2014005", err: &APIError{Status: 403, Code: "EQ-2014005"}, notFound: true},
		{name: "EQ-2016006 is not not-found", err: &APIError{Status: 403, Code: "EQ-2016006"}},
		{name: "401", err: &APIError{Status: 401}, auth: true},
		{name: "refused credentials", err: fmt.Errorf("x: %w", &AuthError{Status: 401}), auth: true},
		{name: "uncertain create", err: &UncertainError{Op: "create", Err: &APIError{Status: 500}}, uncertain: true},
		{name: "unreachable", err: transport, retryable: true},
		{name: "per-request timeout", err: timedOut, retryable: true},
		{name: "caller cancelled", err: fmt.Errorf("get: %w", context.Canceled)},
		{name: "caller deadline", err: fmt.Errorf("get: %w", context.DeadlineExceeded)},
		{name: "unknown user", err: fmt.Errorf("user: %w", ErrNotFound), notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := [4]bool{IsRetryable(tt.err), IsNotFound(tt.err), IsAuth(tt.err), IsUncertain(tt.err)}
			want := [4]bool{tt.retryable, tt.notFound, tt.auth, tt.uncertain}
			if got != want {
				t.Errorf("retryable, notFound, auth, uncertain = %v, want %v", got, want)
			}
		})
	}
}

func TestUncertainErrorMessage(t *testing.T) {
	t.Parallel()
	err := &UncertainError{Op: "create work visit", CustomerReferenceID: "wv-1", Err: context.DeadlineExceeded}
	for _, want := range []string{"create work visit", `"wv-1"`, "may have reached Equinix", "search", "deadline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("UncertainError does not unwrap")
	}
}

func FuzzParseAPIError(f *testing.F) {
	f.Add(400, []byte(`[{"errorCode":"EQ-2016011","additionalInfo":[{"property":"details.visitors[3].firstName","value":[1]}]}]`))
	f.Add(403, []byte(`{"errors":[{"code":"EQX-161-403","message":"m"}],"ticketId":"t"}`))
	f.Add(401, []byte(`{"error_code":"S1","error_message":"m"}`))
	f.Add(502, []byte("<html>\xff</html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseAPIError(status, body)
		if e.Status != status {
			t.Fatalf("status %d became %d", status, e.Status)
		}
		msg := e.Error()
		if strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("one-line message has a newline: %q", msg)
		}
		for _, p := range e.Problems {
			VisitorIndex(p.Property)
			CageIndex(p.Property)
		}
	})
}

func FuzzVisitorIndex(f *testing.F) {
	for _, s := range []string{"details.visitors[3].firstName", "details.visitors[]", "details.visitors[999999]", "$.details.visitors[0]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, property string) {
		n, ok := VisitorIndex(property)
		if !ok {
			return
		}
		if n < 0 {
			t.Fatalf("VisitorIndex(%q) = %d", property, n)
		}
		if want := fmt.Sprintf("visitors[%d]", n); !strings.Contains(property, want) && !strings.Contains(property, "visitors[0") {
			t.Fatalf("VisitorIndex(%q) = %d, not in the text", property, n)
		}
	})
}
