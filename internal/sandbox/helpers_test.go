package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the sandbox time tests run at.
var t0 = time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a sandbox served over HTTP for one test.
type env struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	clock *clock

	mu    sync.Mutex
	token string
}

// newEnv starts a sandbox for cfg; a nil cfg.Now gets a test clock at t0.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{t: t}
	if cfg.Now == nil && cfg.StartAt.IsZero() {
		e.clock = newClock(t0)
		cfg.Now = e.clock.Now
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv)
	t.Cleanup(e.ts.Close)
	return e
}

// answer is what a request got back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return string(a.body) }

// do sends a request; body is marshalled unless it is a string or []byte.
func (e *env) do(method, path string, body any, token string) answer {
	e.t.Helper()
	a, err := e.try(method, path, body, token)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

// try is do that returns transport errors (faults reset connections).
func (e *env) try(method, path string, body any, token string) (answer, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// A fresh connection per request, so that a reset is never retried
	// on another connection behind the test's back.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// login gets a token with the default credentials.
func (e *env) login() string {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token != "" {
		return e.token
	}
	a := e.do("POST", "/oauth2/v1/token", map[string]string{
		"grant_type": "client_credentials", "client_id": DefaultClientID, "client_secret": DefaultClientSecret,
	}, "")
	if a.status != http.StatusOK {
		e.t.Fatalf("token: %d %s", a.status, a)
	}
	var tok tokenAnswer
	mustUnmarshal(e.t, a.body, &tok)
	e.token = tok.AccessToken
	return e.token
}

// create posts a work visit and returns the answer.
func (e *env) create(body any) answer {
	e.t.Helper()
	return e.do("POST", "/colocations/v2/orders/workVisits", body, e.login())
}

// mustCreate creates a work visit and returns its order id.
func (e *env) mustCreate(body any) string {
	e.t.Helper()
	a := e.create(body)
	if a.status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", a.status, a)
	}
	loc := a.header.Get("Location")
	if !strings.HasPrefix(loc, "/orders/1-") {
		e.t.Fatalf("create: Location %q is not /orders/1-<digits>", loc)
	}
	return strings.TrimPrefix(loc, "/orders/")
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// apiErrors decodes an Equinix v2 error array.
func apiErrors(t *testing.T, a answer) []apiError {
	t.Helper()
	var errs []apiError
	mustUnmarshal(t, a.body, &errs)
	if len(errs) == 0 {
		t.Fatalf("empty error array: %s", a)
	}
	return errs
}

// wantError checks status, code and (when given) that every property in
// props is named in additionalInfo.
func wantError(t *testing.T, a answer, status int, code string, props ...string) []apiError {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a)
	}
	errs := apiErrors(t, a)
	if errs[0].ErrorCode != code {
		t.Fatalf("errorCode %q, want %q: %s", errs[0].ErrorCode, code, a)
	}
	if errs[0].CorrelationID == "" || errs[0].ErrorMessage == "" {
		t.Fatalf("error without correlationId or message: %s", a)
	}
	for _, p := range props {
		found := false
		for _, ai := range errs[0].AdditionalInfo {
			found = found || ai.Property == p
		}
		if !found {
			t.Errorf("additionalInfo does not name %q: %s", p, a)
		}
	}
	return errs
}

// visitBody returns a valid create body (visit tomorrow at AM1) as maps, so
// that tests can break one property.
func visitBody() map[string]any {
	return map[string]any{
		"description":         "Quarterly maintenance of the racks",
		"customerReferenceId": "WV-2027-0001",
		"contacts": []any{
			map[string]any{"type": "TECHNICAL", "registeredUsers": []any{"facilities.lead"}},
			map[string]any{"type": "NOTIFICATION", "registeredUsers": []any{"noc.amsterdam"}},
		},
		"details": map[string]any{
			"cages": []any{
				map[string]any{"id": "AM1:01:000111", "accountNumber": "100001", "cabinetId": "AM1:01:000111:0101"},
			},
			"visitStartDateTime": "2027-01-05T08:00:00Z",
			"visitEndDateTime":   "2027-01-05T17:00:00Z",
			"openCabinet":        false,
			"visitors": []any{
				map[string]any{"firstName": "Anna", "lastName": "de Vries", "companyName": "Acme",
					"details": []any{
						map[string]any{"type": "EMAIL", "value": "anna.devries@acme.example"},
						map[string]any{"type": "MOBILE", "value": "+31 612 345 678"},
					}},
				map[string]any{"registeredUsers": []any{"jane.visitor"}},
			},
		},
	}
}

func details(b map[string]any) map[string]any { return b["details"].(map[string]any) }

func visitor(b map[string]any, i int) map[string]any {
	return details(b)["visitors"].([]any)[i].(map[string]any)
}

func cage(b map[string]any, i int) map[string]any {
	return details(b)["cages"].([]any)[i].(map[string]any)
}

func contact(b map[string]any, i int) map[string]any {
	return b["contacts"].([]any)[i].(map[string]any)
}

// withRef returns a valid body with customer reference ref.
func withRef(ref string) map[string]any {
	b := visitBody()
	b["customerReferenceId"] = ref
	return b
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
