package scheduler

import (
	"sync"
	"time"
)

// ManualClock is a clock that moves only when it is Set: the scheduler's
// clock in tests, which step through scheduled times instead of waiting
// for them (Config.Now and Config.Until take its methods). Make one with
// NewManualClock.
type ManualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiting []timer
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// NewManualClock returns a clock that reads t until it is Set.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the time the clock was last set to.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forward or back, and delivers t on each
// channel of Until whose time has come.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiting[:0]
	for _, w := range c.waiting {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}

// Until returns a channel that delivers the clock's time once it reads t
// or later: at once when it does already.
func (c *ManualClock) Until(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.After(c.now) {
		ch <- c.now
		return ch
	}
	c.waiting = append(c.waiting, timer{at: t, ch: ch})
	return ch
}
