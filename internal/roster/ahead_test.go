package roster

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// The read-ahead gives exactly the part's bytes, in reads of any size, at
// every length around its block size.
func TestAheadReaderGivesThePart(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 100, aheadBlockSize - 1, aheadBlockSize, aheadBlockSize + 1, 3*aheadBlockSize + 7, 11 * aheadBlockSize} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for _, wrap := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r },
			iotest.OneByteReader, iotest.HalfReader, iotest.DataErrReader,
		} {
			src := &closeCounter{Reader: wrap(bytes.NewReader(data))}
			a := newAheadReader(src)
			got, err := io.ReadAll(iotest.HalfReader(a))
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: read %d bytes, not the same", n, len(got))
			}
			if err := a.Close(); err != nil || a.Close() != nil || src.closed != 1 {
				t.Fatalf("%d bytes: Close: %v, part closed %d times", n, err, src.closed)
			}
		}
	}
}

// An error while inflating (a damaged part) comes after the bytes read
// before it, and again on every later read.
func TestAheadReaderGivesTheError(t *testing.T) {
	damaged := errors.New("flate: corrupt input")
	data := bytes.Repeat([]byte("<row/>"), aheadBlockSize/3)
	src := &closeCounter{Reader: io.MultiReader(bytes.NewReader(data), iotest.ErrReader(damaged))}
	a := newAheadReader(src)
	got, err := io.ReadAll(a)
	if !errors.Is(err, damaged) || !bytes.Equal(got, data) {
		t.Fatalf("read %d of %d bytes, error %v; want all of them, then %v", len(got), len(data), err, damaged)
	}
	if _, err := a.Read(make([]byte, 10)); !errors.Is(err, damaged) {
		t.Fatalf("a later read: %v", err)
	}
	a.Close()
}

// Closing before the end stops the goroutine, which may be waiting for a
// free block, and closes the part once.
func TestAheadReaderClosedEarly(t *testing.T) {
	for _, read := range []int{0, 1, aheadBlockSize + 5} {
		src := &closeCounter{Reader: bytes.NewReader(make([]byte, 20*aheadBlockSize))}
		a := newAheadReader(src)
		if _, err := io.ReadFull(a, make([]byte, read)); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-a.done:
		default:
			t.Fatal("the goroutine still runs after Close")
		}
		if src.closed != 1 {
			t.Fatalf("part closed %d times", src.closed)
		}
	}
}

type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

// A part that keeps giving nothing fails rather than hanging the reader.
func TestAheadReaderStuckPart(t *testing.T) {
	a := newAheadReader(&closeCounter{Reader: io.MultiReader(bytes.NewReader([]byte("<row/>")), stuckReader{})})
	got, err := io.ReadAll(a)
	if !errors.Is(err, io.ErrNoProgress) || string(got) != "<row/>" {
		t.Fatalf("read %q, %v; want <row/>, then %v", got, err, io.ErrNoProgress)
	}
	a.Close()
}
