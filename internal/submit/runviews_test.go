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
