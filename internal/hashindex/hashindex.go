package hashindex

// Table maps keys of type K, with hashes the caller computes, to int32
// indexes. Its zero value is an empty table.
type Table[K comparable] struct {
	slots []Slot[K] // a power of two of them
	n     int       // slots in use
}

// Slot is one place of a Table: a key and its index, or free.
type Slot[K comparable] struct {
	hash  uint64
	key   K
	index int32 // index+1; 0 in a free slot
}

// Index returns the slot's index, and false when the slot is free.
func (s *Slot[K]) Index() (int32, bool) { return s.index - 1, s.index != 0 }

// Find returns the slot holding key (whose hash is h), or the free slot
// where it goes. The slot stays valid for Fill until the next Find.
func (t *Table[K]) Find(h uint64, key K) *Slot[K] {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if s := &t.slots[i]; s.index == 0 || s.hash == h && s.key == key {
			return s
		}
	}
}

// Fill puts key, its hash h and its index in s, the free slot Find returned.
func (t *Table[K]) Fill(s *Slot[K], h uint64, key K, index int32) {
	s.hash, s.key, s.index = h, key, index+1
	t.n++
}

// Len is the number of keys in the table.
func (t *Table[K]) Len() int { return t.n }

func (t *Table[K]) grow() {
	old := t.slots
	t.slots = make([]Slot[K], max(2*len(old), 1024))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.index == 0 {
			continue
		}
		i := s.hash & mask
		for t.slots[i].index != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
