package progress

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// meter measures a run's progress in this process: orders done of all, at
// a rate in orders per second of wall time since the process took the run
// up (orders done before, by an earlier process, do not count towards it).
type meter struct {
	total int
	base  int // orders done when this process took the run up
	start time.Time
}

// rate is orders done per second of wall time since start.
func (m meter) rate(done int, now time.Time) float64 {
	el := now.Sub(m.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(done-m.base) / el
}

// left is the time left at the rate so far; 0 when it is not known.
func (m meter) left(done int, now time.Time) time.Duration {
	r := m.rate(done, now)
	if r <= 0 || done >= m.total {
		return 0
	}
	return time.Duration(float64(m.total-done) / r * float64(time.Second)).Round(time.Second)
}

// bar is the terminal progress line of a run, redrawn in place: orders done
// of all, refusals, rate and time left. It shows where the run stopped,
// never more.
type bar struct {
	w     io.Writer
	m     meter
	now   func() time.Time
	drawn time.Time
}

const barWidth = 30

func newBar(w io.Writer, m meter, now func() time.Time) *bar {
	return &bar{w: w, m: m, now: now}
}

// line is the bar's text for done orders of which refused were refused.
func (b *bar) line(done, refused int, now time.Time) string {
	total := max(b.m.total, 1)
	filled := min(done*barWidth/total, barWidth)
	var s strings.Builder
	fmt.Fprintf(&s, "ordering [%s%s] %d/%d orders (%d%%)", strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled),
		done, b.m.total, done*100/total)
	if refused > 0 {
		fmt.Fprintf(&s, ", %d refused", refused)
	}
	if r := b.m.rate(done, now); r > 0 {
		fmt.Fprintf(&s, ", %.1f orders/s", r)
		if left := b.m.left(done, now); left > 0 {
			fmt.Fprintf(&s, ", %s left", left)
		}
	}
	return s.String()
}

// set redraws the bar, at most ten times a second.
func (b *bar) set(done, refused int) {
	now := b.now()
	if now.Sub(b.drawn) < 100*time.Millisecond && done < b.m.total {
		return
	}
	b.drawn = now
	fmt.Fprintf(b.w, "\r%s\x1b[K", b.line(done, refused, now))
}

// finish draws the bar as the run ended, done orders of all, and ends its
// line; a run that stopped early says so.
func (b *bar) finish(done, refused int) {
	line := b.line(done, refused, b.now())
	if done < b.m.total {
		line += " – stopped"
	}
	fmt.Fprintf(b.w, "\r%s\x1b[K\n", line)
}
