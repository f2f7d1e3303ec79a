package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wvbatch/wvbatch/internal/metrics"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// measured is run, counted in the process's metrics: how late it started,
// its outcome, and the store's orders by state after it.
func (r *jobRunner) measured(ctx context.Context, st *runstore.Store, job *scheduler.Job, at time.Time) scheduler.Result {
	m := r.e.metrics
	m.RunStarted(job.Name, r.e.now().Sub(at))
	res := r.run(ctx, st, job, at)
	m.RunFinished(res.Outcome, r.e.now())
	if m != nil {
		if byState, err := st.OrdersByState(); err == nil {
			m.Orders(byState)
		}
	}
	return res
}

// serveMetrics serves /metrics and /healthz on addr until ctx ends, with
// the store at path and, when next is set, the scheduler's next times.
func serveMetrics(ctx context.Context, e *env, addr string, next func() map[string]time.Time, path string) error {
	if e.metrics == nil {
		e.metrics = metrics.New()
	}
	if next != nil {
		e.metrics.NextRuns(next)
	}
	e.metrics.Store(path)
	health := func() error {
		// Healthy while the store's folder can be reached.
		_, err := os.Stat(filepath.Dir(path))
		return err
	}
	at, err := e.metrics.Serve(ctx, addr, health)
	if err != nil {
		return usageErr(err, "give a free address, e.g. --metrics-listen 127.0.0.1:9464")
	}
	fmt.Fprintf(e.stdout, "metrics on http://%s/metrics, health on http://%s/healthz\n", at, at)
	return nil
}
