package roster

import (
	"encoding/binary"
	"hash/maphash"
)

// visitorSet remembers the row on which each visitor was first seen in each
// place and window. Visitors and places are known by 64-bit hashes (two
// different visitors in one place taking each other for duplicates would need
// both hashes to collide). Visitors are kept by place and window, and rosters list
// the visitors of one place and window together: the set being added to is
// small and in the CPU's cache, where one table of a million visitors would
// cost a cache miss for every row.
type visitorSet struct {
	seed   maphash.Seed
	places map[uint64]*placeVisitors // by the hash of a placeWindow
	last   *placeVisitors
	lastPW placeWindow
}

// placeWindow is where and when a visit is.
type placeWindow struct {
	cage, cabinet string
	start, end    int64
}

// placeVisitors are the visitors of one place and window: hashes of who
// they are, and the row each was first seen on.
type placeVisitors struct {
	seen  []seenVisitor
	index map[uint64]int32 // once there are more than placeScan
}

type seenVisitor struct {
	who uint64
	row int32
}

// placeScan is how many visitors of one place are searched one by one
// before they are indexed.
const placeScan = 32

// add records visitor who as seen on row at pw. When who was already seen
// there, it returns the first row and true, and changes nothing.
func (s *visitorSet) add(pw placeWindow, who uint64, row int32) (int32, bool) {
	p := s.last
	if p == nil || s.lastPW != pw {
		if s.places == nil {
			s.seed = maphash.MakeSeed()
			s.places = make(map[uint64]*placeVisitors)
		}
		var h maphash.Hash
		h.SetSeed(s.seed)
		h.WriteString(pw.cage)
		h.WriteByte(0)
		h.WriteString(pw.cabinet)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(pw.start))
		binary.LittleEndian.PutUint64(b[8:], uint64(pw.end))
		h.Write(b[:])
		key := h.Sum64()
		p = s.places[key]
		if p == nil {
			p = &placeVisitors{seen: make([]seenVisitor, 0, 8)}
			s.places[key] = p
		}
		s.last, s.lastPW = p, pw
	}
	if p.index != nil {
		if first, ok := p.index[who]; ok {
			return first, true
		}
		p.index[who] = row
		return 0, false
	}
	for _, v := range p.seen {
		if v.who == who {
			return v.row, true
		}
	}
	p.seen = append(p.seen, seenVisitor{who, row})
	if len(p.seen) > placeScan {
		p.index = make(map[uint64]int32, 2*len(p.seen))
		for _, v := range p.seen {
			p.index[v.who] = v.row
		}
		p.seen = nil
	}
	return 0, false
}
