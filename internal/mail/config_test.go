package mail

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want Config
		str  string
	}{
		{"smtp://reports%40example.com:" + testPassword + "@mail.example.com",
			Config{Host: "mail.example.com", Username: "reports@example.com", Password: testPassword, TLS: TLSStartTLS},
			"smtp://reports%40example.com@mail.example.com:587"},
		{"smtp://u:p%2Fw%3Ad%40@mail.example.com:2525",
			Config{Host: "mail.example.com", Port: 2525, Username: "u", Password: "p/w:d@", TLS: TLSStartTLS},
			"smtp://u@mail.example.com:2525"},
		{"smtps://u:pw@smtp.example.com:465/",
			Config{Host: "smtp.example.com", Port: 465, Username: "u", Password: "pw", TLS: TLSImplicit},
			"smtps://u@smtp.example.com:465"},
		{"smtps://u:pw@smtp.example.com",
			Config{Host: "smtp.example.com", Username: "u", Password: "pw", TLS: TLSImplicit},
			"smtps://u@smtp.example.com:465"},
		{"smtp+insecure://localhost",
			Config{Host: "localhost", TLS: TLSNone},
			"smtp+insecure://localhost:25"},
		{"smtp+insecure://[::1]:2525?from=visits%40example.com&timeout=5s",
			Config{Host: "::1", Port: 2525, TLS: TLSNone, From: "visits@example.com", Timeout: 5 * time.Second},
			"smtp+insecure://[::1]:2525"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			got, err := ParseURL(tc.raw)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got.Host != tc.want.Host || got.Port != tc.want.Port || got.Username != tc.want.Username ||
				got.Password != tc.want.Password || got.TLS != tc.want.TLS || got.From != tc.want.From || got.Timeout != tc.want.Timeout {
				t.Errorf("ParseURL = %#v\n(password %q, from %q, timeout %v)\nwant %+v", got, got.Password, got.From, got.Timeout, tc.want)
			}
			if s := got.String(); s != tc.str {
				t.Errorf("String() = %q, want %q", s, tc.str)
			}
			for _, s := range []string{fmt.Sprint(got), fmt.Sprintf("%v %+v %#v %s", got, got, got, got), fmt.Sprint(&got)} {
				if got.Password != "" && strings.Contains(s, got.Password) {
					t.Errorf("printed Config shows the password: %s", s)
				}
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, want string
	}{
		{"", "no scheme"},
		{"mail.example.com:587", "unsupported scheme \"mail.example.com\""},
		{"http://u:" + testPassword + "@mail.example.com", `unsupported scheme "http"`},
		{"smtp:mail.example.com", "two slashes"},
		{"smtp://u:" + testPassword + "@", "no host"},
		{"smtp://u:" + testPassword + "@mail.example.com:99999", "not a number from 1 to 65535"},
		{"smtp://u:" + testPassword + "@mail.example.com:port", "port is not a number"},
		{"smtp://u:" + testPassword + "%zz@mail.example.com", "percent-encoded"},
		{"smtp://u:" + testPassword + "%@mail.example.com", "percent-encoded"},
		{"smtp://u:pa ss" + testPassword + "@mail.example.com", "percent-encoded"},
		{"smtp://u:" + testPassword + "/x@mail.example.com", "percent-encoded"},
		{"smtp://u:" + testPassword + "@mail.example.com/x", "unexpected path"},
		{"smtp://u:" + testPassword + "@mail.example.com#x", "#fragment"},
		{"smtp://u:" + testPassword + "@mail.example.com?size=1", `unknown parameter "size"`},
		{"smtp://u:" + testPassword + "@mail.example.com?timeout=soon", `timeout "soon"`},
		{"smtp://u:" + testPassword + "@mail.exa mple.com", "invalid character"},
		{"smtp://:" + testPassword + "@mail.example.com", "password without a user name"},
		{"smtp://u@mail.example.com", `user "u" has no password`},
		{"smtp+insecure://u:" + testPassword + "@mail.example.com", "unencrypted"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			_, err := ParseURL(tc.raw)
			if err == nil {
				t.Fatal("ParseURL succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), "P4ss") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}
