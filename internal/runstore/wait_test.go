package runstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenWaiting: a store another holder has open is waited for, with
// one notice after notice; the busy error says how long it waited; once
// the holder lets go it opens.
func TestOpenWaiting(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	held, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	notices := 0
	start := time.Now()
	_, err = OpenWaiting(path, Options{}, 400*time.Millisecond, 100*time.Millisecond, func() { notices++ })
	if !errors.Is(err, ErrStoreBusy) || !strings.Contains(err.Error(), "waited 400ms") || notices != 1 || time.Since(start) < 400*time.Millisecond {
		t.Errorf("OpenWaiting a held store = %v after %v, %d notices; want busy after 400ms, one notice", err, time.Since(start), notices)
	}
	held.Close()
	st, err := OpenWaiting(path, Options{}, 400*time.Millisecond, 100*time.Millisecond, func() { notices++ })
	if err != nil || notices != 1 {
		t.Fatalf("OpenWaiting a free store = %v, %d notices; want it open at once", err, notices)
	}
	st.Close()
}

// TestRetry: open is called again while the store is busy, until the
// holder lets go; a context that ends stops the waiting.
func TestRetry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	held, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	open := func() (*Store, error) { return Open(path, Options{LockTimeout: 50 * time.Millisecond}) }
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := Retry(ctx, time.Minute, open); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Retry with a context that ends = %v", err)
	}
	calls := 0
	time.AfterFunc(700*time.Millisecond, func() { held.Close() })
	st, err := Retry(t.Context(), 10*time.Second, func() (*Store, error) { calls++; return open() })
	if err != nil || calls < 2 {
		t.Fatalf("Retry = %v after %d calls; want the store once its holder let go", err, calls)
	}
	st.Close()
}
