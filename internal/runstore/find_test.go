package runstore

import (
	"errors"
	"os"
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

func TestIsStoreFileAndOrdersByState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "wvbatch.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]bool{path: true, filepath.Join(dir, ".", "wvbatch.db"): true, link: true, filepath.Join(dir, "backup.db"): false} {
		if got := IsStoreFile(file, path); got != want {
			t.Errorf("IsStoreFile(%s) = %v, want %v", file, got, want)
		}
	}
	spec := func(key string) OrderSpec { return OrderSpec{Key: key, Reference: "ref-" + key, Body: []byte(`{}`)} }
	if _, err := st.CreateRun(Run{ID: "r1", File: "a.csv", Endpoint: "sandbox"}, []OrderSpec{spec("k1"), spec("k2")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRun(Run{ID: "r2", File: "b.csv", Endpoint: "sandbox"}, []OrderSpec{spec("k3")}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.OrdersByState()
	if err != nil || len(got) != 1 || got[string(Planned)] != 3 {
		t.Errorf("OrdersByState = %v, %v; want 3 planned", got, err)
	}
}
