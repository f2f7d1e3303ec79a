package equinix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsNeverLeak runs every call, renewals, retries, failures and
// refusals with debug logging, against a server that quotes secrets back in
// its errors, and checks no secret or token reaches a log line or an error.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	echo := func(w http.ResponseWriter, r *http.Request) {
		// A careless server quoting the caller's credentials back.
		writeJSON(w, 400, fmt.Sprintf(`[{"errorCode":"EQ-2016011","errorMessage":"bad request from %s","correlationId":"corr-77",`+
			`"additionalInfo":[{"property":"details.visitors[0].firstName","reason":"%s","value":%q}]}]`,
			r.Header.Get("Authorization"), r.Header.Get("Authorization"), r.Header.Get("Authorization")))
	}

	f := newFakeAPI(t)
	f.handle("GET /colocations/v2/orders/{id}", failing(1, status(503, ""), okOrder))
	f.handle("POST /colocations/v2/orders/workVisits", echo)
	f.handle("PATCH /colocations/v2/orders/workVisits/{id}", failing(1, status(429, "1"), echo))
	f.handle("POST /colocations/v2/orders/{id}/cancel", func(w http.ResponseWriter, r *http.Request) { hangUp(t, w) })
	f.handle("GET /colocations/v2/locations", echo)
	f.handle("GET /access/v2/users", echo)
	f.handle("POST /v1/retrieve-orders", echo)
	cfg, _, _ := testConfig(f)
	cfg.Logger = logger
	cfg.MaxRetries = 1
	c := newTestClient(t, cfg)
	ctx := t.Context()
	_, err := c.GetOrder(ctx, "1-1")
	keep(err)
	f.revokeAll()
	_, err = c.GetOrder(ctx, "1-1") // 401, renewal
	keep(err)
	_, err = c.CreateWorkVisit(ctx, sampleRequest())
	keep(err)
	yes := true
	keep(c.UpdateWorkVisit(ctx, "1-1", &WorkVisitUpdate{OpenCabinet: &yes}))
	keep(c.CancelOrder(ctx, "1-1", "not needed any more"))
	_, err = c.Locations(ctx)
	keep(err)
	_, err = c.LookupUser(ctx, "john_doe1")
	keep(err)
	_, err = c.SearchOrdersByReference(ctx, "wv-ref-1")
	keep(err)

	// Refused client credentials, quoted back by the server.
	refusing := newFakeAPI(t)
	refusing.tokenStatus, refusing.tokenEcho = http.StatusUnauthorized, true
	rcfg, _, _ := testConfig(refusing)
	rcfg.Logger = logger
	rc := newTestClient(t, rcfg)
	for range 2 {
		_, err = rc.GetOrder(ctx, "1-2")
		keep(err)
	}

	// A refused ready token.
	const readyToken = "ready-token-Zq81xW"
	rtcfg, _, _ := testConfig(f)
	rtcfg.ClientID, rtcfg.ClientSecret, rtcfg.Token, rtcfg.Logger = "", "", readyToken, logger
	rt := newTestClient(t, rtcfg)
	_, err = rt.GetOrder(ctx, "1-3")
	keep(err)
	_, err = rt.CreateWorkVisit(context.WithoutCancel(ctx), sampleRequest())
	keep(err)

	secrets := append(f.issuedTokens(), testSecret, readyToken)
	for _, client := range []*Client{c, rc, rt} {
		if s := fmt.Sprintf("%v %+v %#v %s", client, client, client, client); !strings.Contains(s, "REDACTED") {
			t.Errorf("a formatted Client shows no redaction: %s", s)
		} else {
			errs = append(errs, errors.New(s)) // checked for secrets below
		}
	}
	if len(f.issuedTokens()) < 2 {
		t.Fatalf("only %d tokens issued; the run did not renew", len(f.issuedTokens()))
	}
	if len(errs) < 8 {
		t.Fatalf("only %d errors collected; the run did not exercise the failures", len(errs))
	}
	out := logs.String()
	for _, err := range errs {
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), s) {
				t.Errorf("error reveals %q: %v", s, err)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log reveals %q", s)
		}
	}
	// The logs do carry what an operator needs.
	var sawCorrelation, sawStatus bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line not JSON: %s", line)
		}
		if m["level"] != "debug" {
			t.Errorf("log line above debug: %s", line)
		}
		if m["correlation_id"] == "corr-77" && m["method"] == "POST" && m["path"] == "/colocations/v2/orders/workVisits" {
			sawCorrelation = true
		}
		if m["status"] == float64(503) && m["duration"] != nil {
			sawStatus = true
		}
	}
	if !sawCorrelation || !sawStatus {
		t.Errorf("logs lack method/path/status/duration/correlation id:\n%s", out)
	}
}
