package runstore

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestFindRun(t *testing.T) {
	t.Parallel()
	st, err := Open(filepath.Join(t.TempDir(), "wvbatch.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{"rabc111", "rabc222", "rxyz333"} {
		if _, err := st.CreateRun(Run{ID: id, File: id + ".csv", Endpoint: "sandbox"}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"rabc111", "rxy", "rabc2"} {
		if r, err := st.FindRun(id); err != nil || r.ID[:len(id)] != id {
			t.Errorf("FindRun(%q) = %q, %v", id, r.ID, err)
		}
	}
	var ie *RunIDError
	if _, err := st.FindRun("rabc"); !errors.As(err, &ie) || !ie.Ambiguous || err.Error() != "more than one run starts with rabc" {
		t.Errorf("an id two runs start with: %v", err)
	}
	for _, id := range []string{"rq", "rqqqq"} {
		if _, err := st.FindRun(id); !errors.As(err, &ie) || ie.Ambiguous || err.Error() != "no run "+id+" in "+st.Path() {
			t.Errorf("FindRun(%q): %v", id, err)
		}
	}
}
