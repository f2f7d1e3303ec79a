package runstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// bigDamageFixture writes a store whose buckets span branch pages, and
// returns its bytes.
func bigDamageFixture(t *testing.T) []byte { return storeFixture(t, 300, 100) }

// fixturePages returns the ids of the fixture's pages in use with the
// given flags.
func fixturePages(b []byte, flags uint16) []uint64 {
	m := newestMeta(b)
	w := newPageWalk(bytes.NewReader(b), m)
	w.freelist(m.freelist)
	var ids []uint64
	for id := uint64(2); id < m.pgid; id++ {
		p := b[id*uint64(m.pageSize):]
		if !w.freed.has(id) && binary.NativeEndian.Uint64(p) == id && binary.NativeEndian.Uint16(p[8:]) == flags {
			ids = append(ids, id)
		}
	}
	return ids
}

// outcome is what opening, using and checking a damaged store gave.
type outcome struct {
	use, check error
	problems   []string
	panicked   any
}

// tryDamaged opens, uses and checks the store at path on a goroutine of
// its own, and waits for it at most limit: a store that makes a read or
// the check loop fails the test (the goroutine is then left behind).
func tryDamaged(t *testing.T, path string, limit time.Duration) (outcome, bool) {
	t.Helper()
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.panicked = p
			}
			done <- o
		}()
		o.use = useStore(path)
		rep, err := CheckFile(path)
		o.check, o.problems = err, rep.Problems
	}()
	select {
	case o := <-done:
		return o, true
	case <-time.After(limit):
		return outcome{}, false
	}
}

// judge fails the test unless the damaged store was refused as damaged,
// or read and checked with no other error than damage.
func judge(t *testing.T, name string, o outcome) (noticed bool) {
	t.Helper()
	if o.panicked != nil {
		t.Errorf("%s: panic: %v", name, o.panicked)
		return true
	}
	if o.check != nil && !errors.Is(o.check, ErrDamaged) {
		t.Errorf("%s: CheckFile = %v; want nil or an error matching ErrDamaged", name, o.check)
	}
	if o.use != nil && !errors.Is(o.use, ErrDamaged) && !errors.Is(o.use, ErrNotFound) {
		t.Errorf("%s: using the store = %v; want nil or an error matching ErrDamaged", name, o.use)
	}
	return o.check != nil || len(o.problems) > 0 || o.use != nil
}

// Random bits flipped anywhere in a store's pages: every one of 200 files
// is read and checked to the end within a few seconds, refused as damaged
// or found sound, never a panic, a loop or a crash of the process.
func TestDamagedStoreFuzz(t *testing.T) {
	good := bigDamageFixture(t)
	m := newestMeta(good)
	used := int(m.pgid) * int(m.pageSize)
	if o, ok := tryDamaged(t, writeDamaged(t, good), 10*time.Second); !ok || judge(t, "the sound store", o) {
		t.Fatalf("the sound store: %v %v", o.use, o.check)
	}
	const seeds = 200
	noticed := 0
	kinds := map[string]int{}
	var slowest time.Duration
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 15))
		b := bytes.Clone(good)
		for range 1 + rng.IntN(8) {
			i := rng.IntN(used)
			b[i] ^= 1 << rng.IntN(8)
		}
		start := time.Now()
		o, ok := tryDamaged(t, writeDamaged(t, b), 10*time.Second)
		if !ok {
			t.Fatalf("seed %d: still reading after 10s", seed)
		}
		slowest = max(slowest, time.Since(start))
		if judge(t, fmt.Sprintf("seed %d", seed), o) {
			noticed++
		}
		switch {
		case o.check != nil:
			kinds["refused"]++
		case len(o.problems) > 0:
			kinds["check found problems"]++
		case o.use != nil:
			kinds["a read failed"]++
		default:
			kinds["unnoticed"]++
		}
	}
	t.Logf("%d of %d damaged files noticed (%v); slowest %v", noticed, seeds, kinds, slowest)
	if noticed < seeds/2 {
		t.Errorf("only %d of %d damaged files were noticed", noticed, seeds)
	}
}

// A branch page that leads back to itself or to an ancestor is a loop for
// bbolt; it is refused as damaged.
func TestDamagedStoreLoop(t *testing.T) {
	good := bigDamageFixture(t)
	m := newestMeta(good)
	ps := uint64(m.pageSize)
	branches := fixturePages(good, flagBranch)
	if len(branches) == 0 {
		t.Fatal("the fixture has no branch page")
	}
	for _, id := range branches {
		p := good[id*ps:]
		n := int(binary.NativeEndian.Uint16(p[10:]))
		for _, target := range []uint64{id, 3} {
			b := bytes.Clone(good)
			// Every child of the branch leads to target.
			for i := range n {
				binary.NativeEndian.PutUint64(b[id*ps+pageHeaderSize+uint64(i)*elemSize+8:], target)
			}
			name := fmt.Sprintf("branch %d leading to %d", id, target)
			o, ok := tryDamaged(t, writeDamaged(t, b), 10*time.Second)
			if !ok {
				t.Fatalf("%s: still reading after 10s", name)
			}
			if !judge(t, name, o) {
				t.Errorf("%s: not noticed", name)
			}
		}
	}
}

// Damage in the free list is refused, never a panic.
func TestDamagedStoreFreelist(t *testing.T) {
	good := bigDamageFixture(t)
	m := newestMeta(good)
	if m.freelist == noFreelist {
		t.Fatal("the fixture has no free list page")
	}
	at := m.freelist * uint64(m.pageSize)
	for name, damage := range map[string]func(b []byte){
		"count 0xFFFF": func(b []byte) { binary.NativeEndian.PutUint16(b[at+10:], 0xFFFF) },
		"huge count": func(b []byte) {
			binary.NativeEndian.PutUint16(b[at+10:], 0xFFFF)
			binary.NativeEndian.PutUint64(b[at+16:], 1<<40)
		},
		"a page in use freed": func(b []byte) {
			binary.NativeEndian.PutUint16(b[at+10:], 1)
			binary.NativeEndian.PutUint64(b[at+16:], m.root)
		},
		"a page past the end freed": func(b []byte) {
			binary.NativeEndian.PutUint16(b[at+10:], 1)
			binary.NativeEndian.PutUint64(b[at+16:], m.pgid+5)
		},
		"not a free list": func(b []byte) { binary.NativeEndian.PutUint16(b[at+8:], flagLeaf) },
	} {
		b := bytes.Clone(good)
		damage(b)
		o, ok := tryDamaged(t, writeDamaged(t, b), 10*time.Second)
		if !ok {
			t.Fatalf("%s: still reading after 10s", name)
		}
		if !judge(t, name, o) {
			t.Errorf("%s: not noticed", name)
		}
	}
}
