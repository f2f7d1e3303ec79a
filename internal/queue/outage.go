package queue

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// WatchOutage logs a warning at least every cfg.WarnEvery while cfg.Outage
// says the API is down, with how many orders wait (when waiting is not
// nil), and a line when it answers again; stop ends it. Runs watch
// themselves; callers watch the requests they make before a run (a
// pre-flight).
func WatchOutage(cfg RunConfig, log zerolog.Logger, waiting func() int) (stop func()) {
	if cfg.Outage == nil {
		return func() {}
	}
	cfg = cfg.withDefaults()
	tick := max(cfg.WarnEvery/3, time.Millisecond)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(tick)
		defer t.Stop()
		var warned time.Time // zero: no warning in this outage yet
		var lastDown time.Duration
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			down, cause := cfg.Outage()
			switch {
			case down == 0 && !warned.IsZero():
				log.Warn().Msgf("Equinix answers again after %s", roundDown(lastDown+tick))
				warned = time.Time{}
			case down >= tick && (warned.IsZero() || time.Since(warned) >= cfg.WarnEvery-tick/2):
				ev, also := log.Warn().Dur("down", down).Str("cause", cause), ""
				if waiting != nil {
					n := waiting()
					ev, also = ev.Int("waiting", n), fmt.Sprintf(", %d orders waiting", n)
				}
				ev.Msgf("Equinix unreachable for %s: %s; retrying%s", roundDown(down), cause, also)
				warned = time.Now()
			}
			lastDown = down
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// roundDown rounds d for people: to the second, or the millisecond below
// one second.
func roundDown(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
