package equinix

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/wvbatch/wvbatch/internal/equinix/spectest"
)

// Credentials the fake API accepts. They are long and unusual so that a
// search for them in logs and errors cannot match by accident.
const (
	testClientID = "wvbatch-test-client-id"
	testSecret   = "Sup3r-Secret-Value-7f1c2d"
)

// fakeAPI is an httptest server speaking the Equinix API, strict about what
// it accepts: the token body, the bearer token, the content type and, where
// a published OpenAPI file covers the call, the request's shape.
type fakeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	mux   *http.ServeMux
	specs *specSet // nil: the published files are absent and nothing is checked against them

	mu           sync.Mutex
	calls        map[string]int // "METHOD /path" → count
	issued       int
	valid        map[string]bool
	tokenTimeout string
	tokenDelay   time.Duration
	tokenStatus  int  // non-zero: refuse the credentials with this status
	tokenEcho    bool // the refusal quotes the client secret back
	validated    map[string]int
	bodies       map[string][]byte      // last request body per "METHOD /path"
	headers      map[string]http.Header // last request headers per "METHOD /path"
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		t:            t,
		mux:          http.NewServeMux(),
		calls:        map[string]int{},
		valid:        map[string]bool{},
		validated:    map[string]int{},
		bodies:       map[string][]byte{},
		headers:      map[string]http.Header{},
		tokenTimeout: "3599",
		specs:        optionalSpecs(t),
	}
	f.mux.HandleFunc("POST /oauth2/v1/token", f.serveToken)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// handle registers h for a ServeMux pattern such as "GET /colocations/v2/orders/{id}".
func (f *fakeAPI) handle(pattern string, h http.HandlerFunc) { f.mux.HandleFunc(pattern, h) }

func (f *fakeAPI) count(methodPath string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[methodPath]
}

// body returns the last body sent to "METHOD /path".
func (f *fakeAPI) body(methodPath string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[methodPath]
}

// header returns the last headers sent to "METHOD /path".
func (f *fakeAPI) header(methodPath string) http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headers[methodPath]
}

func (f *fakeAPI) tokenRequests() int { return f.count("POST /oauth2/v1/token") }

// revokeAll makes every token issued so far invalid.
func (f *fakeAPI) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.valid)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	f.calls[r.Method+" "+r.URL.Path]++
	f.bodies[r.Method+" "+r.URL.Path] = body
	f.headers[r.Method+" "+r.URL.Path] = r.Header.Clone()
	f.mu.Unlock()

	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q, want application/json", r.Method, r.URL.Path, ct)
	}
	route, in := f.specs.find(r, body)
	if in != nil {
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			f.t.Errorf("%s %s does not match %s: %v", r.Method, r.URL.Path, route, err)
		}
		f.mu.Lock()
		f.validated[r.Method+" "+r.URL.Path]++
		f.mu.Unlock()
	}
	if r.URL.Path != "/oauth2/v1/token" {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		valid := ok && f.valid[tok]
		f.mu.Unlock()
		if !valid {
			writeJSON(w, http.StatusUnauthorized, `[{"errorCode":"EQ-0000401","errorMessage":"Invalid access token"}]`)
			return
		}
	}
	rec := &recorder{ResponseWriter: w, header: http.Header{}}
	f.mux.ServeHTTP(rec, r)
	if in != nil && !rec.hijacked && rec.status >= 200 && rec.status < 300 && rec.Header().Get(offSpec) == "" {
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.status, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		out.SetBodyBytes(rec.body.Bytes())
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			f.t.Errorf("the fake's answer to %s %s does not match %s: %v", r.Method, r.URL.Path, route, err)
		}
	}
}

func (f *fakeAPI) serveToken(w http.ResponseWriter, r *http.Request) {
	var got map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&got); err != nil {
		f.t.Errorf("token request body is not JSON: %v", err)
	}
	want := map[string]any{"grant_type": "client_credentials", "client_id": testClientID, "client_secret": testSecret}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokenStatus != 0 {
		msg := "Please enter a valid client id/client secret"
		if f.tokenEcho {
			msg += " (you sent " + fmt.Sprint(got["client_secret"]) + ")"
		}
		writeJSON(w, f.tokenStatus, `{"error_domain":"apiplatform","error_title":"Invalid client","error_code":"S0001",`+
			`"developer_message":"Invalid client credentials","error_message":"`+msg+`"}`)
		return
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		f.t.Errorf("token request body = %v, want %v", got, want)
		writeJSON(w, http.StatusUnauthorized, `{"error_code":"S0001","error_message":"bad"}`)
		return
	}
	if f.tokenDelay > 0 {
		f.mu.Unlock()
		time.Sleep(f.tokenDelay) // a slow token answer, for requests that wait on it
		f.mu.Lock()
	}
	f.issued++
	tok := "tok-" + strconv.Itoa(f.issued) + "-c0ffee"
	f.valid[tok] = true
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"access_token":%q,"token_timeout":%q,"token_type":"Bearer","user_name":"apiuser1"}`,
		tok, f.tokenTimeout))
}

// issuedTokens lists every token handed out.
func (f *fakeAPI) issuedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ts []string
	for i := 1; i <= f.issued; i++ {
		ts = append(ts, "tok-"+strconv.Itoa(i)+"-c0ffee")
	}
	return ts
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hangUp closes the connection without an answer, after the request was read.
func hangUp(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a clean close
	}
	conn.Close()
}

// offSpec is a header a test handler sets on an answer that deliberately
// departs from the published schema.
const offSpec = "X-Test-Off-Spec"

// recorder passes an answer through and keeps a copy for validation.
type recorder struct {
	http.ResponseWriter
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (r *recorder) Header() http.Header { return r.ResponseWriter.Header() }

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.hijacked = true
	return r.ResponseWriter.(http.Hijacker).Hijack()
}

// specSet holds routers for the published OpenAPI files.
type specSet struct {
	routers map[string]routers.Router // file name → router
}

var (
	specsOnce sync.Once
	specsSet  *specSet
	specsErr  error
)

// loadSpecs loads the published OpenAPI files from the reference folder dir,
// once per process.
func loadSpecs(dir string) (*specSet, error) {
	specsOnce.Do(func() {
		s := &specSet{routers: map[string]routers.Router{}}
		for _, name := range []string{"accesstoken-v1.yaml", "orders-v2.json", "lookup-v2.json", "orderhistory-v1.json"} {
			doc, err := spectest.Load(filepath.Join(dir, "openapi", name))
			if err != nil {
				specsErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			// The files' examples do not all match their own schemas (see
			// TestSpecsLoad); the schemas themselves are valid.
			rt, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
			if err != nil {
				specsErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			s.routers[name] = rt
		}
		specsSet = s
	})
	return specsSet, specsErr
}

// specs returns routers for the published OpenAPI files. A test that needs
// them calls it from its own goroutine: it skips the test when the files are
// absent (fails it when CI is set).
func specs(t *testing.T) *specSet {
	t.Helper()
	s, err := loadSpecs(spectest.Dir(t))
	if err != nil {
		t.Fatalf("load OpenAPI files: %v", err)
	}
	return s
}

// optionalSpecs is specs for a test that also runs without the files: it
// returns nil when they are absent, and the test checks nothing against them.
func optionalSpecs(t *testing.T) *specSet {
	t.Helper()
	if dir, ok := spectest.Find(); !ok && os.Getenv("CI") == "" {
		t.Logf("requests and answers are not checked against Equinix's API descriptions: none in %s (set %s)", dir, spectest.EnvDir)
		return nil
	}
	return specs(t)
}

// find returns the validation input for r if a spec describes its route.
func (s *specSet) find(r *http.Request, body []byte) (string, *openapi3filter.RequestValidationInput) {
	if s == nil {
		return "", nil
	}
	u := *r.URL
	u.Scheme, u.Host = "https", "api.equinix.com"
	req := r.Clone(r.Context())
	req.URL, req.Host = &u, u.Host
	req.Body = io.NopCloser(bytes.NewReader(body))
	for name, rt := range s.routers {
		route, params, err := rt.FindRoute(req)
		if err != nil {
			continue
		}
		return name, &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: checkBearer, MultiError: true},
		}
	}
	return "", nil
}

func checkBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || tok == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sleeps records the waits a Client asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.ds...)
}

// testConfig is a Config for f that never really sleeps.
func testConfig(f *fakeAPI) (Config, *clock, *sleeps) {
	clk, sl := newClock(), &sleeps{}
	return Config{
		Endpoint:     f.srv.URL,
		ClientID:     testClientID,
		ClientSecret: testSecret,
		Timeout:      5 * time.Second,
		RateLimit:    -1,
		Now:          clk.Now,
		Sleep:        sl.Sleep,
	}, clk, sl
}

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// orderJSON is an orders-v2 answer for a work visit.
func orderJSON(id string, status OrderStatus) string {
	return fmt.Sprintf(`{"orderId":%q,"accountNumber":"1234567890","accountName":"Acme","status":%q,`+
		`"createdDateTime":"2026-03-01T10:00:00.000Z","customerReferenceId":"wv-ref-0001","cancellable":true,"modifiable":true,`+
		`"details":[{"lineId":"1-LINE1","productType":"WORK_VISIT","ibx":"AM1","cage":"AM1:01:000111",`+
		`"cabinets":["AM1:01:000111:0101"],"status":"Open","description":"Work visit AM1"}]}`, id, status)
}
