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
