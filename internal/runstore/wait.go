package runstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OpenWaiting opens the store at path as Open does, waiting up to wait for
// another process to let go of it; once it has waited notice, it calls
// waiting (if set) and waits the rest. Its ErrStoreBusy then says how long
// it waited.
func OpenWaiting(path string, opts Options, wait, notice time.Duration, waiting func()) (*Store, error) {
	opts.LockTimeout = min(wait, notice)
	s, err := Open(path, opts)
	if errors.Is(err, ErrStoreBusy) && wait > notice {
		if waiting != nil {
			waiting()
		}
		opts.LockTimeout = wait - notice
		if s, err = Open(path, opts); errors.Is(err, ErrStoreBusy) {
			err = fmt.Errorf("%w (waited %s)", err, wait)
		}
	}
	return s, err
}

// Retry calls open every half second while it fails with ErrStoreBusy,
// until wait has passed or ctx ends.
func Retry(ctx context.Context, wait time.Duration, open func() (*Store, error)) (*Store, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := open()
		if err == nil || !errors.Is(err, ErrStoreBusy) || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
