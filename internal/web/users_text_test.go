package web

import (
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
