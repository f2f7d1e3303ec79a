package roster

// visitorSet remembers the row on which each visitor was first seen in each
// place and window. Visitors are kept by place and window, and rosters list
// the visitors of one place and window together: the set being added to is
// small and in the CPU's cache, where one table of a million visitors would
// cost a cache miss for every row.
type visitorSet struct {
	places map[placeWindow]*placeVisitors
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
	who   []uint64
	rows  []int32
	index map[uint64]int32 // once there are more than placeScan
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
			s.places = make(map[placeWindow]*placeVisitors)
		}
		p = s.places[pw]
		if p == nil {
			p = &placeVisitors{}
			s.places[pw] = p
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
	for i, w := range p.who {
		if w == who {
			return p.rows[i], true
		}
	}
	p.who = append(p.who, who)
	p.rows = append(p.rows, row)
	if len(p.who) > placeScan {
		p.index = make(map[uint64]int32, 2*len(p.who))
		for i, w := range p.who {
			p.index[w] = p.rows[i]
		}
		p.who, p.rows = nil, nil
	}
	return 0, false
}
