package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// CheckUserName tells what is wrong with a user name, or "".
func CheckUserName(name string) string {
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return "a user name has 1 to 64 characters"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return "a user name has letters, digits and . _ @ - only"
		}
	}
	return ""
}

// CheckNewPassword tells what is wrong with a new password, or "".
func CheckNewPassword(p string) string {
	if utf8.RuneCountInString(p) < MinPasswordLength {
		return "a password has at least 10 characters"
	}
	if len(p) > 1024 {
		return "a password has at most 1024 bytes"
	}
	return ""
}

// UserError is a user, role or password that cannot be taken: Field is
// what is at fault ("user name", "role" or "password"), Value what was
// given (never a password), Problem what is wrong and Hint how to put it
// right.
type UserError struct{ Field, Value, Problem, Hint string }

func (e *UserError) Error() string {
	if e.Field == "password" {
		return e.Problem
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem)
}

// CheckRole returns a *UserError unless role is one of the roles.
func CheckRole(role string) error {
	if ValidRole(role) {
		return nil
	}
	return &UserError{Field: "role", Value: role, Problem: "want viewer, orderer or admin"}
}

// HashNewPassword checks a new password (a *UserError when it is not
// good) and hashes it.
func HashNewPassword(pw string) (string, error) {
	if p := CheckNewPassword(pw); p != "" {
		return "", &UserError{Field: "password", Problem: p, Hint: "pick a longer password"}
	}
	return HashPassword(pw)
}

// NewUser is the user name with role, as the store adds it: the name and
// the role are checked, then password, when not nil, is asked for the
// password the user signs in with, which is checked and hashed (nil: the
// user signs in only through the proxy's header). What is wrong is a
// *UserError.
func NewUser(name, role string, password func() (string, error)) (runstore.User, error) {
	if p := CheckUserName(name); p != "" {
		return runstore.User{}, &UserError{Field: "user name", Value: name, Problem: p, Hint: "e.g. jane.doe"}
	}
	if err := CheckRole(role); err != nil {
		return runstore.User{}, err
	}
	u := runstore.User{Name: name, Role: role}
	if password == nil {
		return u, nil
	}
	pw, err := password()
	if err != nil {
		return runstore.User{}, err
	}
	u.Hash, err = HashNewPassword(pw)
	return u, err
}

type usersData struct {
	Users []runstore.User
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, u *user) {
	s.showUsers(w, r, u, http.StatusOK, "", "", "")
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, u *user, status int, notice, msg, hint string) {
	var us []runstore.User
	if err := s.store.with(r.Context(), func(st *runstore.Store) (err error) { us, err = st.Users(); return err }); err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	s.render(w, r, status, "users", page{Title: "Users", User: u, Notice: notice, Error: msg, Hint: hint, Data: usersData{Users: us}})
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request, u *user) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := r.PostFormValue("role")
	sso := r.PostFormValue("sso") != ""
	var password func() (string, error)
	if pw := r.PostFormValue("password"); !sso || pw != "" {
		password = func() (string, error) { return pw, nil }
	}
	nu, err := NewUser(name, role, password)
	if s.userRefused(w, r, u, err, "or tick 'signs in through the proxy' for a user without one") {
		return
	}
	err = s.store.with(r.Context(), func(st *runstore.Store) error { return st.AddUser(nu) })
	if errors.Is(err, runstore.ErrUserExists) {
		s.showUsers(w, r, u, http.StatusConflict, "", "there is a user "+name+" already", "pick another name")
		return
	}
	if err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	s.auth.forgetUsers()
	s.cfg.Audit.Info().Str("audit", "user-add").Str("by", u.Name).Str("user", name).Str("role", role).Msg("user added")
	s.showUsers(w, r, u, http.StatusOK, "added "+name+" ("+role+")", "", "")
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request, u *user) {
	name := r.PathValue("name")
	if name == u.Name {
		s.showUsers(w, r, u, http.StatusBadRequest, "", "you cannot remove yourself", "another administrator can")
		return
	}
	err := s.store.with(r.Context(), func(st *runstore.Store) error { return st.RemoveUser(name) })
	s.userChanged(w, r, u, name, err, "user-remove", "removed "+name)
}

// userRefused answers a user, role or password refused (with the hint
// passwordHint for a password) or one that could not be hashed, and
// reports whether err was either.
func (s *Server) userRefused(w http.ResponseWriter, r *http.Request, u *user, err error, passwordHint string) bool {
	var ue *UserError
	switch {
	case err == nil:
		return false
	case errors.As(err, &ue):
		hint := ue.Hint
		if ue.Field == "password" {
			hint = passwordHint
		}
		s.showUsers(w, r, u, http.StatusBadRequest, "", ue.Problem, hint)
	default:
		s.fail(w, r, u, http.StatusInternalServerError, err.Error(), "")
	}
	return true
}

// userChanged answers a change of a user's record and writes its audit
// line.
func (s *Server) userChanged(w http.ResponseWriter, r *http.Request, u *user, name string, err error, audit, notice string) {
	if errors.Is(err, runstore.ErrNotFound) {
		s.showUsers(w, r, u, http.StatusNotFound, "", "there is no user "+name, "")
		return
	}
	if err != nil {
		s.storeFail(w, r, u, err)
		return
	}
	s.auth.forgetUsers()
	s.cfg.Audit.Info().Str("audit", audit).Str("by", u.Name).Str("user", name).Msg(notice)
	s.showUsers(w, r, u, http.StatusOK, notice, "", "")
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, u *user) {
	name := r.PathValue("name")
	h, err := HashNewPassword(r.PostFormValue("password"))
	if s.userRefused(w, r, u, err, "") {
		return
	}
	err = s.store.with(r.Context(), func(st *runstore.Store) error { return ChangeUser(st, name, h, "") })
	s.userChanged(w, r, u, name, err, "user-password", "new password set for "+name+"; their sessions have ended")
}

// ChangeUser sets the password hash h and the role of the user name, each
// when not "", which ends their sessions; no such user is
// runstore.ErrNotFound.
func ChangeUser(st *runstore.Store, name, h, role string) error {
	_, err := st.UpdateUser(name, func(u *runstore.User) error {
		if h != "" {
			u.Hash = h
		}
		if role != "" {
			u.Role = role
		}
		return nil
	})
	return err
}

// WriteUsers lists users for people, a line a user: name, role, how they
// sign in and when they last changed; or how to add the first one.
func WriteUsers(w io.Writer, us []runstore.User) {
	if len(us) == 0 {
		fmt.Fprintln(w, "no users: add one with wvbatch users add NAME --role admin")
		return
	}
	for _, u := range us {
		how := "password"
		if u.Hash == "" {
			how = "proxy header only"
		}
		fmt.Fprintf(w, "%-24s %-8s %-18s changed %s\n", u.Name, u.Role, how, u.UpdatedAt.Local().Format("2006-01-02 15:04"))
	}
}
