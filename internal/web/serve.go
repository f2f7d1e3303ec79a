package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/wvbatch/wvbatch/internal/scheduler"
)

// ListenError is an address, or a TLS certificate and key, the page cannot
// be served with: TLS says which.
type ListenError struct {
	TLS bool
	Err error
}

func (e *ListenError) Error() string { return e.Err.Error() }
func (e *ListenError) Unwrap() error { return e.Err }

// Listen listens on addr for Serve, over TLS (1.2 or later) with the PEM
// certificate and private key in certFile and keyFile when certFile is
// set; scheme is "https" then, else "http".
func Listen(addr, certFile, keyFile string) (ln net.Listener, tlsCfg *tls.Config, scheme string, err error) {
	if ln, err = net.Listen("tcp", addr); err != nil {
		return nil, nil, "", &ListenError{Err: err}
	}
	if certFile == "" {
		return ln, nil, "http", nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ln.Close()
		return nil, nil, "", &ListenError{TLS: true, Err: err}
	}
	tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return tls.NewListener(ln, tlsCfg), tlsCfg, "https", nil
}

// Serve serves the page on ln (a TLS listener made with tlsCfg, when set)
// until ctx ends or serving fails, with sched
// (when set) running its jobs beside it. Then it shuts the server down,
// giving requests under way 10 s (warn is told when that fails), and waits
// for the runs under way, so that they record their state.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config, sched *scheduler.Scheduler, warn func(error)) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }, TLSConfig: tlsCfg}
	s.Start(ctx)
	done := make(chan error, 2)
	go func() { done <- hs.Serve(ln) }()
	if sched != nil {
		go func() {
			if err := sched.Run(ctx); err != nil && ctx.Err() == nil {
				done <- fmt.Errorf("scheduler: %w", err)
			}
		}()
	}
	var serveErr error
	select {
	case serveErr = <-done:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		warn(fmt.Errorf("shutting down: %w", err))
	}
	s.Wait()
	if sched != nil {
		sched.Wait()
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}
