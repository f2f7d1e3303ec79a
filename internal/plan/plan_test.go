package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

var t0 = time.Date(2027, 1, 11, 7, 0, 0, 0, time.UTC)

func visitors(n int, cage string, start, end time.Time, firstRow int) []roster.Visitor {
	vs := make([]roster.Visitor, n)
	for i := range vs {
		vs[i] = roster.Visitor{Row: firstRow + i, IBX: cage[:3], Cage: cage, Account: "100001", Start: start, End: end,
			Zone: "Europe/Amsterdam", FirstName: fmt.Sprintf("V%d", i), LastName: "X", Company: "C"}
	}
	return vs
}

func TestPlanSplitsAndChunks(t *testing.T) {
	t.Parallel()
	threeWeeks := t0.Add(18*24*time.Hour + 10*time.Hour)
	var all []roster.Visitor
	all = append(all, visitors(70, "AM1:01:000111", t0, threeWeeks, 2)...)
	all = append(all, visitors(20, "AM1:01:000112", t0, t0.Add(34*time.Hour), 72)...)
	// interleave a second group's row to check first-seen order
	p := New(Config{RunID: "r1", ReferencePrefix: "UPS Q1"})
	for i := range all {
		p.Add(&all[i])
	}
	orders, sum := p.Orders()
	if sum.Orders != 5 || sum.Visitors != 90 || sum.SplitWindows != 1 {
		t.Fatalf("summary %+v, want 5 orders, 90 visitors, 1 split", sum)
	}
	type shape struct {
		cage       string
		start, end time.Time
		n, first   int
	}
	mid := t0.Add(MaxWindow)
	want := []shape{
		{"AM1:01:000111", t0, mid, 50, 2},
		{"AM1:01:000111", t0, mid, 20, 52},
		{"AM1:01:000111", mid, threeWeeks, 50, 2},
		{"AM1:01:000111", mid, threeWeeks, 20, 52},
		{"AM1:01:000112", t0, t0.Add(34 * time.Hour), 20, 72},
	}
	refs := map[string]bool{}
	for i, o := range orders {
		w := want[i]
		if o.Cage != w.cage || !o.Start.Equal(w.start) || !o.End.Equal(w.end) || o.Count != w.n || len(o.Visitors) != w.n || o.Visitors[0].Row != w.first {
			t.Errorf("order %d: %s %v-%v %d visitors from row %d; want %+v", i, o.Cage, o.Start, o.End, o.Count, o.Visitors[0].Row, w)
		}
		if o.End.Sub(o.Start) > MaxWindow || o.Count > MaxVisitors {
			t.Errorf("order %d breaks a limit", i)
		}
		if len(o.Reference) > MaxReference || refs[o.Reference] {
			t.Errorf("reference %q too long or repeated", o.Reference)
		}
		refs[o.Reference] = true
	}

	// Deterministic: the same input gives the same keys and references.
	p2 := New(Config{RunID: "r1", ReferencePrefix: "UPS Q1", CountOnly: true})
	for i := range all {
		p2.Add(&all[i])
	}
	again, _ := p2.Orders()
	for i := range orders {
		if again[i].Key != orders[i].Key || again[i].Reference != orders[i].Reference || again[i].Count != orders[i].Count {
			t.Errorf("order %d differs between runs: %s/%s vs %s/%s", i, orders[i].Key, orders[i].Reference, again[i].Key, again[i].Reference)
		}
		if again[i].Visitors != nil {
			t.Error("CountOnly kept visitors")
		}
	}
	// Another run id gives other references.
	p3 := New(Config{RunID: "r2", ReferencePrefix: "UPS Q1"})
	for i := range all {
		p3.Add(&all[i])
	}
	other, _ := p3.Orders()
	if other[0].Reference == orders[0].Reference {
		t.Error("two runs share a reference")
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int
	}{{time.Hour, 1}, {MaxWindow, 1}, {MaxWindow + time.Second, 2}, {3 * MaxWindow, 3}, {3*MaxWindow + 1, 4}}
	for _, tt := range tests {
		ws := Split(t0, t0.Add(tt.d), nil)
		if len(ws) != tt.want {
			t.Errorf("Split(%v) = %d windows, want %d", tt.d, len(ws), tt.want)
		}
		if !ws[0][0].Equal(t0) || !ws[len(ws)-1][1].Equal(t0.Add(tt.d)) {
			t.Errorf("Split(%v) does not cover the window", tt.d)
		}
		for i := 1; i < len(ws); i++ {
			if !ws[i][0].Equal(ws[i-1][1]) {
				t.Errorf("Split(%v): gap between windows", tt.d)
			}
		}
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	r := Reference(cleanPrefix("Quarterly UPS maintenance!"), "rabc", "k")
	if len(r) > MaxReference || r[:12] != "Quarterly-UP" {
		t.Errorf("Reference = %q", r)
	}
	if Reference("", "rabc", "k") == Reference("", "rabc", "k2") {
		t.Error("two keys share a reference")
	}
}

// TestKeysAndReferencesAreStable pins keys and references: orders already
// placed are found again by them, so they must not change between versions.
func TestKeysAndReferencesAreStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key              groupKey
		window, part     int
		wantKey, wantRef string
	}{
		{groupKey{ibx: "AM1", cage: "AM1:01:000111", account: "100001", start: 1799650800, end: 1801242000}, 0, 0,
			"AM1:01:000111//100001/1799650800-1801242000/false/w0/p0", "UPS-Q1-FXOPPRLS-XRVZBEYE"},
		{groupKey{ibx: "DC2", cage: "DC2:01:123456", cabinet: "DC2:01:123456:0102", start: -5, end: 7, openCabinet: true}, 3, 12,
			"DC2:01:123456/DC2:01:123456:0102//-5-7/true/w3/p12", ""},
	}
	for _, tt := range tests {
		k := tt.key
		got := orderKey(&k, tt.window, tt.part)
		old := fmt.Sprintf("%s/%s/%s/%d-%d/%t/w%d/p%d", k.cage, k.cabinet, k.account, k.start, k.end, k.openCabinet, tt.window, tt.part)
		if got != tt.wantKey || got != old {
			t.Errorf("orderKey = %q, want %q", got, tt.wantKey)
		}
		if tt.wantRef != "" {
			if ref := Reference("UPS-Q1", "rcd00040fc89ee45", got); ref != tt.wantRef {
				t.Errorf("Reference = %q, want %q", ref, tt.wantRef)
			}
		}
	}
}

func TestReferenceLength(t *testing.T) {
	t.Parallel()
	p := New(Config{RunID: "r" + strings.Repeat("f", 15), ReferencePrefix: strings.Repeat("Long prefix ", 9)})
	vs := visitors(120, "AM1:01:000111", t0, t0.Add(40*24*time.Hour), 2)
	for i := range vs {
		p.Add(&vs[i])
	}
	orders, sum := p.Orders()
	if len(orders) != 9 || sum.Orders != 9 || sum.SplitWindows != 1 || cap(orders) != len(orders) {
		t.Fatalf("%d orders (cap %d), summary %+v; want 3 windows × 3 parts", len(orders), cap(orders), sum)
	}
	seen := map[string]bool{}
	for _, o := range orders {
		if len(o.Reference) > MaxReference || seen[o.Reference] || seen[o.Key] {
			t.Errorf("reference %q (%d characters) for key %q: too long or not unique", o.Reference, len(o.Reference), o.Key)
		}
		seen[o.Reference], seen[o.Key] = true, true
	}
}

// TestPlannerHashCollision: groups whose keys hash alike stay apart.
func TestPlannerHashCollision(t *testing.T) {
	t.Parallel()
	p := New(Config{RunID: "r1", CountOnly: true})
	p.hash = func(*groupKey) uint64 { return 7 }
	a := visitors(3, "AM1:01:000111", t0, t0.Add(time.Hour), 2)
	b := visitors(2, "AM1:01:000112", t0, t0.Add(time.Hour), 5)
	c := visitors(1, "AM1:01:000113", t0, t0.Add(time.Hour), 7)
	p.Add(&a[0])
	for i := range b {
		p.Add(&b[i])
		p.Add(&a[1+i])
	}
	p.Add(&c[0])
	orders, _ := p.Orders()
	var got []string
	for _, o := range orders {
		got = append(got, fmt.Sprintf("%s:%d", o.Cage, o.Count))
	}
	if want := "AM1:01:000111:3 AM1:01:000112:2 AM1:01:000113:1"; strings.Join(got, " ") != want {
		t.Fatalf("orders %v, want %s", got, want)
	}
}
