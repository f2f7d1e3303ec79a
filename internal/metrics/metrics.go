package metrics

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes, states and results whose series exist from the start (at 0),
// so that a rate or an alert on them works before the first event.
var (
	runOutcomes = []string{"ordered", "rows-failed", "failed", "interrupted", "panic"}
	orderStates = []string{"planned", "sending", "submitted", "rejected", "cancelling", "cancelled"}
)

// Metrics holds the metrics of one process. The zero value is not usable;
// a nil *Metrics ignores every call, so callers need not check.
type Metrics struct {
	reg *prometheus.Registry

	runs     *prometheus.CounterVec
	orders   *prometheus.GaugeVec
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	retries  *prometheus.CounterVec
	waits    prometheus.Counter
	waited   prometheus.Counter
	tokens   *prometheus.CounterVec
	refused  prometheus.Counter
	mail     *prometheus.CounterVec
	lag      *prometheus.GaugeVec
	lastRun  prometheus.Gauge

	mu       sync.Mutex
	nextRuns func() map[string]time.Time
	store    string
}

// New returns a Metrics with every series registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wvbatch_runs_total",
		Help: "Runs finished, by outcome (ordered, rows-failed, failed, interrupted, panic)."}, []string{"outcome"})
	m.orders = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wvbatch_orders",
		Help: "Orders in the store by state, as of the end of the last run."}, []string{"state"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wvbatch_api_requests_total",
		Help: "Equinix API requests by operation and HTTP status (0: no answer)."}, []string{"operation", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "wvbatch_api_request_duration_seconds",
		Help:    "Equinix API request latency by operation.",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"operation"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wvbatch_api_retries_total",
		Help: "Equinix API requests repeated, by operation and reason (429, 5xx, transport)."}, []string{"operation", "reason"})
	m.waits = prometheus.NewCounter(prometheus.CounterOpts{Name: "wvbatch_api_rate_limited_total",
		Help: "429 Too Many Requests answers waited out."})
	m.waited = prometheus.NewCounter(prometheus.CounterOpts{Name: "wvbatch_api_rate_limit_wait_seconds_total",
		Help: "Time spent waiting after 429 answers."})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wvbatch_token_refreshes_total",
		Help: "Access token requests by result (ok, failed)."}, []string{"result"})
	m.refused = prometheus.NewCounter(prometheus.CounterOpts{Name: "wvbatch_credentials_refused_total",
		Help: "Times Equinix refused the client credentials or the ready token."})
	m.mail = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wvbatch_report_emails_total",
		Help: "Report emails by result (sent, failed)."}, []string{"result"})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wvbatch_scheduler_lag_seconds",
		Help: "How late the job's last run started after its scheduled time."}, []string{"job"})
	m.lastRun = prometheus.NewGauge(prometheus.GaugeOpts{Name: "wvbatch_last_run_timestamp_seconds",
		Help: "When the last run finished (Unix time)."})
	for _, o := range runOutcomes {
		m.runs.WithLabelValues(o)
	}
	for _, s := range orderStates {
		m.orders.WithLabelValues(s)
	}
	for _, r := range []string{"ok", "failed"} {
		m.tokens.WithLabelValues(r)
	}
	for _, r := range []string{"sent", "failed"} {
		m.mail.WithLabelValues(r)
	}
	m.reg.MustRegister(m.runs, m.orders, m.requests, m.latency, m.retries, m.waits, m.waited, m.tokens, m.refused,
		m.mail, m.lag, m.lastRun, nextCollector{m}, storeCollector{m})
	return m
}

// Request implements equinix.Observer.
func (m *Metrics) Request(op string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(op).Observe(d.Seconds())
}

// Retry implements equinix.Observer.
func (m *Metrics) Retry(op, reason string, wait time.Duration) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(op, reason).Inc()
	if reason == "429" {
		m.waits.Inc()
		m.waited.Add(wait.Seconds())
	}
}

// TokenRefresh implements equinix.Observer.
func (m *Metrics) TokenRefresh(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.tokens.WithLabelValues("ok").Inc()
	} else {
		m.tokens.WithLabelValues("failed").Inc()
	}
}

// CredentialsRefused implements equinix.Observer.
func (m *Metrics) CredentialsRefused() {
	if m == nil {
		return
	}
	m.refused.Inc()
}

// RunFinished counts a run's outcome.
func (m *Metrics) RunFinished(outcome string, at time.Time) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(outcome).Inc()
	m.lastRun.Set(float64(at.Unix()))
}

// RunStarted records how late a job's run started.
func (m *Metrics) RunStarted(job string, lag time.Duration) {
	if m == nil {
		return
	}
	m.lag.WithLabelValues(job).Set(lag.Seconds())
}

// Orders sets the orders by state.
func (m *Metrics) Orders(byState map[string]int) {
	if m == nil {
		return
	}
	for _, s := range orderStates {
		m.orders.WithLabelValues(s).Set(float64(byState[s]))
	}
}

// Mail counts a report email.
func (m *Metrics) Mail(sent bool) {
	if m == nil {
		return
	}
	if sent {
		m.mail.WithLabelValues("sent").Inc()
	} else {
		m.mail.WithLabelValues("failed").Inc()
	}
}

// NextRuns sets the function that gives each job's next scheduled time,
// read at every scrape.
func (m *Metrics) NextRuns(f func() map[string]time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.nextRuns = f
	m.mu.Unlock()
}

// Store sets the store file whose size is reported.
func (m *Metrics) Store(path string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.store = path
	m.mu.Unlock()
}

var (
	nextDesc = prometheus.NewDesc("wvbatch_scheduler_next_run_timestamp_seconds",
		"The job's next scheduled time (Unix time).", []string{"job"}, nil)
	storeDesc = prometheus.NewDesc("wvbatch_store_size_bytes", "Size of the store file.", nil, nil)
)

type nextCollector struct{ m *Metrics }

func (c nextCollector) Describe(ch chan<- *prometheus.Desc) { ch <- nextDesc }
func (c nextCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	f := c.m.nextRuns
	c.m.mu.Unlock()
	if f == nil {
		return
	}
	for job, t := range f() {
		if !t.IsZero() {
			ch <- prometheus.MustNewConstMetric(nextDesc, prometheus.GaugeValue, float64(t.Unix()), job)
		}
	}
}

type storeCollector struct{ m *Metrics }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- storeDesc }
func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	path := c.m.store
	c.m.mu.Unlock()
	if path == "" {
		return
	}
	if fi, err := os.Stat(path); err == nil {
		ch <- prometheus.MustNewConstMetric(storeDesc, prometheus.GaugeValue, float64(fi.Size()))
	}
}

// WriteFile writes the metrics to path in the Prometheus text format,
// whole or not at all, for node_exporter's textfile collector (name it
// *.prom in the collector's folder).
func (m *Metrics) WriteFile(path string) error {
	if err := prometheus.WriteToTextfile(path, m.reg); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// Handler serves /metrics and /healthz; health, when set, says what is
// wrong (nil: healthy).
func (m *Metrics) Handler(health func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if health != nil {
			if err := health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "unhealthy: %v\n", err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// Serve listens on addr and serves Handler until ctx ends. It returns the
// address it listens on (addr may ask for port 0) once it listens.
func (m *Metrics) Serve(ctx context.Context, addr string, health func() error) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: m.Handler(health), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() { _ = srv.Serve(ln) }() // ends with ErrServerClosed on Shutdown
	return ln.Addr().String(), nil
}
