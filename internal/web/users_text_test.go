package web

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

func TestWriteUsers(t *testing.T) {
	var b strings.Builder
	WriteUsers(&b, nil)
	if b.String() != "no users: add one with wvbatch users add NAME --role admin\n" {
		t.Errorf("no users: %q", b.String())
	}
	at := time.Date(2027, 1, 2, 3, 4, 0, 0, time.Local)
	b.Reset()
	WriteUsers(&b, []runstore.User{{Name: "ann", Role: "admin", Hash: "$argon2id$x", UpdatedAt: at}, {Name: "bob", Role: "viewer", UpdatedAt: at}})
	want := "ann                      admin    password           changed 2027-01-02 03:04\n" +
		"bob                      viewer   proxy header only  changed 2027-01-02 03:04\n"
	if b.String() != want {
		t.Errorf("users:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestNewUser checks a user to add as both front doors do: the name, then
// the role, and only then the password is asked for, checked and hashed.
func TestNewUser(t *testing.T) {
	asked := 0
	pw := func(p string) func() (string, error) {
		return func() (string, error) { asked++; return p, nil }
	}
	for _, tc := range []struct {
		name, role, password string
		sso                  bool
		field                string // of the *UserError, "" for none
		asked                int
	}{
		{name: "bob smith", role: RoleViewer, password: "a long enough one", field: "user name"},
		{name: "bob", role: "boss", password: "a long enough one", field: "role"},
		{name: "bob", role: RoleViewer, password: "short", field: "password", asked: 1},
		{name: "bob", role: RoleViewer, password: "a long enough one", asked: 1},
		{name: "bob", role: RoleAdmin, sso: true},
	} {
		asked = 0
		var password func() (string, error)
		if !tc.sso {
			password = pw(tc.password)
		}
		u, err := NewUser(tc.name, tc.role, password)
		var ue *UserError
		switch {
		case tc.field != "" && (!errors.As(err, &ue) || ue.Field != tc.field):
			t.Errorf("%q %q: %v; want a *UserError on the %s", tc.name, tc.role, err, tc.field)
		case tc.field == "" && err != nil:
			t.Errorf("%q %q: %v", tc.name, tc.role, err)
		case tc.field == "" && (u.Name != tc.name || u.Role != tc.role || (u.Hash != "") == tc.sso):
			t.Errorf("%q %q: %+v", tc.name, tc.role, u)
		case tc.field == "" && !tc.sso && !CheckPassword(u.Hash, tc.password):
			t.Errorf("%q: the hash does not check the password", tc.name)
		}
		if asked != tc.asked {
			t.Errorf("%q %q: the password was asked for %d times; want %d", tc.name, tc.role, asked, tc.asked)
		}
	}
	if err := CheckRole("boss"); err == nil || err.Error() != `role "boss": want viewer, orderer or admin` {
		t.Errorf("CheckRole: %v", err)
	}
}
