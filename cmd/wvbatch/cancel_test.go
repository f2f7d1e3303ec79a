package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/report"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestSubmitResumeCancel goes through a run's life on the in-process
// sandbox, one command at a time: the sandbox keeps its orders beside the
// store, so resume and cancel find what submit ordered.
func TestSubmitResumeCancel(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	submit := []string{"submit", "../../samples/contractors.csv", "--sandbox", "--yes", "--now", demoNow, "--reference-prefix", "UPS"}
	code, out, _ := c.run(submit...)
	if code != exitOK || !strings.Contains(out, "rows:   20 of 20 ordered") {
		t.Fatalf("submit: exit %d", code)
	}
	runID := runIDRe.FindStringSubmatch(out)[1]
	placed := regexp.MustCompile(`orders: (\d+) submitted`).FindStringSubmatch(out)
	if placed == nil {
		t.Fatal("submit does not say how many orders it placed")
	}
	state := filepath.Join(c.env["XDG_STATE_HOME"], "wvbatch")
	if _, err := os.Stat(filepath.Join(state, "sandbox.json")); err != nil {
		t.Errorf("the sandbox kept no state: %v", err)
	}

	code, out, _ = c.run(submit...)
	if code != exitOK || !strings.Contains(out, "resuming it; nothing is ordered twice") || !strings.Contains(out, "nothing to send") {
		t.Errorf("the same roster again: exit %d, not resumed", code)
	}

	if code, _, errOut := c.run("cancel", runID, "--reason", "x"); code != exitUsage || !strings.Contains(errOut, "5 to 4000 characters") {
		t.Errorf("cancel with a short reason: exit %d", code)
	}
	for range 2 { // cancelling again changes nothing and fails nothing
		code, out, _ = c.run("cancel", "--yes", runID[:6], "--reason", "maintenance postponed")
		if code != exitOK || !strings.Contains(out, "orders: "+placed[1]+" cancelled") {
			t.Errorf("cancel: exit %d", code)
		}
	}
	code, out, _ = c.run("status", runID, "--json")
	var sum report.RunSummary
	if err := json.Unmarshal([]byte(out), &sum); code != exitOK || err != nil {
		t.Fatalf("status: exit %d, %v", code, err)
	}
	if sum.State != string(runstore.RunCancelled) || strconv.Itoa(sum.Orders["cancelled"]) != placed[1] || sum.Rows["cancelled"] != 20 {
		t.Errorf("after cancel: state %s, orders %v, rows %v", sum.State, sum.Orders, sum.Rows)
	}
}
