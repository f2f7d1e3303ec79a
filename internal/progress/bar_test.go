package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestBar: the rate counts only the orders done since the process took the
// run up, per second of wall time, and the bar of a run that stopped shows
// where it stopped.
func TestBar(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	now := t0
	var out bytes.Buffer
	// A resumed run: 40 of 100 orders were done by an earlier process.
	b := newBar(&out, meter{total: 100, base: 40, start: t0}, func() time.Time { return now })
	now = t0.Add(4 * time.Second)
	if got, want := b.line(60, 2, now), "ordering [==================            ] 60/100 orders (60%), 2 refused, 5.0 orders/s, 8s left"; got != want {
		t.Errorf("line = %q\nwant   %q", got, want)
	}
	b.set(60, 2)
	b.finish(60, 2)
	frames := strings.Split(out.String(), "\r")
	last := frames[len(frames)-1]
	if !strings.HasPrefix(last, "ordering [==================            ] 60/100 orders (60%)") || !strings.Contains(last, "– stopped") || !strings.HasSuffix(last, "\n") {
		t.Errorf("the last drawing of a stopped run is %q", last)
	}
	out.Reset()
	b.finish(100, 0)
	if s := out.String(); !strings.Contains(s, "100/100 orders (100%)") || strings.Contains(s, "stopped") {
		t.Errorf("the last drawing of a finished run is %q", s)
	}
}
