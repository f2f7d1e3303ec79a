package equinix

// The conformance suite: the Client against an Equinix API through a
// transport that checks every request the Client sends, and every answer it
// gets, against the published OpenAPI files wherever those cover the route
// (token, order get and cancel, locations, retrieve-orders).
//
// It always runs against the in-process sandbox. It also runs its read-only
// part against a real endpoint when EQUINIX_API_CLIENTID and
// EQUINIX_API_CLIENTSECRET (and optionally EQUINIX_API_ENDPOINT, default
// https://api.equinix.com) are in the environment; nothing is ordered there.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// specTransport sends requests and checks them, and their answers, against
// the OpenAPI files. It also counts requests and remembers the tokens
// handed out, so tests can assert on both.
type specTransport struct {
	t     *testing.T
	next  http.RoundTripper
	specs *specSet // nil: the published files are absent and nothing is checked against them

	mu        sync.Mutex
	calls     map[string]int // "METHOD /path" → requests sent
	statuses  map[string][]int
	validated map[string]int // routes checked against a spec
	tokens    []string       // access tokens seen in token answers
}

func newSpecTransport(t *testing.T) *specTransport {
	return &specTransport{
		t: t,
		// A new connection per request: net/http would otherwise repeat a
		// GET whose reused connection broke, hiding the fault from the
		// Client under test.
		next:      &http.Transport{DisableKeepAlives: true},
		specs:     optionalSpecs(t),
		calls:     map[string]int{},
		statuses:  map[string][]int{},
		validated: map[string]int{},
	}
}

func (s *specTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	key := r.Method + " " + r.URL.Path
	s.mu.Lock()
	s.calls[key]++
	s.mu.Unlock()

	route, in := s.specs.find(r, body)
	if in != nil {
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			s.t.Errorf("the Client's request %s does not match %s: %v", key, route, err)
		}
	}
	res, err := s.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	answer, rerr := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(answer))
	s.mu.Lock()
	s.statuses[key] = append(s.statuses[key], res.StatusCode)
	s.mu.Unlock()
	if rerr != nil {
		// A connection cut while the answer was read: hand the Client what
		// came, and the error.
		res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(answer), errReader{rerr}))
		return res, nil
	}
	if in != nil {
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
			Options: &openapi3filter.Options{MultiError: true},
		}
		out.SetBodyBytes(answer)
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			if ferr, ok := exampleShape(in, res.StatusCode, answer); ok {
				err = ferr
			}
			if err != nil {
				s.t.Errorf("the answer %d to %s does not match %s: %v\n%s", res.StatusCode, key, route, err, answer)
			}
		}
		if err := checkWorkVisitLocations(in, res.StatusCode, answer); err != nil {
			s.t.Errorf("the answer to %s: %v", key, err)
		}
		s.mu.Lock()
		s.validated[key]++
		s.mu.Unlock()
	}
	if r.URL.Path == "/oauth2/v1/token" && res.StatusCode == http.StatusOK {
		var a struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(answer, &a) == nil && a.AccessToken != "" {
			s.mu.Lock()
			s.tokens = append(s.tokens, a.AccessToken)
			s.mu.Unlock()
		}
	}
	return res, nil
}

// checkWorkVisitLocations checks each workVisits entry of a locations
// answer against lookup-v2.json's locations_details: the file's response
// schema names only crossConnects, so the generic check sees workVisits as
// an unknown, unchecked property.
func checkWorkVisitLocations(in *openapi3filter.RequestValidationInput, status int, answer []byte) error {
	if status != http.StatusOK || in.Route == nil || in.Route.Path != "/colocations/v2/locations" {
		return nil
	}
	item := in.Route.Spec.Components.Schemas["locations_details"]
	if item == nil || item.Value == nil {
		return errors.New("lookup-v2.json has no locations_details schema")
	}
	var a struct {
		WorkVisits []any `json:"workVisits"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return err
	}
	for i, wv := range a.WorkVisits {
		if err := item.Value.VisitJSON(wv); err != nil {
			return fmt.Errorf("workVisits[%d] does not match locations_details: %w", i, err)
		}
	}
	return nil
}

// exampleShape checks an error answer against the published example for its
// status, when the file's schema for that status contradicts the file's own
// example (lookup-v2.json describes its error array as an array of arrays;
// orderhistory-v1.json its errors as strings while its examples hold
// objects). It reports false when the schema agrees with the example, so
// the schema's verdict stands. The answer must then have the example's
// shape: the same JSON kinds, and only properties the example or the
// schema names.
func exampleShape(in *openapi3filter.RequestValidationInput, status int, answer []byte) (error, bool) {
	if status < 400 || in.Route == nil || in.Route.Operation == nil || in.Route.Operation.Responses == nil {
		return nil, false
	}
	ref := in.Route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil, false
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, false
	}
	example := mt.Example
	for _, ex := range mt.Examples {
		if example == nil && ex != nil && ex.Value != nil {
			example = ex.Value.Value
		}
	}
	if example == nil {
		return nil, false
	}
	b, err := json.Marshal(example)
	if err != nil {
		return nil, false
	}
	var ex any
	if json.Unmarshal(b, &ex) != nil || mt.Schema.Value.VisitJSON(ex) == nil {
		return nil, false // the schema is consistent: its verdict stands
	}
	var got any
	if err := json.Unmarshal(answer, &got); err != nil {
		return fmt.Errorf("not JSON: %w", err), true
	}
	names := map[string]bool{}
	schemaNames(mt.Schema.Value, names, 0)
	return sameShape(ex, got, names, "$"), true
}

func schemaNames(s *openapi3.Schema, names map[string]bool, depth int) {
	if s == nil || depth > 8 {
		return
	}
	for k, p := range s.Properties {
		names[k] = true
		if p != nil {
			schemaNames(p.Value, names, depth+1)
		}
	}
	if s.Items != nil {
		schemaNames(s.Items.Value, names, depth+1)
	}
}

func sameShape(ex, got any, names map[string]bool, at string) error {
	switch ex := ex.(type) {
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s is %T, the published example has an array", at, got)
		}
		if len(ex) == 0 {
			return nil
		}
		for i, e := range g {
			if err := sameShape(ex[0], e, names, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is %T, the published example has an object", at, got)
		}
		for k, v := range g {
			exv, inExample := ex[k]
			switch {
			case inExample:
				if err := sameShape(exv, v, names, at+"."+k); err != nil {
					return err
				}
			case !names[k]:
				return fmt.Errorf("%s.%s is neither in the published example nor in the schema", at, k)
			}
		}
	}
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func (s *specTransport) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[key]
}

func (s *specTransport) validatedCount(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.validated[key]
}

func (s *specTransport) statusesOf(key string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.statuses[key]...)
}

func (s *specTransport) issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

const tokenPath = "POST /oauth2/v1/token"

// cTarget is one API the suite runs against.
type cTarget struct {
	name   string
	real   bool
	cfg    Config          // endpoint and credentials only
	sb     *sandbox.Server // nil for a real endpoint
	sbTime *clock          // the sandbox's clock
	sbReqs *underWay       // the sandbox's requests under way
}

// underWay counts the requests a handler is answering, so that a test can
// wait for one its Client gave up on to end at the sandbox.
type underWay struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed (and replaced) when n comes down to 0
}

func (u *underWay) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.n++
		u.mu.Unlock()
		defer func() {
			u.mu.Lock()
			if u.n--; u.n == 0 && u.idle != nil {
				close(u.idle)
				u.idle = nil
			}
			u.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// wait waits, at most 10 seconds, until no request is under way.
func (u *underWay) wait(t *testing.T) {
	t.Helper()
	u.mu.Lock()
	if u.n == 0 {
		u.mu.Unlock()
		return
	}
	if u.idle == nil {
		u.idle = make(chan struct{})
	}
	idle := u.idle
	u.mu.Unlock()
	select {
	case <-idle:
	case <-time.After(10 * time.Second):
		t.Fatal("a request stayed under way at the sandbox for 10s")
	}
}

// sandboxTarget serves a fresh sandbox for t with cfg (its clock is set
// here) and returns it.
func sandboxTarget(t *testing.T, scfg sandbox.Config) cTarget {
	t.Helper()
	clk := &clock{now: time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)}
	scfg.Now = clk.Now
	srv, err := sandbox.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	reqs := &underWay{}
	hs := httptest.NewServer(reqs.wrap(srv))
	t.Cleanup(hs.Close)
	return cTarget{
		name: "sandbox", sb: srv, sbTime: clk, sbReqs: reqs,
		cfg: Config{Endpoint: hs.URL, ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret},
	}
}

// realTarget is the endpoint named by the environment, or false. Its
// credentials are tried once per test binary, before any test uses them:
// wrong ones fail every real-endpoint test with one refused attempt in all,
// as the account locks after 5.
func realTarget(t *testing.T) (cTarget, bool) {
	t.Helper()
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return cTarget{}, false
	}
	tg := cTarget{name: "real", real: true, cfg: Config{Endpoint: cfg.Endpoint, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret}}
	if err := realCredentials(tg.cfg); err != nil {
		t.Fatalf("the real endpoint's credentials: %v", err)
	}
	return tg, true
}

// realTokenOnce guards the one token request made to check the real
// endpoint's credentials.
var (
	realTokenOnce sync.Once
	realTokenErr  error
)

func realCredentials(cfg Config) error {
	realTokenOnce.Do(func() {
		c, err := New(cfg)
		if err != nil {
			realTokenErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, realTokenErr = c.tokens.get(ctx)
	})
	return realTokenErr
}

// client returns a Client for tg whose requests go through a specTransport,
// that never really sleeps, and shares the sandbox's clock.
func (tg cTarget) client(t *testing.T, mod func(*Config)) (*Client, *specTransport, *sleeps) {
	t.Helper()
	tr := newSpecTransport(t)
	sl := &sleeps{}
	cfg := tg.cfg
	cfg.HTTPClient = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cfg.Timeout = 10 * time.Second
	cfg.RateLimit = -1
	if tg.real {
		cfg.RateLimit = 2 // be gentle with a real endpoint
	} else {
		cfg.Sleep = sl.Sleep
		cfg.Now = tg.sbTime.Now
	}
	if mod != nil {
		mod(&cfg)
	}
	return newTestClient(t, cfg), tr, sl
}

func randomRef(prefix string) string {
	return prefix + strings.ToLower(rand.Text()[:12])
}

// TestConformanceReadOnly runs the calls that change nothing against the
// sandbox and, when credentials are in the environment, a real endpoint.
func TestConformanceReadOnly(t *testing.T) {
	t.Parallel()
	targets := []func(t *testing.T) (cTarget, bool){
		func(t *testing.T) (cTarget, bool) { return sandboxTarget(t, sandbox.Config{}), true },
		func(t *testing.T) (cTarget, bool) { return realTarget(t) },
	}
	for i, mk := range targets {
		t.Run([]string{"sandbox", "real"}[i], func(t *testing.T) {
			t.Parallel()
			tg, ok := mk(t)
			if !ok {
				t.Skip("no real endpoint: set EQUINIX_API_CLIENTID and EQUINIX_API_CLIENTSECRET (and EQUINIX_API_ENDPOINT) " +
					"to run the conformance suite against it; it only reads")
			}
			conformReadOnly(t, tg)
		})
	}
}

func conformReadOnly(t *testing.T, tg cTarget) {
	ctx := t.Context()
	var logs bytes.Buffer
	c, tr, _ := tg.client(t, func(cfg *Config) {
		cfg.Logger = zerolog.New(&logs).Level(zerolog.DebugLevel)
	})
	var errs []error

	locs, err := c.Locations(ctx)
	if err != nil {
		t.Fatalf("Locations: %v", err)
	}
	if len(locs) == 0 {
		t.Errorf("Locations listed nothing")
	}
	for _, l := range locs {
		if l.IBX == "" {
			t.Errorf("a location without an IBX: %+v", l)
		}
	}
	if len(locs) > 0 {
		one, err := c.Locations(ctx, locs[0].IBX)
		if err != nil {
			t.Fatalf("Locations(%s): %v", locs[0].IBX, err)
		}
		for _, l := range one {
			if l.IBX != locs[0].IBX {
				t.Errorf("Locations(%s) listed %s", locs[0].IBX, l.IBX)
			}
		}
	}

	_, err = c.GetOrder(ctx, "1-999999999999999")
	if !IsNotFound(err) {
		t.Errorf("GetOrder of an unknown order: %v, want a not-found error", err)
	}
	errs = append(errs, err)

	ref := randomRef("wvbatch-conf-")
	found, err := c.SearchOrdersByReference(ctx, ref)
	if err != nil || len(found) != 0 {
		t.Errorf("SearchOrdersByReference(%s) = %v, %v; want nothing", ref, found, err)
	}

	_, err = c.LookupUser(ctx, ref)
	if !IsNotFound(err) {
		t.Errorf("LookupUser of an unknown user: %v, want a not-found error", err)
	}
	errs = append(errs, err)

	if n := tr.count(tokenPath); n != 1 {
		t.Errorf("%d token requests for one run, want 1", n)
	}
	for _, k := range []string{tokenPath, "GET /colocations/v2/locations", "GET /colocations/v2/orders/1-999999999999999", "POST /v1/retrieve-orders"} {
		if tr.specs != nil && tr.validatedCount(k) == 0 {
			t.Errorf("%s was not checked against its OpenAPI file", k)
		}
	}

	// A ready token that Equinix refuses is replaced once, with the client
	// credentials, and the call repeated once.
	c2, tr2, _ := tg.client(t, func(cfg *Config) { cfg.Token = "not-a-valid-token-" + ref })
	if _, err := c2.Locations(ctx); err != nil {
		t.Fatalf("Locations with a stale ready token: %v", err)
	}
	if got := tr2.statusesOf("GET /colocations/v2/locations"); len(got) != 2 || got[0] != http.StatusUnauthorized || got[1] != http.StatusOK {
		t.Errorf("locations answers %v, want [401 200]", got)
	}
	if n := tr2.count(tokenPath); n != 1 {
		t.Errorf("%d token requests after a 401, want 1", n)
	}
	checkNoSecrets(t, tg.cfg.ClientSecret, append(tr.issued(), tr2.issued()...), logs.String(), errs)
}

// checkNoSecrets fails if the secret or a token appears in the log or in an
// error's text.
func checkNoSecrets(t *testing.T, secret string, tokens []string, log string, errs []error) {
	t.Helper()
	if len(tokens) == 0 {
		t.Error("no token was handed out; the secrets check would check nothing")
	}
	if !strings.Contains(log, "equinix request") {
		t.Error("the Client logged no request; the secrets check would check nothing")
	}
	texts := []string{log}
	for _, err := range errs {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	for _, s := range append([]string{secret}, tokens...) {
		for _, txt := range texts {
			if s != "" && strings.Contains(txt, s) {
				t.Errorf("a secret (%.4s…) leaked into %q", s, txt)
			}
		}
	}
}

// visit is a valid work visit for the sandbox's seeded account, in the
// sandbox's future.
func visit(ref string, visitors int) *WorkVisitRequest {
	start := time.Date(2027, 1, 11, 8, 0, 0, 0, time.UTC)
	r := &WorkVisitRequest{
		Description:         "Quarterly maintenance of the AM1 cage",
		CustomerReferenceID: ref,
		Details: WorkVisitDetails{
			Cages:              []CageRef{{ID: "AM1:01:000111", AccountNumber: "100001", CabinetID: "AM1:01:000111:0101"}},
			VisitStartDateTime: start,
			VisitEndDateTime:   start.Add(10 * time.Hour),
		},
	}
	for i := range visitors {
		r.Details.Visitors = append(r.Details.Visitors, Visitor{
			FirstName: "Visitor", LastName: fmt.Sprintf("Number %c", 'A'+i%26), CompanyName: "Voltcare BV",
			Details: []ContactDetail{{Type: DetailEmail, Value: fmt.Sprintf("v%d@voltcare.example", i)}},
		})
	}
	return r
}

// EnvConformanceCage names a cage of the real endpoint's account at which
// TestConformanceLifecycle may order (and then cancels) a work visit; the
// lifecycle runs against a real endpoint only when it is set. Use it with
// Equinix's test environment (https://sandboxapi.equinix.com).
const EnvConformanceCage = "WVBATCH_CONFORMANCE_CAGE"

// TestConformanceLifecycle orders, reads, finds, updates and cancels a work
// visit, and checks what Equinix forbids afterwards: on the sandbox always,
// and on a real endpoint when credentials and WVBATCH_CONFORMANCE_CAGE are
// in the environment.
func TestConformanceLifecycle(t *testing.T) {
	t.Parallel()
	t.Run("sandbox", func(t *testing.T) {
		t.Parallel()
		tg := sandboxTarget(t, sandbox.Config{})
		req := visit("wv-life-"+strings.ToLower(rand.Text()[:8]), 3)
		req.Contacts = []Contact{{Type: ContactNotification, RegisteredUsers: []string{"noc.amsterdam"}}}
		conformLifecycle(t, tg, req, "facilities.lead")
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		tg, ok := realTarget(t)
		cage := strings.TrimSpace(os.Getenv(EnvConformanceCage))
		if !ok || cage == "" {
			t.Skip("no real endpoint to order at: set EQUINIX_API_CLIENTID, EQUINIX_API_CLIENTSECRET, EQUINIX_API_ENDPOINT and " +
				EnvConformanceCage + " (a cage of that account) to order and cancel one work visit there")
		}
		req := visit("wvbatch-conf-"+strings.ToLower(rand.Text()[:8]), 3)
		req.Description = "wvbatch conformance test: cancelled right away"
		req.Details.Cages = []CageRef{{ID: cage}}
		start := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Hour)
		req.Details.VisitStartDateTime, req.Details.VisitEndDateTime = start, start.Add(4*time.Hour)
		conformLifecycle(t, tg, req, "")
	})
}

// conformLifecycle runs the lifecycle of req on tg; notify, when set, is a
// user to make the notification contact by an update.
func conformLifecycle(t *testing.T, tg cTarget, req *WorkVisitRequest, notify string) {
	ctx := t.Context()
	var logs bytes.Buffer
	c, tr, _ := tg.client(t, func(cfg *Config) { cfg.Logger = zerolog.New(&logs).Level(zerolog.DebugLevel) })
	var errs []error
	ref := req.CustomerReferenceID

	id, err := c.CreateWorkVisit(ctx, req)
	if err != nil {
		t.Fatalf("CreateWorkVisit: %v", err)
	}
	if !strings.HasPrefix(id, "1-") {
		t.Fatalf("order id %q", id)
	}
	cancelled := false
	t.Cleanup(func() {
		if !cancelled {
			if err := c.CancelOrder(context.WithoutCancel(ctx), id, "wvbatch conformance test clean-up"); err != nil {
				t.Errorf("clean-up: cancel %s: %v", id, err)
			}
		}
	})

	o, err := c.GetOrder(ctx, id)
	if err != nil {
		t.Fatalf("GetOrder: %v", err)
	}
	cage := req.Details.Cages[0].ID
	if o.OrderID != id || o.Status != StatusReceived || o.CustomerReferenceID != ref || !o.Cancellable || !o.Modifiable ||
		len(o.Details) != 1 || o.Details[0].ProductType != "WORK_VISIT" || o.Details[0].Cage != cage ||
		!strings.HasPrefix(cage, o.Details[0].IBX+":") {
		t.Errorf("GetOrder = %+v", o)
	}

	// Equinix's search matches parts of references; the Client keeps exact
	// matches only. On the sandbox, a second order whose reference starts
	// with the first one's shows it.
	if tg.sb != nil {
		longer := visit(ref+"2", 1)
		if _, err := c.CreateWorkVisit(ctx, longer); err != nil {
			t.Fatal(err)
		}
	}
	found, err := c.SearchOrdersByReference(ctx, ref)
	if err != nil || len(found) != 1 || found[0].OrderNumber != id {
		t.Errorf("SearchOrdersByReference(%s) = %+v, %v; want only %s", ref, found, err, id)
	}

	start, end, open := req.Details.VisitStartDateTime.Add(24*time.Hour), req.Details.VisitEndDateTime.Add(24*time.Hour), true
	upd := &WorkVisitUpdate{VisitStartDateTime: &start, VisitEndDateTime: &end, OpenCabinet: &open}
	if notify != "" {
		upd.NotificationContacts = []Contact{{RegisteredUsers: []string{notify}}}
	}
	if err := c.UpdateWorkVisit(ctx, id, upd); err != nil {
		t.Fatalf("UpdateWorkVisit: %v", err)
	}
	if tg.sb != nil {
		held := tg.sb.Orders()
		if len(held) != 2 || !held[0].VisitStart.Equal(start) || !held[0].VisitEnd.Equal(end) || !held[0].OpenCabinet ||
			strings.Join(held[0].NotificationUsers, ",") != notify || held[0].Visitors != 3 {
			t.Errorf("the sandbox holds %+v after the update", held)
		}
	}

	if err := c.CancelOrder(ctx, id, "The maintenance was postponed"); err != nil {
		t.Fatalf("CancelOrder: %v", err)
	}
	cancelled = true
	if o, err := c.GetOrder(ctx, id); err != nil || o.Status != StatusCancelled || o.Cancellable || o.Modifiable {
		t.Errorf("after cancel: %+v, %v", o, err)
	}
	// Equinix refuses to cancel it again (403 EQ-2014007); the order read
	// back is cancelled, so the cancel holds.
	if err := c.CancelOrder(ctx, id, "Cancel it once more"); err != nil {
		t.Errorf("cancel of a cancelled order: %v, want nil (read back cancelled)", err)
	}
	err = c.UpdateWorkVisit(ctx, id, &WorkVisitUpdate{OpenCabinet: &open})
	wantAPIError(t, err, http.StatusForbidden, "EQ-2016007", "")
	errs = append(errs, err)

	for _, k := range []string{tokenPath, "GET /colocations/v2/orders/" + id, "POST /colocations/v2/orders/" + id + "/cancel", "POST /v1/retrieve-orders"} {
		if tr.specs != nil && tr.validatedCount(k) == 0 {
			t.Errorf("%s was not checked against its OpenAPI file", k)
		}
	}
	checkNoSecrets(t, tg.cfg.ClientSecret, tr.issued(), logs.String(), errs)
}

// wantAPIError checks err is an *APIError with status and code, with a
// catalogue hint, and, when property is set, a problem at that property.
func wantAPIError(t *testing.T, err error, status int, code, property string) *APIError {
	t.Helper()
	e, ok := errors.AsType[*APIError](err)
	if !ok {
		t.Fatalf("error %v (%T), want an *APIError %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("error %d %s, want %d %s: %v", e.Status, e.Code, status, code, e)
	}
	if e.CorrelationID == "" {
		t.Errorf("no correlation id: %v", e)
	}
	if en, ok := Lookup(code); !ok || e.Hint() != en.Fix || !strings.Contains(e.Error(), en.Fix) {
		t.Errorf("error %v does not carry the catalogue's fix for %s", e, code)
	}
	if property != "" {
		var props []string
		for _, p := range e.Problems {
			props = append(props, p.Property)
		}
		if !strings.Contains(","+strings.Join(props, ",")+",", ","+property+",") {
			t.Errorf("problems %v, want one at %s", props, property)
		}
	}
	return e
}

// TestConformanceRefusals sends what the sandbox's rules and seeded account
// refuse, and checks each refusal reaches the caller as Equinix words it,
// with the property that traces it to a roster row.
func TestConformanceRefusals(t *testing.T) {
	t.Parallel()
	tg := sandboxTarget(t, sandbox.Config{})
	c, _, _ := tg.client(t, nil)
	tests := []struct {
		name         string
		edit         func(r *WorkVisitRequest)
		status       int
		code         string
		property     string
		visitorIndex int // >=0: the property names this visitor
	}{
		{"description too short", func(r *WorkVisitRequest) { r.Description = "short" }, 400, "EQ-2016011", "description", -1},
		{"reference too long", func(r *WorkVisitRequest) { r.CustomerReferenceID = strings.Repeat("r", 41) }, 400, "EQ-2016011", "customerReferenceId", -1},
		{"fourth visitor without first name", func(r *WorkVisitRequest) { r.Details.Visitors[3].FirstName = "" }, 400, "EQ-2016011", "details.visitors[3].firstName", 3},
		{"visitor email too long", func(r *WorkVisitRequest) {
			r.Details.Visitors[1].Details[0].Value = strings.Repeat("a", 95) + "@x.example"
		}, 400, "EQ-2016011", "details.visitors[1].details[0].value", 1},
		{"51 visitors", func(r *WorkVisitRequest) { r.Details.Visitors = visit("x", 51).Details.Visitors }, 400, "EQ-2016011", "details.visitors", -1},
		{"15 days", func(r *WorkVisitRequest) {
			r.Details.VisitEndDateTime = r.Details.VisitStartDateTime.Add(15 * 24 * time.Hour)
		}, 400, "EQ-2016011", "details.visitEndDateTime", -1},
		{"end before start", func(r *WorkVisitRequest) { r.Details.VisitEndDateTime = r.Details.VisitStartDateTime.Add(-time.Hour) }, 400, "EQ-2016011", "details.visitEndDateTime", -1},
		{"start in the past", func(r *WorkVisitRequest) {
			r.Details.VisitStartDateTime = time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)
		}, 400, "EQ-2016011", "details.visitStartDateTime", -1},
		{"cages in two IBXs", func(r *WorkVisitRequest) {
			r.Details.Cages = append(r.Details.Cages, CageRef{ID: "DC2:01:123456"})
		}, 400, "EQ-2016011", "details.cages[1].id", -1},
		{"cabinet outside its cage", func(r *WorkVisitRequest) { r.Details.Cages[0].CabinetID = "AM1:01:000112:0201" }, 400, "EQ-2016011", "details.cages[0].cabinetId", -1},
		{"cage missing", func(r *WorkVisitRequest) { r.Details.Cages[0].ID = "" }, 400, "EQ-2016011", "details.cages[0].id", -1},
		{"two technical contacts", func(r *WorkVisitRequest) {
			r.Contacts = []Contact{{Type: ContactTechnical, RegisteredUsers: []string{"noc.amsterdam"}}, {Type: ContactTechnical, RegisteredUsers: []string{"facilities.lead"}}}
		}, 400, "EQ-2016011", "contacts[1].type", -1},

		{"cage not listed", func(r *WorkVisitRequest) { r.Details.Cages = []CageRef{{ID: "AM1:02:000999"}} }, 403, "EQ-2016006", "details.cages[]", -1},
		{"cabinet not listed", func(r *WorkVisitRequest) { r.Details.Cages[0].CabinetID = "AM1:01:000111:0199" }, 403, "EQ-2016006", "details.cages[]", -1},
		{"account may not order", func(r *WorkVisitRequest) { r.Details.Cages[0].AccountNumber = "100099" }, 403, "EQ-2016006", "details.cages[]", -1},
		{"IBX not permitted", func(r *WorkVisitRequest) { r.Details.Cages = []CageRef{{ID: "SV5:01:000001"}} }, 403, "EQ-2016006", "details.cages[]", -1},

		{"LOCKED registered visitor", func(r *WorkVisitRequest) {
			r.Details.Visitors[2] = Visitor{RegisteredUsers: []string{"jdoe1234"}}
		}, 403, "EQX-161-403", "details.visitors[2].registeredUsers[0]", 2},
		{"APPROVED registered visitor", func(r *WorkVisitRequest) {
			r.Details.Visitors[0] = Visitor{RegisteredUsers: []string{"pending.user"}}
		}, 403, "EQX-161-403", "details.visitors[0].registeredUsers[0]", 0},
		{"unknown registered visitor", func(r *WorkVisitRequest) {
			r.Details.Visitors[4] = Visitor{RegisteredUsers: []string{"nobody.known"}}
		}, 403, "EQX-161-403", "details.visitors[4].registeredUsers[0]", 4},
		{"TERMINATED notification contact", func(r *WorkVisitRequest) {
			r.Contacts = []Contact{{Type: ContactNotification, RegisteredUsers: []string{"former.employee"}}}
		}, 403, "EQX-161-403", "contacts[0].registeredUsers[0]", -1},
		{"unknown technical contact", func(r *WorkVisitRequest) {
			r.Contacts = []Contact{{Type: ContactTechnical, RegisteredUsers: []string{"nobody.known"}}}
		}, 403, "EQX-161-403", "contacts[0].registeredUsers[0]", -1},
		{"LOCKED notification contact is accepted", func(r *WorkVisitRequest) {
			r.Contacts = []Contact{{Type: ContactNotification, RegisteredUsers: []string{"jdoe1234"}}}
		}, 0, "", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := visit(randomRef("wv-ref-"), 5)
			tt.edit(req)
			id, err := c.CreateWorkVisit(t.Context(), req)
			if tt.status == 0 {
				if err != nil || id == "" {
					t.Fatalf("CreateWorkVisit = %q, %v; want an order", id, err)
				}
				return
			}
			if IsUncertain(err) || IsRetryable(err) {
				t.Errorf("a refusal reads as uncertain or retryable: %v", err)
			}
			e := wantAPIError(t, err, tt.status, tt.code, tt.property)
			if tt.visitorIndex >= 0 {
				ok := false
				for _, p := range e.Problems {
					if i, isV := VisitorIndex(p.Property); isV && i == tt.visitorIndex {
						ok = true
					}
				}
				if !ok {
					t.Errorf("no problem traces to visitor %d: %+v", tt.visitorIndex, e.Problems)
				}
			}
		})
	}
	t.Cleanup(func() {
		if n := len(tg.sb.Orders()); n != 1 {
			t.Errorf("the sandbox holds %d orders, want only the accepted one", n)
		}
	})
}

// TestConformanceUpdateRules sends updates Equinix does not allow.
func TestConformanceUpdateRules(t *testing.T) {
	t.Parallel()
	tg := sandboxTarget(t, sandbox.Config{})
	c, _, _ := tg.client(t, nil)
	ctx := t.Context()
	id, err := c.CreateWorkVisit(ctx, visit("wv-upd-0001", 1))
	if err != nil {
		t.Fatal(err)
	}
	long := time.Date(2027, 1, 30, 8, 0, 0, 0, time.UTC)
	err = c.UpdateWorkVisit(ctx, id, &WorkVisitUpdate{VisitEndDateTime: &long})
	wantAPIError(t, err, http.StatusBadRequest, "EQ-2016011", "details.visitEndDateTime")
	err = c.UpdateWorkVisit(ctx, id, &WorkVisitUpdate{NotificationContacts: []Contact{{RegisteredUsers: []string{"former.employee"}}}})
	wantAPIError(t, err, http.StatusForbidden, "EQX-161-403", "contacts[0].registeredUsers[0]")
	err = c.UpdateWorkVisit(ctx, "1-42", &WorkVisitUpdate{OpenCabinet: new(bool)})
	if !IsNotFound(err) {
		t.Errorf("update of an unknown order: %v, want not found", err)
	}

	if err := tg.sb.SetOrderStatus(id, sandbox.StatusClosed); err != nil {
		t.Fatal(err)
	}
	err = c.UpdateWorkVisit(ctx, id, &WorkVisitUpdate{OpenCabinet: new(bool)})
	wantAPIError(t, err, http.StatusForbidden, "EQ-2016007", "")
	// Refused with EQ-2014007; read back, the order is closed.
	if err := c.CancelOrder(ctx, id, "No longer needed"); !errors.Is(err, ErrOrderClosed) {
		t.Errorf("cancel of a closed order: %v, want ErrOrderClosed", err)
	}
}

// TestConformanceTokens checks renewal before token_timeout runs out, one
// renewal and repeat on a 401, and that refused credentials are tried once,
// against the sandbox's expiring tokens and lockout.
func TestConformanceTokens(t *testing.T) {
	t.Parallel()
	t.Run("renewed before it expires", func(t *testing.T) {
		t.Parallel()
		tg := sandboxTarget(t, sandbox.Config{TokenTTL: time.Hour})
		c, tr, _ := tg.client(t, nil)
		ctx := t.Context()
		for range 3 {
			if _, err := c.Locations(ctx); err != nil {
				t.Fatal(err)
			}
		}
		tg.sbTime.advance(55 * time.Minute) // token_timeout 3599s: due for renewal, not yet expired
		if _, err := c.Locations(ctx); err != nil {
			t.Fatal(err)
		}
		if n := tr.count(tokenPath); n != 2 {
			t.Errorf("%d token requests, want 2 (one renewal before expiry)", n)
		}
		for _, st := range tr.statusesOf("GET /colocations/v2/locations") {
			if st != http.StatusOK {
				t.Errorf("locations answered %d: the token was not renewed in time", st)
			}
		}
	})
	t.Run("401 renews once and repeats once", func(t *testing.T) {
		t.Parallel()
		tg := sandboxTarget(t, sandbox.Config{TokenTTL: time.Hour})
		// The Client's clock lags the sandbox's: the sandbox expires the
		// token while the Client thinks it good.
		lag := &clock{now: tg.sbTime.Now()}
		c, tr, _ := tg.client(t, func(cfg *Config) { cfg.Now = lag.Now })
		ctx := t.Context()
		if _, err := c.Locations(ctx); err != nil {
			t.Fatal(err)
		}
		tg.sbTime.advance(2 * time.Hour)
		if _, err := c.Locations(ctx); err != nil {
			t.Fatalf("after the token expired: %v", err)
		}
		if got := fmt.Sprint(tr.statusesOf("GET /colocations/v2/locations")); got != "[200 401 200]" {
			t.Errorf("locations answers %s, want [200 401 200]", got)
		}
		if n := tr.count(tokenPath); n != 2 {
			t.Errorf("%d token requests, want 2", n)
		}
	})
	t.Run("refused credentials are tried once, and the account locks after 5", func(t *testing.T) {
		t.Parallel()
		tg := sandboxTarget(t, sandbox.Config{})
		for i := range sandbox.LockoutAttempts {
			c, tr, _ := tg.client(t, func(cfg *Config) { cfg.ClientSecret = "wrong-secret-" + fmt.Sprint(i) })
			for range 3 {
				_, err := c.Locations(t.Context())
				if !IsAuth(err) {
					t.Fatalf("attempt %d: %v, want a refusal of the credentials", i, err)
				}
				if strings.Contains(err.Error(), "wrong-secret") {
					t.Errorf("the refusal quotes the secret: %v", err)
				}
			}
			if n := tr.count(tokenPath); n != 1 {
				t.Fatalf("client %d asked for a token %d times after its refusal, want 1", i, n)
			}
			if n := tr.count("GET /colocations/v2/locations"); n != 0 {
				t.Errorf("client %d called the API %d times without a token", i, n)
			}
		}
		c, _, _ := tg.client(t, nil)
		_, err := c.Locations(t.Context())
		a, ok := errors.AsType[*AuthError](err)
		if !ok || a.Code != "ACCOUNT_LOCKED" {
			t.Fatalf("the right secret after 5 refusals: %v, want the account locked", err)
		}
	})
}

// TestConformanceFaults meets each fault kind once, through the Client:
// reads are repeated; a create is repeated only when the sandbox cannot
// have acted on it, else the caller is told to look it up.
func TestConformanceFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault sandbox.Fault
		// a read meets the fault once, then succeeds
		readAnswers string // statuses the transport saw; "" for none (no answer)
		retryAfter  bool   // the Client waited the Retry-After
		// a create meets the fault
		createUncertain bool
		stored          int // orders the sandbox holds afterwards
	}{
		{fault: sandbox.Fault429, readAnswers: "[429 200]", retryAfter: true, createUncertain: false, stored: 1},
		{fault: sandbox.Fault500, readAnswers: "[500 200]", createUncertain: true, stored: 0},
		{fault: sandbox.Fault502, readAnswers: "[502 200]", createUncertain: true, stored: 0},
		{fault: sandbox.Fault503, readAnswers: "[503 200]", retryAfter: true, createUncertain: true, stored: 0},
		{fault: sandbox.FaultReset, readAnswers: "[200]", createUncertain: true, stored: 0},
		// The sandbox does not notice that the Client left a slow create
		// (its body is unread): the create is placed once the delay is over.
		{fault: sandbox.FaultSlow, readAnswers: "[200]", createUncertain: true, stored: 1},
		{fault: sandbox.FaultDropCreated, readAnswers: "[200]", createUncertain: true, stored: 1},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			t.Parallel()
			tg := sandboxTarget(t, sandbox.Config{SlowDelay: time.Second})
			c, tr, sl := tg.client(t, func(cfg *Config) { cfg.Timeout = 300 * time.Millisecond })
			ctx := t.Context()
			if _, err := c.Locations(ctx); err != nil { // the token, before any fault
				t.Fatal(err)
			}

			must(t, tg.sb.FailNext(tt.fault))
			if _, err := c.Locations(ctx, "AM1"); err != nil {
				t.Fatalf("a read after one %s fault: %v", tt.fault, err)
			}
			if got := fmt.Sprint(tr.statusesOf("GET /colocations/v2/locations")[1:]); got != tt.readAnswers {
				t.Errorf("read answers %s, want %s", got, tt.readAnswers)
			}
			if n := tr.count("GET /colocations/v2/locations"); n != 3 {
				t.Errorf("%d location requests, want 3 (one, then the faulted one repeated once)", n)
			}
			waited := sl.all()
			if len(waited) != 1 || tt.retryAfter && waited[0] != time.Second {
				t.Errorf("the Client waited %v; want one wait (Retry-After 1s: %v)", waited, tt.retryAfter)
			}

			ref := randomRef("wv-fault-")
			must(t, tg.sb.FailNext(tt.fault))
			id, err := c.CreateWorkVisit(ctx, visit(ref, 2))
			creates := tr.count("POST /colocations/v2/orders/workVisits")
			if tt.createUncertain {
				u, ok := errors.AsType[*UncertainError](err)
				if !ok || u.CustomerReferenceID != ref {
					t.Fatalf("create after a %s fault: %q, %v; want an *UncertainError naming %s", tt.fault, id, err, ref)
				}
				if creates != 1 {
					t.Errorf("the create was sent %d times, want once", creates)
				}
			} else if err != nil || id == "" {
				t.Fatalf("create after a %s fault: %q, %v", tt.fault, id, err)
			}
			tg.sbReqs.wait(t) // the create the Client gave up on has ended at the sandbox
			found, err := c.SearchOrdersByReference(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != tt.stored || len(tg.sb.Orders()) != tt.stored {
				t.Errorf("search finds %d orders, the sandbox holds %d; want %d", len(found), len(tg.sb.Orders()), tt.stored)
			}
		})
	}
	t.Run("faults on every try", func(t *testing.T) {
		t.Parallel()
		tg := sandboxTarget(t, sandbox.Config{})
		c, tr, sl := tg.client(t, func(cfg *Config) { cfg.MaxRetries = 3 })
		if _, err := c.Locations(t.Context()); err != nil {
			t.Fatal(err)
		}
		must(t, tg.sb.FailNext(sandbox.Fault429, sandbox.Fault429, sandbox.Fault429, sandbox.Fault429))
		_, err := c.GetOrder(t.Context(), "1-1")
		e := wantAPIError(t, err, http.StatusTooManyRequests, "429", "")
		if e.RetryAfter != time.Second || !IsRetryable(err) {
			t.Errorf("RetryAfter %v, retryable %v; want 1s, true", e.RetryAfter, IsRetryable(err))
		}
		if n := tr.count("GET /colocations/v2/orders/1-1"); n != 4 || len(sl.all()) != 3 {
			t.Errorf("%d requests and %d waits, want 4 and 3", n, len(sl.all()))
		}
	})
	t.Run("token request faults", func(t *testing.T) {
		t.Parallel()
		tg := sandboxTarget(t, sandbox.Config{})
		c, tr, _ := tg.client(t, nil)
		must(t, tg.sb.FailNext(sandbox.Fault503, sandbox.FaultReset))
		if _, err := c.Locations(t.Context()); err != nil {
			t.Fatalf("Locations after two token faults: %v", err)
		}
		if n := tr.count(tokenPath); n != 3 {
			t.Errorf("%d token requests, want 3", n)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConformanceNeverOrdersTwice places orders through a sandbox that
// faults a third of all requests, as a caller should: repeat what is
// retryable, and after an uncertain create look the reference up before
// sending it again. Every reference must end up ordered exactly once.
func TestConformanceNeverOrdersTwice(t *testing.T) {
	t.Parallel()
	tg := sandboxTarget(t, sandbox.Config{FaultRate: 0.33, Seed: 7, SlowDelay: time.Second})
	c, _, _ := tg.client(t, func(cfg *Config) { cfg.Timeout = 200 * time.Millisecond; cfg.MaxRetries = 8 })
	ctx := t.Context()
	const orders = 12
	uncertain := 0
	for i := range orders {
		ref := fmt.Sprintf("wv-once-%04d", i)
		for attempt := 0; ; attempt++ {
			if attempt == 30 {
				t.Fatalf("%s: no outcome after 30 attempts", ref)
			}
			_, err := c.CreateWorkVisit(ctx, visit(ref, 1))
			if err == nil {
				break
			}
			if IsUncertain(err) {
				uncertain++
				tg.sbReqs.wait(t) // a slow answer's request ends
				found, serr := c.SearchOrdersByReference(ctx, ref)
				if serr != nil {
					t.Fatalf("%s: search: %v", ref, serr)
				}
				if len(found) > 0 {
					break
				}
				continue
			}
			if !IsRetryable(err) {
				t.Fatalf("%s: %v", ref, err)
			}
		}
	}
	if uncertain == 0 {
		t.Error("no create was uncertain: the faults did not test anything")
	}
	byRef := map[string]int{}
	for _, o := range tg.sb.Orders() {
		byRef[o.CustomerReferenceID]++
	}
	for i := range orders {
		if ref := fmt.Sprintf("wv-once-%04d", i); byRef[ref] != 1 {
			t.Errorf("%s ordered %d times", ref, byRef[ref])
		}
	}
	if len(byRef) != orders {
		t.Errorf("%d references ordered, want %d", len(byRef), orders)
	}
}
