package submit

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"
)

// TestOutcomeAudit: a placed run's audit line names the run, its endpoint
// and its counts; a cancel's counts what it cancelled.
func TestOutcomeAudit(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	out := w.place(t)
	line := func(action string) map[string]any {
		var b bytes.Buffer
		log := zerolog.New(&b)
		out.Audit(log.Info(), action).Msg("x")
		m := map[string]any{}
		if err := json.Unmarshal(b.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", b.String(), err)
		}
		return m
	}
	m := line("order")
	n := float64(out.Tally.Submitted)
	if m["run"] != out.Run.ID || m["endpoint"] != "sandbox" || n == 0 || m["orders_submitted"] != n ||
		m["requests"] != float64(out.Tally.Sent) || m["rows"] != float64(out.Summary.RowsTotal) || m["stopped"] != nil {
		t.Errorf("order audit line %v; want run %s at the sandbox with %v orders submitted", m, out.Run.ID, n)
	}
	if m := line("cancel"); m["orders_cancelled"] != float64(0) || m["orders_submitted"] != nil {
		t.Errorf("cancel audit line %v; want orders_cancelled 0 and no orders_submitted", m)
	}
}
