package submit

import (
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

func TestRunSettings(t *testing.T) {
	t.Parallel()
	var set Settings
	if err := RunSettings(runstore.Run{ID: "r1", Settings: []byte(`{"roster":"a.xlsx","endpoint":"sandbox","order":{"ReportEmails":["x@example.com"]}}`)}, &set); err != nil {
		t.Fatal(err)
	}
	if set.Roster != "a.xlsx" || set.Endpoint != "sandbox" {
		t.Errorf("decoded %+v", set)
	}
	var none Settings
	if err := RunSettings(runstore.Run{ID: "e1"}, &none); err != nil || none.Roster != "" {
		t.Errorf("a run without settings: %+v, %v", none, err)
	}
	err := RunSettings(runstore.Run{ID: "r2", Settings: []byte(`{"roster":`)}, &set)
	if err == nil || !strings.Contains(err.Error(), "run r2") || !strings.Contains(err.Error(), "settings cannot be read") {
		t.Errorf("corrupt settings: %v, want an error naming the run", err)
	}
}
