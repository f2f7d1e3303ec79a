package web

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServeUntilCancelled serves the page on a listener of its own, then
// ends the context: Serve shuts down and returns nil.
func TestServeUntilCancelled(t *testing.T) {
	te := newTestEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- te.srv.Serve(ctx, ln, nil, nil, func(err error) { t.Errorf("warned: %v", err) }) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil after the context ends", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("the page is still served after Serve returned")
	}
}
