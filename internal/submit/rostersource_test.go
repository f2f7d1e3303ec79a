package submit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

func TestRosterSourceKeepsACopyInOneRead(t *testing.T) {
	dir := t.TempDir()
	st, err := runstore.Open(filepath.Join(dir, "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	roster := filepath.Join(dir, "Roster.CSV")
	content := "First name,Last name\nAda,Lovelace\n"
	if err := os.WriteFile(roster, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	hash, err := importer.HashFile(roster)
	if err != nil {
		t.Fatal(err)
	}
	run := runstore.Run{ID: "r1", Hash: hash}
	set := Settings{Roster: roster}
	kept := filepath.Join(dir, "rosters", "r1.csv")

	// The roster changed since the run: no copy is kept, and why is said.
	if err := os.WriteFile(roster, []byte(content+"Grace,Hopper\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if src, why := rosterSource(st, run, set); src != "" || !strings.Contains(why, "changed since the run") {
		t.Fatalf("changed roster: got %q, %q", src, why)
	}
	if _, err := os.Stat(kept); !os.IsNotExist(err) {
		t.Fatalf("a copy of a changed roster was kept: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "rosters", ".copy-*")); len(left) > 0 {
		t.Fatalf("temporary copies left: %v", left)
	}

	// The run's roster: the report reads the copy, which is kept.
	if err := os.WriteFile(roster, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	src, why := rosterSource(st, run, set)
	if src != kept || why != "" {
		t.Fatalf("got %q, %q; want the kept copy %s", src, why, kept)
	}
	if b, err := os.ReadFile(kept); err != nil || string(b) != content {
		t.Fatalf("kept copy: %q, %v", b, err)
	}
	if fi, err := os.Stat(kept); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept copy mode: %v, %v", fi, err)
	}

	// Once kept, the copy serves after the roster is gone.
	if err := os.Remove(roster); err != nil {
		t.Fatal(err)
	}
	if src, why := rosterSource(st, run, set); src != kept || why != "" {
		t.Fatalf("roster gone: got %q, %q", src, why)
	}
}

func TestRosterSourceWithoutACopy(t *testing.T) {
	dir := t.TempDir()
	st, err := runstore.Open(filepath.Join(dir, "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	roster := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(roster, []byte("First name\nAda\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hash, _ := importer.HashFile(roster)
	// A file where the copies' folder goes: no copy can be written.
	if err := os.WriteFile(filepath.Join(dir, "rosters"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	src, why := rosterSource(st, runstore.Run{ID: "r1", Hash: hash}, Settings{Roster: roster})
	if src != roster || why != "" {
		t.Fatalf("got %q, %q; want the roster itself when no copy can be written", src, why)
	}
}
