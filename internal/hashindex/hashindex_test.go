package hashindex

import (
	"math/rand/v2"
	"testing"
)

// TestTable fills a table past several growths, with colliding hashes, and
// finds every key again against a map.
func TestTable(t *testing.T) {
	t.Parallel()
	type key struct{ a, b int32 }
	var tab Table[key]
	want := map[key]int32{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range int32(20000) {
		k := key{r.Int32N(5000), r.Int32N(7)}
		h := uint64(k.a % 64) // many keys share a hash
		s := tab.Find(h, k)
		got, ok := s.Index()
		if w, seen := want[k]; seen != ok || seen && got != w {
			t.Fatalf("Find(%v) = %d, %v; want %d, %v", k, got, ok, w, seen)
		}
		if !ok {
			tab.Fill(s, h, k, i)
			want[k] = i
		}
	}
	if tab.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", tab.Len(), len(want))
	}
	for k, w := range want {
		if got, ok := tab.Find(uint64(k.a%64), k).Index(); !ok || got != w {
			t.Errorf("after growing: Find(%v) = %d, %v; want %d", k, got, ok, w)
		}
	}
	if _, ok := tab.Find(3, key{-1, -1}).Index(); ok {
		t.Error("a key never added was found")
	}
}
