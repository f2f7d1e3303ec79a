package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestHookLogLines: without a terminal, a run's progress is log lines, and
// the last says where the run ended.
func TestHookLogLines(t *testing.T) {
	var logs, screen bytes.Buffer
	hook := Hook(&screen, false, zerolog.New(&logs))
	run := runstore.Run{ID: "r1", Orders: map[runstore.OrderState]int{runstore.Planned: 8, runstore.Submitted: 2}}
	hook(run, queue.Tally{Submitted: 3}, false)
	hook(run, queue.Tally{Submitted: 4}, false) // within a second: not logged
	hook(run, queue.Tally{Submitted: 5, Rejected: 1}, true)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || screen.Len() != 0 {
		t.Fatalf("logged %q, drew %q", lines, screen.String())
	}
	if !strings.Contains(lines[0], `"run":"r1","orders_done":3,"orders_total":10`) || !strings.Contains(lines[0], `"message":"progress"`) {
		t.Errorf("first line %s", lines[0])
	}
	if !strings.Contains(lines[1], `"orders_done":6`) || !strings.Contains(lines[1], `"rejected":1`) ||
		!strings.Contains(lines[1], `"stopped":true`) || !strings.Contains(lines[1], `"message":"progress: the run ended"`) {
		t.Errorf("last line %s", lines[1])
	}
}

// TestHookBar: on a terminal, a run's progress is the bar, ended with a
// line of its own.
func TestHookBar(t *testing.T) {
	var logs, screen bytes.Buffer
	hook := Hook(&screen, true, zerolog.New(&logs))
	run := runstore.Run{ID: "r1", Orders: map[runstore.OrderState]int{runstore.Planned: 4}}
	hook(run, queue.Tally{Submitted: 1}, false)
	hook(run, queue.Tally{Submitted: 4}, true)
	if logs.Len() != 0 || !strings.HasPrefix(screen.String(), "\rordering [") || !strings.Contains(screen.String(), "4/4 orders (100%)") ||
		!strings.HasSuffix(screen.String(), "\x1b[K\n") || strings.Contains(screen.String(), "stopped") {
		t.Errorf("logged %q, drew %q", logs.String(), screen.String())
	}
}
