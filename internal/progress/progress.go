package progress

import (
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Hook shows each run's progress: a bar on w when terminal is set, else
// a log line at most every second and one where the run ended.
func Hook(w io.Writer, terminal bool, log zerolog.Logger) func(runstore.Run, queue.Tally, bool) {
	var p *progress
	return func(run runstore.Run, t queue.Tally, done bool) {
		if p == nil || p.run != run.ID {
			p = newProgress(w, terminal, log, run)
		}
		if done {
			p.finish(t)
			p = nil
			return
		}
		p.update(t)
	}
}

// progress shows a run's progress: a bar on a terminal, log lines otherwise.
type progress struct {
	log  zerolog.Logger
	run  string
	m    meter
	last time.Time
	bar  *bar
}

// ordersDone counts the orders of a tally that are done with.
func ordersDone(t queue.Tally) int { return t.Submitted + t.Rejected + t.Cancelled }

func newProgress(w io.Writer, terminal bool, log zerolog.Logger, run runstore.Run) *progress {
	total := run.OrderCount()
	base := run.Orders[runstore.Submitted] + run.Orders[runstore.Rejected] + run.Orders[runstore.Cancelled]
	p := &progress{log: log, run: run.ID, m: meter{total: total, base: base, start: time.Now()}}
	if terminal {
		p.bar = newBar(w, p.m, time.Now)
	}
	return p
}

func (p *progress) update(t queue.Tally) {
	done := ordersDone(t)
	if p.bar != nil {
		p.bar.set(done, t.Rejected)
		return
	}
	now := time.Now()
	if now.Sub(p.last) < time.Second && done != p.m.total {
		return
	}
	p.last = now
	p.line(t, now).Msg("progress")
}

// line is a progress log line of t at now.
func (p *progress) line(t queue.Tally, now time.Time) *zerolog.Event {
	done := ordersDone(t)
	return p.log.Info().Str("run", p.run).Int("orders_done", done).Int("orders_total", p.m.total).Int("rejected", t.Rejected).
		Int("retries", t.Retries).Float64("orders_per_s", p.m.rate(done, now))
}

// finish shows where the run ended: the bar, or a last log line.
func (p *progress) finish(t queue.Tally) {
	if p.bar != nil {
		p.bar.finish(ordersDone(t), t.Rejected)
		return
	}
	p.line(t, time.Now()).Bool("stopped", ordersDone(t) < p.m.total).Msg("progress: the run ended")
}
