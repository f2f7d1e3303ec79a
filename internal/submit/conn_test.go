package submit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/sandbox"
)

// TestErrorHint: each error a person must act on gets its own hint, and
// any other error none.
func TestErrorHint(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, refused := net.Dial("tcp", addr)
	if refused == nil {
		c.Close()
		t.Skip("something listens at " + addr)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("disk full"), ""},
		{fmt.Errorf("get token: %w", &equinix.AuthError{Status: 401, ReadyToken: true}), "EQUINIX_API_TOKEN was refused"},
		{fmt.Errorf("get token: %w", &equinix.AuthError{Status: 401}), "locks the account after 5 refused attempts"},
		{fmt.Errorf("order 3: %w", queue.ErrGaveUp), "resuming the run places what is left"},
		{fmt.Errorf("get token: %w", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}}),
			"host name cannot be found"},
		{fmt.Errorf("get token: %w", refused), "nothing answers at the endpoint"},
	} {
		got := ErrorHint(tc.err)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("ErrorHint(%v) = %q; want one containing %q", tc.err, got, tc.want)
		}
	}
}

// TestFollowRun: a named sandbox or endpoint wins; else the run's own
// endpoint is followed unless EQUINIX_API_ENDPOINT names one.
func TestFollowRun(t *testing.T) {
	t.Parallel()
	at := func(ep string) runstore.Run { return runstore.Run{Endpoint: ep} }
	for _, tc := range []struct {
		run          runstore.Run
		sandbox      bool
		endpoint, ev string
		wantSandbox  bool
		wantEndpoint string
		wantExplicit bool
	}{
		{at("https://api.equinix.com"), true, "", "", true, "", true},
		{at("sandbox"), false, "http://x.example", "", false, "http://x.example", true},
		{at("sandbox"), false, "", "", true, "", false},
		{at("https://api.equinix.com"), false, "", "", false, "https://api.equinix.com", false},
		{at("https://api.equinix.com"), false, "", "http://x.example", false, "", true},
		{at(runstore.EndpointUnknown), false, "", "", false, "", false},
		{at(""), false, "", "http://x.example", false, "", true},
	} {
		s, ep, ex := FollowRun(tc.run, tc.sandbox, tc.endpoint, tc.ev)
		if s != tc.wantSandbox || ep != tc.wantEndpoint || ex != tc.wantExplicit {
			t.Errorf("FollowRun(%q, %v, %q, %q) = %v, %q, %v; want %v, %q, %v", tc.run.Endpoint, tc.sandbox, tc.endpoint, tc.ev,
				s, ep, ex, tc.wantSandbox, tc.wantEndpoint, tc.wantExplicit)
		}
	}
}

// TestLogin: good credentials name the endpoint given; refused ones are an
// error Equinix's way (equinix.IsAuth), with the hint about locking.
func TestLogin(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Config{StartAt: benchStart, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	for _, secret := range []string{sandbox.DefaultClientSecret, "wrong-secret"} {
		client, err := equinix.New(equinix.Config{Endpoint: url, ClientID: sandbox.DefaultClientID, ClientSecret: secret, RateLimit: -1})
		if err != nil {
			t.Fatal(err)
		}
		tuned := false
		w, err := Login(context.Background(), client, "http://sandbox.example", zerolog.Nop(), func(*queue.RunConfig) { tuned = true })
		if !tuned {
			t.Error("Login did not call tune")
		}
		if secret == sandbox.DefaultClientSecret {
			if err != nil || w.Endpoint != "http://sandbox.example" {
				t.Errorf("Login = %+v, %v; want the endpoint given and no error", w, err)
			}
			continue
		}
		if !equinix.IsAuth(err) || !strings.Contains(ErrorHint(err), "locks the account") {
			t.Errorf("Login with a wrong secret = %+v, %v; want a refusal with the locking hint", w, err)
		}
	}
}

// TestLazyConn: Dial runs once, on the first Connect, and again only after
// it failed; Close closes what it opened, once; a run at another endpoint
// is refused with an EndpointError.
func TestLazyConn(t *testing.T) {
	t.Parallel()
	dials, closes := 0, 0
	fail := errors.New("no network")
	l := &LazyConn{Dial: func() (*Conn, func(), error) {
		dials++
		if dials == 1 {
			return nil, nil, fail
		}
		return &Conn{Endpoint: "https://api.equinix.com", Account: "ann"}, func() { closes++ }, nil
	}}
	l.Close() // nothing opened yet
	if _, err := l.Connect(); !errors.Is(err, fail) {
		t.Fatalf("first Connect = %v; want the Dial's error", err)
	}
	for range 2 {
		if c, err := l.Connect(); err != nil || c.Account != "ann" {
			t.Fatalf("Connect = %+v, %v", c, err)
		}
	}
	l.Run = &runstore.Run{ID: "r1", Endpoint: "sandbox"}
	var ee *EndpointError
	if _, err := l.Connect(); !errors.As(err, &ee) {
		t.Errorf("Connect for a run ordered at the sandbox = %v; want an EndpointError", err)
	}
	l.Run.Endpoint = "https://api.equinix.com"
	if _, err := l.Connect(); err != nil {
		t.Errorf("Connect for a run at the same endpoint = %v", err)
	}
	l.Close()
	l.Close()
	if dials != 2 || closes != 1 {
		t.Errorf("dialled %d times, closed %d; want 2 and 1", dials, closes)
	}
}
