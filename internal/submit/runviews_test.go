package submit

import (
	"encoding/json"
	"testing"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestRunViews keeps the runs' order, and no runs are an empty JSON list,
// not null.
func TestRunViews(t *testing.T) {
	t.Parallel()
	v := RunViews([]runstore.Run{{ID: "b", File: "/x/b.csv", Endpoint: "sandbox"}, {ID: "a", File: "/x/a.csv"}})
	if len(v) != 2 || v[0].RunID != "b" || v[1].RunID != "a" || v[0].Endpoint != "sandbox" {
		t.Errorf("RunViews = %+v", v)
	}
	if b, err := json.Marshal(RunViews(nil)); err != nil || string(b) != "[]" {
		t.Errorf("RunViews(nil) as JSON = %s, %v; want []", b, err)
	}
}

// TestRunChoices offers the runs whose id starts with what was typed, each
// with its roster and endpoint.
func TestRunChoices(t *testing.T) {
	t.Parallel()
	w := newPipelineWorld(t)
	out := w.place(t)
	id := out.Run.ID
	got, err := RunChoices(w.p.Store, id[:3])
	if err != nil || len(got) != 1 || got[0] != [2]string{id, "contractors.csv at sandbox"} {
		t.Errorf("RunChoices(%q) = %q, %v; want %s with its roster and endpoint", id[:3], got, err, id)
	}
	if got, err := RunChoices(w.p.Store, "zz-no-run"); err != nil || len(got) != 0 {
		t.Errorf("RunChoices(zz-no-run) = %q, %v; want none", got, err)
	}
}
