package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Ceiling is the longest wait before retry n (0-based): base doubled n
// times, at most max.
func Ceiling(base, max time.Duration, n int) time.Duration {
	if n < 0 {
		n = 0
	}
	if n >= 30 {
		return max
	}
	return min(base<<n, max)
}

// Full is a wait drawn evenly from 0 to ceil ("full jitter").
func Full(ceil time.Duration) time.Duration {
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// Equal is a wait drawn evenly from ceil/2 to ceil ("equal jitter"): never
// much shorter than the ceiling.
func Equal(ceil time.Duration) time.Duration {
	if ceil <= 0 {
		return 0
	}
	return ceil/2 + rand.N(ceil/2+1)
}

// Sleep waits d, or until ctx ends (returning its error). A wait of zero or
// less returns at once, with ctx's error if it has ended.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
