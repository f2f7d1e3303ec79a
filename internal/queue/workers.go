package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"golang.org/x/sync/errgroup"
)

// workers runs the per-order work of one run for Cancel and Amend: at most
// RunConfig.Concurrency requests at once, and the changes that only need
// the store beside them. Work stops being handed out at the first fatal
// answer or when the caller's context ends; the requests in flight then
// finish under a context that outlives it by RunConfig.DrainTimeout, so
// that their answers are recorded. A panic in a piece of work becomes its
// error, so that a bug stops the run instead of the process.
type workers struct {
	ctx    context.Context // the caller's
	reqCtx context.Context // the requests': it outlives ctx by the drain timeout
	drain  func()

	remote, local errgroup.Group

	mu   sync.Mutex
	stop error // the first fatal answer
}

func startWorkers(ctx context.Context, cfg RunConfig) *workers {
	w := &workers{ctx: ctx}
	w.reqCtx, w.drain = drainContext(ctx, cfg.DrainTimeout)
	w.remote.SetLimit(cfg.Concurrency)
	w.local.SetLimit(localLimit)
	return w
}

// stopped reports whether no more work may start.
func (w *workers) stopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stop != nil || w.ctx.Err() != nil
}

// fatal stops the work: err is an answer after which nothing will work.
func (w *workers) fatal(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop == nil {
		w.stop = err
	}
}

// request runs fn, the work of order key that sends requests, once one of
// the Concurrency slots is free.
func (w *workers) request(key string, fn func() error) { w.remote.Go(recovered(key, fn)) }

// record runs fn, the work of order key that only changes the store.
func (w *workers) record(key string, fn func() error) { w.local.Go(recovered(key, fn)) }

// wait waits for all the work and returns what stopped it: a change the
// store could not record, a panic, or the first fatal answer.
func (w *workers) wait() error {
	defer w.drain()
	errLocal, errRemote := w.local.Wait(), w.remote.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(errLocal, errRemote, w.stop)
}

// recovered runs fn, turning a panic into an error about the order, so that
// a bug stops the run instead of the process and what was recorded stays.
func recovered(key string, fn func() error) func() error {
	return func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("order %s: panic: %v\n%s", key, p, debug.Stack())
			}
		}()
		return fn()
	}
}
