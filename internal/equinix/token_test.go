package equinix

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// okOrder serves GET /colocations/v2/orders/{id} as an open order.
func okOrder(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, orderJSON(r.PathValue("id"), StatusReceived))
}

func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		tokenTimeout string
		advance      time.Duration // after the first call
		wantTokens   int
	}{
		{name: "cached within its life", tokenTimeout: "3599", advance: 50 * time.Minute, wantTokens: 1},
		{name: "renewed before it expires", tokenTimeout: "3599", advance: 55 * time.Minute, wantTokens: 2},
		{name: "renewed after it expired", tokenTimeout: "3599", advance: 2 * time.Hour, wantTokens: 2},
		{name: "short token kept for half its life", tokenTimeout: "60", advance: 29 * time.Second, wantTokens: 1},
		{name: "short token renewed after half its life", tokenTimeout: "60", advance: 31 * time.Second, wantTokens: 2},
		{name: "unreadable timeout assumes an hour", tokenTimeout: "soon", advance: 50 * time.Minute, wantTokens: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.tokenTimeout = tt.tokenTimeout
			f.handle("GET /colocations/v2/orders/{id}", okOrder)
			cfg, clk, _ := testConfig(f)
			c := newTestClient(t, cfg)
			ctx := t.Context()
			for range 3 {
				if _, err := c.GetOrder(ctx, "1-100"); err != nil {
					t.Fatal(err)
				}
			}
			clk.advance(tt.advance)
			for range 3 {
				if _, err := c.GetOrder(ctx, "1-100"); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.tokenRequests(); got != tt.wantTokens {
				t.Errorf("token requests = %d, want %d", got, tt.wantTokens)
			}
			if got := f.count("GET /colocations/v2/orders/1-100"); got != 6 {
				t.Errorf("order requests = %d, want 6", got)
			}
		})
	}
}

func TestTokenSharedByConcurrentCallers(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.tokenDelay = 100 * time.Millisecond
	f.handle("GET /colocations/v2/orders/{id}", okOrder)
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.GetOrder(t.Context(), "1-200")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := f.tokenRequests(); got != 1 {
		t.Errorf("token requests = %d, want 1 shared by all callers", got)
	}
}

func TestUnauthorizedRenewsOnce(t *testing.T) {
	t.Parallel()
	t.Run("renewed token works", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.handle("GET /colocations/v2/orders/{id}", okOrder)
		cfg, _, _ := testConfig(f)
		c := newTestClient(t, cfg)
		if _, err := c.GetOrder(t.Context(), "1-1"); err != nil {
			t.Fatal(err)
		}
		f.revokeAll() // Equinix drops the token before its timeout
		if _, err := c.GetOrder(t.Context(), "1-1"); err != nil {
			t.Fatalf("after revocation: %v", err)
		}
		if got := f.tokenRequests(); got != 2 {
			t.Errorf("token requests = %d, want 2", got)
		}
		if got := f.count("GET /colocations/v2/orders/1-1"); got != 3 {
			t.Errorf("order requests = %d, want 3 (ok, 401, repeat)", got)
		}
	})
	t.Run("second 401 ends the call", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.handle("GET /colocations/v2/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusUnauthorized, `[{"errorCode":"EQ-0000401","errorMessage":"Unauthorized"}]`)
		})
		cfg, _, _ := testConfig(f)
		c := newTestClient(t, cfg)
		_, err := c.GetOrder(t.Context(), "1-2")
		if !IsAuth(err) {
			t.Fatalf("err = %v, want IsAuth", err)
		}
		if got := f.count("GET /colocations/v2/orders/1-2"); got != 2 {
			t.Errorf("order requests = %d, want 2 (the call and one repeat)", got)
		}
		if got := f.tokenRequests(); got != 2 {
			t.Errorf("token requests = %d, want 2", got)
		}
	})
}

func TestRefusedCredentialsAskOnce(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.tokenStatus = status
			f.handle("GET /colocations/v2/orders/{id}", okOrder)
			cfg, _, _ := testConfig(f)
			c := newTestClient(t, cfg)

			var wg sync.WaitGroup
			errs := make(chan error, 10)
			for range 5 {
				wg.Go(func() {
					_, err := c.GetOrder(t.Context(), "1-3")
					errs <- err
				})
			}
			wg.Wait()
			for range 3 { // later calls too
				_, err := c.Locations(t.Context())
				errs <- err
			}
			_, err := c.CreateWorkVisit(t.Context(), sampleRequest())
			errs <- err
			close(errs)
			for err := range errs {
				var ae *AuthError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v, want *AuthError", err)
				}
				if ae.Status != status {
					t.Errorf("AuthError.Status = %d, want %d", ae.Status, status)
				}
				msg := err.Error()
				for _, want := range []string{"Equinix refused the client id/secret", "EQUINIX_API_CLIENTID/SECRET", "locks after 5 failed attempts"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not say %q", msg, want)
					}
				}
				if !IsAuth(err) || IsRetryable(err) || IsUncertain(err) {
					t.Errorf("predicates of %v: auth %v retryable %v uncertain %v", err, IsAuth(err), IsRetryable(err), IsUncertain(err))
				}
			}
			if got := f.tokenRequests(); got != 1 {
				t.Errorf("token requests = %d, want exactly 1", got)
			}
			if got := f.count("GET /colocations/v2/orders/1-3"); got != 0 {
				t.Errorf("order requests = %d, want 0 without a token", got)
			}
		})
	}
}

func TestReadyToken(t *testing.T) {
	t.Parallel()
	t.Run("used as given", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.valid["ready-token-1"] = true
		f.handle("GET /colocations/v2/orders/{id}", okOrder)
		cfg, _, _ := testConfig(f)
		cfg.ClientID, cfg.ClientSecret, cfg.Token = "", "", "ready-token-1"
		c := newTestClient(t, cfg)
		if _, err := c.GetOrder(t.Context(), "1-4"); err != nil {
			t.Fatal(err)
		}
		gotAuth := f.header("GET /colocations/v2/orders/1-4").Get("Authorization")
		if gotAuth != "Bearer ready-token-1" || f.tokenRequests() != 0 {
			t.Errorf("Authorization %q with %d token requests, want the ready token and none", gotAuth, f.tokenRequests())
		}
	})
	t.Run("refused without credentials stops", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.handle("GET /colocations/v2/orders/{id}", okOrder)
		cfg, _, _ := testConfig(f)
		cfg.ClientID, cfg.ClientSecret, cfg.Token = "", "", "expired-token"
		c := newTestClient(t, cfg)
		for range 3 {
			_, err := c.GetOrder(t.Context(), "1-5")
			var ae *AuthError
			if !errors.As(err, &ae) || !ae.ReadyToken || !strings.Contains(err.Error(), EnvToken) {
				t.Fatalf("err = %v, want *AuthError about %s", err, EnvToken)
			}
		}
		if got := f.count("GET /colocations/v2/orders/1-5"); got != 1 {
			t.Errorf("order requests = %d, want 1", got)
		}
	})
	t.Run("refused with credentials renews", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.handle("GET /colocations/v2/orders/{id}", okOrder)
		cfg, _, _ := testConfig(f)
		cfg.Token = "expired-token"
		c := newTestClient(t, cfg)
		if _, err := c.GetOrder(t.Context(), "1-6"); err != nil {
			t.Fatal(err)
		}
		if got := f.tokenRequests(); got != 1 {
			t.Errorf("token requests = %d, want 1", got)
		}
	})
}

func TestTokenWaitHonoursContext(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.tokenDelay = 2 * time.Second
	cfg, _, _ := testConfig(f)
	c := newTestClient(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetOrder(ctx, "1-7")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want soon after the deadline", d)
	}
}

func TestParseTokenTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw    string
		want   time.Duration
		wantOK bool
	}{
		{`"3599"`, 3599 * time.Second, true},
		{`3599`, 3599 * time.Second, true},
		{`" 60 "`, time.Minute, true},
		{`"0"`, 0, false},
		{`"-5"`, 0, false},
		{`"an hour"`, 0, false},
		{``, 0, false},
		{`null`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, ok := parseTokenTimeout([]byte(tt.raw))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseTokenTimeout(%s) = %v, %v; want %v, %v", tt.raw, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
