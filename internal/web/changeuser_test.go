package web

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestChangeUser sets a password, or a role, leaving the other as it was,
// ends the user's sessions, and finds no user that is not there.
func TestChangeUser(t *testing.T) {
	t.Parallel()
	st, err := runstore.Open(filepath.Join(t.TempDir(), "wvbatch.db"), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddUser(runstore.User{Name: "ann", Role: "viewer", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	user := func() runstore.User {
		us, err := st.Users()
		if err != nil || len(us) != 1 {
			t.Fatalf("users %v, %v", us, err)
		}
		return us[0]
	}
	gen := user().Gen
	if err := ChangeUser(st, "ann", "h2", ""); err != nil {
		t.Fatal(err)
	}
	if u := user(); u.Hash != "h2" || u.Role != "viewer" || u.Gen == gen {
		t.Errorf("after a new password: %+v; want hash h2, still a viewer, sessions ended", u)
	}
	if err := ChangeUser(st, "ann", "", "admin"); err != nil {
		t.Fatal(err)
	}
	if u := user(); u.Hash != "h2" || u.Role != "admin" {
		t.Errorf("after a new role: %+v; want hash h2 kept, admin", u)
	}
	if err := ChangeUser(st, "bob", "h", ""); !errors.Is(err, runstore.ErrNotFound) {
		t.Errorf("ChangeUser of no such user = %v; want ErrNotFound", err)
	}
}
