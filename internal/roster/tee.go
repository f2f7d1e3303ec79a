package roster

import (
	"errors"
	"io"
	"sync"
)

// A SheetTee gives a second reader the roster sheet's XML as Open's reader
// inflates and reads it, so that a copy of the sheet (the report's) is made
// in the same reading instead of inflating the sheet a second time.
//
// The reader may fall behind the roster's reader by a bound of bytes: past
// it the roster's reader waits for it, unless the second reader is itself
// waiting for the roster's reader to get further (see Stalled). Then the
// roster's reader goes on, and past four times the bound, as when Drop is
// called, the tee gives up and the second reader gets ErrTeeDropped. The
// roster's reader never waits otherwise, so reading the roster cannot hang
// on the copy, and the copy holds at most four times the bound.
type SheetTee struct {
	mu    sync.Mutex
	cond  sync.Cond
	limit int

	attached bool
	sheet    string
	path     string

	q      [][]byte // filled blocks, in order
	queued int      // bytes in q
	cur    []byte   // the block being filled
	head   []byte   // what the reader has left of the block it took
	taken  []byte   // that block, to reuse
	free   [][]byte

	wdone   bool
	werr    error // what ended the writing side
	dropped bool
	stalled int // readers waiting on the roster's reader
}

// ErrTeeDropped is what the tee's reader reads once the tee gave up.
var ErrTeeDropped = errors.New("the sheet's copy fell behind its reading and was given up")

// errTeeStopped is what the tee's reader reads when the roster's reader
// stopped before the end of the sheet's part.
var errTeeStopped = errors.New("the roster's reading stopped before the end of the sheet")

const (
	teeBlockSize  = 64 << 10
	teeHardFactor = 4
	// teeMaxSharedStrings is the largest shared strings part (unpacked)
	// with which a tee is attached: the copy holds its own table of them.
	teeMaxSharedStrings = 16 << 20
)

// NewSheetTee makes a tee that lets its reader fall behind by at most limit
// bytes.
func NewSheetTee(limit int) *SheetTee {
	t := &SheetTee{limit: max(limit, 2*teeBlockSize)}
	t.cond.L = &t.mu
	return t
}

// attach makes the tee the copy of the sheet rc reads, when it is the
// tee's first sheet; it returns what the roster's reader reads instead of
// rc. A second reading (of the same roster again) is not teed.
func (t *SheetTee) attach(rc io.ReadCloser, path, sheet string, sstSize uint64) io.ReadCloser {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.attached {
		return rc
	}
	t.attached, t.path, t.sheet = true, path, sheet
	if sstSize > teeMaxSharedStrings {
		t.dropLocked()
		return rc
	}
	return &teeWriter{rc: rc, t: t}
}

// Sheet returns the roster's path and the name of the sheet the tee copies,
// once Open has attached it; ok is false before.
func (t *SheetTee) Sheet() (path, sheet string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.path, t.sheet, t.attached && !t.dropped
}

// Drop gives the tee up: its reader reads ErrTeeDropped and the roster's
// reader stops copying.
func (t *SheetTee) Drop() {
	t.mu.Lock()
	t.dropLocked()
	t.mu.Unlock()
}

func (t *SheetTee) dropLocked() {
	t.dropped = true
	t.q, t.queued, t.cur, t.head, t.taken, t.free = nil, 0, nil, nil, nil, nil
	t.cond.Broadcast()
}

// Dropped reports whether the tee was given up.
func (t *SheetTee) Dropped() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Stalled says that a reader of the tee starts (on) or stops (off) waiting
// for the roster's reader to get further (for a row's checks): while one
// does, the roster's reader does not wait for the tee's, and gives the tee
// up rather than go past its bound.
func (t *SheetTee) Stalled(on bool) {
	t.mu.Lock()
	if on {
		t.stalled++
	} else {
		t.stalled--
	}
	t.cond.Broadcast()
	t.mu.Unlock()
}

// write copies p for the tee's reader.
func (t *SheetTee) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(p) > 0 && !t.dropped {
		if t.cur == nil {
			if n := len(t.free); n > 0 {
				t.cur, t.free = t.free[n-1][:0], t.free[:n-1]
			} else {
				t.cur = make([]byte, 0, teeBlockSize)
			}
		}
		n := copy(t.cur[len(t.cur):cap(t.cur)], p)
		t.cur, p = t.cur[:len(t.cur)+n], p[n:]
		if len(t.cur) == cap(t.cur) {
			t.q = append(t.q, t.cur)
			t.queued += len(t.cur)
			t.cur = nil
			t.cond.Broadcast()
		}
		for t.queued >= t.limit && !t.dropped {
			if t.stalled > 0 {
				// The reader waits for rows this reader is reading: go
				// on, up to four times the bound.
				if t.queued >= teeHardFactor*t.limit {
					t.dropLocked()
					return
				}
				break
			}
			t.cond.Wait()
		}
	}
}

// closeWrite ends the writing side: err is io.EOF at the end of the part.
func (t *SheetTee) closeWrite(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wdone {
		return
	}
	if len(t.cur) > 0 {
		t.q = append(t.q, t.cur)
		t.queued += len(t.cur)
		t.cur = nil
	}
	t.wdone, t.werr = true, err
	t.cond.Broadcast()
}

// Reader returns the tee's reader. Only one may be used.
func (t *SheetTee) Reader() io.ReadCloser { return teeReader{t} }

type teeReader struct{ t *SheetTee }

func (r teeReader) Read(p []byte) (int, error) {
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		switch {
		case t.dropped:
			return 0, ErrTeeDropped
		case len(t.head) > 0:
			n := copy(p, t.head)
			t.head = t.head[n:]
			return n, nil
		case len(t.q) > 0:
			if t.taken != nil {
				t.free = append(t.free, t.taken)
			}
			t.taken, t.head = t.q[0], t.q[0]
			t.q[0] = nil
			t.q = t.q[1:]
			t.queued -= len(t.taken)
			t.cond.Broadcast()
		case len(t.cur) > 0:
			// Take the block being filled rather than wait for it.
			if t.taken != nil {
				t.free = append(t.free, t.taken)
			}
			t.taken, t.head, t.cur = t.cur, t.cur, nil
		case t.wdone:
			return 0, t.werr
		default:
			t.cond.Wait()
		}
	}
}

func (r teeReader) Close() error {
	r.t.Drop()
	return nil
}

// teeWriter is the roster reader's side: what it reads is copied.
type teeWriter struct {
	rc io.ReadCloser
	t  *SheetTee
}

func (w *teeWriter) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	if n > 0 {
		w.t.write(p[:n])
	}
	if err != nil {
		// At the end (io.EOF) or on an error, the copy ends as the reading
		// does.
		w.t.closeWrite(err)
	}
	return n, err
}

func (w *teeWriter) Close() error {
	w.t.closeWrite(errTeeStopped)
	return w.rc.Close()
}
