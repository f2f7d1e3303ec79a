package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/sandbox"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// scrape reads a Prometheus text page into series → value; the series is
// written as the page writes it: name{label="value",…}.
func scrape(t *testing.T, url string) (map[string]float64, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, string(b)
}

// metricsAddress waits for the address out says the metrics are served on.
func metricsAddress(t *testing.T, out *syncBuffer) string {
	t.Helper()
	m := out.await(10*time.Second, regexp.MustCompile(`metrics on (http://\S+)/metrics`))
	if m == nil {
		t.Fatalf("timed out waiting for the metrics address:\n%s", out)
	}
	return m[1]
}

// TestScheduleMetrics runs the daemon with --metrics-listen against a
// sandbox that answers the first request with 429, on a clock the test
// steps to the job's time, scrapes /metrics while the job's run is under way
// (its second order held) and after it, and checks the counters against
// the run: runs by outcome, orders by state, work visit requests, the 429
// retry and its wait, the token, the report email, the job's next time and
// the store's size; no visitor's name is in any label.
func TestScheduleMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, gate, url := gatedSandbox(t, sandbox.Config{})
	if err := srv.FailNext(sandbox.Fault429); err != nil {
		t.Fatal(err)
	}
	roster, err := filepath.Abs("../../samples/contractors.csv")
	if err != nil {
		t.Fatal(err)
	}
	jobs := filepath.Join(dir, "jobs.yaml")
	// Once an hour: one run in the test, when its clock comes to the hour.
	clock := scheduler.NewManualClock(time.Now().UTC())
	at := clock.Now().Truncate(time.Hour).Add(time.Hour)
	schedule := "CRON_TZ=UTC 0 * * * *"
	if err := os.WriteFile(jobs, []byte("jobs:\n  - name: often\n    schedule: \""+schedule+"\"\n    concurrency: 1\n    recipients: [ops@example.com]\n    roster: "+roster+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "s.db")
	c := newCLI(t, map[string]string{"EQUINIX_API_ENDPOINT": url, "EQUINIX_API_CLIENTID": sandbox.DefaultClientID,
		"EQUINIX_API_CLIENTSECRET": sandbox.DefaultClientSecret,
		"WVBATCH_SMTP_URL":         "file://" + filepath.Join(dir, "outbox"), "WVBATCH_SMTP_FROM": "wvbatch@example.com"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runEnv(ctx, []string{"schedule", "run", "--config", jobs, "--store", store, "--metrics-listen", "127.0.0.1:0",
			"--log-level", "info", "--log-format", "json"},
			&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] },
				now: clock.Now, until: clock.Until})
	}()
	base := metricsAddress(t, &out)
	if errb.await(10*time.Second, regexp.MustCompile(`new job`)) == nil {
		t.Fatalf("the daemon did not take the job:\n%s", errb.String())
	}
	arrived, release := gate.holdAfter(t, 1)
	clock.Set(at)
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", res, err)
	}

	const creates = `wvbatch_api_requests_total{operation="POST /colocations/v2/orders/workVisits",status="201"}`
	const ordered = `wvbatch_runs_total{outcome="ordered"}`
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("the run placed no second order:\n%s", errb.String())
	}
	if m, _ := scrape(t, base+"/metrics"); m[creates] != 1 || m[ordered] != 0 {
		t.Errorf("under way (one order placed): %s = %v, %s = %v; want 1 and 0", creates, m[creates], ordered, m[ordered])
	}
	release()
	if errb.await(30*time.Second, regexp.MustCompile(`"run finished"`)) == nil {
		t.Fatalf("the run did not finish:\n%s", errb.String())
	}
	m, page := scrape(t, base+"/metrics")
	placed := len(sandboxByRef(t, srv))
	if placed == 0 {
		t.Fatal("nothing was ordered")
	}
	for series, want := range map[string]float64{
		ordered:                                1,
		`wvbatch_runs_total{outcome="failed"}`: 0,
		creates:                                float64(placed),
		`wvbatch_orders{state="submitted"}`:    float64(placed),
		`wvbatch_orders{state="planned"}`:      0,
		`wvbatch_api_retries_total{operation="POST /oauth2/v1/token",reason="429"}`:  1,
		`wvbatch_api_rate_limited_total`:                                             1,
		`wvbatch_api_requests_total{operation="POST /oauth2/v1/token",status="429"}`: 1,
		`wvbatch_token_refreshes_total{result="ok"}`:                                 1,
		`wvbatch_credentials_refused_total`:                                          0,
		`wvbatch_report_emails_total{result="sent"}`:                                 1,
		`wvbatch_report_emails_total{result="failed"}`:                               0,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if m[`wvbatch_api_rate_limit_wait_seconds_total`] < 1 {
		t.Errorf("429 wait %v s, want the sandbox's Retry-After of 1 s", m[`wvbatch_api_rate_limit_wait_seconds_total`])
	}
	if n := m[`wvbatch_api_request_duration_seconds_count{operation="POST /colocations/v2/orders/workVisits"}`]; n != float64(placed) {
		t.Errorf("latency histogram counted %v create requests, want %d", n, placed)
	}
	if next := m[`wvbatch_scheduler_next_run_timestamp_seconds{job="often"}`]; next != float64(at.Add(time.Hour).Unix()) {
		t.Errorf("next run %v, want %d (an hour after the run)", next, at.Add(time.Hour).Unix())
	}
	if _, ok := m[`wvbatch_scheduler_lag_seconds{job="often"}`]; !ok {
		t.Error("no scheduler lag")
	}
	if m[`wvbatch_store_size_bytes`] <= 0 {
		t.Error("no store size")
	}
	for _, v := range personalData(t, roster) {
		if strings.Contains(strings.ToLower(page), v) {
			t.Errorf("the metrics show %q", v)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("daemon: exit %d", code)
	}
}

// TestServeMetrics: serve --metrics-listen serves /metrics and /healthz
// apart from the web page.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	store := filepath.Join(t.TempDir(), "s.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--sandbox", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--store", store},
			strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
	}()
	base := metricsAddress(t, &out)
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", res, err)
	}
	m, _ := scrape(t, base+"/metrics")
	if _, ok := m[`wvbatch_report_emails_total{result="sent"}`]; !ok {
		t.Errorf("/metrics lacks the wvbatch series:\n%v", m)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve: exit %d\n%s", code, errb.String())
	}
}
