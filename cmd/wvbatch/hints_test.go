package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestAPIErrHints: a host name that cannot be found and an endpoint where
// nothing answers each get a hint saying what to check.
func TestAPIErrHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("get token: %w", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}}),
			"host name cannot be found"},
		{fmt.Errorf("get token: %w", &net.OpError{Op: "dial", Err: errConnRefused()}), "nothing answers at the endpoint"},
	} {
		var ce *cliError
		if err := apiErr(tc.err); !errors.As(err, &ce) || !strings.Contains(ce.hint, tc.want) || ce.code != exitFailure {
			t.Errorf("apiErr(%v) = %#v; want exit 1 with a hint containing %q", tc.err, err, tc.want)
		}
	}
}

// errConnRefused dials a port nothing listens on and returns the error.
func errConnRefused() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
		return errors.New("something answered")
	}
	return err
}
