package runstore

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// damageFixture writes a store with a few runs and returns its bytes.
func damageFixture(t *testing.T) []byte { return storeFixture(t, 60, 20) }

// storeFixture writes a store of runs r1, r2 and r3 of n orders each, the
// first placed of them submitted, checks it and returns its bytes.
func storeFixture(t *testing.T, n, placed int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2", "r3"} {
		orders := specs(n, 3)
		for i := range orders {
			orders[i].Key = id + orders[i].Key
			orders[i].Reference = id + orders[i].Reference
			for j := range orders[i].VisitorKeys {
				orders[i].VisitorKeys[j] = sandbox.Key(id + PlainKey(orders[i].VisitorKeys[j]))
			}
		}
		createRun(t, s, id, orders, nil)
		for _, o := range orders[:placed] {
			if _, err := s.MarkSending(id, o.Key); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkSubmitted(id, o.Key, "1-"+o.Reference); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := CheckFile(path); err != nil || !rep.OK() {
		t.Fatalf("the fixture does not check: %v %v", err, rep.Problems)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// useStore opens the store at path and reads and changes everything it
// can, returning the first error. Any panic fails the test.
func useStore(path string) error {
	s, err := Open(path, Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	runs, err := s.Runs()
	keep(err)
	for _, r := range runs {
		orders, err := s.Orders(r.ID)
		keep(err)
		keep(s.Rows(r.ID, func(RowOutcome) error { return nil }))
		for _, o := range orders {
			if o.State == Planned {
				_, err := s.MarkSending(r.ID, o.Key)
				keep(err)
				break
			}
		}
	}
	for _, id := range []string{"r1", "r2", "r3"} {
		_, err := s.Run(id)
		keep(err)
	}
	return first
}

func writeDamaged(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A page of zeros anywhere in the file is an error (or goes unnoticed when
// the page is unused), never a panic.
func TestDamagedStoreZeroedPages(t *testing.T) {
	t.Parallel()
	good := damageFixture(t)
	const page = 4096
	damagedSeen := 0
	for p := 2; p*page < len(good); p++ {
		b := bytes.Clone(good)
		clear(b[p*page : (p+1)*page])
		err := useStore(writeDamaged(t, b))
		if err != nil && !errors.Is(err, ErrDamaged) {
			t.Errorf("page %d zeroed: %v; want an error matching ErrDamaged", p, err)
		}
		if err != nil {
			damagedSeen++
		}
	}
	if damagedSeen == 0 {
		t.Error("no zeroed page was noticed")
	}
	// Both meta pages zeroed: not a store any more.
	b := bytes.Clone(good)
	clear(b[:2*page])
	if err := useStore(writeDamaged(t, b)); !errors.Is(err, ErrDamaged) {
		t.Errorf("meta pages zeroed: %v; want ErrDamaged", err)
	}
}

// Flipped bits in the data pages are errors, never a panic.
func TestDamagedStoreFlippedBits(t *testing.T) {
	t.Parallel()
	good := damageFixture(t)
	rng := rand.New(rand.NewPCG(1, 2))
	noticed := 0
	for range 150 {
		b := bytes.Clone(good)
		for range 1 + rng.IntN(8) {
			i := 2*4096 + rng.IntN(len(b)-2*4096)
			b[i] ^= 1 << rng.IntN(8)
		}
		err := useStore(writeDamaged(t, b))
		if errors.Is(err, ErrDamaged) {
			noticed++
		}
	}
	if noticed == 0 {
		t.Error("no flipped bit was noticed as damage")
	}
}

// An empty, cut-short or unrelated file is refused and left as it was.
func TestDamagedStoreRefusedNotReplaced(t *testing.T) {
	t.Parallel()
	good := damageFixture(t)
	unrelated := bytes.Repeat([]byte("This is not a store, but a text file.\n"), 3000)
	for name, b := range map[string][]byte{
		"empty":          {},
		"cut in half":    good[:len(good)/2],
		"cut to 1 page":  good[:4096],
		"cut mid page":   good[:3*4096+100],
		"unrelated file": unrelated,
		"tiny text":      []byte("hello\n"),
	} {
		path := writeDamaged(t, b)
		_, err := Open(path, Options{})
		var de *DamagedError
		if !errors.As(err, &de) || de.Path != path {
			t.Errorf("%s: Open = %v; want a *DamagedError naming the file", name, err)
		}
		if after, rerr := os.ReadFile(path); rerr != nil || !bytes.Equal(after, b) {
			t.Errorf("%s: the file was changed (%d bytes, was %d)", name, len(after), len(b))
		}
		if _, err := CheckFile(path); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: CheckFile = %v; want ErrDamaged", name, err)
		}
	}
	// A sound store still opens.
	if err := useStore(writeDamaged(t, good)); err != nil {
		t.Errorf("the sound store: %v", err)
	}
}
