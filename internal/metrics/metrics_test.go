package metrics

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriteFile writes the text format node_exporter's textfile collector
// reads, with what was counted.
func TestWriteFile(t *testing.T) {
	m := New()
	m.RunStarted("monthly", 90*time.Second)
	m.RunFinished("rows-failed", time.Unix(1800000000, 0))
	m.Request("POST /colocations/v2/orders/workVisits", 201, 120*time.Millisecond)
	m.Retry("POST /oauth2/v1/token", "429", 2*time.Second)
	m.Mail(false)
	m.Orders(map[string]int{"submitted": 7, "rejected": 1})
	m.NextRuns(func() map[string]time.Time { return map[string]time.Time{"monthly": time.Unix(1800003600, 0)} })
	path := filepath.Join(t.TempDir(), "wvbatch.prom")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`wvbatch_runs_total{outcome="rows-failed"} 1`,
		`wvbatch_runs_total{outcome="ordered"} 0`,
		`wvbatch_scheduler_lag_seconds{job="monthly"} 90`,
		`wvbatch_last_run_timestamp_seconds 1.8e+09`,
		`wvbatch_api_requests_total{operation="POST /colocations/v2/orders/workVisits",status="201"} 1`,
		`wvbatch_api_request_duration_seconds_bucket{operation="POST /colocations/v2/orders/workVisits",le="0.25"} 1`,
		`wvbatch_api_retries_total{operation="POST /oauth2/v1/token",reason="429"} 1`,
		`wvbatch_api_rate_limit_wait_seconds_total 2`,
		`wvbatch_report_emails_total{result="failed"} 1`,
		`wvbatch_orders{state="submitted"} 7`,
		`wvbatch_orders{state="planned"} 0`,
		`wvbatch_scheduler_next_run_timestamp_seconds{job="monthly"} 1.8000036e+09`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("the file lacks %q:\n%s", want, b)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*")); len(m) != 1 {
		t.Errorf("files left beside it: %v", m)
	}
}

// TestNilMetrics: a nil *Metrics counts nothing and does not crash.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Request("GET /", 200, time.Second)
	m.Retry("GET /", "5xx", time.Second)
	m.TokenRefresh(true)
	m.CredentialsRefused()
	m.RunStarted("j", time.Second)
	m.RunFinished("ordered", time.Now())
	m.Orders(nil)
	m.Mail(true)
	m.NextRuns(nil)
	m.Store("")
}

// TestHealthz answers 200 when healthy and 503 with the reason otherwise.
func TestHealthz(t *testing.T) {
	m := New()
	for _, tc := range []struct {
		err  error
		code int
	}{{nil, 200}, {os.ErrNotExist, 503}} {
		rec := httptest.NewRecorder()
		m.Handler(func() error { return tc.err }).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != tc.code {
			t.Errorf("healthz with %v: %d, want %d", tc.err, rec.Code, tc.code)
		}
	}
}
