package runstore

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPruneKeepsExactlyOnce prunes a finished run: its bodies are gone and
// its visitor keys hashed, yet AlreadyOrdered still finds every visitor by
// the plain key; after Compact the file holds no visitor key in clear.
func TestPruneKeepsExactlyOnce(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	orders := specs(5, 3)
	createRun(t, s, "r", orders, []RowOutcome{{Row: 100, Status: RowInvalid, Code: "name-invalid", Message: `First Name "visitorX1" has digits`}})
	createRun(t, s, "open", specs(1, 1), nil) // not finished: kept (visitor2, order 0)
	submitAll(t, s, "r", orders, "1")
	if err := s.SetRunState("r", RunDone); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range orders {
		keys = append(keys, o.VisitorKeys...)
	}
	if _, ok, _ := s.HashedVisitorKey(keys[0]); ok {
		t.Fatal("a store never pruned has a salt")
	}
	dry, err := s.Prune(PruneOptions{Before: time.Now().Add(time.Hour), DryRun: true})
	if err != nil || len(dry) != 1 || dry[0].Bodies != 5 || dry[0].Keys != 15 {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	if o := orderOf(t, s, "r", orders[0].Key); len(o.Body) == 0 || !strings.HasPrefix(PlainKey(o.VisitorKeys[0]), "u:") {
		t.Fatal("the dry run changed the store")
	}
	got, err := s.Prune(PruneOptions{Before: time.Now().Add(time.Hour)})
	if err != nil || len(got) != 1 || got[0].RunID != "r" || got[0].Bodies != 5 || got[0].Keys != 15 || got[0].Rows != 1 {
		t.Fatalf("Prune = %+v, %v", got, err)
	}
	o := orderOf(t, s, "r", orders[0].Key)
	if len(o.Body) != 0 || !strings.HasPrefix(PlainKey(o.VisitorKeys[0]), "h:") || !strings.HasSuffix(o.VisitorKeys[0], "|AM1:01:000111|w") {
		t.Errorf("pruned order: body %q, keys %q", o.Body, o.VisitorKeys)
	}
	claims, err := s.AlreadyOrdered(sandbox, keys)
	if err != nil || len(claims) != len(keys) {
		t.Fatalf("AlreadyOrdered after the prune finds %d of %d visitors (%v)", len(claims), len(keys), err)
	}
	if h, ok, _ := s.HashedVisitorKey(keys[0]); !ok || h != o.VisitorKeys[0] {
		t.Errorf("HashedVisitorKey = %q, %v; want %q", h, ok, o.VisitorKeys[0])
	}
	if rep, err := s.Check(); err != nil || !rep.OK() {
		t.Errorf("check after the prune: %v %v", err, rep.Problems)
	}
	if again, err := s.Prune(PruneOptions{Before: time.Now().Add(time.Hour)}); err != nil || len(again) != 0 {
		t.Errorf("second prune = %+v, %v", again, err)
	}
	path := s.Path()
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"visitor3|", "visitor16|", "visitorX1", `{"order":4}`} {
		if i := bytes.Index(b, []byte(v)); i >= 0 {
			t.Errorf("the compacted file still holds %q: %q", v, b[max(0, i-60):min(len(b), i+40)])
		}
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if claims, err := s2.AlreadyOrdered(sandbox, keys); err != nil || len(claims) != len(keys) {
		t.Errorf("after Compact, AlreadyOrdered finds %d of %d (%v)", len(claims), len(keys), err)
	}
	if r, err := s2.Run("open"); err != nil || r.State != RunOpen {
		t.Errorf("the unfinished run: %+v %v", r, err)
	}
}
