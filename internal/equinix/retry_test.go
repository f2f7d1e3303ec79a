package equinix

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// failing answers the first n requests with fail, then with ok.
func failing(n int32, fail, ok http.HandlerFunc) http.HandlerFunc {
	var seen atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			fail(w, r)
			return
		}
		ok(w, r)
	}
}

func status(code int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeJSON(w, code, `[{"errorCode":"EQ-0000000","errorMessage":"`+http.StatusText(code)+`","correlationId":"c-1"}]`)
	}
}

func TestRetriesOfReads(t *testing.T) {
	t.Parallel()
	retryDate := newClock().Now().Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name      string
		fail      http.HandlerFunc
		failures  int32
		wantCalls int
		wantErr   int // status of the *APIError; 0: success
		// fresh disables keep-alive, so that Go's transport does not
		// itself repeat a GET whose reused connection broke.
		fresh bool
		// wantSleeps checks each wait the client asked for.
		wantSleeps func(t *testing.T, ds []time.Duration)
	}{
		{
			name: "429 with Retry-After seconds", fail: status(429, "7"), failures: 2, wantCalls: 3,
			wantSleeps: exactly(7*time.Second, 7*time.Second),
		},
		{
			name: "429 with Retry-After date", fail: status(429, retryDate), failures: 1, wantCalls: 2,
			wantSleeps: exactly(90 * time.Second),
		},
		{
			name: "429 without Retry-After backs off", fail: status(429, ""), failures: 1, wantCalls: 2,
			wantSleeps: within(RetryBaseDefault),
		},
		{
			name: "429 asking for too long is returned", fail: status(429, "3600"), failures: 1, wantCalls: 1, wantErr: 429,
			wantSleeps: exactly(),
		},
		{
			name: "500 then ok", fail: status(500, ""), failures: 1, wantCalls: 2,
			wantSleeps: within(RetryBaseDefault),
		},
		{
			name: "502 twice then ok", fail: status(502, ""), failures: 2, wantCalls: 3,
			wantSleeps: within(RetryBaseDefault, 2*RetryBaseDefault),
		},
		{
			name: "503 until retries run out", fail: status(503, ""), failures: 100, wantCalls: MaxRetriesDefault + 1, wantErr: 503,
			wantSleeps: within(RetryBaseDefault, 2*RetryBaseDefault, 4*RetryBaseDefault, 8*RetryBaseDefault),
		},
		{
			name: "connection reset then ok", fail: func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) }, failures: 1, wantCalls: 2,
			wantSleeps: within(RetryBaseDefault), fresh: true,
		},
		{
			name: "404 is not repeated", fail: status(404, ""), failures: 100, wantCalls: 1, wantErr: 404,
			wantSleeps: exactly(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("GET /colocations/v2/orders/{id}", failing(tt.failures, tt.fail, okOrder))
			cfg, _, sl := testConfig(f)
			if tt.fresh {
				cfg.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			}
			c := newTestClient(t, cfg)
			o, err := c.GetOrder(t.Context(), "1-42")
			if got := f.count("GET /colocations/v2/orders/1-42"); got != tt.wantCalls {
				t.Errorf("requests = %d, want %d", got, tt.wantCalls)
			}
			tt.wantSleeps(t, sl.all())
			if tt.wantErr == 0 {
				if err != nil || o.OrderID != "1-42" {
					t.Fatalf("GetOrder = %+v, %v", o, err)
				}
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tt.wantErr {
				t.Fatalf("err = %v, want an *APIError with status %d", err, tt.wantErr)
			}
			if wantRetryable := tt.wantErr >= 429 && tt.wantErr != 404; IsRetryable(err) != wantRetryable {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, !wantRetryable, wantRetryable)
			}
			if tt.wantErr == 429 && ae.RetryAfter != time.Hour {
				t.Errorf("RetryAfter = %v, want 1h for the caller to reschedule", ae.RetryAfter)
			}
		})
	}
}

func exactly(want ...time.Duration) func(*testing.T, []time.Duration) {
	return func(t *testing.T, got []time.Duration) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("sleeps = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("sleep %d = %v, want %v", i, got[i], want[i])
			}
		}
	}
}

// within checks the sleeps were jittered under the given ceilings.
func within(ceilings ...time.Duration) func(*testing.T, []time.Duration) {
	return func(t *testing.T, got []time.Duration) {
		t.Helper()
		if len(got) != len(ceilings) {
			t.Fatalf("sleeps = %v, want %d of them", got, len(ceilings))
		}
		for i, c := range ceilings {
			if got[i] < 0 || got[i] > c {
				t.Errorf("sleep %d = %v, want within [0, %v]", i, got[i], c)
			}
		}
	}
}

func TestBackoffJitter(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, Config{Token: "t", RetryBase: 100 * time.Millisecond, RetryMax: time.Second})
	for n := range 40 {
		ceil := min(time.Second, 100*time.Millisecond<<min(n, 20))
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.backoff(n)
			if d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n, d, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) took only %d values in 50 draws: not jittered", n, len(seen))
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := newClock().Now()
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"12", 12 * time.Second, true},
		{" 0 ", 0, true},
		{"-3", 0, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCreateIsNeverResentBlindly(t *testing.T) {
	t.Parallel()
	created := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/orders/1-23232322")
		w.WriteHeader(http.StatusCreated)
	}
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	tests := []struct {
		name          string
		handler       http.HandlerFunc
		timeout       time.Duration
		wantCalls     int
		wantUncertain bool
	}{
		{name: "answer lost (connection reset)", handler: failing(1, func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) }, created), wantCalls: 1, wantUncertain: true},
		{name: "500", handler: failing(1, status(500, ""), created), wantCalls: 1, wantUncertain: true},
		{name: "502", handler: failing(1, status(502, ""), created), wantCalls: 1, wantUncertain: true},
		{name: "503 with Retry-After", handler: failing(1, status(503, "1"), created), wantCalls: 1, wantUncertain: true},
		{name: "timeout", handler: failing(1, slow, created), timeout: 100 * time.Millisecond, wantCalls: 1, wantUncertain: true},
		{name: "201 without Location", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }, wantCalls: 1, wantUncertain: true},
		{name: "429 is repeated", handler: failing(1, status(429, "2"), created), wantCalls: 2},
		{name: "created", handler: created, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("POST /colocations/v2/orders/workVisits", tt.handler)
			cfg, _, _ := testConfig(f)
			if tt.timeout > 0 {
				cfg.Timeout = tt.timeout
			}
			c := newTestClient(t, cfg)
			req := sampleRequest()
			id, err := c.CreateWorkVisit(t.Context(), req)
			if got := f.count("POST /colocations/v2/orders/workVisits"); got != tt.wantCalls {
				t.Errorf("create requests = %d, want %d", got, tt.wantCalls)
			}
			if !tt.wantUncertain {
				if err != nil || id != "1-23232322" {
					t.Fatalf("CreateWorkVisit = %q, %v; want 1-23232322", id, err)
				}
				return
			}
			var ue *UncertainError
			if !errors.As(err, &ue) || !IsUncertain(err) {
				t.Fatalf("err = %v, want *UncertainError", err)
			}
			if ue.CustomerReferenceID != req.CustomerReferenceID {
				t.Errorf("UncertainError reference = %q, want %q", ue.CustomerReferenceID, req.CustomerReferenceID)
			}
			if IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true; an uncertain create must be searched for first", err)
			}
		})
	}
}

func TestCreateRetriedAfterDialError(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("POST /colocations/v2/orders/workVisits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://api.equinix.com/colocations/v2/orders/1-555")
		w.WriteHeader(http.StatusCreated)
	})
	cfg, _, sl := testConfig(f)
	var dials atomic.Int32
	d := &net.Dialer{}
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 2 { // the token's connection is first
				return nil, errors.New("connect: connection refused")
			}
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}}
	c := newTestClient(t, cfg)
	id, err := c.CreateWorkVisit(t.Context(), sampleRequest())
	if err != nil || id != "1-555" {
		t.Fatalf("CreateWorkVisit = %q, %v; want 1-555 after a retry", id, err)
	}
	if got := f.count("POST /colocations/v2/orders/workVisits"); got != 1 {
		t.Errorf("create requests = %d, want 1", got)
	}
	if len(sl.all()) != 1 {
		t.Errorf("sleeps = %v, want one backoff", sl.all())
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	block := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}
	tests := []struct {
		name          string
		call          func(context.Context, *Client) error
		wantUncertain bool
	}{
		{name: "get order", call: func(ctx context.Context, c *Client) error { _, err := c.GetOrder(ctx, "1-9"); return err }},
		{name: "create", call: func(ctx context.Context, c *Client) error {
			_, err := c.CreateWorkVisit(ctx, sampleRequest())
			return err
		}, wantUncertain: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("GET /colocations/v2/orders/{id}", block)
			f.handle("POST /colocations/v2/orders/workVisits", block)
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			err := tt.call(ctx, c)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("returned after %v, want soon after the cancel", d)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if IsUncertain(err) != tt.wantUncertain {
				t.Errorf("IsUncertain(%v) = %v, want %v", err, !tt.wantUncertain, tt.wantUncertain)
			}
			if IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true after the caller cancelled", err)
			}
		})
	}
	t.Run("before sending", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		cfg, _, _ := testConfig(f)
		c := newTestClient(t, cfg)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.CreateWorkVisit(ctx, sampleRequest())
		if !errors.Is(err, context.Canceled) || IsUncertain(err) {
			t.Errorf("err = %v, want a certain context.Canceled", err)
		}
		if n := f.count("POST /colocations/v2/orders/workVisits") + f.tokenRequests(); n != 0 {
			t.Errorf("%d requests sent after cancel", n)
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET /colocations/v2/orders/{id}", okOrder)
	cfg, _, _ := testConfig(f)
	cfg.RateLimit, cfg.Burst = 20, 1
	c := newTestClient(t, cfg)
	start := time.Now()
	for range 6 { // 1 token + 6 reads = 7 requests, 6 waits of 50ms
		if _, err := c.GetOrder(t.Context(), "1-1"); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("7 requests at 20/s took %v, want at least 300ms", d)
	}
}
