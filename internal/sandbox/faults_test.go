package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault       Fault
		wantStatus  int    // 0: the connection is reset
		retryAfter  string // expected Retry-After
		wantStored  int    // orders stored after one create
		wantCreated bool   // the create answered 201 (slow)
	}{
		{Fault429, 429, "1", 0, false},
		{Fault500, 500, "", 0, false},
		{Fault502, 502, "", 0, false},
		{Fault503, 503, "1", 0, false},
		{FaultSlow, 201, "", 1, true},
		{FaultReset, 0, "", 0, false},
		{FaultDropCreated, 0, "", 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.fault.String(), func(t *testing.T) {
			t.Parallel()
			e2 := newEnv(t, Config{FaultRate: 1, FaultKinds: []Fault{tc.fault}, SlowDelay: 300 * time.Millisecond})
			e2.token = issueToken(t, e2)

			start := time.Now()
			a, err := e2.try("POST", "/colocations/v2/orders/workVisits", visitBody(), e2.token)
			took := time.Since(start)
			switch {
			case tc.wantStatus == 0:
				if err == nil {
					t.Fatalf("got an answer %d %s, want a reset connection", a.status, a)
				}
			case err != nil:
				t.Fatalf("transport error %v", err)
			case a.status != tc.wantStatus:
				t.Fatalf("status %d, want %d: %s", a.status, tc.wantStatus, a)
			case a.header.Get("Retry-After") != tc.retryAfter:
				t.Fatalf("Retry-After %q, want %q", a.header.Get("Retry-After"), tc.retryAfter)
			}
			if tc.wantStatus >= 400 {
				wantError(t, a, tc.wantStatus, fmt.Sprint(tc.wantStatus))
			}
			if tc.fault == FaultSlow && took < 300*time.Millisecond {
				t.Fatalf("slow answer took %s", took)
			}
			if n := len(e2.srv.Orders()); n != tc.wantStored {
				t.Fatalf("%d orders stored, want %d", n, tc.wantStored)
			}
			// The sandbox's own path is never faulted.
			if a := e2.do("GET", "/sandbox/orders", nil, ""); a.status != 200 {
				t.Fatalf("/sandbox/orders: %d", a.status)
			}
		})
	}
}

// issueToken adds a token to e's server directly, for servers whose faults
// would hit the token request itself (it is an Equinix path too).
func issueToken(t *testing.T, e *env) string {
	t.Helper()
	tok := "test-token-" + t.Name()
	e.srv.authMu.Lock()
	e.srv.tokens[tok] = tokenInfo{clientID: DefaultClientID, user: DefaultOrderingUser, expires: e.srv.now().Add(time.Hour)}
	e.srv.authMu.Unlock()
	return tok
}

func TestDropCreatedOnlyOnCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{FaultRate: 1, FaultKinds: []Fault{FaultDropCreated}})
	// The token request and lookups are not creates: they are not faulted.
	tok := e.login()
	if a := e.do("GET", "/colocations/v2/locations?permissionCode=WORK_VISIT", nil, tok); a.status != 200 {
		t.Fatalf("locations: %d", a.status)
	}
	if _, err := e.try("POST", "/colocations/v2/orders/workVisits", withRef("DROPPED-1"), tok); err == nil {
		t.Fatal("create answered")
	}
	// The order exists and can be found by its reference.
	_, h := e.search(byReference("DROPPED-1", 0, 10))
	if len(h.Content) != 1 || h.Content[0].OrderNumber != e.srv.Orders()[0].ID {
		t.Fatalf("search after a dropped create: %+v", h)
	}
}

// outcomes sends n creates one after another and describes what each got.
func outcomes(t *testing.T, seed int64, n int) []string {
	e := newEnv(t, Config{FaultRate: 0.5, Seed: seed, SlowDelay: time.Millisecond})
	tok := issueToken(t, e)
	var out []string
	for i := range n {
		a, err := e.try("POST", "/colocations/v2/orders/workVisits", withRef(fmt.Sprint("R-", i)), tok)
		switch {
		case err != nil:
			out = append(out, "reset")
		default:
			out = append(out, fmt.Sprint(a.status))
		}
	}
	out = append(out, fmt.Sprint("stored:", len(e.srv.Orders())))
	return out
}

func TestFaultsReproducible(t *testing.T) {
	t.Parallel()
	a := outcomes(t, 42, 40)
	b := outcomes(t, 42, 40)
	c := outcomes(t, 43, 40)
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if strings.Join(a, " ") == strings.Join(c, " ") {
		t.Fatalf("seeds 42 and 43 gave the same 40 outcomes: %v", a)
	}
	kinds := map[string]bool{}
	for _, o := range a {
		kinds[o] = true
	}
	if !kinds["201"] || !kinds["reset"] || len(kinds) < 4 {
		t.Fatalf("FaultRate 0.5 over 40 requests gave only %v", a)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{Latency: 150 * time.Millisecond, LatencyJitter: 50 * time.Millisecond})
	start := time.Now()
	e.login()
	if took := time.Since(start); took < 150*time.Millisecond || took > 5*time.Second {
		t.Fatalf("token with 150ms latency took %s", took)
	}
	start = time.Now()
	e.do("GET", "/sandbox/orders", nil, "")
	if took := time.Since(start); took >= 150*time.Millisecond {
		t.Fatalf("/sandbox/orders was delayed %s", took)
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	for _, f := range allFaults {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			got, err := ParseFault(f.String())
			if err != nil || got != f {
				t.Fatalf("ParseFault(%q) = %v, %v", f.String(), got, err)
			}
		})
	}
	if _, err := ParseFault("teapot"); err == nil {
		t.Fatal("ParseFault(teapot) succeeded")
	}
	if fs, err := ParseFaults(" 429, reset ,drop-created"); err != nil || fmt.Sprint(fs) != "[429 reset drop-created]" {
		t.Fatalf("ParseFaults = %v, %v", fs, err)
	}
	if fs, err := ParseFaults("all"); err != nil || len(fs) != len(allFaults) {
		t.Fatalf("ParseFaults(all) = %v, %v", fs, err)
	}
	if _, err := ParseFaults("429,teapot"); err == nil {
		t.Fatal("ParseFaults(429,teapot) succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"fault rate above 1", Config{FaultRate: 1.5}},
		{"negative fault rate", Config{FaultRate: -0.1}},
		{"unknown fault kind", Config{FaultKinds: []Fault{99}}},
		{"negative latency", Config{Latency: -time.Second}},
		{"tiny TTL", Config{TokenTTL: time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{FaultRate: 0.2, FaultKinds: []Fault{Fault429, Fault500, FaultDropCreated}, Seed: 7})
	tok := issueToken(t, e)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				ref := fmt.Sprintf("C-%d-%d", w, i)
				a, err := e.try("POST", "/colocations/v2/orders/workVisits", withRef(ref), tok)
				if err == nil && a.status == http.StatusCreated {
					mu.Lock()
					created++
					mu.Unlock()
					id := strings.TrimPrefix(a.header.Get("Location"), "/orders/")
					_, _ = e.try("GET", "/colocations/v2/orders/"+id, nil, tok)
					_, _ = e.try("POST", "/colocations/v2/orders/"+id+"/cancel", map[string]string{"reason": "load test"}, tok)
				}
				_, _ = e.try("POST", "/v1/retrieve-orders", byReference(ref, 0, 10), tok)
				_ = e.srv.Orders()
			}
		})
	}
	wg.Wait()
	orders := e.srv.Orders()
	ids := map[string]bool{}
	for _, o := range orders {
		if ids[o.ID] {
			t.Fatalf("order id %s given twice", o.ID)
		}
		ids[o.ID] = true
	}
	if len(orders) < created {
		t.Fatalf("%d orders stored, %d creates answered 201", len(orders), created)
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("url %s", url)
	}
	resp, err := http.Get(url + "/sandbox/orders")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := http.Get(url + "/sandbox/orders"); err == nil {
		t.Fatal("still serving after stop")
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tok := e.login()
	if err := e.srv.FailNext(Fault503, FaultDropCreated, Fault429); err != nil {
		t.Fatal(err)
	}
	const locations = "/colocations/v2/locations?permissionCode=WORK_VISIT"
	if a := e.do("GET", locations, nil, tok); a.status != 503 || a.header.Get("Retry-After") != "1" {
		t.Fatalf("first request after FailNext: %d %s", a.status, a)
	}
	// A queued drop-created on a request that is not a create resets it.
	if a, err := e.try("GET", locations, nil, tok); err == nil {
		t.Fatalf("second request answered %d, want a reset", a.status)
	}
	// The queue is consumed in order, by any Equinix path.
	if a := e.do("POST", "/colocations/v2/orders/workVisits", withRef("QUEUED-1"), tok); a.status != 429 {
		t.Fatalf("third request: %d %s", a.status, a)
	}
	if n := len(e.srv.Orders()); n != 0 {
		t.Fatalf("%d orders after a 429", n)
	}
	if a := e.do("GET", locations, nil, tok); a.status != 200 {
		t.Fatalf("after the queue: %d %s", a.status, a)
	}
	if err := e.srv.FailNext(Fault(99)); err == nil {
		t.Fatal("FailNext accepted an unknown fault")
	}
}

// TestFailAll: every request meets the outage's fault, queued faults
// included, until FailAll(0); then the queue and the orders are as before.
func TestFailAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	tok := e.login()
	if err := e.srv.FailNext(Fault429); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.FailAll(Fault503); err != nil {
		t.Fatal(err)
	}
	const locations = "/colocations/v2/locations?permissionCode=WORK_VISIT"
	for i := range 5 {
		if a := e.do("GET", locations, nil, tok); a.status != 503 {
			t.Fatalf("request %d during the outage: %d %s", i, a.status, a)
		}
	}
	if a := e.do("POST", "/colocations/v2/orders/workVisits", withRef("DOWN-1"), tok); a.status != 503 || len(e.srv.Orders()) != 0 {
		t.Fatalf("create during the outage: %d %s, %d orders", a.status, a, len(e.srv.Orders()))
	}
	if err := e.srv.FailAll(FaultDropCreated); err != nil {
		t.Fatal(err)
	}
	if a, err := e.try("GET", locations, nil, tok); err == nil {
		t.Fatalf("a drop-created outage answered a lookup %d, want a reset", a.status)
	}
	if err := e.srv.FailAll(0); err != nil {
		t.Fatal(err)
	}
	if a := e.do("GET", locations, nil, tok); a.status != 429 {
		t.Fatalf("first request after the outage: %d, want the queued 429", a.status)
	}
	if a := e.do("GET", locations, nil, tok); a.status != 200 {
		t.Fatalf("after the outage: %d %s", a.status, a)
	}
	if err := e.srv.FailAll(Fault(99)); err == nil {
		t.Fatal("FailAll accepted an unknown fault")
	}
}

// TestFaultAnswerShapes checks generic errors come in the error shape of
// the API they answer for.
func TestFaultAnswerShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, body string
		wantKey    string // a key of the body (of its first element for an array)
		array      bool
	}{
		{"/oauth2/v1/token", `{}`, "error_code", false},
		{"/v1/retrieve-orders", `{}`, "errors", false},
		{"/colocations/v2/orders/workVisits", `{}`, "errorCode", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Config{})
			if err := e.srv.FailNext(Fault500); err != nil {
				t.Fatal(err)
			}
			a := e.do("POST", tt.path, tt.body, "")
			if a.status != 500 {
				t.Fatalf("status %d: %s", a.status, a)
			}
			var obj map[string]any
			if tt.array {
				var arr []map[string]any
				mustUnmarshal(t, a.body, &arr)
				if len(arr) != 1 {
					t.Fatalf("%s", a)
				}
				obj = arr[0]
			} else {
				mustUnmarshal(t, a.body, &obj)
			}
			if _, ok := obj[tt.wantKey]; !ok {
				t.Fatalf("answer %s has no %q", a, tt.wantKey)
			}
		})
	}
}
