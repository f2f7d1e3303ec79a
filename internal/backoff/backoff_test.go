package backoff

import (
	"context"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want time.Duration
	}{
		{-1, time.Second}, {0, time.Second}, {1, 2 * time.Second}, {3, 8 * time.Second}, {4, 10 * time.Second}, {31, 10 * time.Second}, {1 << 20, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := Ceiling(time.Second, 10*time.Second, tt.n); got != tt.want {
			t.Errorf("Ceiling(1s, 10s, %d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	const ceil = 100 * time.Millisecond
	var lowFull, lowEqual time.Duration = ceil, ceil
	for range 2000 {
		f, e := Full(ceil), Equal(ceil)
		if f < 0 || f > ceil {
			t.Fatalf("Full(%s) = %s", ceil, f)
		}
		if e < ceil/2 || e > ceil {
			t.Fatalf("Equal(%s) = %s", ceil, e)
		}
		lowFull, lowEqual = min(lowFull, f), min(lowEqual, e)
	}
	if lowFull >= ceil/2 {
		t.Errorf("Full never went below half the ceiling in 2000 draws (lowest %s)", lowFull)
	}
	if Full(0) != 0 || Equal(0) != 0 || Full(-1) != 0 {
		t.Error("a ceiling of zero or less must give no wait")
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep after cancel = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep did not end with its context")
	}
	if err := Sleep(ctx, 0); err != context.Canceled {
		t.Errorf("Sleep(0) of an ended context = %v", err)
	}
}
