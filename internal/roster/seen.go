package roster

import (
	"math/rand/v2"

	"github.com/wvbatch/wvbatch/internal/hashindex"
)

// visitorSet remembers the row on which each visitor was first seen in each
// place and window. Visitors are known by 64-bit hashes (two different
// visitors in one place and window taking each other for duplicates would
// need their hashes to collide); places by the small numbers the Checker
// gives them. Visitors are kept by place and window, and rosters list the
// visitors of one place and window together: the list being added to is
// small and in the CPU's cache, where one table of a million visitors would
// cost a cache miss for every row. Nothing in it holds a pointer, so the
// garbage collector has nothing to scan in it however large it grows.
type visitorSet struct {
	windows hashindex.Table[placeWindow] // place and window → index in lists
	seed    uint64
	lists   slab[visitorList]
	chunks  slab[seenChunk]
	many    map[listVisitor]int32 // the visitors of lists longer than placeScan
	last    int32                 // index of the list added to last
	lastPW  placeWindow
}

// placeWindow is where and when a visit is: a place number, and the
// window's Unix seconds.
type placeWindow struct {
	start, end int64
	place      int32
}

// visitorList is the visitors of one place and window: a chain of chunks,
// or once there are more than placeScan of them, entries in many.
type visitorList struct {
	head, tail int32 // chunk indexes
	n          int32
}

// seenChunk holds up to chunkLen visitors of one list.
type seenChunk struct {
	who  [chunkLen]uint64
	row  [chunkLen]int32
	n    int32
	next int32 // the next chunk of the list, or -1
}

const chunkLen = 8

type listVisitor struct {
	list int32
	who  uint64
}

// placeScan is how many visitors of one place and window are searched one
// by one before they are indexed.
const placeScan = 32

// add records visitor who as seen on row at pw. When who was already seen
// there, it returns the first row and true, and changes nothing.
func (s *visitorSet) add(pw placeWindow, who uint64, row int32) (int32, bool) {
	li := s.last
	if s.lists.blocks == nil || pw != s.lastPW {
		h := s.hash(pw)
		slot := s.windows.Find(h, pw)
		var ok bool
		if li, ok = slot.Index(); !ok {
			ci, c := s.chunks.add()
			c.next = -1
			var l *visitorList
			li, l = s.lists.add()
			l.head, l.tail = ci, ci
			s.windows.Fill(slot, h, pw, li)
		}
		s.last, s.lastPW = li, pw
	}
	l := s.lists.at(li)
	if l.n > placeScan {
		k := listVisitor{li, who}
		if first, ok := s.many[k]; ok {
			return first, true
		}
		s.many[k] = row
		l.n++
		return 0, false
	}
	for ci := l.head; ci >= 0; {
		c := s.chunks.at(ci)
		for i, w := range c.who[:c.n] {
			if w == who {
				return c.row[i], true
			}
		}
		ci = c.next
	}
	l.n++
	if l.n > placeScan {
		// Index the list's visitors; its chunks are no longer needed.
		if s.many == nil {
			s.many = make(map[listVisitor]int32)
		}
		for ci := l.head; ci >= 0; {
			c := s.chunks.at(ci)
			for i, w := range c.who[:c.n] {
				s.many[listVisitor{li, w}] = c.row[i]
			}
			ci = c.next
		}
		s.many[listVisitor{li, who}] = row
		return 0, false
	}
	c := s.chunks.at(l.tail)
	if c.n == chunkLen {
		ni, nc := s.chunks.add()
		nc.next = -1
		c.next, l.tail, c = ni, ni, nc
	}
	c.who[c.n], c.row[c.n] = who, row
	c.n++
	return 0, false
}

// hash is pw's hash under the set's seed.
func (s *visitorSet) hash(pw placeWindow) uint64 {
	if s.seed == 0 {
		s.seed = rand.Uint64() | 1
	}
	h := s.seed ^ uint64(pw.start)*0x9e3779b97f4a7c15 ^ uint64(pw.end)*0xc2b2ae3d27d4eb4f ^ uint64(pw.place)*0x165667b19e3779f9
	h ^= h >> 32
	h *= 0xd6e8feb86659fd93
	h ^= h >> 32
	return h
}

// slab is an array that only grows, in blocks, so that growing it never
// copies what it holds.
type slab[T any] struct {
	blocks [][]T
}

const slabBits = 10 // 1,024 elements a block

// add appends a zero element and returns its index and address.
func (s *slab[T]) add() (int32, *T) {
	n := len(s.blocks)
	if n == 0 || len(s.blocks[n-1]) == cap(s.blocks[n-1]) {
		s.blocks = append(s.blocks, make([]T, 0, 1<<slabBits))
		n++
	}
	b := &s.blocks[n-1]
	*b = (*b)[:len(*b)+1]
	return int32((n-1)<<slabBits | (len(*b) - 1)), &(*b)[len(*b)-1]
}

// at returns the address of element i.
func (s *slab[T]) at(i int32) *T {
	return &s.blocks[i>>slabBits][i&(1<<slabBits-1)]
}
