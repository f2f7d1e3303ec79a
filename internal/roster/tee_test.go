package roster

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// oddReader gives its data in reads of random sizes.
type oddReader struct {
	b   []byte
	rng *rand.Rand
	end error
}

func (r *oddReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, r.end
	}
	n := min(len(p), len(r.b), 1+r.rng.IntN(3*teeBlockSize/2))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func (r *oddReader) Close() error { return nil }

// TestTeeGivesWhatIsRead: the tee's reader reads the bytes the roster's
// reader read, in order, whatever the sizes of either side's reads, and
// then what ended the roster's reading.
func TestTeeGivesWhatIsRead(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 5*teeBlockSize+123)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	broken := errors.New("broken part")
	for _, end := range []error{io.EOF, broken} {
		tee := NewSheetTee(1 << 20)
		w := tee.attach(&oddReader{b: data, rng: rand.New(rand.NewPCG(3, 4)), end: end}, "r.xlsx", "Visitors", 0)
		got := make(chan []byte)
		var rerr error
		buf := make([]byte, 1+rng.IntN(100000))
		go func() {
			var out []byte
			r := tee.Reader()
			for {
				n, err := r.Read(buf)
				out = append(out, buf[:n]...)
				if err != nil {
					rerr = err
					break
				}
			}
			got <- out
		}()
		read, err := io.ReadAll(w)
		if err != end && !(end == io.EOF && err == nil) {
			t.Fatalf("the roster's reader ended with %v, want %v", err, end)
		}
		if !bytes.Equal(read, data) {
			t.Fatal("the roster's reader did not read the part as it is")
		}
		if out := <-got; !bytes.Equal(out, data) {
			t.Fatalf("the tee's reader read %d bytes, not the %d read", len(out), len(data))
		}
		if rerr != end {
			t.Errorf("the tee's reader ended with %v, want %v", rerr, end)
		}
	}
}

// TestTeeStoppedEarly: when the roster's reader is closed before the part's
// end, the tee's reader reads what it read, then an error, never io.EOF.
func TestTeeStoppedEarly(t *testing.T) {
	t.Parallel()
	tee := NewSheetTee(1 << 20)
	w := tee.attach(io.NopCloser(strings.NewReader("<row>1</row><row>2</row>")), "r.xlsx", "Visitors", 0)
	buf := make([]byte, 12)
	if _, err := io.ReadFull(w, buf); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, err := io.ReadAll(tee.Reader())
	if string(got) != "<row>1</row>" || err == nil {
		t.Fatalf("read %q, %v; want the first row, then an error", got, err)
	}
}

// TestTeeBound: the roster's reader waits for a tee's reader that fell
// behind by the bound, and goes on as soon as it reads; while the tee's
// reader waits on the roster's reader (Stalled), the roster's reader goes
// on past the bound, and past four times the bound gives the tee up.
func TestTeeBound(t *testing.T) {
	t.Parallel()
	const limit = 4 * teeBlockSize
	data := bytes.Repeat([]byte("x"), 10*teeBlockSize)
	held := func(tee *SheetTee) int {
		tee.mu.Lock()
		defer tee.mu.Unlock()
		return tee.queued
	}
	t.Run("waits", func(t *testing.T) {
		tee := NewSheetTee(limit)
		w := tee.attach(io.NopCloser(bytes.NewReader(data)), "r.xlsx", "Visitors", 0)
		done := make(chan int)
		go func() {
			n, _ := io.Copy(io.Discard, w)
			done <- int(n)
		}()
		select {
		case n := <-done:
			t.Fatalf("the roster's reader read all %d bytes while the tee's reader read none", n)
		case <-time.After(200 * time.Millisecond):
		}
		if q := held(tee); q < limit || q > limit+teeBlockSize {
			t.Errorf("%d bytes held, want the bound %d", q, limit)
		}
		got, err := io.ReadAll(tee.Reader())
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("the tee's reader read %d bytes, %v", len(got), err)
		}
		if n := <-done; n != len(data) {
			t.Fatalf("the roster's reader read %d bytes", n)
		}
	})
	t.Run("stalled", func(t *testing.T) {
		// The roster's reader waits at the bound when the tee's reader
		// starts waiting on it: it goes on to the end.
		tee := NewSheetTee(limit)
		w := tee.attach(io.NopCloser(bytes.NewReader(data)), "r.xlsx", "Visitors", 0)
		done := make(chan error)
		go func() {
			_, err := io.Copy(io.Discard, w)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		tee.Stalled(true)
		select {
		case err := <-done:
			if err != nil || tee.Dropped() {
				t.Fatalf("%v; dropped %v", err, tee.Dropped())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the roster's reader still waits")
		}
		tee.Stalled(false)
		if q := held(tee); q != len(data) {
			t.Errorf("%d bytes held, want all %d", q, len(data))
		}
		got, err := io.ReadAll(tee.Reader())
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("the tee's reader read %d bytes, %v", len(got), err)
		}
	})
	t.Run("drops", func(t *testing.T) {
		tee := NewSheetTee(limit)
		more := bytes.Repeat([]byte("x"), (teeHardFactor+2)*limit)
		w := tee.attach(io.NopCloser(bytes.NewReader(more)), "r.xlsx", "Visitors", 0)
		tee.Stalled(true)
		n, err := io.Copy(io.Discard, w)
		if err != nil || int(n) != len(more) {
			t.Fatalf("the roster's reader read %d bytes, %v", n, err)
		}
		tee.Stalled(false)
		if !tee.Dropped() {
			t.Fatal("the tee was not given up")
		}
		if _, err := tee.Reader().Read(make([]byte, 10)); !errors.Is(err, ErrTeeDropped) {
			t.Fatalf("the tee's reader read %v, want ErrTeeDropped", err)
		}
		if q := held(tee); q != 0 || tee.q != nil || tee.cur != nil {
			t.Errorf("the given-up tee still holds %d bytes", q)
		}
	})
}

// TestTeeAttachesOnce: only Open's first reading is teed, and none of a
// workbook whose shared strings would be held twice past their bound.
func TestTeeAttachesOnce(t *testing.T) {
	t.Parallel()
	tee := NewSheetTee(1 << 20)
	r := io.NopCloser(strings.NewReader("x"))
	if tee.attach(r, "a.xlsx", "One", 0) == r {
		t.Fatal("the first reading is not teed")
	}
	if tee.attach(r, "a.xlsx", "Two", 0) != r {
		t.Fatal("a second reading is teed")
	}
	if p, s, ok := tee.Sheet(); p != "a.xlsx" || s != "One" || !ok {
		t.Fatalf("Sheet() = %q %q %v", p, s, ok)
	}
	big := NewSheetTee(1 << 20)
	if big.attach(r, "a.xlsx", "One", teeMaxSharedStrings+1) != r || !big.Dropped() {
		t.Fatal("a workbook with a large shared strings table is teed")
	}
}
