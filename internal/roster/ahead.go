package roster

import "io"

// aheadReader inflates a worksheet on its own goroutine, a few blocks ahead
// of the scanner reading it, so that inflating (about a third of reading a
// large sheet) runs beside scanning its rows on another core.
type aheadReader struct {
	rc   io.ReadCloser
	full chan aheadBlock
	free chan []byte
	stop chan struct{}
	done chan struct{}
	blk  []byte // the block being read, returned to free when used up
	cur  []byte // what is left of it
	err  error  // what ended the input after cur
	shut bool
}

type aheadBlock struct {
	b   []byte
	err error
}

const (
	aheadBlockSize = 256 << 10
	aheadBlocks    = 4
)

func newAheadReader(rc io.ReadCloser) *aheadReader {
	a := &aheadReader{rc: rc, full: make(chan aheadBlock, aheadBlocks), free: make(chan []byte, aheadBlocks+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *aheadReader) run() {
	defer close(a.done)
	defer close(a.full)
	made := 0
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		default:
			if made < aheadBlocks+1 {
				b, made = make([]byte, aheadBlockSize), made+1
			} else {
				select {
				case b = <-a.free:
				case <-a.stop:
					return
				}
			}
		}
		n, err := fillBlock(a.rc, b[:cap(b)])
		select {
		case a.full <- aheadBlock{b: b[:n], err: err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// fillBlock reads into b until it is full or the input ends (io.EOF) or
// fails; a reader that keeps giving nothing fails with io.ErrNoProgress.
func fillBlock(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.blk != nil {
			a.free <- a.blk
			a.blk = nil
		}
		blk, ok := <-a.full
		if !ok {
			a.err = io.ErrClosedPipe
			return 0, a.err
		}
		a.blk, a.cur, a.err = blk.b, blk.b, blk.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the inflating goroutine and closes the part; closing again
// does nothing.
func (a *aheadReader) Close() error {
	if a.shut {
		return nil
	}
	a.shut = true
	close(a.stop)
	<-a.done
	return a.rc.Close()
}
