package runstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A page walk of the store file, done by reading the file rather than
// through bbolt: bbolt trusts the pages it reads, so a damaged file can
// make it follow a branch back to its own ancestor (a loop, or a recursion
// that ends in a fatal stack overflow no recover catches), read past the
// end of its mapping (a fault), or panic in a goroutine of its own (its
// Check). walkPages visits every page at most once (a page reached twice
// is damage and is not followed again), so it ends after reading the file
// once, whatever the file holds; and once it finds the pages sound, bbolt
// only ever follows a finite tree of pages that lie within the file.

// Page layout, as bbolt writes it (go.etcd.io/bbolt, internal/common).
const (
	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10

	leafBucket   = 0x01 // a leaf element that is a bucket
	elemSize     = 16   // branch and leaf elements alike
	inBucketSize = 16   // root page id, sequence
	noFreelist   = ^uint64(0)
	// maxDepth bounds how deep buckets nest and trees grow: the store's
	// nest 3 deep, and a B+tree of 16-byte elements on 4 KiB pages is
	// under 10 levels for any file.
	maxDepth = 64
)

// maxPageProblems bounds the problems a walk lists.
const maxPageProblems = 20

// pageWalk is one walk over a store file.
type pageWalk struct {
	r        io.ReaderAt
	pageSize int64
	hwm      uint64  // pages in use: ids below it
	seen     pageSet // pages reached
	freed    pageSet // pages on the free list
	problems []string

	// spare are page buffers to reuse, once their page was walked.
	spare [][]byte
	// record, when set, is given every key and value of the leaf pages
	// walked, in key order (the value of a nested bucket is nil), and the
	// walk does not go into nested buckets.
	record func(k, v []byte)
}

// newPageWalk is a walk over the file r from meta record m.
func newPageWalk(r io.ReaderAt, m *meta) *pageWalk {
	w := &pageWalk{r: r, pageSize: int64(m.pageSize), hwm: m.pgid,
		seen: newPageSet(m.pgid), freed: newPageSet(m.pgid)}
	w.seen.add(0)
	w.seen.add(1)
	return w
}

// pageSet is a set of page ids below the walk's hwm.
type pageSet []uint64

func newPageSet(n uint64) pageSet    { return make(pageSet, (n+63)/64) }
func (s pageSet) has(id uint64) bool { return id/64 < uint64(len(s)) && s[id/64]&(1<<(id%64)) != 0 }
func (s pageSet) add(id uint64)      { s[id/64] |= 1 << (id % 64) }

// readAt fills p from the file at off.
func (w *pageWalk) readAt(p []byte, off int64) error {
	_, err := w.r.ReadAt(p, off)
	return err
}

// release hands back a page buffer page returned, once walked.
func (w *pageWalk) release(p []byte) {
	if p != nil && len(w.spare) < maxDepth {
		w.spare = append(w.spare, p)
	}
}

// buffer returns a page buffer of n bytes.
func (w *pageWalk) buffer(n int64) []byte {
	if k := len(w.spare); k > 0 {
		b := w.spare[k-1]
		w.spare = w.spare[:k-1]
		if int64(cap(b)) >= n {
			return b[:n]
		}
	}
	return make([]byte, n)
}

func (w *pageWalk) add(format string, args ...any) {
	if len(w.problems) < maxPageProblems {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

// walkPages walks the pages of the store file at path from the newest
// sound meta page bbolt would use, and returns what is wrong with them
// (nothing when they are sound). Open it only while holding the store's
// lock or with nothing writing to it: a commit under way changes pages.
func walkPages(path string) (problems []string, txid uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	head := make([]byte, 64<<10)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, 0, err
	}
	m := newestMeta(head[:n])
	if m == nil {
		return []string{"it is not a wvbatch store, or its header is damaged"}, 0, nil
	}
	if size := fi.Size(); int64(m.pgid) > size/int64(m.pageSize) || m.pgid < 2 {
		return []string{fmt.Sprintf("the file is cut short: %d bytes of %d", size, int64(m.pgid)*int64(m.pageSize))}, 0, nil
	}
	w := newPageWalk(f, m)
	w.freelist(m.freelist)
	if m.root == 0 {
		w.add("the root bucket has no page")
	} else {
		w.tree(m.root, 0)
	}
	return w.problems, m.txid, nil
}

// newestMeta returns the meta record bbolt opens the file with: the one of
// the two with the higher transaction id that is sound, else the other.
func newestMeta(head []byte) *meta {
	a := readMeta(head, 0)
	if a == nil {
		return readMeta(head, os.Getpagesize())
	}
	b := readMeta(head, int(a.pageSize))
	if b != nil && b.txid > a.txid {
		return b
	}
	return a
}

// page reads page id with its overflow pages, or returns nil after noting
// why it cannot be. The caller releases the page once walked.
func (w *pageWalk) page(id uint64, want string) []byte {
	if id < 2 || id >= w.hwm {
		w.add("page %d (%s): out of range [2, %d)", id, want, w.hwm)
		return nil
	}
	buf := w.buffer(w.pageSize)
	if err := w.readAt(buf, int64(id)*w.pageSize); err != nil {
		w.add("page %d (%s): %v", id, want, err)
		w.release(buf)
		return nil
	}
	e := binary.NativeEndian
	if got := e.Uint64(buf[0:]); got != id {
		w.add("page %d (%s): it says it is page %d", id, want, got)
		w.release(buf)
		return nil
	}
	over := uint64(e.Uint32(buf[12:]))
	if over >= w.hwm-id {
		w.add("page %d (%s): %d overflow pages run past the end", id, want, over)
		w.release(buf)
		return nil
	}
	for i := id; i <= id+over; i++ {
		if w.seen.has(i) {
			w.add("page %d (%s): reached twice", i, want)
			w.release(buf)
			return nil
		}
	}
	for i := id; i <= id+over; i++ {
		w.seen.add(i)
	}
	if over == 0 {
		return buf
	}
	whole := make([]byte, int64(over+1)*w.pageSize)
	copy(whole, buf)
	w.release(buf)
	if err := w.readAt(whole[w.pageSize:], int64(id+1)*w.pageSize); err != nil {
		w.add("page %d (%s): %v", id, want, err)
		return nil
	}
	return whole
}

// freelist reads the free page list.
func (w *pageWalk) freelist(id uint64) {
	if id == noFreelist {
		return
	}
	p := w.page(id, "free list")
	if p == nil {
		return
	}
	defer w.release(p)
	e := binary.NativeEndian
	if flags := e.Uint16(p[8:]); flags != flagFreelist {
		w.add("page %d: a free list page with flags %#x", id, flags)
		return
	}
	ids := p[pageHeaderSize:]
	count := uint64(e.Uint16(p[10:]))
	if count == 0xFFFF {
		if len(ids) < 8 {
			w.add("page %d: free list cut short", id)
			return
		}
		count, ids = e.Uint64(ids), ids[8:]
	}
	if count > uint64(len(ids)/8) {
		w.add("page %d: a free list of %d pages does not fit its %d bytes", id, count, len(p))
		return
	}
	for i := range count {
		fid := e.Uint64(ids[i*8:])
		switch {
		case fid < 2 || fid >= w.hwm:
			w.add("page %d: free page %d out of range [2, %d)", id, fid, w.hwm)
			return
		case w.freed.has(fid):
			w.add("page %d: page %d freed twice", id, fid)
			return
		}
		w.freed.add(fid)
	}
}

// tree walks the B+tree whose root is page id.
func (w *pageWalk) tree(id uint64, depth int) {
	if depth > maxDepth {
		w.add("page %d: nested %d deep", id, depth)
		return
	}
	p := w.page(id, "tree")
	if p == nil {
		return
	}
	if w.freed.has(id) {
		w.add("page %d: in use and free", id)
		w.release(p)
		return
	}
	e := binary.NativeEndian
	switch flags := e.Uint16(p[8:]); flags {
	case flagBranch:
		children, ok := w.branch(id, p)
		w.release(p)
		if !ok {
			return
		}
		for _, c := range children {
			if len(w.problems) > 0 {
				return
			}
			w.tree(c, depth+1)
		}
	case flagLeaf:
		w.leaf(id, p, depth)
		w.release(p)
	default:
		w.add("page %d: flags %#x where a branch or leaf page belongs", id, flags)
		w.release(p)
	}
}

// elements returns the count and checks that the elements fit the page.
func (w *pageWalk) elements(id uint64, p []byte) (int, bool) {
	n := int(binary.NativeEndian.Uint16(p[10:]))
	if pageHeaderSize+n*elemSize > len(p) {
		w.add("page %d: %d elements do not fit", id, n)
		return 0, false
	}
	return n, true
}

// span returns p[off:off+size], or false when it is not within p.
func span(p []byte, off, size uint64) ([]byte, bool) {
	if off > uint64(len(p)) || size > uint64(len(p))-off {
		return nil, false
	}
	return p[off : off+size], true
}

// branch reads a branch page's children, in order.
func (w *pageWalk) branch(id uint64, p []byte) ([]uint64, bool) {
	n, ok := w.elements(id, p)
	if !ok {
		return nil, false
	}
	if n == 0 {
		w.add("page %d: a branch page with no elements", id)
		return nil, false
	}
	e := binary.NativeEndian
	var prev []byte
	children := make([]uint64, n)
	for i := range n {
		at := uint64(pageHeaderSize + i*elemSize)
		pos, ksize := uint64(e.Uint32(p[at:])), uint64(e.Uint32(p[at+4:]))
		k, ok := span(p, at+pos, ksize)
		if !ok {
			w.add("page %d: key %d lies outside the page", id, i)
			return nil, false
		}
		if i > 0 && bytes.Compare(prev, k) >= 0 {
			w.add("page %d: keys out of order at %d", id, i)
			return nil, false
		}
		prev, children[i] = k, e.Uint64(p[at+8:])
	}
	return children, true
}

// leaf checks a leaf page's elements and walks the buckets it holds.
func (w *pageWalk) leaf(id uint64, p []byte, depth int) {
	n, ok := w.elements(id, p)
	if !ok {
		return
	}
	e := binary.NativeEndian
	var prev []byte
	for i := range n {
		at := uint64(pageHeaderSize + i*elemSize)
		flags := e.Uint32(p[at:])
		pos, ksize, vsize := uint64(e.Uint32(p[at+4:])), uint64(e.Uint32(p[at+8:])), uint64(e.Uint32(p[at+12:]))
		kv, ok := span(p, at+pos, ksize+vsize)
		if !ok {
			w.add("page %d: element %d lies outside the page", id, i)
			return
		}
		k, v := kv[:ksize], kv[ksize:]
		if i > 0 && bytes.Compare(prev, k) >= 0 {
			w.add("page %d: keys out of order at %d", id, i)
			return
		}
		prev = k
		switch {
		case flags != 0 && flags != leafBucket:
			w.add("page %d: element %d has flags %#x", id, i, flags)
		case w.record != nil:
			if flags == leafBucket {
				v = nil
			}
			w.record(k, v)
		case flags == leafBucket:
			w.bucket(id, v, depth+1)
		}
		if len(w.problems) > 0 {
			return
		}
	}
}

// bucket walks the bucket whose record is v, found on page id.
func (w *pageWalk) bucket(id uint64, v []byte, depth int) {
	if len(v) < inBucketSize {
		w.add("page %d: a bucket record of %d bytes", id, len(v))
		return
	}
	if depth > maxDepth {
		w.add("page %d: buckets nested %d deep", id, depth)
		return
	}
	root := binary.NativeEndian.Uint64(v)
	if root != 0 {
		w.tree(root, depth)
		return
	}
	// An inline bucket: its one leaf page follows the record.
	p := v[inBucketSize:]
	if len(p) < pageHeaderSize {
		w.add("page %d: an inline bucket of %d bytes", id, len(v))
		return
	}
	if flags := binary.NativeEndian.Uint16(p[8:]); flags != flagLeaf {
		w.add("page %d: an inline bucket with flags %#x", id, flags)
		return
	}
	if binary.NativeEndian.Uint16(p[10:]) == 0 {
		return // an empty bucket
	}
	w.leaf(id, p, depth)
}

// verifyPages walks the pages of the store file at path, holding a shared
// lock on it for the walk (waiting up to timeout for a process that has
// it open; then bolterrors.ErrTimeout), and returns the transaction id of
// the state it found sound, or a *DamagedError. A missing file is sound
// (a new store). This comes before bbolt opens the file: bbolt reads the
// free list as it opens it, and a damaged one can make it allocate without
// bound.
func verifyPages(path string, timeout time.Duration) (txid uint64, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, nil // bbolt says why it cannot open it
	}
	defer f.Close()
	unlock, err := lockShared(f, timeout)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return verifyOpen(path)
}

// verifyOpen walks the pages of a store file nothing writes to (this
// process holds its lock, or verifyPages does) and returns the
// transaction id of the state it found sound, or a *DamagedError.
func verifyOpen(path string) (uint64, error) {
	problems, txid, err := walkPages(path)
	if err != nil {
		return 0, &DamagedError{Path: path, Detail: err.Error()}
	}
	if len(problems) > 0 {
		return 0, &DamagedError{Path: path, Detail: problems[0]}
	}
	return txid, nil
}

// reverify walks the pages again when the state bbolt opened is not the
// one verifyPages walked (a commit came in between).
func reverify(path string, db *bolt.DB, walked uint64) error {
	var now uint64
	if err := db.View(func(tx *bolt.Tx) error { now = uint64(tx.ID()); return nil }); err != nil {
		return err
	}
	if now == walked {
		return nil
	}
	_, err := verifyOpen(path)
	return err
}
